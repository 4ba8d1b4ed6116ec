package securitytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/logtest"
	"github.com/petstore-auth/petstore-auth/pkg/petstore"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// The fixture of the catalogue (section 0), with our scope names.
const (
	webCallback   = "https://app.example/cb"
	otherCallback = "https://other.example/cb"
	spaCallback   = "http://127.0.0.1/cb"
	alicePassword = "correct horse battery staple"
	bobPassword   = "bob's very own passphrase"
	systemSecret  = "securitytest-system-secret-0123456789"
)

// clock is the injected time of one world: real time plus an offset that
// tests with their own world may advance (never a shared world's).
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// client is a registered client and its plain secret (empty when public).
type client = servertest.Client

type user = servertest.User

// world is one authorization server on one database, the PetStore
// resource server in front of it, the catalogue's clients and two users.
type world struct {
	db    string // "sqlite" or "postgres"
	dbURL string
	cfg   config.Config
	clock *clock
	srv   *servertest.Server
	as    *httptest.Server
	rs    *servertest.API
	ver   *bearer.Verifier
	pets  *petstore.Store
	logs  *logtest.Buffer

	web, other, spa, svc, rsc, jwt, admin client
	alice, bob                            user

	mu      sync.Mutex
	secrets map[string]string // value → what it is; none may be in the database
}

// env is a world seen from one test: failures go to t.
type env struct {
	*world
	t testing.TB
	// alice is the world's alice in a world of the test's own; in a shared
	// world each test gets an alice of its own, because a consent replaces
	// the scope set of its (user, client) grant and revokes the broader
	// tokens (issue 12 §5): parallel tests must not share that grant.
	alice     user
	aliceOnce sync.Once
	aliceJar  http.CookieJar // a browser where alice is signed in
}

var sharedAlices atomic.Int64

// sharedEnv is the test's view of a shared world, with its own alice.
func sharedEnv(t testing.TB, w *world) *env {
	n := sharedAlices.Add(1)
	return &env{world: w, t: t, alice: w.srv.MustUser(t, fmt.Sprintf("alice.%d@example.com", n), alicePassword)}
}

type envOption func(*config.Config)

