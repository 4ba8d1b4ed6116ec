package provider

import (
	"maps"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Session is what fosite stores with every code and token. It is serialised
// to JSON by the store, so every field is exported and tagged.
type Session struct {
	Subject string `json:"sub"`
	// GrantID links the token to the user's consent; empty for client_credentials.
	GrantID string `json:"grant_id,omitempty"`
	// AuthTime is when the user consented (or the client authenticated):
	// the start of the refresh chain for the absolute lifetime.
	AuthTime  time.Time                      `json:"auth_time"`
	ExpiresAt map[fosite.TokenType]time.Time `json:"expires_at"`
	// JTI is the id of the JWT access token last generated in this session.
	JTI string `json:"jti,omitempty"`
	// IDClaims are the OpenID Connect ID token claims of a grant with the
	// openid scope (set by pkg/web at the authorization endpoint, kept
	// through refreshes); absent in sessions of the previous release and of
	// grants without openid.
	IDClaims *jwt.IDTokenClaims `json:"id_token_claims,omitempty"`
	// IDHeaders are the ID token's JOSE headers (fosite reads "alg" for
	// at_hash).
	IDHeaders *jwt.Headers `json:"id_token_headers,omitempty"`
}

var (
	_ fosite.Session = (*Session)(nil)
	_ openid.Session = (*Session)(nil)
)

// IDTokenClaims implements openid.Session: the stored claims, created
// (with sub) on first use. fosite fills nonce, aud, exp, iat and at_hash in
// place.
func (s *Session) IDTokenClaims() *jwt.IDTokenClaims {
	if s.IDClaims == nil {
		s.IDClaims = &jwt.IDTokenClaims{Subject: s.Subject}
	}
	return s.IDClaims
}

// IDTokenHeaders implements openid.Session.
func (s *Session) IDTokenHeaders() *jwt.Headers {
	if s.IDHeaders == nil {
		s.IDHeaders = &jwt.Headers{}
	}
	return s.IDHeaders
}

// SetIDToken records what the ID tokens of this grant say about the
// sign-in (OIDC Core §2): the user signed in at authTime, in the browser
// session sid, with a password; the request was made at requestedAt.
// clientID is the azp.
func (s *Session) SetIDToken(clientID, sid string, authTime, requestedAt time.Time) {
	c := s.IDTokenClaims()
	c.Subject = s.Subject
	c.AuthTime = authTime.UTC().Truncate(time.Second)
	c.RequestedAt = requestedAt.UTC().Truncate(time.Second)
	c.AuthenticationMethodsReferences = []string{"pwd"}
	c.Extra = map[string]any{"azp": clientID}
	if sid != "" {
		c.Extra["sid"] = sid
	}
}

// NewSession starts the session of a user's grant.
func NewSession(userID, grantID string) *Session {
	return &Session{Subject: userID, GrantID: grantID, AuthTime: time.Now().UTC().Round(time.Second)}
}

// SetExpiresAt implements fosite.Session.
func (s *Session) SetExpiresAt(key fosite.TokenType, exp time.Time) {
	if s.ExpiresAt == nil {
		s.ExpiresAt = map[fosite.TokenType]time.Time{}
	}
	s.ExpiresAt[key] = exp
}

// GetExpiresAt implements fosite.Session.
func (s *Session) GetExpiresAt(key fosite.TokenType) time.Time { return s.ExpiresAt[key] }

// GetUsername implements fosite.Session.
func (s *Session) GetUsername() string { return s.Subject }

// GetSubject implements fosite.Session.
func (s *Session) GetSubject() string { return s.Subject }

// GetGrantID lets the store link tokens to their grant.
func (s *Session) GetGrantID() string { return s.GrantID }

// GetJTI lets the store index JWT access tokens by id.
func (s *Session) GetJTI() string { return s.JTI }

// Clone implements fosite.Session.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	c.ExpiresAt = maps.Clone(s.ExpiresAt)
	if s.IDClaims != nil {
		claims := *s.IDClaims
		claims.Audience = append([]string(nil), s.IDClaims.Audience...)
		claims.AuthenticationMethodsReferences = append([]string(nil), s.IDClaims.AuthenticationMethodsReferences...)
		claims.Extra = maps.Clone(s.IDClaims.Extra)
		c.IDClaims = &claims
	}
	if s.IDHeaders != nil {
		c.IDHeaders = &jwt.Headers{Extra: maps.Clone(s.IDHeaders.Extra)}
	}
	return &c
}

// NewSessionFunc is NewSession typed for callers that only know fosite.
func NewSessionFunc(userID, grantID string) fosite.Session { return NewSession(userID, grantID) }
