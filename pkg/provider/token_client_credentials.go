package provider

import (
	"context"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// clientCredentialsGrant is RFC 6749 §4.4: a confidential client acting for
// itself. fosite has authenticated it and checked the requested scopes
// against its registration.
type clientCredentialsGrant struct{ p *Provider }

// check makes the client the subject and grants what it asked for: the
// scopes, and the resources named (RFC 8707) or the default one.
func (g clientCredentialsGrant) check(_ context.Context, req *tokenRequest) error {
	if s, ok := req.ar.GetSession().(*Session); ok {
		s.Subject = req.client()
	}
	for _, s := range req.ar.GetRequestedScopes() {
		if s == identity.ScopeOpenID || s == identity.ScopeProfile || s == identity.ScopeEmail {
			// OpenID Connect scopes describe a signed-in user; a client
			// acting for itself has none (its token would be refused at
			// UserInfo).
			return fosite.ErrInvalidScope.WithHintf("The scope %q needs a signed-in user; client_credentials has none.", s)
		}
		req.ar.GrantScope(s)
	}
	return g.p.grantAudience(req, nil)
}

func (g clientCredentialsGrant) issue(ctx context.Context, req *tokenRequest) (fosite.AccessResponder, error) {
	resp, err := g.p.OAuth2.NewAccessResponse(ctx, req.ar)
	if err != nil {
		return nil, err
	}
	g.p.recordIssued(ctx, req, "")
	return resp, nil
}

func (clientCredentialsGrant) failed(_ context.Context, _ *tokenRequest, err error) (fosite.AccessResponder, error) {
	return nil, err
}
