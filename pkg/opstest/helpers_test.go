package opstest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
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

func sqliteURL(t *testing.T) string { return servertest.SQLiteURL(t) }

// postgresURL returns a fresh schema, or skips when PostgreSQL is not
// configured.
func postgresURL(t *testing.T) string {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s not set", storetest.PostgresEnv)
	}
	return storetest.PostgresURL(t)
}

// replica is one petstore-auth process: its server and its HTTP front.
type replica = *servertest.Server

func openReplica(t *testing.T, cfg config.Config) replica {
	t.Helper()
	return servertest.MustOpen(t, servertest.Options{Config: &cfg})
}

type creds struct{ id, secret string }

// fixtures are the clients and the user every test needs.
type fixtures struct {
	web, svc, rs creds
}

func seed(t *testing.T, r replica) fixtures {
	t.Helper()
	mk := func(c identity.Client) creds {
		cl := r.MustClient(t, c)
		return creds{cl.ID, cl.Secret}
	}
	f := fixtures{
		web: mk(identity.Client{Name: "MyApp", RedirectURIs: []string{callbackURI},
			GrantTypes: []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken},
			Scopes:     []string{identity.ScopeReadPets, identity.ScopeOfflineAccess}}),
		svc: mk(identity.Client{Name: "svc", GrantTypes: []string{identity.GrantClientCredentials},
			Scopes: []string{identity.ScopeReadPets}}),
		rs: mk(identity.Client{Name: "api", GrantTypes: []string{identity.GrantClientCredentials}, CanIntrospect: true}),
	}
	r.MustUser(t, userEmail, userPass)
	return f
}

// post sends a form with Basic client credentials and decodes a JSON answer.
func post(t *testing.T, c *http.Client, u string, cr creds, form url.Values) (int, map[string]any, string) {
	t.Helper()
	r := servertest.PostForm(t, c, u, servertest.Client{ID: cr.id, Secret: cr.secret}, form)
	return r.Status, r.JSON, string(r.Body)
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

// newBrowser is a user agent with a cookie jar. Cookies ignore ports, so
// one jar talks to every replica on 127.0.0.1 with the same session
// cookie, the way a browser talks to replicas behind one load balancer.
func newBrowser(t *testing.T) *webtest.Browser {
	return webtest.NewBrowser(t, "", webtest.BrowserOptions{Follow: func(u *url.URL) bool {
		return u.Hostname() == "127.0.0.1" // not the app's callback
	}})
}

type page = webtest.Page

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
	u, err := url.Parse(p.Location)
	if p.Status/100 != 3 || err != nil || !strings.HasPrefix(p.Location, callbackURI+"?") || u.Query().Get("code") == "" {
		t.Fatalf("expected a redirect to the app with a code, got %d at %s → %q: %.300s", p.Status, p.Path(), p.Location, p.Body)
	}
	return u.Query().Get("code")
}

func redeem(t *testing.T, base string, web creds, code, verifier string) (int, map[string]any, string) {
	t.Helper()
	return post(t, nil, base+"/oauth2/token", web, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callbackURI}, "code_verifier": {verifier}})
}
