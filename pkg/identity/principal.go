package identity

import (
	"slices"
	"time"
)

// Principal is who presented a bearer credential (RFC 6750 §2.1) to the
// authorization server itself, as the admin API sees it: a
// client_credentials or user access token, or an API key. The provider
// produces it and the admin API consumes it; it lives here so that neither
// imports the other.
type Principal struct {
	Kind     string // "token" or "api_key"
	Subject  string // user id, or client id for client_credentials
	ClientID string
	Scopes   []string
	Expiry   time.Time
}

// HasScope reports whether the principal was granted scope (exact match,
// RFC 6749 §3.3).
func (p *Principal) HasScope(scope string) bool {
	return slices.Contains(p.Scopes, scope)
}

// Rotation is what the store keeps about a rotated refresh token for the
// grace window (RFC 9700 §4.14.2): who owned it, when it was rotated and the
// sealed successor pair (opaque to the store; the provider encrypts it). The
// store produces it and the provider consumes it.
type Rotation struct {
	RequestID string
	ClientID  string
	RotatedAt time.Time
	Sealed    []byte
}
