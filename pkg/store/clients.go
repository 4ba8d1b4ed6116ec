package store

import (
	"context"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

var _ identity.ClientStore = (*Store)(nil)

func clientToRow(c *identity.Client) clientRow {
	format := c.TokenFormat
	if format == "" {
		format = identity.TokenFormatOpaque
	}
	return clientRow{
		ID: c.ID, Name: c.Name, SecretHash: c.SecretHash,
		RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes, Scopes: c.Scopes, Audience: c.Audience,
		Public: c.Public, AllowedOrigins: c.AllowedOrigins, CanIntrospect: c.CanIntrospect, TokenFormat: format, IDTokenAlg: c.IDTokenSignedResponseAlg, Disabled: c.Disabled,
		JWKSURI: c.JWKSURI, JWKS: c.JWKS,
		OwnerID: c.OwnerID, PreviousSecretHash: c.PreviousSecretHash, PreviousSecretExpiresAt: dbTimePtr(c.PreviousSecretExpiresAt),
		DPoPBound: c.DPoPBound, RequirePAR: c.RequirePAR, Profile: c.Profile,
		CreatedAt: dbTime(c.CreatedAt), UpdatedAt: dbTime(c.UpdatedAt),
		Registration: c.Registration, RegistrationTokenHash: c.RegistrationTokenHash, LastUsedAt: dbTimePtr(c.LastUsedAt),
		ClientURI: c.ClientURI, LogoURI: c.LogoURI, SoftwareID: c.SoftwareID, SoftwareVersion: c.SoftwareVersion,
		AuthMethod:             c.TokenEndpointAuthMethod,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, BackchannelLogoutURI: c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
	}
}

// CreateClient stores c under the id the caller chose; a taken id is
// ECONFLICT.
func (s *Store) CreateClient(ctx context.Context, c *identity.Client) error {
	if c.ID == "" {
		return identity.Errorf(identity.EINVALID, "Client id is required.")
	}
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	if c.TokenFormat == "" {
		c.TokenFormat = identity.TokenFormatOpaque
	}
	row := clientToRow(c)
	return identityErr(s.conn(ctx).Create(&row).Error, "Client")
}

// ClientByID returns a client, disabled or not, or ENOTFOUND.
func (s *Store) ClientByID(ctx context.Context, id string) (*identity.Client, error) {
	if !storableText(id) {
		return nil, identity.Errorf(identity.ENOTFOUND, "Client not found.")
	}
	var row clientRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, identityErr(err, "Client")
	}
	return row.toIdentity(), nil
}

// ListClients returns a page of clients, newest first, and the total.
func (s *Store) ListClients(ctx context.Context, f identity.ClientFilter) ([]*identity.Client, int, error) {
	q := s.conn(ctx).Model(&clientRow{})
	if f.Registered {
		q = q.Where("registration <> ''")
	}
	if f.OwnerID != "" {
		q = q.Where("owner_id = ?", f.OwnerID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, identityErr(err, "Clients")
	}
	offset, limit := pageBounds(f.Offset, f.Limit)
	var rows []clientRow
	if err := q.Order("created_at DESC, id DESC").Offset(offset).Limit(limit).Find(&rows).Error; err != nil {
		return nil, 0, identityErr(err, "Clients")
	}
	out := make([]*identity.Client, len(rows))
	for i := range rows {
		out[i] = rows[i].toIdentity()
	}
	return out, int(total), nil
}

// UpdateClient saves every field of an existing client except CreatedAt.
// Disabling a client also revokes its tokens, putting JWT ids on the
// revocation list: resource servers verifying JWTs never ask the database;
// enabling it again revokes those issued while it was disabled.
func (s *Store) UpdateClient(ctx context.Context, c *identity.Client) error {
	c.UpdatedAt = s.now()
	row := clientToRow(c)
	defer s.forgetClient(c.ID)
	return s.inTx(ctx, func(ctx context.Context) error {
		var was clientRow
		if err := s.conn(ctx).Select("disabled").Where("id = ?", c.ID).Take(&was).Error; err != nil {
			return identityErr(err, "Client")
		}
		res := s.conn(ctx).Model(&clientRow{}).Where("id = ?", c.ID).Updates(map[string]any{
			"name":                                row.Name,
			"secret_hash":                         row.SecretHash,
			"redirect_uris":                       row.RedirectURIs,
			"grant_types":                         row.GrantTypes,
			"scopes":                              row.Scopes,
			"audience":                            row.Audience,
			"public":                              row.Public,
			"allowed_origins":                     row.AllowedOrigins,
			"can_introspect":                      row.CanIntrospect,
			"token_format":                        row.TokenFormat,
			"id_token_signed_response_alg":        row.IDTokenAlg,
			"post_logout_redirect_uris":           row.PostLogoutRedirectURIs,
			"backchannel_logout_uri":              row.BackchannelLogoutURI,
			"backchannel_logout_session_required": row.BackchannelLogoutSessionRequired,
			"disabled":                            row.Disabled,
			"dpop_bound":                          row.DPoPBound,
			"require_par":                         row.RequirePAR,
			"profile":                             row.Profile,
			"token_endpoint_auth_method":          row.AuthMethod,
			"jwks_uri":                            row.JWKSURI,
			"jwks":                                row.JWKS,
			// owner_id is set at creation only: an app never changes hands.
			"previous_secret_hash":           row.PreviousSecretHash,
			"previous_secret_expires_at":     row.PreviousSecretExpiresAt,
			"updated_at":                     row.UpdatedAt,
			"registration":                   row.Registration,
			"client_uri":                     row.ClientURI,
			"logo_uri":                       row.LogoURI,
			"software_id":                    row.SoftwareID,
			"software_version":               row.SoftwareVersion,
			"registration_access_token_hash": row.RegistrationTokenHash,
		})
		if res.Error != nil {
			return identityErr(res.Error, "Client")
		}
		if res.RowsAffected == 0 {
			return identity.Errorf(identity.ENOTFOUND, "Client not found.")
		}
		// Disabling revokes every token of the client. Enabling does too:
		// any token still active was issued while the client was disabled,
		// by a replica whose client cache had not yet seen the change (up
		// to DefaultClientCacheTTL), and must not come back to life.
		if !c.Disabled && !was.Disabled {
			return nil
		}
		if err := s.revokeAccessTokens(ctx, true, "client_id = ?", c.ID); err != nil {
			return err
		}
		return s.revokeRefreshTokens(ctx, "client_id = ?", c.ID)
	})
}

// DeleteClient deletes a client; its grants, codes and tokens go with it
// (ON DELETE CASCADE), after its JWT ids are put on the revocation list.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	defer s.forgetClient(id)
	return s.inTx(ctx, func(ctx context.Context) error {
		if err := s.revokeAccessTokens(ctx, true, "client_id = ?", id); err != nil {
			return err
		}
		res := s.conn(ctx).Where("id = ?", id).Delete(&clientRow{})
		if res.Error != nil {
			return identityErr(res.Error, "Client")
		}
		if res.RowsAffected == 0 {
			return identity.Errorf(identity.ENOTFOUND, "Client not found.")
		}
		return nil
	})
}

// forgetClient evicts a changed client from the cache. It runs after the
// change, so a load racing the change cannot keep the old row longer than
// the cache's ttl.
func (s *Store) forgetClient(id string) {
	if s.clientCache != nil {
		s.clientCache.forget(id)
	}
}
