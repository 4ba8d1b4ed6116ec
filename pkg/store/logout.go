package store

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// OpenID Connect logout. oidc_session_clients says which clients got an ID
// token in which browser session (sid); backchannel_logout_outbox holds
// the logout tokens still to deliver (Back-Channel Logout 1.0). Enqueueing
// is a database write only, so the CLI can do it too: the server's worker
// delivers.

const tableOutbox = "backchannel_logout_outbox"

// RecordSessionClient notes that clientID was issued an ID token for
// userID in browser session sid, under grant grantID, until expires (the
// session's end). Recording the same pair again extends it.
//
// This runs at every authorization with openid, so the store remembers
// what it recorded and does not send the same row again: it only goes
// away when the session ends (it can no longer authorize) or the grant is
// revoked (the next consent makes another grant), by EnqueueSessionLogouts
// or EnqueueGrantLogouts on any replica — hence the grant in the key — or
// by housekeeping after expires.
func (s *Store) RecordSessionClient(ctx context.Context, sid, clientID, userID, grantID string, expires time.Time) error {
	if sid == "" {
		return nil
	}
	expires = dbTime(expires)
	key := strings.Join([]string{sid, clientID, userID, grantID, expires.Format(time.RFC3339Nano)}, "\x00")
	if s.sessionClients.has(key) {
		return nil
	}
	// One upsert (SQLite ≥ 3.24 and PostgreSQL alike).
	err := s.conn(ctx).Exec(`INSERT INTO oidc_session_clients (sid, client_id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sid, client_id) DO UPDATE SET user_id = excluded.user_id, created_at = excluded.created_at, expires_at = excluded.expires_at`,
		sid, clientID, userID, s.now(), expires).Error
	if err != nil {
		return identityErr(err, "Session")
	}
	if _, inTx := ctx.Value(txKey{}).(*txState); !inTx { // a rollback would undo it
		s.sessionClients.add(key)
	}
	return nil
}

// recordedSet is the set of oidc_session_clients rows this process wrote
// (RecordSessionClient), bounded: past recordedMax it starts over (a few
// extra upserts).
type recordedSet struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

const recordedMax = 10_000

func (r *recordedSet) has(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.keys[key]
	return ok
}

func (r *recordedSet) add(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil || len(r.keys) >= recordedMax {
		r.keys = map[string]struct{}{}
	}
	r.keys[key] = struct{}{}
}

// reset forgets every row: some were deleted.
func (r *recordedSet) reset() {
	r.mu.Lock()
	r.keys = nil
	r.mu.Unlock()
}

// EnqueueSessionLogouts queues a logout token for every client with a
// backchannel_logout_uri that was issued an ID token for userID in one of
// the sessions sids, and forgets those sessions' clients. It returns how
// many were queued.
func (s *Store) EnqueueSessionLogouts(ctx context.Context, userID string, sids []string) (int, error) {
	if len(sids) == 0 {
		return 0, nil
	}
	var pairs []struct {
		SID      string `gorm:"column:sid"`
		ClientID string `gorm:"column:client_id"`
	}
	n := 0
	err := s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		err := db.Raw(`SELECT sc.sid AS sid, sc.client_id AS client_id FROM oidc_session_clients sc
			JOIN clients c ON c.id = sc.client_id
			WHERE sc.user_id = ? AND sc.sid IN ? AND c.backchannel_logout_uri <> '' AND c.disabled = ?
			ORDER BY sc.created_at, sc.client_id`, userID, sids, false).Scan(&pairs).Error
		if err != nil {
			return identityErr(err, "Session")
		}
		for _, p := range pairs {
			if err := s.enqueue(ctx, p.ClientID, userID, p.SID); err != nil {
				return err
			}
			n++
		}
		return identityErr(db.Exec("DELETE FROM oidc_session_clients WHERE user_id = ? AND sid IN ?", userID, sids).Error, "Session")
	})
	s.sessionClients.reset()
	return n, err
}

