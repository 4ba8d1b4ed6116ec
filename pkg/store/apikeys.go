package store

import (
	"context"
	"fmt"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var _ identity.APIKeyStore = (*Store)(nil)

// CreateAPIKey stores k by hash, filling in ID (key_…) when empty and
// CreatedAt. A duplicate hash or prefix is ECONFLICT.
func (s *Store) CreateAPIKey(ctx context.Context, k *identity.APIKey) error {
	if len(k.Hash) == 0 || k.Prefix == "" || k.OwnerID == "" {
		return identity.Errorf(identity.EINVALID, "API key needs an owner, a prefix and a hash.")
	}
	if k.ID == "" {
		k.ID = newID("key_")
	}
	k.CreatedAt = s.now()
	row := apiKeyRow{
		ID: k.ID, OwnerID: k.OwnerID, Name: k.Name, Env: k.Env, Prefix: k.Prefix, Hash: k.Hash,
		Scopes: k.Scopes, CreatedAt: k.CreatedAt,
		ExpiresAt: dbTimePtr(k.ExpiresAt), LastUsedAt: dbTimePtr(k.LastUsedAt), RevokedAt: dbTimePtr(k.RevokedAt),
	}
	return identityErr(s.conn(ctx).Create(&row).Error, "API key")
}

// APIKeyByHash returns the key whose SHA-256 is hash, revoked or not (the
// caller checks Active), or ENOTFOUND.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (*identity.APIKey, error) {
	var row apiKeyRow
	if err := s.conn(ctx).Where("hash = ?", hash).Take(&row).Error; err != nil {
		return nil, identityErr(err, "API key")
	}
	return row.toIdentity(), nil
}

// APIKeyByID returns a key by its id or by its displayed prefix.
func (s *Store) APIKeyByID(ctx context.Context, idOrPrefix string) (*identity.APIKey, error) {
	var row apiKeyRow
	if err := s.conn(ctx).Where("id = ? OR prefix = ?", idOrPrefix, idOrPrefix).Take(&row).Error; err != nil {
		return nil, identityErr(err, "API key")
	}
	return row.toIdentity(), nil
}

// ListAPIKeys returns a page of keys, newest first, and the total.
func (s *Store) ListAPIKeys(ctx context.Context, f identity.APIKeyFilter) ([]*identity.APIKey, int, error) {
	q := s.conn(ctx).Model(&apiKeyRow{})
	if f.OwnerID != "" {
		q = q.Where("owner_id = ?", f.OwnerID)
	}
	if !f.IncludeRevoked {
		q = q.Where("revoked_at IS NULL")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, identityErr(err, "API keys")
	}
	offset, limit := pageBounds(f.Offset, f.Limit)
	var rows []apiKeyRow
	if err := q.Order("created_at DESC, id DESC").Offset(offset).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, identityErr(err, "API keys")
	}
	out := make([]*identity.APIKey, len(rows))
	for i := range rows {
		out[i] = rows[i].toIdentity()
	}
	return out, int(total), nil
}

// RevokeAPIKey revokes a key by id or prefix and queues its revocation
// event. Revoking a revoked key keeps its first revocation time; an
// unknown key is ENOTFOUND.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		k, err := s.APIKeyByID(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		res := s.conn(ctx).Model(&apiKeyRow{}).Where("id = ? AND revoked_at IS NULL", k.ID).
			Update("revoked_at", now)
		if res.Error != nil || res.RowsAffected == 0 {
			return identityErr(res.Error, "API key")
		}
		return s.emitEvents(ctx, []identity.SecurityEvent{identity.CredentialRevoked(identity.CredentialAPIKey,
			map[string]string{"format": identity.SubjectOpaque, "id": k.ID}, now)})
	})
}

// TouchAPIKeys records last-used times in one transaction. A time never moves
// backwards, so a late flush cannot overwrite a newer one.
func (s *Store) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		for id, at := range lastUsed {
			at = dbTime(at)
			err := db.Model(&apiKeyRow{}).
				Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at).
				Update("last_used_at", at).Error
			if err != nil {
				return fmt.Errorf("store: touch api key: %w", err)
			}
		}
		return nil
	})
}

func (r *apiKeyRow) toIdentity() *identity.APIKey {
	return &identity.APIKey{
		ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, Env: r.Env, Prefix: r.Prefix, Hash: r.Hash,
		Scopes: []string(r.Scopes), CreatedAt: r.CreatedAt.UTC(),
		ExpiresAt: fromDBTimePtr(r.ExpiresAt), LastUsedAt: fromDBTimePtr(r.LastUsedAt), RevokedAt: fromDBTimePtr(r.RevokedAt),
	}
}
