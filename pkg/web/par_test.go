package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const parRedirect = "https://app.example/cb"

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type parEnv struct {
	s        *servertest.Server
	clock    *testClock
	app      servertest.Client
	other    servertest.Client
	b        *webtest.Browser
	verifier string
}

func newPAREnv(t *testing.T, dbURL string, configure func(*config.Config), requirePAR bool) *parEnv {
	t.Helper()
	e := &parEnv{clock: &testClock{t: time.Now()}, verifier: oauth2.GenerateVerifier()}
	e.s = servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Now: e.clock.Now, Configure: configure})
	e.app = e.s.MustClient(t, identity.Client{Name: "PAR app", RedirectURIs: []string{parRedirect}, RequirePAR: requirePAR,
		GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{identity.ScopeReadPets}})
	e.other = e.s.MustClient(t, identity.Client{Name: "Other app", RedirectURIs: []string{"https://other.example/cb"},
		GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{identity.ScopeReadPets}})
	alice := e.s.MustUser(t, "alice@example.com", "correct horse battery staple")
	e.b = e.s.Browser(t)
	e.b.Submit(e.b.Get("/login"), "/login", url.Values{"email": {alice.Email}, "password": {alice.Password}}).Want(t, http.StatusOK)
	return e
}

func (e *parEnv) authParams() url.Values {
	return url.Values{"response_type": {"code"}, "redirect_uri": {parRedirect}, "scope": {"read:pets"}, "state": {"s-1"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(e.verifier)}, "code_challenge_method": {"S256"}}
}

// push posts the authorization request to /oauth2/par as c.
func (e *parEnv) push(t *testing.T, c servertest.Client) servertest.Response {
	t.Helper()
	return servertest.PostForm(t, http.DefaultClient, e.s.URL+"/oauth2/par", c, e.authParams())
}

// TestPARValidatesLikeAnAuthorizationRequest: a pushed request with an
// unknown resource or a malformed dpop_jkt is refused at /oauth2/par (RFC
// 9126 §2.1), not after the user signed in.
func TestPARValidatesLikeAnAuthorizationRequest(t *testing.T) {
	e := newPAREnv(t, servertest.SQLiteURL(t), nil, true)
	for name, extra := range map[string]url.Values{
		"unknown resource": {"resource": {"https://unknown.example"}},
		"bad dpop_jkt":     {"dpop_jkt": {"notathumb"}},
	} {
		form := e.authParams()
		for k, v := range extra {
			form[k] = v
		}
		res := servertest.PostForm(t, http.DefaultClient, e.s.URL+"/oauth2/par", e.app, form)
		if res.Status != http.StatusBadRequest || res.Str("request_uri") != "" {
			t.Errorf("%s: %d %s; want 400 and no request_uri", name, res.Status, res.Body)
		}
	}
}

// authorize follows an authorization request through consent and returns
// where the browser was sent back to the client ("" when it was not).
func (e *parEnv) authorize(t *testing.T, q url.Values) (webtest.Page, *url.URL) {
	t.Helper()
	p := e.b.Get("/oauth2/auth?" + q.Encode())
	if strings.Contains(p.Body, `name="decision"`) {
		p = e.b.Submit(p, "/oauth2/consent", url.Values{"decision": {"allow"}, "scope": {"read:pets"}})
	}
	if p.Location == "" {
		return p, nil
	}
	u, _ := url.Parse(p.Location)
	return p, u
}

// TestPAR: push, authorize with request_uri only, get a code and redeem
// it; the request_uri is single use and expires; another client cannot
// use it; plain requests of a --require-par client are refused; bad client
// authentication at /oauth2/par is refused.
func TestPAR(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		e := newPAREnv(t, dbURL, nil, true)
		res := e.push(t, e.app)
		uri := res.Str("request_uri")
		if res.Status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || res.JSON["expires_in"] != float64(60) {
			t.Fatalf("push: %d %v", res.Status, res.JSON)
		}
		_, back := e.authorize(t, url.Values{"client_id": {e.app.ID}, "request_uri": {uri}})
		if back == nil || back.Query().Get("code") == "" || back.Query().Get("state") != "s-1" || !strings.HasPrefix(back.String(), parRedirect) {
			t.Fatalf("authorize with request_uri: back at %v", back)
		}
		tok := servertest.PostForm(t, http.DefaultClient, e.s.URL+"/oauth2/token", e.app, url.Values{"grant_type": {"authorization_code"},
			"code": {back.Query().Get("code")}, "redirect_uri": {parRedirect}, "code_verifier": {e.verifier}})
		if tok.Status != 200 || tok.Str("access_token") == "" {
			t.Fatalf("token: %d %v", tok.Status, tok.JSON)
		}

		t.Run("reuse", func(t *testing.T) {
			p, back := e.authorize(t, url.Values{"client_id": {e.app.ID}, "request_uri": {uri}})
			if back != nil && back.Query().Get("code") != "" || p.Status == http.StatusOK {
				t.Fatalf("second use: %d, back at %v", p.Status, back)
			}
		})
		t.Run("expired", func(t *testing.T) {
			uri := e.push(t, e.app).Str("request_uri")
			e.clock.Advance(61 * time.Second)
			p, back := e.authorize(t, url.Values{"client_id": {e.app.ID}, "request_uri": {uri}})
			if back != nil || p.Status != http.StatusBadRequest {
				t.Fatalf("expired: %d, back at %v", p.Status, back)
			}
		})
		t.Run("another client's request_uri", func(t *testing.T) {
			uri := e.push(t, e.app).Str("request_uri")
			p, back := e.authorize(t, url.Values{"client_id": {e.other.ID}, "request_uri": {uri}})
			if back != nil && (back.Query().Get("code") != "" || strings.HasPrefix(back.String(), "https://other.example")) || p.Status == http.StatusOK {
				t.Fatalf("other client: %d, back at %v", p.Status, back)
			}
		})
		t.Run("parameters beside request_uri", func(t *testing.T) {
			uri := e.push(t, e.app).Str("request_uri")
			_, back := e.authorize(t, url.Values{"client_id": {e.app.ID}, "request_uri": {uri}, "scope": {"read:pets write:pets"}})
			if back == nil || back.Query().Get("error") != "invalid_request" {
				t.Fatalf("extra parameter: back at %v", back)
			}
		})
		t.Run("plain request refused", func(t *testing.T) {
			q := e.authParams()
			q.Set("client_id", e.app.ID)
			_, back := e.authorize(t, q)
			if back == nil || back.Query().Get("error") != "invalid_request" || back.Query().Get("code") != "" {
				t.Fatalf("plain request: back at %v", back)
			}
		})
		t.Run("bad client authentication", func(t *testing.T) {
			res := e.push(t, servertest.Client{ID: e.app.ID, Secret: "wrong"})
			if res.Status != http.StatusUnauthorized || res.Str("error") != "invalid_client" || res.Str("request_uri") != "" {
				t.Fatalf("wrong secret: %d %v", res.Status, res.JSON)
			}
		})
	})
}

