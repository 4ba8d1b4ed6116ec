package store

import (
	"context"
	"fmt"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var _ identity.GrantStore = (*Store)(nil)

// UpsertGrant records consent: it updates the one active grant of (user,
// client) — scopes replaced, remember flag set — or creates it (grt_…).
// A grant has one scope set: when the new consent drops a scope the grant
// had, every code, access and refresh token issued under the broader set
// is revoked in the same transaction (JWT ids listed as revoked), so no
// token outlives the consent it came from. Unknown user or client is
// ENOTFOUND.
func (s *Store) UpsertGrant(ctx context.Context, userID, clientID string, scopes []string, remember bool) (*identity.Grant, error) {
	_, callerTx := ctx.Value(txKey{}).(*txState)
	for attempt := 0; ; attempt++ {
		var g *identity.Grant
		err := s.inTx(ctx, func(ctx context.Context) error {
			var err error
			g, err = s.upsertGrant(ctx, userID, clientID, scopes, remember)
			return err
		})
		// Two first consents at once: one insert wins the unique index;
		// the other retries and updates the winner's row.
		if identity.ErrorCode(err) == identity.ECONFLICT && !callerTx && attempt == 0 {
			continue
		}
		return g, err
	}
}

func (s *Store) upsertGrant(ctx context.Context, userID, clientID string, scopes []string, remember bool) (*identity.Grant, error) {
	db := s.conn(ctx)
	now := s.now()
	var row grantRow
	err := db.Where("user_id = ? AND client_id = ? AND revoked_at IS NULL", userID, clientID).Take(&row).Error
	switch {
	case err == nil:
		if !identity.HasAllScopes(scopes, row.Scopes) {
			if err := s.revokeGrantTokens(ctx, row.ID); err != nil {
				return nil, err
			}
		}
		row.Scopes, row.Remember, row.UpdatedAt = scopes, remember, now
		err = db.Model(&grantRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"scopes": stringList(scopes), "remember": remember, "updated_at": now,
		}).Error
		if err != nil {
			return nil, identityErr(err, "Grant")
		}
	case isNotFound(err):
		row = grantRow{
			ID: newID("grt_"), UserID: userID, ClientID: clientID, Scopes: scopes, Remember: remember,
			CreatedAt: now, UpdatedAt: now, LastUsedAt: now,
		}
		if err := db.Create(&row).Error; err != nil {
			return nil, identityErr(err, "Grant")
		}
	default:
		return nil, identityErr(err, "Grant")
	}
	return row.toIdentity(), nil
}

// GrantByID returns a grant, revoked or not, or ENOTFOUND.
func (s *Store) GrantByID(ctx context.Context, id string) (*identity.Grant, error) {
	var row grantRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, identityErr(err, "Grant")
	}
	return row.toIdentity(), nil
}

// ActiveGrant returns the active grant of (user, client) or ENOTFOUND.
func (s *Store) ActiveGrant(ctx context.Context, userID, clientID string) (*identity.Grant, error) {
	var r grantRow
	// Every authorization reads it: hand-written SQL (hotsql.go).
	err := s.queryRowHot(ctx, selectActiveGrant, []any{userID, clientID},
		&r.ID, &r.UserID, &r.ClientID, &r.Scopes, &r.Remember, &r.CreatedAt, &r.UpdatedAt, &r.LastUsedAt, &r.RevokedAt)
	if err != nil {
		return nil, identityErr(err, "Grant")
	}
	return r.toIdentity(), nil
}

var selectActiveGrant = hot("grants", "SELECT id, user_id, client_id, scopes, remember, created_at, updated_at, last_used_at, revoked_at "+
	"FROM grants WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL LIMIT 1")

// ListGrants returns a page of grants, newest first, and the total.
func (s *Store) ListGrants(ctx context.Context, f identity.GrantFilter) ([]*identity.Grant, int, error) {
	q := s.conn(ctx).Model(&grantRow{})
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.ClientID != "" {
		q = q.Where("client_id = ?", f.ClientID)
	}
	if !f.IncludeRevoked {
		q = q.Where("revoked_at IS NULL")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, identityErr(err, "Grants")
	}
	offset, limit := pageBounds(f.Offset, f.Limit)
	var rows []grantRow
	if err := q.Order("created_at DESC, id DESC").Offset(offset).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, identityErr(err, "Grants")
	}
	out := make([]*identity.Grant, len(rows))
	for i := range rows {
		out[i] = rows[i].toIdentity()
	}
	return out, int(total), nil
}

// RevokeGrant revokes a grant and, in the same transaction, every code,
// refresh and access token issued under it, listing their JWT ids as
// revoked. Revoking a revoked grant is a no-op; an unknown id is ENOTFOUND.
func (s *Store) RevokeGrant(ctx context.Context, id string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		var row grantRow
		if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
			return identityErr(err, "Grant")
		}
		return s.revokeGrant(ctx, &row)
	})
}

// RevokeGrants revokes every active grant of a user and/or client, as
// RevokeGrant does, and returns how many it revoked. At least one of UserID
// and ClientID is required (EINVALID otherwise).
func (s *Store) RevokeGrants(ctx context.Context, f identity.GrantFilter) (int, error) {
	if f.UserID == "" && f.ClientID == "" {
		return 0, identity.Errorf(identity.EINVALID, "A user or a client is required to revoke grants.")
	}
	var n int
	err := s.inTx(ctx, func(ctx context.Context) error {
		q := s.conn(ctx).Where("revoked_at IS NULL")
		if f.UserID != "" {
			q = q.Where("user_id = ?", f.UserID)
		}
		if f.ClientID != "" {
			q = q.Where("client_id = ?", f.ClientID)
		}
		var rows []grantRow
		if err := q.Find(&rows).Error; err != nil {
			return identityErr(err, "Grants")
		}
		for i := range rows {
			if err := s.revokeGrant(ctx, &rows[i]); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// revokeGrant does RevokeGrant's work inside the caller's transaction.
// Tokens are revoked even when the grant already was, which repairs a
// token issued from a code redeemed after the revocation.
func (s *Store) revokeGrant(ctx context.Context, row *grantRow) error {
	db := s.conn(ctx)
	if row.RevokedAt == nil {
		now := s.now()
		if err := db.Model(&grantRow{}).Where("id = ?", row.ID).Update("revoked_at", now).Error; err != nil {
			return identityErr(err, "Grant")
		}
		row.RevokedAt = &now
	}
	return s.revokeGrantTokens(ctx, row.ID)
}

// revokeGrantTokens invalidates every code, access and refresh token of a
// grant inside the caller's transaction.
func (s *Store) revokeGrantTokens(ctx context.Context, grantID string) error {
	err := s.conn(ctx).Table(tableCodes).Where("grant_id = ? AND active = ?", grantID, true).Update("active", false).Error
	if err != nil {
		return fmt.Errorf("store: invalidate codes of grant: %w", err)
	}
	if err := s.revokeAccessTokens(ctx, true, "grant_id = ?", grantID); err != nil {
		return err
	}
	return s.revokeRefreshTokens(ctx, "grant_id = ?", grantID)
}

func (r *grantRow) toIdentity() *identity.Grant {
	return &identity.Grant{
		ID: r.ID, UserID: r.UserID, ClientID: r.ClientID, Scopes: []string(r.Scopes), Remember: r.Remember,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), LastUsedAt: r.LastUsedAt.UTC(),
		RevokedAt: fromDBTimePtr(r.RevokedAt),
	}
}