// EnqueueGrantLogouts queues logout tokens after userID's grants for
// clientIDs were revoked: for each client with a backchannel_logout_uri,
// one per session it was issued an ID token in (sub and sid), or one with
// sub only when there is none. It returns how many were queued.
func (s *Store) EnqueueGrantLogouts(ctx context.Context, userID string, clientIDs []string) (int, error) {
	if len(clientIDs) == 0 {
		return 0, nil
	}
	n := 0
	err := s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		var clients []string
		if err := db.Raw("SELECT id FROM clients WHERE id IN ? AND backchannel_logout_uri <> '' AND disabled = ? ORDER BY id",
			clientIDs, false).Scan(&clients).Error; err != nil {
			return identityErr(err, "Client")
		}
		for _, c := range clients {
			var sids []string
			if err := db.Raw("SELECT sid FROM oidc_session_clients WHERE user_id = ? AND client_id = ? ORDER BY created_at, sid",
				userID, c).Scan(&sids).Error; err != nil {
				return identityErr(err, "Session")
			}
			if len(sids) == 0 {
				sids = []string{""}
			}
			for _, sid := range sids {
				if err := s.enqueue(ctx, c, userID, sid); err != nil {
					return err
				}
				n++
			}
			if err := db.Exec("DELETE FROM oidc_session_clients WHERE user_id = ? AND client_id = ?", userID, c).Error; err != nil {
				return identityErr(err, "Session")
			}
		}
		return nil
	})
	s.sessionClients.reset()
	return n, err
}

func (s *Store) enqueue(ctx context.Context, clientID, subject, sid string) error {
	now := s.now()
	return identityErr(s.conn(ctx).Exec(`INSERT INTO backchannel_logout_outbox
		(id, client_id, subject, sid, attempts, next_attempt_at, last_error, created_at) VALUES (?, ?, ?, ?, 0, ?, '', ?)`,
		newID("blt_"), clientID, subject, sid, now, now).Error, "Logout")
}

type outboxRow struct {
	ID            string     `gorm:"column:id;primaryKey"`
	ClientID      string     `gorm:"column:client_id"`
	Subject       string     `gorm:"column:subject"`
	SID           string     `gorm:"column:sid"`
	Attempts      int        `gorm:"column:attempts"`
	NextAttemptAt time.Time  `gorm:"column:next_attempt_at"`
	LeaseUntil    *time.Time `gorm:"column:lease_until"`
	LastError     string     `gorm:"column:last_error"`
	CreatedAt     time.Time  `gorm:"column:created_at"`
}

func (outboxRow) TableName() string { return tableOutbox }

// ClaimBackchannelLogouts claims up to limit due deliveries (next attempt
// at or before now, not leased by another worker) until now+lease. Each row
// is claimed by a guarded update, so of several replicas only one gets it;
// a worker that dies leaves the lease to run out, and the row is claimed
// again.
func (s *Store) ClaimBackchannelLogouts(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]identity.BackchannelLogout, error) {
	now = dbTime(now)
	var rows []outboxRow
	err := s.conn(ctx).Where("next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", now, now).
		Order("next_attempt_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, identityErr(err, "Logout")
	}
	var out []identity.BackchannelLogout
	for _, r := range rows {
		res := s.conn(ctx).Model(&outboxRow{}).
			Where("id = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", r.ID, now, now).
			Update("lease_until", now.Add(lease))
		if res.Error != nil {
			return out, identityErr(res.Error, "Logout")
		}
		if res.RowsAffected == 1 {
			out = append(out, identity.BackchannelLogout{ID: r.ID, ClientID: r.ClientID, Subject: r.Subject, SID: r.SID,
				Attempts: r.Attempts, NextAttempt: r.NextAttemptAt.UTC(), LastError: r.LastError, CreatedAt: r.CreatedAt.UTC()})
		}
	}
	return out, nil
}

// FinishBackchannelLogout removes a delivery that succeeded or was given up.
func (s *Store) FinishBackchannelLogout(ctx context.Context, id string) error {
	return identityErr(s.conn(ctx).Exec("DELETE FROM "+tableOutbox+" WHERE id = ?", id).Error, "Logout")
}

// RetryBackchannelLogout records a failed attempt and schedules the next
// one at next, releasing the lease.
func (s *Store) RetryBackchannelLogout(ctx context.Context, id string, next time.Time, lastErr string) error {
	if len(lastErr) > 500 {
		lastErr = lastErr[:500]
	}
	return identityErr(s.conn(ctx).Exec("UPDATE "+tableOutbox+
		" SET attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?",
		dbTime(next), lastErr, id).Error, "Logout")
}

// PendingBackchannelLogouts lists queued deliveries, oldest first (for
// operators and tests).
func (s *Store) PendingBackchannelLogouts(ctx context.Context) ([]identity.BackchannelLogout, error) {
	var rows []outboxRow
	if err := s.conn(ctx).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, identityErr(err, "Logout")
	}
	out := make([]identity.BackchannelLogout, len(rows))
	for i, r := range rows {
		out[i] = identity.BackchannelLogout{ID: r.ID, ClientID: r.ClientID, Subject: r.Subject, SID: r.SID,
			Attempts: r.Attempts, NextAttempt: r.NextAttemptAt.UTC(), LastError: r.LastError, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}
