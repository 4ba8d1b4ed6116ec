package identity

import (
	"slices"
	"strings"
)

// The scopes PetStore knows. Matching is exact: no wildcards, no prefixes.
const (
	ScopeReadPets      = "read:pets"
	ScopeWritePets     = "write:pets"
	ScopeOfflineAccess = "offline_access"
	ScopeAdmin         = "admin"
	// OpenID Connect Core §5.4: openid asks for an ID token; profile and
	// email for the claims of that name at the UserInfo endpoint.
	ScopeOpenID  = "openid"
	ScopeProfile = "profile"
	ScopeEmail   = "email"
)

// ScopeInfo is what a consent screen shows for one scope.
type ScopeInfo struct {
	Name        string
	Title       string
	Description string
}

// Scopes lists every known scope with its human description, in display order.
var Scopes = []ScopeInfo{
	{ScopeOpenID, "Know who you are", "Confirm that it is you when you sign in, by your PetStore account id."},
	{ScopeProfile, "Know your name", "See the name on your PetStore account."},
	{ScopeEmail, "Know your email address", "See your email address and whether it has been confirmed."},
	{ScopeReadPets, "View your pets", "See the pets in your PetStore account, their names and details."},
	{ScopeWritePets, "Manage your pets", "Add new pets to your account and remove existing ones."},
	{ScopeOfflineAccess, "Stay connected", "Keep access when you are not using the app, until you revoke it."},
	{ScopeAdmin, "Administer PetStore Auth", "Manage clients, users, grants and keys of this server."},
}

// LookupScope returns the description of a known scope.
func LookupScope(name string) (ScopeInfo, bool) {
	for _, s := range Scopes {
		if s.Name == name {
			return s, true
		}
	}
	return ScopeInfo{}, false
}

// MaxScopeLength bounds a scope string so that hostile input stays cheap.
const MaxScopeLength = 1024

// ParseScopes splits a space-delimited scope string (RFC 6749 §3.3), rejecting
// unknown, duplicated or oversized values. An empty string yields no scopes.
func ParseScopes(s string) ([]string, error) {
	if len(s) > MaxScopeLength {
		return nil, Errorf(EINVALID, "scope string is longer than %d bytes", MaxScopeLength)
	}
	var out []string
	for _, f := range strings.Split(s, " ") {
		if f == "" {
			continue
		}
		if _, ok := LookupScope(f); !ok {
			return nil, Errorf(EINVALID, "unknown scope %q", f)
		}
		if slices.Contains(out, f) {
			return nil, Errorf(EINVALID, "scope %q given twice", f)
		}
		out = append(out, f)
	}
	return out, nil
}

// HasAllScopes reports whether have contains every scope in want.
func HasAllScopes(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
