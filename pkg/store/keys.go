package store

import (
	"context"
	"fmt"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var (
	_ identity.SigningKeyStore = (*Store)(nil)
	_ identity.RevocationList  = (*Store)(nil)
)

// CreateSigningKey stores a signing key; CreatedAt is set when zero.
func (s *Store) CreateSigningKey(ctx context.Context, k *identity.SigningKey) error {
	if k.ID == "" {
		return identity.Errorf(identity.EINVALID, "Signing key id is required.")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.now()
	}
	row := signingKeyRow{
		ID: k.ID, Algorithm: k.Algorithm, EncryptedPrivateKey: k.EncryptedPrivateKey, PublicJWK: k.PublicJWK,
		CreatedAt: dbTime(k.CreatedAt), RetiredAt: dbTimePtr(k.RetiredAt),
	}
	return identityErr(s.conn(ctx).Create(&row).Error, "Signing key")
}

// ListSigningKeys returns every signing key, newest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]*identity.SigningKey, error) {
	var rows []signingKeyRow
	if err := s.conn(ctx).Order("created_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, identityErr(err, "Signing keys")
	}
	out := make([]*identity.SigningKey, len(rows))
	for i, r := range rows {
		out[i] = &identity.SigningKey{
			ID: r.ID, Algorithm: r.Algorithm, EncryptedPrivateKey: r.EncryptedPrivateKey, PublicJWK: r.PublicJWK,
			CreatedAt: r.CreatedAt.UTC(), RetiredAt: fromDBTimePtr(r.RetiredAt),
		}
	}
	return out, nil
}

// RetireSigningKeys marks every not yet retired key of exceptID's algorithm
// except exceptID as retired at at; keys of other algorithms stay current.
func (s *Store) RetireSigningKeys(ctx context.Context, exceptID string, at time.Time) error {
	err := s.conn(ctx).Model(&signingKeyRow{}).
		Where("id <> ? AND retired_at IS NULL AND algorithm = (SELECT algorithm FROM signing_keys WHERE id = ?)", exceptID, exceptID).
		Update("retired_at", dbTime(at)).Error
	if err != nil {
		return fmt.Errorf("store: retire signing keys: %w", err)
	}
	return nil
}

// ListRevokedJWTs returns the revocation-list entries revoked at or after
// since that have not expired yet, oldest revocation first, so a poller can
// resume from the last RevokedAt it saw.
func (s *Store) ListRevokedJWTs(ctx context.Context, since time.Time) ([]identity.RevokedJWT, error) {
	var rows []revokedJWTRow
	err := s.conn(ctx).Where("revoked_at >= ? AND expires_at > ?", dbTime(since), s.now()).
		Order("revoked_at, jti").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: list revoked jwts: %w", err)
	}
	out := make([]identity.RevokedJWT, len(rows))
	for i, r := range rows {
		out[i] = identity.RevokedJWT{JTI: r.JTI, ExpiresAt: r.ExpiresAt.UTC(), RevokedAt: r.RevokedAt.UTC()}
	}
	return out, nil
}
