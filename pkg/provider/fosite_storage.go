package provider

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// fositeStorage is the storage fosite sees: ours (which caches clients,
// pkg/store/clientcache.go), with three token-endpoint rules fosite does
// not have: a storage failure while loading the client is
// temporarily_unavailable, not invalid_client; another client's code or
// refresh token is unknown; a used code is unknown (codeGrant.failed
// revokes what it issued, once). The grace window's part is in
// refresh_grace.go.
type fositeStorage struct {
	Storage
	p *Provider
	// oldRows remembers, between fosite's read and delete of the PKCE or
	// OpenID Connect request of a code stored the old way (code_row.go),
	// that it has a row of its own to delete; keys: "pkce " or "oidc " +
	// the code's signature.
	oldRows sync.Map
}

// GetClient marks a storage failure so that the endpoints answer 503, not
// invalid_client: a client must not conclude its credentials are wrong
// during an outage.
func (s *fositeStorage) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.Storage.GetClient(ctx, id)
	if err != nil && !errors.Is(err, fosite.ErrNotFound) {
		return nil, fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	return c, err
}

// GetAuthorizeCodeSession hides another client's code (see notTheCallers)
// and a used one: fosite would revoke what the code issued and answer
// before codeGrant.failed, which does both in one place.
func (s *fositeStorage) GetAuthorizeCodeSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	req, err := s.Storage.GetAuthorizeCodeSession(ctx, sig, sess)
	if notTheCallers(ctx, req) || errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		return nil, fosite.ErrNotFound
	}
	return req, err
}

// fapi2CodeLifespan caps the codes of fapi2 clients (FAPI 2.0 §5.3.2.1:
// at most 60 s), whatever tokens.authorize_code_lifespan says.
const fapi2CodeLifespan = 60 * time.Second

// CreateAuthorizeCodeSession stores a code; a fapi2 client's expires at
// most fapi2CodeLifespan after now.
func (s *fositeStorage) CreateAuthorizeCodeSession(ctx context.Context, sig string, req fosite.Requester) error {
	if c := clientOf(req); c != nil && c.FAPI2() && req.GetSession() != nil {
		limit := s.p.now().UTC().Add(fapi2CodeLifespan)
		if exp := req.GetSession().GetExpiresAt(fosite.AuthorizeCode); exp.IsZero() || exp.After(limit) {
			req.GetSession().SetExpiresAt(fosite.AuthorizeCode, limit)
		}
	}
	if stashCode(ctx, sig, req, true) {
		return nil
	}
	return s.Storage.CreateAuthorizeCodeSession(ctx, sig, req)
}

// tokenCaller is the client that authenticated at the token endpoint, read
// from the access request fosite carries in the context; "" elsewhere
// (revocation, introspection) and before the client has authenticated.
func tokenCaller(ctx context.Context) (string, bool) {
	ar, ok := ctx.Value(fosite.AccessRequestContextKey).(fosite.AccessRequester)
	if !ok || ar.GetClient() == nil {
		return "", false
	}
	return ar.GetClient().GetID(), true
}

// notTheCallers reports whether req, found at the token endpoint, belongs
// to another client than the one that authenticated. fosite checks the
// owner only after acting on a rotated refresh token (revoking what it
// issued), so another client presenting it would revoke the owner's
// tokens: such a credential is answered as unknown (RFC 6749 §4.1.3, §6: it
// was not issued to the caller) and changes nothing.
func notTheCallers(ctx context.Context, req fosite.Requester) bool {
	caller, ok := tokenCaller(ctx)
	return ok && req != nil && req.GetClient() != nil && req.GetClient().GetID() != caller
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage,
// keyed like the code's other requests by its signature (fosite hands in
// the code itself, which never reaches the database); with the code's row
// (code_row.go) when one is being collected.
func (s *fositeStorage) CreateOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) error {
	sig := s.p.strategy.AuthorizeCodeSignature(ctx, code)
	if stashCode(ctx, sig, req, false) {
		return nil
	}
	return s.CreateOIDCRequest(ctx, sig, req)
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage;
// a code without one is fosite.ErrNotFound (openid.ErrNoSessionFound),
// found without a query when the code was not granted openid.
func (s *fositeStorage) GetOpenIDConnectSession(ctx context.Context, code string, req fosite.Requester) (fosite.Requester, error) {
	if !req.GetGrantedScopes().Has(identity.ScopeOpenID) {
		return nil, fosite.ErrNotFound
	}
	return s.openIDRequest(ctx, s.p.strategy.AuthorizeCodeSignature(ctx, code))
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage:
// only a code stored the old way has a row of its own to delete.
func (s *fositeStorage) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	sig := s.p.strategy.AuthorizeCodeSignature(ctx, code)
	if _, old := s.oldRows.LoadAndDelete("oidc " + sig); old {
		return s.DeleteOIDCRequest(ctx, sig)
	}
	return nil
}
