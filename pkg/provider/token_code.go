package provider

import (
	"context"
	"errors"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// codeGrant is RFC 6749 §4.1.3 with PKCE (RFC 7636): fosite checks the
// code, the verifier and the redirect_uri of the authorization request;
// this server adds the registered-redirect rule and burns a code on any
// failed redemption by its own client.
type codeGrant struct{ p *Provider }

// check grants the audience (RFC 8707) and applies the authorization endpoint's redirect rule
// (identity.RedirectURIMatches: exact, loopback any-port for public clients
// only) to the redirect_uri of the redemption. fosite only compares it with
// the authorization request's, and not at all when that request named none.
func (g codeGrant) check(_ context.Context, req *tokenRequest) error {
	if err := checkRedeemRedirect(req); err != nil {
		return err
	}
	// The code's requested audience is what the user authorized (resource.go).
	return g.p.grantAudience(req, g.p.legacyBound(req.ar.GetRequestedAudience()))
}

func checkRedeemRedirect(req *tokenRequest) error {
	uri := req.form("redirect_uri")
	if uri == "" {
		return nil
	}
	c := req.ar.GetClient()
	for _, reg := range c.GetRedirectURIs() {
		if identity.RedirectURIMatches(reg, uri, c.IsPublic()) {
			return nil
		}
	}
	return fosite.ErrInvalidGrant.WithHint("The 'redirect_uri' is not one this client registered.")
}

func (g codeGrant) issue(ctx context.Context, req *tokenRequest) (fosite.AccessResponder, error) {
	resp, err := g.p.OAuth2.NewAccessResponse(ctx, req.ar)
	if err != nil {
		return nil, err
	}
	g.p.recordIssued(ctx, req, "code.redeemed")
	return resp, nil
}

// failed burns the code; a code that had been redeemed before is
// answered as such, whatever fosite saw.
func (g codeGrant) failed(ctx context.Context, req *tokenRequest, err error) (fosite.AccessResponder, error) {
	if g.p.burnCode(ctx, req) {
		return nil, fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
	}
	return nil, err
}

// burnCode runs after any failed redemption: wrong verifier, wrong
// redirect_uri, a second redemption, or one that lost a race at the
// conditional update. A code of the authenticated client that is still
// active is invalidated with the redemption's conditional update (PK-05);
// one that was redeemed before has the tokens of that redemption revoked
// (RFC 6749 §4.1.2) and the reuse audited, and burnCode reports true.
// This is the only place that revokes them: fositeStorage hides used codes
// from fosite, whose own revocation would otherwise run first. On
// PostgreSQL the update waits for a racing redemption to commit and on
// SQLite transactions are serialised, so this never runs before the
// winner's tokens exist. Another client's or an unknown code changes
// nothing.
func (p *Provider) burnCode(ctx context.Context, req *tokenRequest) (reused bool) {
	if req.client() == "" {
		return false // the client did not authenticate: it may not touch any code
	}
	sig := p.strategy.AuthorizeCodeSignature(ctx, req.form("code"))
	code, err := p.store.GetAuthorizeCodeSession(ctx, sig, NewSession("", ""))
	switch {
	case code == nil || code.GetClient().GetID() != req.client():
		return false // unknown or unreadable, or another client's: the owner's to redeem
	case err == nil:
		err = p.store.InvalidateAuthorizeCodeSession(ctx, sig)
		if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
			return false // burned now (or not at all: the next redemption finds out)
		}
	case !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode):
		return false
	}
	p.revokeRequest(ctx, code.GetID())
	p.record(ctx, "code.reused", "failure", req.client(), code.GetSession().GetSubject(), map[string]string{"request_id": code.GetID()})
	return true
}

// revokeRequest revokes every token issued for one request id.
func (p *Provider) revokeRequest(ctx context.Context, requestID string) {
	if err := p.store.RevokeRefreshToken(ctx, requestID); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		httpx.Logger(ctx).Error("revoke refresh tokens after code reuse", "err", err)
	}
	if err := p.store.RevokeAccessToken(ctx, requestID); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		httpx.Logger(ctx).Error("revoke access tokens after code reuse", "err", err)
	}
}
