package servertest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/petstore"
)

// Client is a registered client and its plain secret ("" when public).
type Client struct {
	ID, Secret string
}

// User is a registered user and the password it signs in with.
type User struct {
	ID, Email, Password string
}

// MustClient stores c the way `petstore-auth client create` does: an ID
// from the name when c has none, a generated secret (stored as its hash)
// unless c is public, opaque tokens unless c says otherwise.
func (s *Server) MustClient(tb testing.TB, c identity.Client) Client {
	tb.Helper()
	if c.ID == "" {
		c.ID = identity.NewClientID(c.Name)
	}
	var secret string
	if !c.Public {
		secret, c.SecretHash = identity.NewClientSecret()
	}
	if c.TokenFormat == "" {
		c.TokenFormat = identity.TokenFormatOpaque
	}
	if err := s.Store.CreateClient(context.Background(), &c); err != nil {
		tb.Fatalf("create client %s: %v", c.ID, err)
	}
	return Client{ID: c.ID, Secret: secret}
}

// MustUser stores a user with an Argon2id hash of pw, as `petstore-auth
// user create` does; mods change the user before it is stored.
func (s *Server) MustUser(tb testing.TB, email, pw string, mods ...func(*identity.User)) User {
	tb.Helper()
	u := &identity.User{Email: email, PasswordHash: PasswordHash(tb, pw)}
	for _, m := range mods {
		m(u)
	}
	if err := s.Store.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("create user %s: %v", email, err)
	}
	return User{ID: u.ID, Email: email, Password: pw}
}

// MustAPIKey stores an API key of owner, as the account page and
// `petstore-auth apikey create` do, and returns the key once.
func (s *Server) MustAPIKey(tb testing.TB, ownerID, env, name string, scopes ...string) (string, *identity.APIKey) {
	tb.Helper()
	key, err := apikey.Generate(env)
	if err != nil {
		tb.Fatal(err)
	}
	k := &identity.APIKey{OwnerID: ownerID, Name: name, Env: env, Scopes: scopes, Prefix: apikey.DisplayPrefix(key),
		Hash: apikey.Hash(key), CreatedAt: s.Now()}
	if err := s.Store.CreateAPIKey(context.Background(), k); err != nil {
		tb.Fatal(err)
	}
	return key, k
}

// hashes caches fixture password hashes: Argon2id is slow on purpose, and
// slower still under -race.
var hashes sync.Map

// PasswordHash is the Argon2id hash of pw, computed once per test binary.
func PasswordHash(tb testing.TB, pw string) string {
	tb.Helper()
	if h, ok := hashes.Load(pw); ok {
		return h.(string)
	}
	h, err := password.Hash(pw)
	if err != nil {
		tb.Fatal(err)
	}
	hashes.Store(pw, h)
	return h
}

// API is petstore-api in front of the server: its verifier introspects
// as its own client and polls the JWT revocation list.
type API struct {
	URL      string
	Verifier *bearer.Verifier
	Pets     *petstore.Store
}

// StartAPI starts petstore-api with c as its introspecting client, on its
// own SQLite database, with the server's clock.
func (s *Server) StartAPI(tb testing.TB, c Client) *API {
	tb.Helper()
	ctx := context.Background()
	pets, err := petstore.Open(ctx, "sqlite://"+filepath.Join(s.tempDir(), "pets.db"))
	if err != nil {
		tb.Fatal(err)
	}
	// The API's identifier is the server's default resource: its own URL
	// on the listener MustOpen reserved, else whatever it listens on.
	ln := s.apiLn
	s.apiLn = nil
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			tb.Fatal(err)
		}
	}
	public := "http://" + ln.Addr().String()
	ver := &bearer.Verifier{Issuer: s.Config.Issuer, ClientID: c.ID, ClientSecret: c.Secret, Audience: s.Config.Resources[0].Identifier,
		AcceptAudiences: []string{bearer.LegacyAudience}, ResourceMetadata: petstore.MetadataURL(public),
		Mode: identity.EnvTest, Now: s.Now, Logger: s.Logger}
	pollCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { ver.Run(pollCtx); close(done) }()
	r := mux.NewRouter()
	(&petstore.Handler{Store: pets, Verifier: ver, Logger: s.Logger, PublicURL: public, Issuer: s.Config.Issuer}).Mount(r)
	rs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: r}}
	rs.Start()
	s.cleanup(func() { rs.Close(); stop(); <-done; pets.Close() })
	return &API{URL: rs.URL, Verifier: ver, Pets: pets}
}
