package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const (
	testIssuer   = "https://auth.example"
	testResource = "https://api.example"
	testClient   = "pet-diary"
	testRedirect = "https://app.example/cb"
	testState    = "state-1234567890"
	testVerifier = "a-long-enough-pkce-verifier-for-the-tests-0123456789"
	alicePass    = "correct horse battery staple"
)

var (
	hashOnce  sync.Once
	aliceHash string
)

// env is one authorization server with its pages, fakes and a fosite
// provider backed by fosite's memory store.
type env struct {
	t      testing.TB
	h      *Handler
	router *mux.Router
	srv    *httptest.Server
	fosite *storage.MemoryStore
	users  *fakeUsers
	grants *fakeGrants
	keys   *fakeKeys
	audit  *fakeAudit
}

type envOption func(*ui.Config)

func insecureCookies(c *ui.Config) { c.Insecure = true }

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	hashOnce.Do(func() {
		var err error
		if aliceHash, err = password.Hash(alicePass); err != nil {
			panic(err)
		}
	})
	now := func() time.Time { return time.Now().UTC() }
	cfg := ui.Config{FS: webtest.Files(), Secret: []byte("0123456789abcdef0123456789abcdef-test"), Required: Templates}
	for _, o := range opts {
		o(&cfg)
	}
	kit, err := ui.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fcfg := &fosite.Config{
		GlobalSecret:          []byte("some-cool-secret-that-is-32bytes"),
		AuthorizeCodeLifespan: time.Minute,
		EnforcePKCE:           true,
		ScopeStrategy:         fosite.ExactScopeStrategy,
		MinParameterEntropy:   1, // as pkg/provider
	}
	ms := storage.NewMemoryStore()
	ms.Clients[testClient] = &fosite.DefaultClient{
		ID:            testClient,
		RedirectURIs:  []string{testRedirect},
		ResponseTypes: []string{"code"},
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		Scopes:        []string{"read:pets", "write:pets", "offline_access", "admin"},
		Audience:      []string{testResource}, // the real provider accepts every configured resource
		Public:        true,
	}
	provider := compose.Compose(fcfg, ms, compose.NewOAuth2HMACStrategy(fcfg),
		compose.OAuth2AuthorizeExplicitFactory, compose.OAuth2PKCEFactory)
	e := &env{
		t:      t,
		fosite: ms,
		users: &fakeUsers{users: map[string]*identity.User{
			"usr_alice": {ID: "usr_alice", Email: "alice@example.com", PasswordHash: aliceHash, UpdatedAt: now()},
			"usr_bob":   {ID: "usr_bob", Email: "bob@example.com", PasswordHash: aliceHash, UpdatedAt: now()},
		}},
		grants: &fakeGrants{now: now},
		keys:   &fakeKeys{now: now},
		audit:  &fakeAudit{},
	}
	e.h = &Handler{
		OAuth2:     provider,
		Issuer:     testIssuer,
		NewSession: func(userID, grantID string) fosite.Session { return &fosite.DefaultSession{Subject: userID} },
		Resources: func(requested, scopes []string) ([]string, error) {
			aud, err := identity.Resources{{Identifier: testResource, Scopes: identity.ResourceScopes()}}.Resolve(requested, scopes)
			if err != nil {
				return nil, &fosite.RFC6749Error{CodeField: http.StatusBadRequest, ErrorField: "invalid_target", DescriptionField: identity.ErrorMessage(err)}
			}
			return aud, nil
		},
		Users:    e.users,
		Clients:  &fakeClients{clients: map[string]*identity.Client{testClient: {ID: testClient, Name: "Pet Diary", RedirectURIs: []string{testRedirect}}}},
		Grants:   e.grants,
		APIKeys:  e.keys,
		Audit:    e.audit,
		UI:       kit,
		AuditKey: []byte("audit-key-for-the-tests-32-bytes"),
		Now:      now,
		Logger:   slog.New(slog.DiscardHandler),
	}
	e.router = mux.NewRouter()
	e.h.Mount(e.router)
	e.srv = httptest.NewTLSServer(e.router)
	t.Cleanup(e.srv.Close)
	return e
}

// browser is one cookie jar talking to env's server, not following
// redirects.
func (e *env) browser() *webtest.Browser {
	return webtest.NewBrowser(e.t, e.srv.URL, webtest.BrowserOptions{Transport: e.srv.Client().Transport})
}

type page = webtest.Page

// login signs in through the login page and returns the answer to the POST.
func (e *env) login(b *webtest.Browser, email, pw string, extra url.Values) page {
	e.t.Helper()
	form := url.Values{"email": {email}, "password": {pw}, "csrf_token": {b.Get("/login").CSRF(e.t)}}
	for k, v := range extra {
		form[k] = v
	}
	return b.Post("/login", form)
}

func (e *env) mustLogin(b *webtest.Browser, email string) {
	e.t.Helper()
	if p := e.login(b, email, alicePass, nil); p.Status != http.StatusSeeOther {
		e.t.Fatalf("login %s: HTTP %d\n%s", email, p.Status, p.Body)
	}
}

// authPathFor is an authorization request of the test client with PKCE.
func authPathFor(scope string, extra ...string) string {
	sum := sha256.Sum256([]byte(testVerifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {testClient},
		"redirect_uri":          {testRedirect},
		"scope":                 {scope},
		"state":                 {testState},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "/oauth2/auth?" + q.Encode()
}

// consent answers the consent page shown at p.
func (e *env) consent(b *webtest.Browser, p page, decision string, scopes []string, remember bool) page {
	e.t.Helper()
	m := regexp.MustCompile(`name="return_to" value="([^"]+)"`).FindStringSubmatch(p.Body)
	if m == nil {
		e.t.Fatalf("no consent form (HTTP %d):\n%s", p.Status, p.Body)
	}
	form := url.Values{
		"csrf_token": {p.CSRF(e.t)},
		"return_to":  {html.UnescapeString(m[1])},
		"decision":   {decision},
		"scope":      scopes,
	}
	if remember {
		form.Set("remember", "on")
	}
	return b.Post("/oauth2/consent", form)
}

// redirectParams checks that p is a 303 to the client and returns the
// query of the redirect.
func redirectParams(t *testing.T, p page) url.Values {
	t.Helper()
	if p.Status != http.StatusSeeOther {
		t.Fatalf("want 303 to the client, got HTTP %d\n%s", p.Status, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != testRedirect {
		t.Fatalf("redirect to %q, want %s", p.Location, testRedirect)
	}
	if u.Fragment != "" {
		t.Fatalf("redirect has a fragment: %q", p.Location)
	}
	return u.Query()
}

// grantedScopesOfCode returns the scopes granted to the one code fosite
// stored.
func (e *env) grantedScopesOfCode(code string) []string {
	e.t.Helper()
	sig := code[strings.LastIndex(code, ".")+1:]
	c, err := e.fosite.GetAuthorizeCodeSession(context.Background(), sig, nil)
	if err != nil {
		e.t.Fatalf("code %q is not stored: %v", code, err)
	}
	return c.GetGrantedScopes()
}
