package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/pkce"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"gorm.io/gorm/clause"
)

var (
	_ fosite.ClientManager          = (*Store)(nil)
	_ oauth2.CoreStorage            = (*Store)(nil)
	_ oauth2.TokenRevocationStorage = (*Store)(nil)
	_ pkce.PKCERequestStorage       = (*Store)(nil)
)

// GrantIDSession is implemented by sessions whose tokens belong to a grant.
// The grant id lands in the grant_id column so RevokeGrant finds the tokens.
type GrantIDSession interface{ GetGrantID() string }

// JTISession is implemented by sessions of JWT access tokens. The jti lands
// in the jti column so revocation can put it on the revocation list.
type JTISession interface{ GetJTI() string }

// secretFormKeys never reach the database, whatever fosite hands in.
var secretFormKeys = []string{
	"client_secret", "code", "refresh_token", "code_verifier",
	"password", "assertion", "client_assertion", "access_token",
}

// revokedJWTFallbackTTL bounds the revocation-list entry of a JWT whose row
// has no expiry.
const revokedJWTFallbackTTL = 24 * time.Hour

// GetClient returns the client as a *Client, through the client cache
// (clientcache.go) when the store has one. Disabled and unknown clients are
// both fosite.ErrNotFound, so a disabled client can neither start a flow nor
// use its existing tokens. The requests the store rebuilds (codes, tokens)
// load their client the same way.
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	return s.clients.GetClient(ctx, id)
}

// ClientAssertionJWTValid returns fosite.ErrJTIKnown when jti was seen and
// has not expired yet.
func (s *Store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	var n int64
	err := s.conn(ctx).Model(&assertionJTIRow{}).
		Where("jti = ? AND expires_at > ?", jti, s.now()).Count(&n).Error
	if err != nil {
		return fmt.Errorf("store: check client assertion jti: %w", err)
	}
	if n > 0 {
		return fosite.ErrJTIKnown
	}
	return nil
}

// SetClientAssertionJWT remembers jti until exp. It is the single-use
// check itself: a jti that is still remembered is fosite.ErrJTIKnown, decided
// by the insert (the primary key), so two concurrent requests with the same
// assertion cannot both pass. Expired jtis are dropped first.
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		if err := db.Where("expires_at <= ?", s.now()).Delete(&assertionJTIRow{}).Error; err != nil {
			return fmt.Errorf("store: clean client assertion jtis: %w", err)
		}
		row := assertionJTIRow{JTI: jti, ExpiresAt: dbTime(exp)}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return fmt.Errorf("store: save client assertion jti: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return fosite.ErrJTIKnown
		}
		return nil
	})
}

// newRequestRow flattens a fosite request for storage. kind selects the
// expiry read from the session.
func (s *Store) newRequestRow(signature string, req fosite.Requester, kind fosite.TokenType) (requestRow, error) {
	row := requestRow{
		Signature:         signature,
		RequestID:         req.GetID(),
		RequestedAt:       dbTime(req.GetRequestedAt()),
		RequestedScopes:   stringList(req.GetRequestedScopes()),
		GrantedScopes:     stringList(req.GetGrantedScopes()),
		RequestedAudience: stringList(req.GetRequestedAudience()),
		GrantedAudience:   stringList(req.GetGrantedAudience()),
		Form:              sanitizeForm(req.GetRequestForm()).Encode(),
		Session:           "{}",
		Active:            true,
	}
	if c := req.GetClient(); c != nil {
		row.ClientID = c.GetID()
	}
	if row.RequestedAt.IsZero() {
		row.RequestedAt = s.now()
	}
	if sess := req.GetSession(); sess != nil {
		b, err := json.Marshal(sess)
		if err != nil {
			return row, fmt.Errorf("store: encode session: %w", err)
		}
		row.Session = string(b)
		row.Subject = sess.GetSubject()
		exp := sess.GetExpiresAt(kind)
		row.ExpiresAt = dbTimePtr(&exp)
		if g, ok := sess.(GrantIDSession); ok && g.GetGrantID() != "" {
			id := g.GetGrantID()
			row.GrantID = &id
		}
	}
	return row, nil
}

