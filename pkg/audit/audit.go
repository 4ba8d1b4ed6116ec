// Package audit records security events: one slog line each, and one row in
// the audit table, written in batches off the request path so that auditing
// every token issued costs a fraction of an insert per request.
//
// The price of batching is that events of the last flush interval (100 ms by
// default) are lost if the process is killed; events are flushed on Close
// and before every read, so what the admin pages show is complete.
package audit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Sink stores events in batches (the store).
type Sink interface {
	RecordAudits(ctx context.Context, events []*identity.AuditEvent) error
	ListAudit(ctx context.Context, f identity.AuditFilter) ([]*identity.AuditEvent, int, error)
}

// Log is an identity.AuditLog that logs each event and writes them to the
// sink in batches.
type Log struct {
	// Observe, when set, sees every event (metrics count them by type).
	Observe func(e *identity.AuditEvent)

	sink     Sink
	logger   *slog.Logger
	now      func() time.Time
	interval time.Duration

	mu      sync.Mutex
	pending []*identity.AuditEvent
	wake    chan struct{}
	done    chan struct{}
	closed  bool
	flushMu sync.Mutex // one flush at a time
}

var _ identity.AuditLog = (*Log)(nil)

// New starts the background writer; Close stops it after a final flush.
func New(sink Sink, logger *slog.Logger, now func() time.Time) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	l := &Log{sink: sink, logger: logger, now: now, interval: 100 * time.Millisecond, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go l.run()
	return l
}

// maxPending bounds memory when the database is down: the oldest events are
// still in the log lines, which is where they are dropped from the table.
const maxPending = 50_000

// RecordAudit logs e at once and queues it for the table.
func (l *Log) RecordAudit(ctx context.Context, e *identity.AuditEvent) error {
	if e.Type == "" {
		return identity.Errorf(identity.EINVALID, "Audit event type is required.")
	}
	if e.Time.IsZero() {
		e.Time = l.now().UTC()
	}
	if e.Outcome == "" {
		e.Outcome = "success"
	}
	if l.logger.Enabled(ctx, slog.LevelInfo) {
		l.logger.LogAttrs(ctx, slog.LevelInfo, "audit", logAttrs(e)...)
	}
	if l.Observe != nil {
		l.Observe(e)
	}
	l.mu.Lock()
	if len(l.pending) >= maxPending {
		l.pending = l.pending[1:]
	}
	l.pending = append(l.pending, e)
	full := len(l.pending) >= 500
	l.mu.Unlock()
	if full {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// logAttrs are the attributes of e's log line: the fields that are set
// and each detail.
func logAttrs(e *identity.AuditEvent) []slog.Attr {
	attrs := make([]slog.Attr, 0, 7+len(e.Details))
	attrs = append(attrs, slog.String("event", e.Type), slog.String("outcome", e.Outcome))
	for _, f := range [...]struct{ k, v string }{{"actor", e.ActorID}, {"user_id", e.UserID},
		{"client_id", e.ClientID}, {"ip", e.IP}, {"user_agent", e.UserAgent}} {
		if f.v != "" {
			attrs = append(attrs, slog.String(f.k, f.v))
		}
	}
	for k, v := range e.Details {
		attrs = append(attrs, slog.String("detail."+k, v))
	}
	return attrs
}

// ListAudit flushes what is queued, then reads from the sink.
func (l *Log) ListAudit(ctx context.Context, f identity.AuditFilter) ([]*identity.AuditEvent, int, error) {
	if err := l.Flush(ctx); err != nil {
		l.logger.Warn("audit flush before read failed", "err", err)
	}
	return l.sink.ListAudit(ctx, f)
}

// Flush writes every queued event now.
func (l *Log) Flush(ctx context.Context) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	batch := l.pending
	l.pending = nil
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := l.sink.RecordAudits(ctx, batch); err != nil {
		l.mu.Lock()
		if len(l.pending)+len(batch) <= maxPending {
			l.pending = append(batch, l.pending...) // retry next time
		}
		l.mu.Unlock()
		return err
	}
	return nil
}

func (l *Log) run() {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		case <-l.wake:
		}
		if err := l.Flush(context.Background()); err != nil {
			l.logger.Warn("audit write failed; will retry", "err", err)
		}
	}
}

// Close stops the writer after a last flush.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
	l.mu.Unlock()
	return l.Flush(ctx)
}
