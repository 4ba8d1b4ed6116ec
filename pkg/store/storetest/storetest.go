// Package storetest is the behavioural conformance suite of pkg/store,
// typed on the storage interfaces (Storage; FositeStorage for the fosite
// subset that RunFosite also runs against fosite's memory store). The
// same tests run against every database the store supports (SQLite always,
// PostgreSQL when configured), so both keep the semantics the authorization
// server relies on: exactly-once code redemption and refresh rotation,
// revocation by request id and by grant, transactions through the context.
package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/storage"

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

// FositeStorage is the part of fosite's storage interfaces the provider
// composes (pkg/provider's Storage declares the same); fosite's own memory
// store implements it too.
type FositeStorage interface {
	fosite.ClientManager
	oauth2.CoreStorage
	oauth2.TokenRevocationStorage
	pkce.PKCERequestStorage
}

// Storage is every interface the suite checks, as their consumers declare
// them: fosite's storage with transactions (pkg/provider), the identity
// stores (pkg/web, pkg/admin, the CLI), the refresh grace record
// (pkg/provider), housekeeping and statistics (pkg/server, pkg/admin), and
// the schema tools of the CLI. open in Run returns a migrated, empty one.
type Storage interface {
	FositeStorage
	storage.Transactional
	identity.UserStore
	identity.ClientStore
	identity.GrantStore
	identity.APIKeyStore
	identity.SigningKeyStore
	identity.RevocationList
	identity.AuditLog
	SaveRotation(ctx context.Context, oldRefreshSignature string, sealed []byte) error
	RotationOf(ctx context.Context, oldRefreshSignature string) (identity.Rotation, error)
	ClearRotations(ctx context.Context, olderThan time.Time) (int64, error)
	DeleteExpired(ctx context.Context, now time.Time, batch int) (map[string]int64, error)
	Stats(ctx context.Context, since time.Time) (store.Stats, error)
	MigrateUp(ctx context.Context) error
	MigrationsCurrent(ctx context.Context) (bool, error)
	MigrationStatus(ctx context.Context) ([]store.MigrationStatus, error)
	// DB and Dialect let a case age a row the API gives no way to age.
	DB() *sql.DB
	Dialect() string
}

var _ Storage = (*store.Store)(nil)

// fositeCase is a case of the fosite subset: it needs only FositeStorage,
// plus a way to register a client.
type fositeCase struct {
	name string
	fn   func(t *testing.T, f *fositeEnv)
}

// fositeEnv is the storage under a fosite case and what the suite knows of
// it.
type fositeEnv struct {
	s FositeStorage
	// full is the whole Storage when the storage has it (our store), nil
	// for a fosite-only storage: the case then leaves out our extras
	// (grant ids, the JWT revocation list).
	full Storage
	opts FositeOptions
}

func (f *fositeEnv) client(t *testing.T, id string) {
	t.Helper()
	if f.full != nil {
		mustClient(t, f.full, id)
		return
	}
	f.opts.AddClient(t, f.s, id)
}

var fositeCases = []fositeCase{
	{"AuthorizeCode", testAuthorizeCode},
	{"FormHasNoSecrets", testFormHasNoSecrets},
	{"PKCE", testPKCE},
	{"AccessToken", testAccessToken},
	{"RefreshToken", testRefreshToken},
	{"RotateRefreshToken", testRotateRefreshToken},
	{"Transactions", testTransactions},
	{"ClientAssertionJWT", testClientAssertionJWT},
}

// Run runs the whole suite. open must return a new, empty, migrated store
// for each call.
func Run(t *testing.T, open func(t *testing.T) Storage) {
	for _, tc := range fositeCases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tc.fn(t, &fositeEnv{s: s, full: s})
		})
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s Storage)
	}{
		{"Migrations", testMigrations},
		{"RotationGraceRecord", testRotationGraceRecord},
		{"ConcurrentCodeRedemption", testConcurrentCodeRedemption},
		{"ConcurrentRefreshRotation", testConcurrentRefreshRotation},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentAccessTokens", testConcurrentAccessTokens},
		{"Users", testUsers},
		{"Clients", testClients},
		{"ClientAllowedOrigins", testClientAllowedOrigins},
		{"ClientLogoutSettings", testClientLogoutSettings},
		{"ClientOwnersAndRotation", testClientOwnersAndRotation},
		{"Grants", testGrants},
		{"RevokeGrant", testRevokeGrant},
		{"ClientDisableEnable", testClientDisableEnable},
		{"NarrowedConsent", testNarrowedConsent},
		{"APIKeys", testAPIKeys},
		{"SigningKeys", testSigningKeys},
		{"Audit", testAudit},
		{"DeleteExpired", testDeleteExpired},
		{"Stats", testStats},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// FositeOptions describe a storage that implements only fosite's
// interfaces, and where it legitimately differs from ours.
type FositeOptions struct {
	// AddClient registers a confidential client id with the redirect URI
	// https://app.example/cb and every scope of the suite.
	AddClient func(t *testing.T, s FositeStorage, id string)
	// Skip names the cases that do not apply, each with the reason.
	Skip map[string]string
	// Lenient names checks inside a case that do not apply (see the
	// Lenient* constants), each with the reason, logged when it is used.
	Lenient map[string]string
}

// Checks a FositeOptions.Lenient may waive.
const (
	// LenientSessionDecode: a getter hands back the stored session rather
	// than decoding into the one it was given.
	LenientSessionDecode = "session-decode"
	// LenientDoubleInvalidate: invalidating a used code again is not an
	// error.
	LenientDoubleInvalidate = "double-invalidate"
	// LenientRevokeAccessByRequest: revoking a request's access tokens
	// deletes one of them instead of marking all inactive.
	LenientRevokeAccessByRequest = "revoke-access-by-request"
)

func (f *fositeEnv) strict(t *testing.T, check string) bool {
	if why, ok := f.opts.Lenient[check]; ok {
		t.Logf("check %q waived: %s", check, why)
		return false
	}
	return true
}

// RunFosite runs the fosite subset of the suite: the cases that need only
// FositeStorage, so that a stand-in (fosite's memory store in pkg/web's
// tests) is shown to behave like our store where the tests rely on it.
func RunFosite(t *testing.T, open func(t *testing.T) FositeStorage, o FositeOptions) {
	for _, tc := range fositeCases {
		t.Run(tc.name, func(t *testing.T) {
			if why, ok := o.Skip[tc.name]; ok {
				t.Skip(why)
			}
			tc.fn(t, &fositeEnv{s: open(t), opts: o})
		})
	}
}

// fixture helpers

func mustClient(t *testing.T, s Storage, id string) *identity.Client {
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

func mustUser(t *testing.T, s Storage, email string) *identity.User {
	t.Helper()
	u := &identity.User{Email: email, PasswordHash: "$argon2id$stub"}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func mustGrant(t *testing.T, s Storage, userID, clientID string) *identity.Grant {
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