// sanitizeForm copies form without credentials.
func sanitizeForm(form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	for _, k := range secretFormKeys {
		out.Del(k)
	}
	return out
}

// toRequest rebuilds the fosite request, decoding the stored session into
// session (the caller's type). fosite's revocation handler passes nil, which
// gets a *fosite.DefaultSession.
func (s *Store) toRequest(ctx context.Context, row *requestRow, session fosite.Session) (*fosite.Request, error) {
	client, err := s.GetClient(ctx, row.ClientID)
	if err != nil {
		return nil, err
	}
	if session == nil {
		session = &fosite.DefaultSession{}
	}
	if err := json.Unmarshal([]byte(row.Session), session); err != nil {
		return nil, fmt.Errorf("store: decode session: %w", err)
	}
	return requestOf(row, client, session)
}

// requestOf is the fosite request of row with its client and session.
func requestOf(row *requestRow, client fosite.Client, session fosite.Session) (*fosite.Request, error) {
	form, err := url.ParseQuery(row.Form)
	if err != nil {
		return nil, fmt.Errorf("store: decode form: %w", err)
	}
	return &fosite.Request{
		ID:                row.RequestID,
		RequestedAt:       row.RequestedAt.UTC(),
		Client:            client,
		RequestedScope:    fosite.Arguments(row.RequestedScopes),
		GrantedScope:      fosite.Arguments(row.GrantedScopes),
		RequestedAudience: fosite.Arguments(row.RequestedAudience),
		GrantedAudience:   fosite.Arguments(row.GrantedAudience),
		Form:              form,
		Session:           session,
	}, nil
}

func (s *Store) createRequest(ctx context.Context, table, signature string, req fosite.Requester, kind fosite.TokenType) error {
	row, err := s.newRequestRow(signature, req, kind)
	if err != nil {
		return err
	}
	if err := s.conn(ctx).Table(table).Create(&row).Error; err != nil {
		return fmt.Errorf("store: create %s row: %w", table, err)
	}
	return nil
}

func (s *Store) getRequestRow(ctx context.Context, table, signature string) (*requestRow, error) {
	var row requestRow
	if err := s.queryRowHot(ctx, selectRequestRow[table], []any{signature}, row.scanDest()...); err != nil {
		return nil, fositeErr(err, "get "+table+" row")
	}
	return &row, nil
}

func (s *Store) deleteRequest(ctx context.Context, table, signature string) error {
	if err := s.conn(ctx).Table(table).Where("signature = ?", signature).Delete(&requestRow{}).Error; err != nil {
		return fmt.Errorf("store: delete %s row: %w", table, err)
	}
	return nil
}

// CreatePKCERequestSession stores the PKCE request under the code's signature.
func (s *Store) CreatePKCERequestSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.createRequest(ctx, tablePKCE, signature, req, fosite.AuthorizeCode)
}

// GetPKCERequestSession returns the PKCE request of a code.
func (s *Store) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	row, err := s.getRequestRow(ctx, tablePKCE, signature)
	if err != nil {
		return nil, err
	}
	return s.toRequest(ctx, row, session)
}

// DeletePKCERequestSession deletes the PKCE request of a code.
func (s *Store) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return s.deleteRequest(ctx, tablePKCE, signature)
}

// CreateOIDCRequest stores the OpenID Connect request of a code (fosite's
// openid explicit flow: nonce, auth_time, the ID token claims) under the
// code's signature.
func (s *Store) CreateOIDCRequest(ctx context.Context, signature string, req fosite.Requester) error {
	return s.createRequest(ctx, tableOIDC, signature, req, fosite.AuthorizeCode)
}

