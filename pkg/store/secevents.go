package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Security event streams (identity.SecurityEventStore): revocations are
// written to every stream in the transaction that revokes, so an event
// exists exactly when the revocation was committed, whichever replica or
// command made it; this process's waiters are woken after the commit.

var _ identity.SecurityEventStore = (*Store)(nil)

// StreamAbandoned is how long a stream goes unpolled before a client at
// its stream limit may have it replaced: a live receiver polls at least
// every 25 s (the longest hold) plus 30 s (its longest backoff).
const StreamAbandoned = 2 * time.Minute

// StreamIdleLimit is how long a stream nobody polls keeps its events
// before housekeeping deletes it; its receiver then makes a new one.
const StreamIdleLimit = 10 * time.Minute

// eventSignal wakes the waiters of this process when an event is
// committed: the channel is closed and replaced.
type eventSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (e *eventSignal) wait() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ch == nil {
		e.ch = make(chan struct{})
	}
	return e.ch
}

func (e *eventSignal) signal() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ch != nil {
		close(e.ch)
		e.ch = nil
	}
}

// EventsChanged implements identity.SecurityEventStore.
func (s *Store) EventsChanged() <-chan struct{} { return s.events.wait() }

// emitEvents queues events on every stream inside the caller's
// transaction and has Commit wake the waiters.
func (s *Store) emitEvents(ctx context.Context, events []identity.SecurityEvent) error {
	if len(events) == 0 {
		return nil
	}
	db := s.conn(ctx)
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("store: encode security event: %w", err)
		}
		// One statement per event whatever the number of streams; with no
		// stream it inserts nothing.
		err = db.Exec("INSERT INTO ssf_events (stream_id, jti, event) SELECT id, ?, ? FROM ssf_streams",
			identity.NewEventID(), string(b)).Error
		if err != nil {
			return fmt.Errorf("store: queue security event: %w", err)
		}
	}
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		st.rootState().emitted.Store(true)
	} else {
		s.events.signal()
	}
	return nil
}

// CreateStream implements identity.SecurityEventStore.
func (s *Store) CreateStream(ctx context.Context, clientID string, max int) (string, error) {
	id := newID("ssf_")
	err := s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		var n int64
		if err := db.Table("ssf_streams").Where("client_id = ?", clientID).Count(&n).Error; err != nil {
			return identityErr(err, "Stream")
		}
		now := s.now()
		if n >= int64(max) {
			// A replica that died without deleting its stream leaves it
			// behind; make room from those first.
			res := db.Exec("DELETE FROM ssf_streams WHERE client_id = ? AND polled_at < ?", clientID, now.Add(-StreamAbandoned))
			if res.Error != nil {
				return identityErr(res.Error, "Stream")
			}
			n -= res.RowsAffected
		}
		if n >= int64(max) {
			return identity.Errorf(identity.EINVALID, "This client has %d event streams in use; delete one first.", n)
		}
		return identityErr(db.Exec("INSERT INTO ssf_streams (id, client_id, created_at, polled_at) VALUES (?, ?, ?, ?)",
			id, clientID, now, now).Error, "Stream")
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// DeleteStream implements identity.SecurityEventStore.
func (s *Store) DeleteStream(ctx context.Context, clientID, streamID string) error {
	res := s.conn(ctx).Exec("DELETE FROM ssf_streams WHERE id = ? AND client_id = ?", streamID, clientID)
	if res.Error != nil {
		return identityErr(res.Error, "Stream")
	}
	if res.RowsAffected == 0 {
		return identity.Errorf(identity.ENOTFOUND, "Stream not found.")
	}
	return nil
}

// AckStream implements identity.SecurityEventStore.
func (s *Store) AckStream(ctx context.Context, clientID, streamID string, done []string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		res := db.Exec("UPDATE ssf_streams SET polled_at = ? WHERE id = ? AND client_id = ?", s.now(), streamID, clientID)
		if res.Error != nil {
			return identityErr(res.Error, "Stream")
		}
		if res.RowsAffected == 0 {
			return identity.Errorf(identity.ENOTFOUND, "Stream not found.")
		}
		if len(done) == 0 {
			return nil
		}
		return identityErr(db.Exec("DELETE FROM ssf_events WHERE stream_id = ? AND jti IN ?", streamID, done).Error, "Stream")
	})
}

// StreamEvents implements identity.SecurityEventStore.
func (s *Store) StreamEvents(ctx context.Context, streamID string, max int) ([]identity.StreamEvent, bool, error) {
	var rows []struct {
		JTI   string `gorm:"column:jti"`
		Event string `gorm:"column:event"`
	}
	err := s.conn(ctx).Raw("SELECT jti, event FROM ssf_events WHERE stream_id = ? ORDER BY seq LIMIT ?", streamID, max+1).
		Scan(&rows).Error
	if err != nil {
		return nil, false, identityErr(err, "Stream")
	}
	more := len(rows) > max
	if more {
		rows = rows[:max]
	}
	out := make([]identity.StreamEvent, len(rows))
	for i, r := range rows {
		out[i] = identity.StreamEvent{JTI: r.JTI, Event: []byte(r.Event)}
	}
	return out, more, nil
}
