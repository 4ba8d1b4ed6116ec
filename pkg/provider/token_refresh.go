package provider

import (
	"context"
	"errors"
	"slices"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// refreshGrant is RFC 6749 §6 with rotation: fosite checks the refresh
// token and its client and rotates it; this server adds the absolute
// lifetime, the scope parameter and the grace window (refresh_grace.go).
type refreshGrant struct{ p *Provider }

func (g refreshGrant) check(_ context.Context, req *tokenRequest) error {
	if err := g.p.capRefreshLifetime(req.ar); err != nil {
		return err
	}
	if err := narrowScope(req); err != nil {
		return err
	}
	return g.p.narrowAudience(req)
}

// narrowAudience applies the resource parameters of a refresh request (RFC
// 8707 §2.2): the new access token's audience is the resources named, each
// of which the refresh token's grant must include (never wider), or the
// grant's whole audience. The new refresh token keeps the grant's audience
// (req.keepAudience), so a later refresh may name another of them.
func (p *Provider) narrowAudience(req *tokenRequest) error {
	bound := p.legacyBound(req.ar.GetGrantedAudience())
	if err := p.grantAudience(req, bound); err != nil {
		return err
	}
	if !slices.Equal(req.ar.GetGrantedAudience(), bound) {
		req.keepAudience = bound
	}
	return nil
}

func (g refreshGrant) issue(ctx context.Context, req *tokenRequest) (fosite.AccessResponder, error) {
	resp, err := g.p.rotateRefresh(ctx, req)
	if err != nil {
		return nil, err
	}
	g.p.recordIssued(ctx, req, "token.refreshed")
	return resp, nil
}

// failed answers a token rotated within the grace window with its
// successor pair, and audits reuse (fosite has revoked the family).
func (g refreshGrant) failed(ctx context.Context, req *tokenRequest, err error) (fosite.AccessResponder, error) {
	var rot graceReplay
	switch {
	case errors.As(err, &rot):
		return g.p.replayRotation(ctx, req, rot, fosite.ErrInvalidGrant.WithHint("The refresh token was already used."))
	case lostRace(err):
		if rot, ok := g.p.rotationInWindow(ctx, g.p.strategy.RefreshTokenSignature(ctx, req.form("refresh_token"))); ok {
			return g.p.replayRotation(ctx, req, rot, err)
		}
	case errors.Is(err, fosite.ErrInactiveToken):
		g.p.record(ctx, "token.reuse_detected", "failure", req.client(), "", nil)
	}
	return nil, err
}

// capRefreshLifetime ends a refresh chain at the absolute lifetime counted
// from the user's consent, whatever the idle lifetime would allow.
func (p *Provider) capRefreshLifetime(ar fosite.AccessRequester) error {
	s, ok := ar.GetSession().(*Session)
	if !ok || p.cfg.RefreshTokenAbsoluteLifespan <= 0 {
		return nil
	}
	end := s.AuthTime.Add(p.cfg.RefreshTokenAbsoluteLifespan)
	if !p.now().Before(end) {
		return fosite.ErrInvalidGrant.WithHint("The refresh token reached its absolute lifetime; sign in again.")
	}
	if exp := s.GetExpiresAt(fosite.RefreshToken); exp.IsZero() || exp.After(end) {
		s.SetExpiresAt(fosite.RefreshToken, end)
	}
	return nil
}

// narrowScope applies the scope parameter of a refresh request (RFC 6749
// §6), which fosite ignores: the new access token gets exactly the
// requested scopes, each of which must have been granted to the refresh
// token (else invalid_scope, before anything rotates); the new refresh token
// keeps the full scope (req.keepScope), so a later refresh may ask for it
// again.
func narrowScope(req *tokenRequest) error {
	scope := req.form("scope")
	if normaliseScope(scope) == "" {
		return nil
	}
	granted := req.ar.GetGrantedScopes()
	requested, err := identity.ParseScopes(scope)
	if err != nil {
		return fosite.ErrInvalidScope.WithHint("The 'scope' parameter names an unknown or repeated scope.")
	}
	for _, s := range requested {
		if !granted.Has(s) {
			return fosite.ErrInvalidScope.WithHintf("The scope '%s' was not granted to this refresh token.", s)
		}
	}
	a, ok := req.ar.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected access request type")
	}
	req.keepScope = append(fosite.Arguments(nil), granted...)
	a.GrantedScope = fosite.Arguments(requested)
	return nil
}
