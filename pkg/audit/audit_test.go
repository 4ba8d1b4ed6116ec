package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

type memSink struct {
	mu     sync.Mutex
	rows   []*identity.AuditEvent
	fail   bool
	writes int
}

func (m *memSink) RecordAudits(_ context.Context, ev []*identity.AuditEvent) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("database down")
	}
	m.writes++
	m.rows = append(m.rows, ev...)
	return nil
}

func (m *memSink) ListAudit(context.Context, identity.AuditFilter) ([]*identity.AuditEvent, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rows, len(m.rows), nil
}

func TestEventsAreLoggedAndStoredInBatches(t *testing.T) {
	sink := &memSink{}
	var buf bytes.Buffer
	l := New(sink, slog.New(slog.NewJSONHandler(&buf, nil)), nil)
	defer l.Close(context.Background())
	for range 300 {
		l.RecordAudit(context.Background(), &identity.AuditEvent{Type: "token.issued", ClientID: "svc"})
	}
	got, n, _ := l.ListAudit(context.Background(), identity.AuditFilter{})
	if n != 300 || len(got) != 300 {
		t.Fatalf("stored %d events, want 300", n)
	}
	if sink.writes > 3 {
		t.Fatalf("%d writes for 300 events: not batched", sink.writes)
	}
	if c := strings.Count(buf.String(), `"event":"token.issued"`); c != 300 {
		t.Fatalf("%d log lines, want one per event", c)
	}
}

func TestEventsSurviveAFailedWrite(t *testing.T) {
	sink := &memSink{fail: true}
	l := New(sink, slog.New(slog.DiscardHandler), nil)
	l.RecordAudit(context.Background(), &identity.AuditEvent{Type: "login.failure"})
	if err := l.Flush(context.Background()); err == nil {
		t.Fatal("flush to a dead database reported success")
	}
	sink.mu.Lock()
	sink.fail = false
	sink.mu.Unlock()
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sink.rows) != 1 {
		t.Fatalf("event lost after a failed write: %d rows", len(sink.rows))
	}
}
