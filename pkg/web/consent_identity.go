package web

import "github.com/petstore-auth/petstore-auth/pkg/identity"

// The OpenID Connect scopes (OIDC Core §3.1.2.1, §5.4): what the app may
// learn about who the user is.
const (
	scopeOpenID  = "openid"
	scopeProfile = "profile"
	scopeEmail   = "email"
)

// identityScopeOrder is the order the consent page lists them in.
var identityScopeOrder = []string{scopeOpenID, scopeProfile, scopeEmail}

// identityScopeFallback describes them where identity.Scopes does not (yet).
var identityScopeFallback = map[string]identity.ScopeInfo{
	scopeOpenID:  {Name: scopeOpenID, Title: "Sign you in with PetStore", Description: "Learn your PetStore account id, so the app recognises you next time."},
	scopeProfile: {Name: scopeProfile, Title: "Know your name", Description: "Your display name on PetStore."},
	scopeEmail:   {Name: scopeEmail, Title: "Know your email address", Description: "Your email address, and whether it is verified."},
}

func isIdentityScope(s string) bool { return identityScopeFallback[s].Name != "" }

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
	has := map[string]bool{}
	for _, name := range identityScopeOrder {
		for _, r := range requested {
			if r != name {
				continue
			}
			info, ok := identity.LookupScope(name)
			if !ok {
				info = identityScopeFallback[name]
			}
			out = append(out, consentScope{ScopeInfo: info, Fixed: name == scopeOpenID})
			has[name] = true
		}
	}
	switch {
	case has[scopeProfile] && has[scopeEmail]:
		return out, "Know your name and email address"
	case has[scopeProfile]:
		return out, "Know your name"
	case has[scopeEmail]:
		return out, "Know your email address"
	case has[scopeOpenID]:
		return out, "Know who you are on PetStore"
	}
	return out, ""
}
