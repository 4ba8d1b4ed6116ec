package opstest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/server"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const (
	callbackURI = "https://app.example/cb"
	userEmail   = "alice@example.com"
	userPass    = "correct horse battery"
)

// baseConfig is a development configuration on dbURL; every replica built
// from it shares the secret, as replicas in production share theirs.
func baseConfig(t *testing.T, dbURL string) config.Config {
	cfg := config.Default()
	cfg.Dev = true
	cfg.DatabaseURL = dbURL
	cfg.Secret = "opstest-secret-opstest-secret-opstest"
	cfg.DataDir = t.TempDir()
	cfg.RateLimits = config.RateLimits{} // off unless a test sets them
	return cfg
}

func sqliteURL(t *testing.T) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "auth.db")
}

// postgresURL returns a fresh schema, or skips when PostgreSQL is not
// configured.
func postgresURL(t *testing.T) string {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s not set", storetest.PostgresEnv)
	}
	return storetest.PostgresURL(t)
}

// replica is one petstore-auth process: its server and its HTTP front.
type replica struct {
	s  *server.Server
	ts *httptest.Server
}

func openReplica(t *testing.T, cfg config.Config) replica {
	t.Helper()
	s, err := server.Open(context.Background(), cfg, server.Options{Logger: slog.New(slog.DiscardHandler), Web: webtest.Files()})
	if err != nil {
		t.Fatalf("open replica: %v", err)
	}
	ts := httptest.NewServer(s.Handler)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return replica{s, ts}
}

type creds struct{ id, secret string }

// fixtures are the clients and the user every test needs.
type fixtures struct {
	web, svc, rs creds
}

func seed(t *testing.T, r replica) fixtures {
	t.Helper()
	ctx := context.Background()
	mk := func(c *identity.Client) creds {
		c.ID = identity.NewClientID(c.Name)
		var secret string
		secret, c.SecretHash = identity.NewClientSecret()
		if c.TokenFormat == "" {
			c.TokenFormat = identity.TokenFormatOpaque
		}
		if err := r.s.Store.CreateClient(ctx, c); err != nil {
			t.Fatalf("create client %s: %v", c.Name, err)
		}
		return creds{c.ID, secret}
	}
	f := fixtures{
		web: mk(&identity.Client{Name: "MyApp", RedirectURIs: []string{callbackURI},
			GrantTypes: []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken},
			Scopes:     []string{identity.ScopeReadPets, identity.ScopeOfflineAccess}}),
		svc: mk(&identity.Client{Name: "svc", GrantTypes: []string{identity.GrantClientCredentials},
			Scopes: []string{identity.ScopeReadPets}}),
		rs: mk(&identity.Client{Name: "api", GrantTypes: []string{identity.GrantClientCredentials}, CanIntrospect: true}),
	}
	hash, err := password.Hash(userPass)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.s.Store.CreateUser(ctx, &identity.User{Email: userEmail, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	return f
}

// post sends a form with Basic client credentials and decodes a JSON answer.
func post(t *testing.T, c *http.Client, u string, cr creds, form url.Values) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cr.id != "" {
		req.SetBasicAuth(url.QueryEscape(cr.id), url.QueryEscape(cr.secret))
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m, string(b)
}

func clientCredentials(t *testing.T, base string, svc creds) string {
	t.Helper()
	st, m, body := post(t, nil, base+"/oauth2/token", svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}})
	tok, _ := m["access_token"].(string)
	if st != http.StatusOK || tok == "" {
		t.Fatalf("client_credentials: %d %s", st, body)
	}
	return tok
}

func active(t *testing.T, base string, rs creds, token string) bool {
	t.Helper()
	st, m, body := post(t, nil, base+"/oauth2/introspect", rs, url.Values{"token": {token}})
	if st != http.StatusOK {
		t.Fatalf("introspect: %d %s", st, body)
	}
	return m["active"] == true
}

// browser is a user agent with a cookie jar. Cookies ignore ports, so one
// jar talks to every replica on 127.0.0.1 with the same session cookie, the
// way a browser talks to replicas behind one load balancer.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t, &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Hostname() != "127.0.0.1" {
			return http.ErrUseLastResponse // the app's callback
		}
		return nil
	}}}
}

type page struct {
	status   int
	body     string
	location string
	path     string
}

func (b *browser) do(method, u, origin string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	return page{res.StatusCode, string(rb), res.Header.Get("Location"), res.Request.URL.Path}
}

// authURL starts an authorization with PKCE and returns the verifier.
func authURL(base string, web creds, scope string) (string, string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {web.id}, "redirect_uri": {callbackURI}, "scope": {scope},
		"state": {"state-123456789"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	return base + "/oauth2/auth?" + q.Encode(), verifier
}

// codeFrom reads the code from a redirect to the app.
func codeFrom(t *testing.T, p page) string {
	t.Helper()
	u, err := url.Parse(p.location)
	if p.status/100 != 3 || err != nil || !strings.HasPrefix(p.location, callbackURI+"?") || u.Query().Get("code") == "" {
		t.Fatalf("expected a redirect to the app with a code, got %d at %s → %q: %.300s", p.status, p.path, p.location, p.body)
	}
	return u.Query().Get("code")
}

func redeem(t *testing.T, base string, web creds, code, verifier string) (int, map[string]any, string) {
	t.Helper()
	return post(t, nil, base+"/oauth2/token", web, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callbackURI}, "code_verifier": {verifier}})
}