// fresh runs fn on a world of its own on SQLite and, when
// PETSTORE_TEST_POSTGRES_DSN is set, on PostgreSQL (failing, not skipping,
// when it is set and unreachable). Use it when the test changes the clock,
// the configuration or state other tests see. The database is checked for
// plain secrets when the subtest ends.
func fresh(t *testing.T, fn func(e *env), opts ...envOption) {
	t.Run("sqlite", func(t *testing.T) { fn(freshWorld(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"), opts...)) })
	if os.Getenv(storetest.PostgresEnv) != "" {
		t.Run("postgres", func(t *testing.T) { fn(freshWorld(t, storetest.PostgresURL(t), opts...)) })
	}
}

// freshSQLite is fresh for cases where storage plays no part.
func freshSQLite(t *testing.T, opts ...envOption) *env {
	return freshWorld(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"), opts...)
}

func freshWorld(t *testing.T, dbURL string, opts ...envOption) *env {
	t.Helper()
	w := newWorld(t, dbURL, t.TempDir, t.Cleanup, opts...)
	e := &env{world: w, t: t, alice: w.alice}
	// Registered last, so it runs first: the database is still open.
	t.Cleanup(func() { checkNoSecretsAtRest(t, w) })
	return e
}

// shared runs fn on the suite's long-lived worlds (one per database), for
// tests that neither move the clock nor change what others rely on. They
// are checked for plain secrets after the whole suite (TestMain).
func shared(t *testing.T, fn func(e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(sharedEnv(t, sharedWorld(t, "sqlite"))) })
	if os.Getenv(storetest.PostgresEnv) != "" {
		t.Run("postgres", func(t *testing.T) { fn(sharedEnv(t, sharedWorld(t, "postgres"))) })
	}
}

// sharedSQLite is shared for cases where storage plays no part.
func sharedSQLite(t *testing.T) *env { return sharedEnv(t, sharedWorld(t, "sqlite")) }

var suite struct {
	mu       sync.Mutex
	worlds   map[string]*world
	failed   map[string]bool
	cleanups []func()
	dirs     []string
}

func sharedWorld(t *testing.T, db string) *world {
	t.Helper()
	suite.mu.Lock()
	defer suite.mu.Unlock()
	if w := suite.worlds[db]; w != nil {
		return w
	}
	if suite.failed[db] {
		t.Fatalf("the shared %s world could not be started", db)
	}
	if suite.worlds == nil {
		suite.worlds, suite.failed = map[string]*world{}, map[string]bool{}
	}
	suite.failed[db] = true // until it has started
	tempDir := func() string {
		d, err := os.MkdirTemp("", "securitytest-")
		if err != nil {
			t.Fatal(err)
		}
		suite.dirs = append(suite.dirs, d)
		return d
	}
	cleanup := func(f func()) { suite.cleanups = append(suite.cleanups, f) }
	dbURL := "sqlite://" + filepath.Join(tempDir(), "auth.db")
	if db == "postgres" {
		dbURL = storetest.PostgresSchema(t, cleanup)
	}
	w := newWorld(t, dbURL, tempDir, cleanup)
	suite.worlds[db] = w
	suite.failed[db] = false
	return w
}

// TestMain runs the suite, then dumps the shared databases: after every
// test has run, none may hold a secret in plain form.
func TestMain(m *testing.M) {
	code := m.Run()
	suite.mu.Lock()
	for db, w := range suite.worlds {
		r := &reporter{}
		checkNoSecretsAtRest(r, w)
		if r.failed {
			fmt.Fprintf(os.Stderr, "FAIL: database dump after the suite (%s):\n%s", db, r.msgs.String())
			code = 1
		}
	}
	for i := len(suite.cleanups) - 1; i >= 0; i-- {
		suite.cleanups[i]()
	}
	for _, d := range suite.dirs {
		os.RemoveAll(d)
	}
	suite.mu.Unlock()
	os.Exit(code)
}

// reporter is the testing.TB of the after-suite checks.
type reporter struct {
	testing.TB
	failed bool
	msgs   strings.Builder
}

func (r *reporter) Helper() {}
func (r *reporter) Errorf(format string, args ...any) {
	r.failed = true
	fmt.Fprintf(&r.msgs, format+"\n", args...)
}
func (r *reporter) Fatal(args ...any) {
	r.failed = true
	fmt.Fprintln(&r.msgs, args...)
	runtime.Goexit()
}

// newWorld starts an authorization server on dbURL in development mode (the
// issuer is the test server's own http loopback URL), a resource server
// and the fixture.
func newWorld(t testing.TB, dbURL string, tempDir func() string, cleanup func(func()), opts ...envOption) *world {
	t.Helper()
	e := &world{dbURL: dbURL, db: "sqlite", clock: &clock{}, secrets: map[string]string{}}
	if strings.HasPrefix(dbURL, "postgres") {
		e.db = "postgres"
	}
	e.srv = servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Now: e.clock.Now, Cleanup: cleanup, TempDir: tempDir,
		Configure: func(cfg *config.Config) {
			cfg.Secret = systemSecret
			for _, o := range opts {
				o(cfg)
			}
		}})
	e.as, e.cfg, e.logs = e.srv.HTTP, e.srv.Config, e.srv.Logs
	(&env{world: e, t: t}).seed()
	e.rs = e.srv.StartAPI(t, e.rsc)
	e.ver, e.pets = e.rs.Verifier, e.rs.Pets
	return e
}

// seed registers the catalogue's clients and users directly in the store,
// the way the CLI does.
func (e *env) seed() {
	mk := func(c identity.Client) client {
		cl := e.srv.MustClient(e.t, c)
		e.remember(cl.Secret, "client secret of "+cl.ID)
		return cl
	}
	code := []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken}
	all := []string{identity.ScopeReadPets, identity.ScopeWritePets, identity.ScopeOfflineAccess}
	e.web = mk(identity.Client{ID: "web", Name: "MyApp", RedirectURIs: []string{webCallback}, GrantTypes: code, Scopes: all})
	e.other = mk(identity.Client{ID: "other", Name: "Other app", RedirectURIs: []string{otherCallback}, GrantTypes: code, Scopes: all})
	e.spa = mk(identity.Client{ID: "spa", Name: "Native app", Public: true, RedirectURIs: []string{spaCallback}, GrantTypes: code,
		Scopes: []string{identity.ScopeReadPets, identity.ScopeOfflineAccess}})
	e.svc = mk(identity.Client{ID: "svc", Name: "Nightly sync", GrantTypes: []string{identity.GrantClientCredentials}, Scopes: []string{identity.ScopeReadPets}})
	e.rsc = mk(identity.Client{ID: "rs", Name: "PetStore API", GrantTypes: []string{identity.GrantClientCredentials}, CanIntrospect: true})
	e.jwt = mk(identity.Client{ID: "jwtapp", Name: "JWT app", RedirectURIs: []string{webCallback}, GrantTypes: append(code, identity.GrantClientCredentials),
		Scopes: all, TokenFormat: identity.TokenFormatJWT})
	e.admin = mk(identity.Client{ID: "ops", Name: "Ops automation", GrantTypes: []string{identity.GrantClientCredentials}, Scopes: []string{identity.ScopeAdmin}})

	e.world.alice = e.srv.MustUser(e.t, "alice@example.com", alicePassword)
	e.alice = e.world.alice
	e.bob = e.srv.MustUser(e.t, "bob@example.com", bobPassword)
	e.remember(alicePassword, "password of alice@example.com")
	e.remember(bobPassword, "password of bob@example.com")
}

// remember records a secret that must never be stored in plain form.
func (e *world) remember(secret, what string) {
	if len(secret) < 12 {
		return
	}
	e.mu.Lock()
	e.secrets[secret] = what
	e.mu.Unlock()
}

// checkNoSecretsAtRest dumps the database and looks for every secret that
// passed through the test: client secrets, passwords, codes, access and
// refresh tokens, API keys.
func checkNoSecretsAtRest(t testing.TB, e *world) {
	t.Helper()
	dump := storetest.Dump(t, e.srv.Store.DB(), e.dbURL)
	e.mu.Lock()
	defer e.mu.Unlock()
	for secret, what := range e.secrets {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("the database holds the %s in plain form", what)
		}
		// An opaque token is pst_xx_<key>.<signature>: the signature is the
		// storage key, the random key alone must not be stored.
		if rest, ok := strings.CutPrefix(secret, "pst_"); ok && len(rest) > 3 {
			if key, _, ok := strings.Cut(rest[3:], "."); ok && len(key) >= 16 && bytes.Contains(dump, []byte(key)) {
				t.Errorf("the database holds the random part of the %s", what)
			}
		}
	}
}