// TestPARRequiredGlobally: require_pushed_authorization_requests refuses a
// plain request of any client and is advertised.
func TestPARRequiredGlobally(t *testing.T) {
	e := newPAREnv(t, "", func(c *config.Config) { c.RequirePushedAuthorizationRequests = true }, false)
	q := e.authParams()
	q.Set("client_id", e.other.ID)
	q.Set("redirect_uri", "https://other.example/cb")
	_, back := e.authorize(t, q)
	if back == nil || back.Query().Get("error") != "invalid_request" {
		t.Fatalf("plain request: back at %v", back)
	}
	md := servertest.Do(t, http.DefaultClient, mustGet(t, e.s.URL+"/.well-known/oauth-authorization-server"))
	if md.JSON["require_pushed_authorization_requests"] != true || md.Str("pushed_authorization_request_endpoint") != e.s.URL+"/oauth2/par" {
		t.Fatalf("metadata: %v", md.JSON)
	}
}

func mustGet(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestFAPI2Client walks a --profile fapi2 client through what the profile
// enforces at the authorization endpoint and the token endpoint: a plain
// request is refused (PAR required), a push without PKCE S256 is refused,
// the authorization response carries iss, and the code is redeemed only
// with a DPoP proof, for a DPoP-bound token.
func TestFAPI2Client(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		e := newPAREnv(t, dbURL, nil, false)
		fapi := e.s.MustClient(t, identity.Client{ID: "fapi-app", Name: "FAPI app", Public: true, Profile: identity.ProfileFAPI2,
			RedirectURIs: []string{parRedirect}, GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{identity.ScopeReadPets}})
		q := e.authParams()
		q.Set("client_id", fapi.ID)
		if _, back := e.authorize(t, q); back == nil || back.Query().Get("error") != "invalid_request" {
			t.Fatalf("plain request: back at %v", back)
		}
		noPKCE := e.authParams()
		noPKCE.Del("code_challenge")
		noPKCE.Del("code_challenge_method")
		if res := servertest.PostForm(t, nil, e.s.URL+"/oauth2/par", fapi, noPKCE); res.Status != http.StatusBadRequest {
			t.Fatalf("push without PKCE: %d %v", res.Status, res.JSON)
		}
		code := func() string {
			uri := e.push(t, fapi).Str("request_uri")
			_, back := e.authorize(t, url.Values{"client_id": {fapi.ID}, "request_uri": {uri}})
			if back == nil || back.Query().Get("code") == "" || back.Query().Get("iss") != e.s.URL {
				t.Fatalf("authorize: back at %v", back)
			}
			return back.Query().Get("code")
		}
		redeem := func(code, proof string) servertest.Response {
			req, _ := http.NewRequest(http.MethodPost, e.s.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"authorization_code"},
				"client_id": {fapi.ID}, "code": {code}, "redirect_uri": {parRedirect}, "code_verifier": {e.verifier}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if proof != "" {
				req.Header.Set("DPoP", proof)
			}
			return servertest.Do(t, nil, req)
		}
		if res := redeem(code(), ""); res.Status != 400 || res.Str("error") != "invalid_dpop_proof" {
			t.Fatalf("redeem without DPoP: %d %v", res.Status, res.JSON)
		}
		k := dpoptest.NewKey()
		res := redeem(code(), k.Proof("POST", e.s.URL+"/oauth2/token", dpoptest.Opts{IAT: e.clock.Now()}))
		if res.Status != 200 || res.Str("token_type") != "DPoP" {
			t.Fatalf("redeem with DPoP: %d %v", res.Status, res.JSON)
		}
	})
}
