package store

import (
	"context"
	"fmt"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// CreateRegistrationToken stores an initial access token by hash, filling
// in ID (rit_…) and CreatedAt.
func (s *Store) CreateRegistrationToken(ctx context.Context, t *identity.RegistrationToken) error {
	if len(t.Hash) == 0 || t.MaxUses < 0 {
		return identity.Errorf(identity.EINVALID, "Registration token needs a hash and a non-negative use limit.")
	}
	if t.ID == "" {
		t.ID = newID("rit_")
	}
	t.CreatedAt = s.now()
	row := registrationTokenRow{ID: t.ID, Hash: t.Hash, Prefix: t.Prefix, MaxUses: t.MaxUses, Uses: t.Uses,
		CreatedAt: t.CreatedAt, ExpiresAt: dbTimePtr(t.ExpiresAt), RevokedAt: dbTimePtr(t.RevokedAt)}
	return identityErr(s.conn(ctx).Create(&row).Error, "Registration token")
}

// ListRegistrationTokens returns every initial access token, newest first.
func (s *Store) ListRegistrationTokens(ctx context.Context) ([]*identity.RegistrationToken, error) {
	var rows []registrationTokenRow
	if err := s.conn(ctx).Order("created_at DESC, id DESC").Limit(1000).Find(&rows).Error; err != nil {
		return nil, identityErr(err, "Registration tokens")
	}
	out := make([]*identity.RegistrationToken, len(rows))
	for i, r := range rows {
		out[i] = &identity.RegistrationToken{ID: r.ID, Prefix: r.Prefix, Hash: r.Hash, MaxUses: r.MaxUses, Uses: r.Uses,
			CreatedAt: r.CreatedAt.UTC(), ExpiresAt: fromDBTimePtr(r.ExpiresAt), RevokedAt: fromDBTimePtr(r.RevokedAt)}
	}
	return out, nil
}

// RevokeRegistrationToken revokes a token by id; ENOTFOUND when there is
// no such token.
func (s *Store) RevokeRegistrationToken(ctx context.Context, id string) error {
	res := s.conn(ctx).Model(&registrationTokenRow{}).Where("id = ? AND revoked_at IS NULL", id).
		Update("revoked_at", s.now())
	if res.Error != nil {
		return identityErr(res.Error, "Registration token")
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := s.conn(ctx).Model(&registrationTokenRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
			return identityErr(err, "Registration token")
		}
		if n == 0 {
			return identity.Errorf(identity.ENOTFOUND, "Registration token not found.")
		}
	}
	return nil
}

// UseRegistrationToken spends one use of the token whose SHA-256 is hash,
// in one conditional update, so parallel registrations cannot exceed the
// limit. An unknown, revoked, expired or used-up token is EUNAUTHORIZED.
func (s *Store) UseRegistrationToken(ctx context.Context, hash []byte, now time.Time) error {
	now = dbTime(now)
	res := s.conn(ctx).Exec(`UPDATE registration_tokens SET uses = uses + 1
		WHERE hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
		AND (max_uses = 0 OR uses < max_uses)`, hash, now)
	if res.Error != nil {
		return identityErr(res.Error, "Registration token")
	}
	if res.RowsAffected != 1 {
		return identity.Errorf(identity.EUNAUTHORIZED, "The initial access token is unknown, expired, revoked or used up.")
	}
	return nil
}

// clientTouchInterval is the resolution of a self-registered client's "last
// used" time.
const clientTouchInterval = time.Hour

// TouchClient records that a token was issued to the client at now. It
// writes at most once per hour per client: the unused-client cleanup
// counts in days.
func (s *Store) TouchClient(ctx context.Context, id string, now time.Time) error {
	now = dbTime(now)
	if !s.clientTouches.due(id, now, clientTouchInterval) {
		return nil
	}
	err := s.conn(ctx).Exec(`UPDATE clients SET last_used_at = ?
		WHERE id = ? AND registration <> '' AND (last_used_at IS NULL OR last_used_at < ?)`,
		now, id, now.Add(-clientTouchInterval)).Error
	if err != nil {
		return fmt.Errorf("store: touch client: %w", err)
	}
	return nil
}

// DeleteUnusedRegisteredClients deletes self-registered clients (dynamic
// or metadata document) that got no token since before cutoff (or never,
// and were made before cutoff), with their grants and tokens, at most
// batch per call. It returns how many it deleted.
func (s *Store) DeleteUnusedRegisteredClients(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultDeleteBatch
	}
	cutoff = dbTime(cutoff)
	var ids []string
	err := s.conn(ctx).Model(&clientRow{}).
		Where("registration <> '' AND COALESCE(last_used_at, created_at) < ?", cutoff).
		Limit(batch).Pluck("id", &ids).Error
	if err != nil {
		return 0, fmt.Errorf("store: unused clients: %w", err)
	}
	n := 0
	for _, id := range ids {
		// DeleteClient puts live JWT ids on the revocation list first.
		if err := s.DeleteClient(ctx, id); err != nil && !identity.IsNotFound(err) {
			return n, err
		}
		n++
	}
	return n, nil
}