// GetOIDCRequest returns the OpenID Connect request of a code, or
// fosite.ErrNotFound.
func (s *Store) GetOIDCRequest(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	row, err := s.getRequestRow(ctx, tableOIDC, signature)
	if err != nil {
		return nil, err
	}
	return s.toRequest(ctx, row, session)
}

// DeleteOIDCRequest deletes the OpenID Connect request of a code.
func (s *Store) DeleteOIDCRequest(ctx context.Context, signature string) error {
	return s.deleteRequest(ctx, tableOIDC, signature)
}

// CreateAccessTokenSession stores an access token's request. A token issued
// under a grant also marks the grant as used now.
func (s *Store) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	base, err := s.newRequestRow(signature, req, fosite.AccessToken)
	if err != nil {
		return err
	}
	row := accessTokenRow{Req: base}
	if j, ok := req.GetSession().(JTISession); ok && j.GetJTI() != "" {
		jti := j.GetJTI()
		row.JTI = &jti
	}
	args := append(base.fields(), row.JTI)
	if inTransaction(ctx) {
		_, err = s.execHot(ctx, insertAccessRow, args...)
	} else {
		err = s.accessInserts.insert(ctx, args)
	}
	if err != nil {
		return fmt.Errorf("store: create access token row: %w", err)
	}
	if now := s.now(); row.Req.GrantID != nil && s.grantTouches.due(*row.Req.GrantID, now, grantTouchInterval) {
		// Only when the recorded time is a minute old: every token of a
		// grant would otherwise write (and lock) the same grant row, which
		// serialises all refreshes of that grant across replicas.
		err := s.conn(ctx).Model(&grantRow{}).Where("id = ? AND last_used_at < ?", *row.Req.GrantID, now.Add(-grantTouchInterval)).
			Update("last_used_at", now).Error
		if err != nil {
			return fmt.Errorf("store: touch grant: %w", err)
		}
	}
	return nil
}

// touchMemo remembers when this process last wrote a row's last-used
// time, so that within the write interval the conditional update — which
// would change nothing — is not even sent.
type touchMemo struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// touchMemoMax bounds the memory; past it the map starts over (a few extra
// updates).
const touchMemoMax = 10_000

// due reports whether row id may need its last-used time written at now,
// given that it is written at most once per every, and if so records now.
func (g *touchMemo) due(id string, now time.Time, every time.Duration) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.last[id]; ok && now.Sub(t) < every && !now.Before(t) {
		return false
	}
	if g.last == nil || len(g.last) >= touchMemoMax {
		g.last = map[string]time.Time{}
	}
	g.last[id] = now
	return true
}

// GetAccessTokenSession returns an access token's request. A revoked token
// returns the request together with fosite.ErrInactiveToken. Expired tokens
// are returned as they are: fosite checks expiry.
func (s *Store) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	row, err := s.getRequestRow(ctx, tableAccess, signature)
	if err != nil {
		return nil, err
	}
	req, err := s.toRequest(ctx, row, session)
	if err != nil {
		return nil, err
	}
	if !row.Active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteAccessTokenSession deletes an access token's row.
func (s *Store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return s.deleteRequest(ctx, tableAccess, signature)
}

// CreateRefreshTokenSession stores a refresh token's request together with
// the signature of the access token issued beside it.
func (s *Store) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, req fosite.Requester) error {
	base, err := s.newRequestRow(signature, req, fosite.RefreshToken)
	if err != nil {
		return err
	}
	if _, err := s.execHot(ctx, insertRefreshRow, append(base.fields(), accessSignature)...); err != nil {
		return fmt.Errorf("store: create refresh token row: %w", err)
	}
	return nil
}

