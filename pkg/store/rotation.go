package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// SaveRotation keeps the sealed successor pair of the rotated refresh
// token oldSignature (table refresh_rotations, stamped with the rotation's
// time). Call it with the context of the transaction that rotated the
// token, so the blob exists exactly when the rotation does.
// fosite.ErrNotFound when the token does not exist or was never rotated.
func (s *Store) SaveRotation(ctx context.Context, oldSignature string, sealed []byte) error {
	res, err := s.execHot(ctx, saveRotation, sealed, oldSignature)
	if err != nil {
		return fmt.Errorf("store: save rotation: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fosite.ErrNotFound
	}
	return nil
}

// RotationOf returns the grace-window record of a rotated refresh token.
// fosite.ErrNotFound when the token is unknown, was never rotated, its
// successor was cleared (window over), or its family was revoked since.
func (s *Store) RotationOf(ctx context.Context, oldSignature string) (identity.Rotation, error) {
	var rot identity.Rotation
	err := s.queryRowHot(ctx, selectRotation, []any{oldSignature}, &rot.RequestID, &rot.ClientID, &rot.RotatedAt, &rot.Sealed)
	if err != nil {
		return identity.Rotation{}, fositeErr(err, "get rotation")
	}
	rot.RotatedAt = rot.RotatedAt.UTC()
	return rot, nil
}

// ClearRotations deletes the successor pairs of tokens rotated before
// olderThan, so sealed token pairs outlive their grace window only until the
// next sweep, and with them those of revoked families (revokeRefreshTokens).
// It returns the number of pairs deleted.
func (s *Store) ClearRotations(ctx context.Context, olderThan time.Time) (int64, error) {
	res := s.conn(ctx).Where("rotated_at < ?", dbTime(olderThan)).Delete(&rotationRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: clear rotations: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// SetRefreshTokenScopes replaces the granted scopes of the refresh token
// signature. A refresh request that narrows its access token's scope (RFC
// 6749 §6) has fosite store the narrowed scope with the new refresh token
// too; the provider calls this in the rotating transaction so the new
// refresh token keeps the grant's full scope. fosite.ErrNotFound when the
// token does not exist.
func (s *Store) SetRefreshTokenScopes(ctx context.Context, signature string, scopes []string) error {
	res := s.conn(ctx).Table(tableRefresh).Where("signature = ?", signature).
		Update("granted_scopes", stringList(scopes))
	if res.Error != nil {
		return fmt.Errorf("store: set refresh token scopes: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fosite.ErrNotFound
	}
	return nil
}

// SetRefreshTokenAudience sets the granted audience of a refresh token: a
// refresh that narrowed its access token's audience (RFC 8707) keeps the
// grant's whole audience on the new refresh token.
func (s *Store) SetRefreshTokenAudience(ctx context.Context, signature string, audience []string) error {
	res := s.conn(ctx).Table(tableRefresh).Where("signature = ?", signature).
		Update("granted_audience", stringList(audience))
	if res.Error != nil {
		return fmt.Errorf("store: set refresh token audience: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fosite.ErrNotFound
	}
	return nil
}