// response is what a test observes of an HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r response) str(k string) string { s, _ := r.json[k].(string); return s }

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *env) do(req *http.Request) response {
	e.t.Helper()
	return e.seen(servertest.Do(e.t, noRedirects, req))
}

// seen turns an answer into a response and remembers the tokens in it.
func (e *env) seen(r servertest.Response) response {
	out := response{status: r.Status, header: r.Header, body: r.Body, json: r.JSON}
	for _, k := range []string{"access_token", "refresh_token"} {
		if s := out.str(k); s != "" {
			e.remember(s, k)
		}
	}
	return out
}

// post sends a form to the authorization server as client c
// (servertest.PostForm).
func (e *env) post(path string, c client, form url.Values) response {
	e.t.Helper()
	return e.seen(servertest.PostForm(e.t, noRedirects, e.as.URL+path, c, form))
}

func (e *env) token(c client, form url.Values) response { return e.post("/oauth2/token", c, form) }

// introspect asks as the resource server.
func (e *env) introspect(token string) map[string]any {
	e.t.Helper()
	r := e.post("/oauth2/introspect", e.rsc, url.Values{"token": {token}})
	if r.status != http.StatusOK {
		e.t.Fatalf("introspection by the resource server: %d %s", r.status, r.body)
	}
	return r.json
}

func (e *env) active(token string) bool { return e.introspect(token)["active"] == true }

// wantInactive asserts the RFC 7662 answer for a dead token: exactly
// {"active":false}.
func (e *env) wantInactive(what, token string) {
	e.t.Helper()
	if m := e.introspect(token); len(m) != 1 || m["active"] != false {
		e.t.Errorf("%s: introspection %v, want exactly {\"active\":false}", what, m)
	}
}

func (e *env) wantActive(what, token string) {
	e.t.Helper()
	if !e.active(token) {
		e.t.Errorf("%s: token is not active", what)
	}
}

// api calls the PetStore resource server.
func (e *env) api(method, path, token string, body string) response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.rs.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

