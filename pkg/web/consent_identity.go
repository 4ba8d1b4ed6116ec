package web

import (
	"slices"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// identityScopeOrder are the OpenID Connect scopes (OIDC Core §5.4), what
// the app may learn about who the user is, in the order the consent page
// lists them: first, under one summary line.
var identityScopeOrder = []string{identity.ScopeOpenID, identity.ScopeProfile, identity.ScopeEmail}

func isIdentityScope(s string) bool { return slices.Contains(identityScopeOrder, s) }

// consentScope is one identity scope on the consent page. Fixed ones
// (openid: without it there is no sign-in) cannot be unticked; the others
// can, which narrows the grant and so the claims the app gets.
type consentScope struct {
	identity.ScopeInfo
	Fixed bool
}

// identityScopes picks the identity scopes out of requested, in display
// order, with a one-line summary in plain words ("Know your name and email
// address").
func identityScopes(requested []string) ([]consentScope, string) {
	var out []consentScope
	for _, name := range identityScopeOrder {
		if info, ok := identity.LookupScope(name); ok && slices.Contains(requested, name) {
			out = append(out, consentScope{ScopeInfo: info, Fixed: name == identity.ScopeOpenID})
		}
	}
	profile, email := slices.Contains(requested, identity.ScopeProfile), slices.Contains(requested, identity.ScopeEmail)
	switch {
	case profile && email:
		return out, "Know your name and email address"
	case profile:
		return out, "Know your name"
	case email:
		return out, "Know your email address"
	case len(out) > 0:
		return out, "Know who you are on PetStore"
	}
	return out, ""
}