// GetRefreshTokenSession returns a refresh token's request. An inactive
// (rotated or revoked) token returns the request together with
// fosite.ErrInactiveToken, which fosite treats as reuse.
func (s *Store) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	row, err := s.getRequestRow(ctx, tableRefresh, signature)
	if err != nil {
		return nil, err
	}
	req, err := s.toRequest(ctx, row, session)
	if err != nil {
		return nil, err
	}
	if !row.Active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteRefreshTokenSession deletes a refresh token's row.
func (s *Store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return s.deleteRequest(ctx, tableRefresh, signature)
}

// grantTouchInterval is the resolution of a grant's "last used" time.
const grantTouchInterval = time.Minute

// RotateRefreshToken retires the presented refresh token with a conditional
// update: exactly one of several concurrent rotations changes the row, the
// others get ErrRefreshTokenRotated. The winner also revokes the access
// token issued beside it (by its signature, kept in the row; by the request
// id, which the whole chain shares, for rows that do not name it); fosite
// then creates the successor pair in the same transaction. Older tokens of
// the chain need no change: each was deactivated by the rotation that
// replaced it. fosite.ErrNotFound when the token is unknown or belongs to
// another request.
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		var owner, accessSignature string
		err := s.queryRowHot(ctx, rotateRefreshRow, []any{false, dbTime(s.now()), signature, true}, &owner, &accessSignature)
		if isNotFound(err) {
			if _, err := s.getRequestRow(ctx, tableRefresh, signature); err != nil {
				return err
			}
			return ErrRefreshTokenRotated
		}
		if err != nil {
			return fmt.Errorf("store: rotate refresh token: %w", err)
		}
		if owner != requestID {
			return fosite.ErrNotFound // the caller's rollback undoes the update
		}
		if accessSignature == "" {
			return s.revokeAccessTokens(ctx, false, "request_id = ?", requestID)
		}
		return s.revokeAccessTokens(ctx, false, "signature = ?", accessSignature)
	})
}

// RevokeRefreshToken deactivates every refresh token of the request id (the
// whole rotation chain) and disowns their grace-window successors, so a
// revoked family cannot be revived by replaying an old token.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return s.revokeRefreshTokens(ctx, "request_id = ?", requestID)
}

// RevokeAccessToken deactivates every access token of the request id and
// puts their JWT ids on the revocation list, in one transaction.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	return s.inTx(ctx, func(ctx context.Context) error {
		return s.revokeAccessTokens(ctx, true, "request_id = ?", requestID)
	})
}

// revokeRefreshTokens deactivates the refresh tokens matching the condition
// and clears the rotation time of those with a kept successor pair, which
// RotationOf then no longer returns (ClearRotations deletes the pair). One
// statement: only the few rows with a pair are written besides the active
// one.
func (s *Store) revokeRefreshTokens(ctx context.Context, cond string, args ...any) error {
	err := s.conn(ctx).Table(tableRefresh).
		Where(cond, args...).
		Where("(active = ? OR signature IN (SELECT signature FROM "+tableRotations+"))", true).
		Updates(map[string]any{"active": false, "rotated_at": nil}).Error
	if err != nil {
		return fmt.Errorf("store: revoke refresh tokens: %w", err)
	}
	return nil
}

