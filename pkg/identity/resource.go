package identity

import (
	"net/url"
	"slices"
)

// Resource is a resource server the authorization server issues tokens
// for (RFC 8707): its identifier — an absolute URI without a fragment,
// the resource server's public URL — and the scopes it accepts.
type Resource struct {
	Identifier string
	Scopes     []string
}

// Resources are the configured resource servers; the first is the default
// audience of a token requested without a resource parameter.
type Resources []Resource

// CheckResourceIdentifier reports why s is not an RFC 8707 §2 resource
// indicator: it must be an absolute URI and must not have a fragment.
func CheckResourceIdentifier(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return Errorf(EINVALID, "resource: empty")
	case err != nil || !u.IsAbs() || (u.Host == "" && u.Opaque == ""):
		return Errorf(EINVALID, "resource %q is not an absolute URI", shortID(s))
	case u.Fragment != "" || u.RawFragment != "" || len(s) > 0 && s[len(s)-1] == '#':
		return Errorf(EINVALID, "resource %q must not have a fragment", shortID(s))
	}
	return nil
}

// ServerScope reports whether scope is about the authorization server
// itself (refresh tokens, the admin API, OpenID Connect) rather than a
// resource server: such scopes need no resource's acceptance.
func ServerScope(scope string) bool {
	switch scope {
	case ScopeOfflineAccess, ScopeAdmin, "openid", "profile", "email":
		return true
	}
	return false
}

// ResourceScopes are the scopes a resource accepts when it is named
// without a list (PETSTORE_RESOURCES): every scope but the server's own.
func ResourceScopes() []string {
	var out []string
	for _, s := range Scopes {
		if !ServerScope(s.Name) {
			out = append(out, s.Name)
		}
	}
	return out
}

// Default is the identifier of the default resource, "" when there is none.
func (rs Resources) Default() string {
	if len(rs) == 0 {
		return ""
	}
	return rs[0].Identifier
}

// Lookup finds a resource by its identifier. An identifier without a path
// and the same with "/" are one resource (RFC 3986 §6.2.3: an empty path is
// "/"): JavaScript's URL, which many MCP clients use, always adds the slash.
func (rs Resources) Lookup(id string) (Resource, bool) {
	for _, r := range rs {
		if r.Identifier == id || emptyPathOf(r.Identifier, id) || emptyPathOf(id, r.Identifier) {
			return r, true
		}
	}
	return Resource{}, false
}

// emptyPathOf reports whether b is a with an empty path written as "/".
func emptyPathOf(a, b string) bool {
	if b != a+"/" {
		return false
	}
	u, err := url.Parse(a)
	return err == nil && u.Path == "" && u.RawQuery == "" && !u.ForceQuery
}

// shortID is an identifier as quoted back in an error: at most 100 bytes.
func shortID(id string) string {
	if len(id) > 100 {
		return id[:100] + "…"
	}
	return id
}

// Resolve returns the audience of a token for the requested resource
// identifiers and scopes: the requested identifiers (duplicates dropped) or,
// when none is requested, the default. It is an EINVALID error when an
// identifier is malformed or unknown, or a resource does not accept one of
// the scopes (server scopes excepted) — invalid_target (RFC 8707 §2).
func (rs Resources) Resolve(requested, scopes []string) ([]string, error) {
	if len(requested) == 0 {
		if d := rs.Default(); d != "" {
			requested = []string{d}
		}
	}
	if len(requested) > MaxResources {
		return nil, Errorf(EINVALID, "more than %d resources in one request", MaxResources)
	}
	var out []string
	for _, id := range requested {
		if err := CheckResourceIdentifier(id); err != nil {
			return nil, err
		}
		r, ok := rs.Lookup(id)
		if !ok {
			return nil, Errorf(EINVALID, "resource %q is not known to this server", shortID(id))
		}
		for _, s := range scopes {
			if !ServerScope(s) && !slices.Contains(r.Scopes, s) {
				return nil, Errorf(EINVALID, "resource %q does not accept the scope %q", r.Identifier, shortID(s))
			}
		}
		if !slices.Contains(out, r.Identifier) {
			out = append(out, r.Identifier)
		}
	}
	return out, nil
}

// RepeatableParam reports whether an OAuth request parameter may appear
// more than once: only resource (RFC 8707 §2); every other parameter must
// not (RFC 6749 §3.1, §3.2).
func RepeatableParam(name string) bool { return name == "resource" }

// MaxResources bounds the resource parameters of one request.
const MaxResources = 10
