// Package storetest is the behavioural conformance suite of pkg/store. The
// same tests run against every database the store supports (SQLite always,
// PostgreSQL when configured), so both keep the semantics the authorization
// server relies on: exactly-once code redemption and refresh rotation,
// revocation by request id and by grant, transactions through the context.
package storetest

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// Session is the session type the suite hands to the store: fosite's default
// session plus the optional grant id and JWT id the store reads.
type Session struct {
	*fosite.DefaultSession
	GrantID string `json:"grant_id,omitempty"`
	JTI     string `json:"jti,omitempty"`
}

// GetGrantID implements store.GrantIDSession.
func (s *Session) GetGrantID() string { return s.GrantID }

// GetJTI implements store.JTISession.
func (s *Session) GetJTI() string { return s.JTI }

// Clone implements fosite.Session.
func (s *Session) Clone() fosite.Session {
	c := *s
	if s.DefaultSession != nil {
		c.DefaultSession = s.DefaultSession.Clone().(*fosite.DefaultSession)
	}
	return &c
}

// emptySession is what fosite hands to a getter: a fresh session to fill.
func emptySession() *Session { return &Session{DefaultSession: &fosite.DefaultSession{}} }

// Run runs the suite. open must return a new, empty store for each call;
// Run migrates it.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Migrations", testMigrations},
		{"AuthorizeCode", testAuthorizeCode},
		{"FormHasNoSecrets", testFormHasNoSecrets},
		{"PKCE", testPKCE},
		{"AccessToken", testAccessToken},
		{"RefreshToken", testRefreshToken},
		{"RotateRefreshToken", testRotateRefreshToken},
		{"RotationGraceRecord", testRotationGraceRecord},
		{"Transactions", testTransactions},
		{"ConcurrentCodeRedemption", testConcurrentCodeRedemption},
		{"ConcurrentRefreshRotation", testConcurrentRefreshRotation},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ClientAssertionJWT", testClientAssertionJWT},
		{"Users", testUsers},
		{"Clients", testClients},
		{"ClientAllowedOrigins", testClientAllowedOrigins},
		{"Grants", testGrants},
		{"RevokeGrant", testRevokeGrant},
		{"NarrowedConsent", testNarrowedConsent},
		{"APIKeys", testAPIKeys},
		{"SigningKeys", testSigningKeys},
		{"Audit", testAudit},
		{"DeleteExpired", testDeleteExpired},
		{"Stats", testStats},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if err := s.MigrateUp(context.Background()); err != nil {
				t.Fatalf("MigrateUp: %v", err)
			}
			tc.fn(t, s)
		})
	}
}

// fixture helpers

func mustClient(t *testing.T, s *store.Store, id string) *identity.Client {
	t.Helper()
	c := &identity.Client{
		ID:           id,
		Name:         "Client " + id,
		SecretHash:   []byte("0123456789abcdef0123456789abcdef"),
		RedirectURIs: []string{"https://app.example/cb"},
		GrantTypes:   []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken},
		Scopes:       []string{identity.ScopeReadPets, identity.ScopeOfflineAccess},
		TokenFormat:  identity.TokenFormatOpaque,
	}
	if err := s.CreateClient(context.Background(), c); err != nil {
		t.Fatalf("CreateClient(%s): %v", id, err)
	}
	return c
}

func mustUser(t *testing.T, s *store.Store, email string) *identity.User {
	t.Helper()
	u := &identity.User{Email: email, PasswordHash: "$argon2id$stub"}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func mustGrant(t *testing.T, s *store.Store, userID, clientID string) *identity.Grant {
	t.Helper()
	g, err := s.UpsertGrant(context.Background(), userID, clientID, []string{identity.ScopeReadPets}, true)
	if err != nil {
		t.Fatalf("UpsertGrant: %v", err)
	}
	return g
}

// newRequest builds a request as fosite would store it: expiries for every
// token kind an hour from now unless exp says otherwise.
func newRequest(clientID, requestID string, sess *Session) *fosite.Request {
	if sess == nil {
		sess = emptySession()
	}
	if sess.DefaultSession == nil {
		sess.DefaultSession = &fosite.DefaultSession{}
	}
	if sess.ExpiresAt == nil {
		exp := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
		sess.ExpiresAt = map[fosite.TokenType]time.Time{
			fosite.AuthorizeCode: exp, fosite.AccessToken: exp, fosite.RefreshToken: exp,
		}
	}
	return &fosite.Request{
		ID:                requestID,
		RequestedAt:       time.Now().UTC().Truncate(time.Second),
		Client:            &fosite.DefaultClient{ID: clientID},
		RequestedScope:    fosite.Arguments{identity.ScopeReadPets, identity.ScopeOfflineAccess},
		GrantedScope:      fosite.Arguments{identity.ScopeReadPets},
		RequestedAudience: fosite.Arguments{"https://api.example"},
		GrantedAudience:   fosite.Arguments{"https://api.example"},
		Form:              url.Values{"redirect_uri": {"https://app.example/cb"}, "state": {"xyzzy-state"}},
		Session:           sess,
	}
}

func expireAll(sess *Session, at time.Time) {
	sess.ExpiresAt = map[fosite.TokenType]time.Time{
		fosite.AuthorizeCode: at, fosite.AccessToken: at, fosite.RefreshToken: at,
	}
}
