package provider

import (
	"net/http"
	"slices"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Resource indicators (RFC 8707). The configured resources (Config.Resources)
// are the only audiences this server issues tokens for; the first is the
// audience of a token requested without a resource parameter.
//
// Where the audience lives: the authorization endpoint records the
// resources the user authorized as the code's requested audience (pkg/web,
// ResolveResources); the token endpoint grants them, or the subset its own
// resource parameters name (codeGrant.check) — fosite's code handler copies
// a code's granted audience into the tokens, so the code carries none. A
// refresh token's granted audience bounds every later refresh.

// invalidTarget is RFC 8707 §2's error: the resource is malformed, unknown,
// or does not accept the requested scope.
func invalidTarget(description string) *fosite.RFC6749Error {
	return oauthError(http.StatusBadRequest, "invalid_target", description)
}

// ResolveResources returns the audience for the resource parameters of an
// authorization request and the scopes asked for: the named resources, or
// the default when none is named. The error is an RFC 6749 error
// (invalid_target) for fosite's error writers.
func (p *Provider) ResolveResources(requested, scopes []string) ([]string, error) {
	aud, err := p.cfg.Resources.Resolve(requested, scopes)
	if err != nil {
		return nil, invalidTarget(identity.ErrorMessage(err))
	}
	return aud, nil
}

// audienceStrategy replaces fosite's match of a requested audience against
// the client's registered audiences: an audience is one of the configured
// resources, whichever client asks (RFC 8707 §2). fosite calls it for the
// non-standard audience parameter and for a refresh token's audience.
func (p *Provider) audienceStrategy(_ []string, needle []string) error {
	for _, a := range needle {
		if _, ok := p.cfg.Resources.Lookup(a); !ok {
			return invalidTarget("The audience '" + a + "' is not a resource of this server.")
		}
	}
	return nil
}

// grantAudience sets the access token's audience: the resources named by
// the token request, which must each lie in bound (what the grant allows;
// a bound of nil allows every configured resource), or all of bound when
// none is named. The token's scopes must be accepted by each resource.
func (p *Provider) grantAudience(req *tokenRequest, bound []string) error {
	requested := req.r.PostForm["resource"]
	if len(bound) > 0 {
		for _, id := range requested {
			if err := identity.CheckResourceIdentifier(id); err != nil {
				return invalidTarget(identity.ErrorMessage(err))
			}
			if !slices.Contains(bound, id) {
				return invalidTarget("The resource '" + id + "' was not authorized for this grant.")
			}
		}
		if len(requested) == 0 {
			requested = bound
		}
	}
	aud, err := p.ResolveResources(requested, req.ar.GetGrantedScopes())
	if err != nil {
		return err
	}
	a, ok := req.ar.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected access request type")
	}
	a.GrantedAudience = fosite.Arguments(aud)
	return nil
}

// legacyBound is the audience a grant made before resource indicators is
// bound to: the default resource (its tokens' audience was the single
// configured API, which the default names).
func (p *Provider) legacyBound(aud []string) []string {
	if len(aud) == 0 {
		return []string{p.cfg.Resources.Default()}
	}
	return aud
}
