package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Browser sessions live in sealed cookies; this table says which signed-in
// sessions are still alive, so that logging out (or ending all of a user's
// sessions) kills every copy of a cookie, and what the account page lists
// of them. Ids are stored hashed; the sid is public.

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// sessionRow is a row of browser_sessions as the account page reads it.
type sessionRow struct {
	SID        string     `gorm:"column:sid"`
	UserID     string     `gorm:"column:user_id"`
	UserAgent  string     `gorm:"column:user_agent"`
	IP         string     `gorm:"column:ip"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	LastSeenAt *time.Time `gorm:"column:last_seen_at"`
	ExpiresAt  time.Time  `gorm:"column:expires_at"`
}

func (r sessionRow) identity() identity.BrowserSession {
	b := identity.BrowserSession{SID: r.SID, UserID: r.UserID, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), LastSeenAt: r.CreatedAt.UTC()}
	if r.LastSeenAt != nil {
		b.LastSeenAt = r.LastSeenAt.UTC()
	}
	return b
}

// CreateSession records the signed-in session id (its SHA-256) with what
// the account page shows of it; b.UserID, b.SID and b.ExpiresAt are
// required, the User-Agent is cut to identity.MaxSessionUserAgent bytes.
func (s *Store) CreateSession(ctx context.Context, id string, b identity.BrowserSession) error {
	now := s.now()
	ua := b.UserAgent
	if len(ua) > identity.MaxSessionUserAgent {
		ua = ua[:identity.MaxSessionUserAgent]
	}
	err := s.conn(ctx).Exec("INSERT INTO browser_sessions (id_hash, sid, user_id, user_agent, ip, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		sessionKey(id), b.SID, b.UserID, ua, b.IP, now, now, dbTime(b.ExpiresAt)).Error
	return identityErr(err, "Session")
}

// SessionActive reports whether the session was created and not ended or
// expired, and when it was last seen (zero when not active).
// It runs on every page of a signed-in browser: hand-written SQL (hotsql.go).
func (s *Store) SessionActive(ctx context.Context, id string) (lastSeen time.Time, active bool, err error) {
	var r sessionRow
	err = s.queryRowHot(ctx, selectSessionSeen, []any{sessionKey(id), s.now()}, &r.CreatedAt, &r.LastSeenAt)
	if isNotFound(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, identityErr(err, "Session")
	}
	return r.identity().LastSeenAt, true, nil
}

var selectSessionSeen = hot("browser_sessions", "SELECT created_at, last_seen_at FROM browser_sessions WHERE id_hash = ? AND expires_at > ? LIMIT 1")

// TouchSession sets when the session was last seen.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	return identityErr(s.conn(ctx).Exec("UPDATE browser_sessions SET last_seen_at = ? WHERE id_hash = ?", dbTime(at), sessionKey(id)).Error, "Session")
}

// UserSessions lists the user's live sessions, most recently seen first.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]identity.BrowserSession, error) {
	var rows []sessionRow
	err := s.conn(ctx).Table("browser_sessions").Where("user_id = ? AND expires_at > ?", userID, s.now()).
		Order("last_seen_at DESC, created_at DESC").Limit(100).Find(&rows).Error
	if err != nil {
		return nil, identityErr(err, "Session")
	}
	out := make([]identity.BrowserSession, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.identity())
	}
	return out, nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return identityErr(s.conn(ctx).Exec("DELETE FROM browser_sessions WHERE id_hash = ?", sessionKey(id)).Error, "Session")
}

// DeleteUserSession ends the user's session with the public id sid; a sid
// that is not the user's live session is not found.
func (s *Store) DeleteUserSession(ctx context.Context, userID, sid string) error {
	res := s.conn(ctx).Exec("DELETE FROM browser_sessions WHERE user_id = ? AND sid = ? AND expires_at > ?", userID, sid, s.now())
	if res.Error != nil {
		return identityErr(res.Error, "Session")
	}
	if res.RowsAffected == 0 {
		return identity.Errorf(identity.ENOTFOUND, "Session not found.")
	}
	return nil
}

// DeleteUserSessions ends every session of a user ("sign out everywhere",
// disabling a user, a password reset) and returns their public ids.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) ([]string, error) {
	var sids []string
	err := s.inTx(ctx, func(ctx context.Context) error {
		if err := s.conn(ctx).Table("browser_sessions").Where("user_id = ?", userID).Pluck("sid", &sids).Error; err != nil {
			return err
		}
		return s.conn(ctx).Exec("DELETE FROM browser_sessions WHERE user_id = ?", userID).Error
	})
	return sids, identityErr(err, "Session")
}