func (e *env) clientCredentials(c client, scope string) string {
	e.t.Helper()
	r := e.token(c, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
	if r.status != http.StatusOK {
		e.t.Fatalf("client_credentials for %s: %d %s", c.ID, r.status, r.body)
	}
	return r.str("access_token")
}

// adminAPI calls the admin JSON API with an admin client_credentials token.
func (e *env) adminAPI(method, path string, body any) response {
	e.t.Helper()
	tok := e.clientCredentials(e.admin, identity.ScopeAdmin)
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.as.URL+"/admin/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(req)
}

// browser is a user agent of the world's server, failing e's test.
func (e *env) browser() *webtest.Browser { return e.srv.BrowserWith(e.t, nil) }

func (e *env) browserWith(jar http.CookieJar) *webtest.Browser { return e.srv.BrowserWith(e.t, jar) }

// aliceBrowser is a browser where alice is signed in, shared by the tests
// of a world so that they do not each pay for (and rate-limit) a sign-in.
func (e *env) aliceBrowser() *webtest.Browser {
	e.t.Helper()
	e.aliceOnce.Do(func() {
		jar, _ := cookiejar.New(nil)
		b := e.browserWith(jar)
		p := b.Get(e.as.URL + "/login")
		if p = e.signIn(b, p, e.alice); p.Status != http.StatusOK || !strings.Contains(p.URL, "/account") {
			e.t.Fatalf("sign-in: %d at %s", p.Status, p.URL)
		}
		e.aliceJar = jar
	})
	if e.aliceJar == nil {
		e.t.Fatal("alice could not sign in")
	}
	return e.browserWith(e.aliceJar)
}

// page is what the browser shows: the last response after redirects.
type page = webtest.Page

func isLoginPage(p page) bool   { return strings.Contains(p.Body, `action="/login"`) }
func isConsentPage(p page) bool { return strings.Contains(p.Body, `name="decision"`) }

// signIn posts the login form of p with u's credentials.
func (e *env) signIn(b *webtest.Browser, p page, u user) page {
	e.t.Helper()
	if !isLoginPage(p) {
		e.t.Fatalf("expected the login page, got %d at %s: %.300s", p.Status, p.URL, p.Body)
	}
	return b.Submit(p, "/login", url.Values{"email": {u.Email}, "password": {u.Password}})
}

// consent answers the consent page of p; with no scopes, every requested
// scope stays ticked.
func (e *env) consent(b *webtest.Browser, p page, decision string, scopes ...string) page {
	e.t.Helper()
	if !isConsentPage(p) {
		e.t.Fatalf("expected the consent page, got %d at %s: %.300s", p.Status, p.URL, p.Body)
	}
	form := p.Hidden()
	form.Set("decision", decision)
	if scopes == nil {
		for _, m := range regexp.MustCompile(`name="scope" value="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
			scopes = append(scopes, html.UnescapeString(m[1]))
		}
	}
	for _, s := range scopes {
		form.Add("scope", s)
	}
	return b.Post("/oauth2/consent", form)
}

// authURL builds an authorization request for c; params override the
// defaults (state, S256 challenge of verifier, scope).
func (e *env) authURL(c client, redirect, verifier string, params url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {redirect},
		"scope": {"read:pets write:pets offline_access"}, "state": {"state-0123456789"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	for k, v := range params {
		if len(v) == 0 || v[0] == "" && k != "state" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	return e.as.URL + "/oauth2/auth?" + q.Encode()
}

func callbackOf(c client) string {
	switch c.ID {
	case "other":
		return otherCallback
	case "spa":
		return spaCallback
	}
	return webCallback
}

// authorize walks the flow in b as u (signing in and consenting to every
// requested scope when asked) and returns the final redirect's query.
func (e *env) authorize(b *webtest.Browser, c client, u user, verifier string, params url.Values) url.Values {
	e.t.Helper()
	p := b.Get(e.authURL(c, callbackOf(c), verifier, params))
	if isLoginPage(p) {
		p = e.signIn(b, p, u)
	}
	if isConsentPage(p) {
		p = e.consent(b, p, "allow")
	}
	return e.redirectQuery(p)
}

// redirectQuery checks that p is a redirect to a client and returns its
// query.
func (e *env) redirectQuery(p page) url.Values {
	e.t.Helper()
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		e.t.Fatalf("expected a redirect to the client, got %d at %s: %.300s", p.Status, p.URL, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		e.t.Fatal(err)
	}
	if c := u.Query().Get("code"); c != "" {
		e.remember(c, "authorization code")
	}
	return u.Query()
}

// tokens is one token response.
type tokens struct {
	access, refresh string
	resp            response
}

// code returns a fresh code for c issued to alice, and its verifier.
func (e *env) code(b *webtest.Browser, c client, scope string) (code, verifier string) {
	e.t.Helper()
	verifier = oauth2.GenerateVerifier()
	q := e.authorize(b, c, e.alice, verifier, url.Values{"scope": {scope}})
	if q.Get("code") == "" {
		e.t.Fatalf("no code: %v", q)
	}
	return q.Get("code"), verifier
}

// redeem exchanges a code.
func (e *env) redeem(c client, code, verifier string) response {
	e.t.Helper()
	return e.token(c, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callbackOf(c)}, "code_verifier": {verifier}})
}

// login returns tokens for c acting for alice, through the browser b.
func (e *env) login(b *webtest.Browser, c client, scope string) tokens {
	e.t.Helper()
	code, v := e.code(b, c, scope)
	r := e.redeem(c, code, v)
	if r.status != http.StatusOK {
		e.t.Fatalf("code exchange: %d %s", r.status, r.body)
	}
	return tokens{access: r.str("access_token"), refresh: r.str("refresh_token"), resp: r}
}

func (e *env) refresh(c client, rt string) response {
	e.t.Helper()
	return e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// newAPIKey stores an API key for alice directly, as the account page does.
func (e *env) newAPIKey(env string, scopes ...string) (string, *identity.APIKey) {
	e.t.Helper()
	key, k := e.srv.MustAPIKey(e.t, e.alice.ID, env, "script", scopes...)
	e.remember(key, "API key")
	return key, k
}
