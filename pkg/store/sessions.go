package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Browser sessions live in sealed cookies; this table only says which
// signed-in sessions are still alive, so that logging out (or ending all of
// a user's sessions) kills every copy of a cookie. Ids are stored hashed.

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// CreateSession records a signed-in session until expires.
func (s *Store) CreateSession(ctx context.Context, id, userID string, expires time.Time) error {
	err := s.conn(ctx).Exec("INSERT INTO browser_sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
		sessionKey(id), userID, s.now(), dbTime(expires)).Error
	return identityErr(err, "Session")
}

// SessionActive reports whether the session was created and not ended or
// expired.
func (s *Store) SessionActive(ctx context.Context, id string) (bool, error) {
	var n int64
	err := s.conn(ctx).Table("browser_sessions").Where("id_hash = ? AND expires_at > ?", sessionKey(id), s.now()).Count(&n).Error
	if err != nil {
		return false, identityErr(err, "Session")
	}
	return n == 1, nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return identityErr(s.conn(ctx).Exec("DELETE FROM browser_sessions WHERE id_hash = ?", sessionKey(id)).Error, "Session")
}

// DeleteUserSessions ends every session of a user ("sign out everywhere",
// disabling a user, a password reset).
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	return identityErr(s.conn(ctx).Exec("DELETE FROM browser_sessions WHERE user_id = ?", userID).Error, "Session")
}
