package provider

import (
	"maps"
	"time"

	"github.com/ory/fosite"
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
	// JKT is the RFC 7638 thumbprint of the DPoP key the access token is
	// bound to (RFC 9449 §6: cnf.jkt); "" for a bearer token (dpop.go).
	JKT string `json:"jkt,omitempty"`
	// CodeJKT is the dpop_jkt of the authorization request (RFC 9449 §10):
	// redeeming the code needs a proof by that key.
	CodeJKT string `json:"code_jkt,omitempty"`
}

var _ fosite.Session = (*Session)(nil)

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

// BindCode binds the code made with this session to the DPoP key whose
// thumbprint is jkt (RFC 9449 §10); "" binds nothing.
func (s *Session) BindCode(jkt string) { s.CodeJKT = jkt }

// Clone implements fosite.Session.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	c.ExpiresAt = maps.Clone(s.ExpiresAt)
	return &c
}

// NewSessionFunc is NewSession typed for callers that only know fosite.
func NewSessionFunc(userID, grantID string) fosite.Session { return NewSession(userID, grantID) }