// revokeAccessTokens deactivates the active access tokens matching cond and
// lists their JWT ids as revoked until the tokens expire: one UPDATE …
// RETURNING, one insert when any of them is a JWT. With announce it also
// queues a revocation event for each unexpired one; a rotation (the token
// replaced by its successor) is not announced. The caller provides the
// transaction.
func (s *Store) revokeAccessTokens(ctx context.Context, announce bool, cond string, args ...any) error {
	rows, err := s.connPool(ctx).QueryContext(ctx, s.sqlOf(revokeAccessSQL(cond)), append([]any{false}, args...)...)
	if err != nil {
		return fmt.Errorf("store: revoke access tokens: %w", err)
	}
	defer rows.Close()
	now := s.now()
	var list []revokedJWTRow
	var events []identity.SecurityEvent
	for rows.Next() {
		var signature string
		var jti *string
		var expires *time.Time
		if err := rows.Scan(&signature, &jti, &expires); err != nil {
			return fmt.Errorf("store: revoke access tokens: %w", err)
		}
		exp := now.Add(revokedJWTFallbackTTL)
		if expires != nil {
			exp = dbTime(*expires)
		}
		if jti != nil && *jti != "" {
			list = append(list, revokedJWTRow{JTI: *jti, ExpiresAt: exp, RevokedAt: now})
		}
		if announce && exp.After(now) {
			events = append(events, identity.CredentialRevoked(identity.CredentialAccessToken, tokenSubject(signature, jti), now))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: revoke access tokens: %w", err)
	}
	if len(list) > 0 {
		err := s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(list, 200).Error
		if err != nil {
			return fmt.Errorf("store: list revoked jwts: %w", err)
		}
	}
	return s.emitEvents(ctx, events)
}

// revokeAccessSQL is revokeAccessTokens' statement: its first argument is
// false, then cond's. Built once per condition (the conditions are the
// code's own constants): the rotation runs it on every refresh.
func revokeAccessSQL(cond string) hotQuery {
	if q, ok := revokeAccessSQLs.Load(cond); ok {
		return q.(hotQuery)
	}
	q := hot(tableAccess, "UPDATE "+tableAccess+" SET active = ? WHERE ("+cond+") AND active RETURNING signature, jti, expires_at")
	revokeAccessSQLs.Store(cond, q)
	return q
}

var revokeAccessSQLs sync.Map // cond → hotQuery

// tokenSubject identifies an access token in an event: a JWT by its jti,
// an opaque token by its identity.TokenID.
func tokenSubject(signature string, jti *string) map[string]string {
	if jti != nil && *jti != "" {
		return map[string]string{"format": identity.SubjectJWTID, "jti": *jti}
	}
	return map[string]string{"format": identity.SubjectOpaque, "id": identity.TokenID(signature)}
}

func (r *clientRow) toIdentity() *identity.Client {
	return &identity.Client{
		ID:                               r.ID,
		Name:                             r.Name,
		SecretHash:                       r.SecretHash,
		RedirectURIs:                     []string(r.RedirectURIs),
		GrantTypes:                       []string(r.GrantTypes),
		Scopes:                           []string(r.Scopes),
		Audience:                         []string(r.Audience),
		Public:                           r.Public,
		AllowedOrigins:                   []string(r.AllowedOrigins),
		IDTokenSignedResponseAlg:         r.IDTokenAlg,
		CanIntrospect:                    r.CanIntrospect,
		TokenFormat:                      r.TokenFormat,
		PostLogoutRedirectURIs:           []string(r.PostLogoutRedirectURIs),
		BackchannelLogoutURI:             r.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: r.BackchannelLogoutSessionRequired,
		Disabled:                         r.Disabled,
		OwnerID:                          r.OwnerID,
		PreviousSecretHash:               r.PreviousSecretHash,
		PreviousSecretExpiresAt:          fromDBTimePtr(r.PreviousSecretExpiresAt),
		CreatedAt:                        r.CreatedAt.UTC(),
		UpdatedAt:                        r.UpdatedAt.UTC(),
		JWKSURI:                          r.JWKSURI,
		JWKS:                             r.JWKS,

		Registration:          r.Registration,
		RegistrationTokenHash: r.RegistrationTokenHash,
		LastUsedAt:            fromDBTimePtr(r.LastUsedAt),
		ClientURI:             r.ClientURI,
		LogoURI:               r.LogoURI,
		SoftwareID:            r.SoftwareID,
		SoftwareVersion:       r.SoftwareVersion,

		TokenEndpointAuthMethod: r.AuthMethod,
		DPoPBound:               r.DPoPBound,
		RequirePAR:              r.RequirePAR,
		Profile:                 r.Profile,
	}
}
