package securitytest

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// anon sends GET u without cookies or redirects.
func (e *env) anon(u string) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return e.do(req)
}

// wantErrorPage asserts the answer to a refused authorization request
// whose client or redirect_uri is not trusted: an error page, no redirect,
// no code.
func wantErrorPage(t testing.TB, what string, r response) {
	t.Helper()
	if r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
		t.Errorf("%s: status %d, want an error page", what, r.status)
	}
	if loc := r.header.Get("Location"); loc != "" {
		t.Errorf("%s: redirected to %q", what, loc)
	}
	if strings.Contains(string(r.body), "code=") {
		t.Errorf("%s: the page mentions a code", what)
	}
}

// wantSignIn asserts that an authorization request was accepted: the
// anonymous browser is sent to the login page.
func wantSignIn(t testing.TB, what string, r response) {
	t.Helper()
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/login?") {
		t.Errorf("%s: got %d Location=%q, want the login page", what, r.status, r.header.Get("Location"))
	}
}

func (e *env) createClient(c identity.Client) client {
	e.t.Helper()
	var secret string
	if !c.Public {
		secret, c.SecretHash = identity.NewClientSecret()
		e.remember(secret, "client secret of "+c.ID)
	}
	if c.TokenFormat == "" {
		c.TokenFormat = identity.TokenFormatOpaque
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	if err := e.srv.Store.CreateClient(context.Background(), &c); err != nil {
		e.t.Fatalf("create client %s: %v", c.ID, err)
	}
	return client{ID: c.ID, Secret: secret}
}

func TestRD01_ExactRedirectURIMatching(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	v := oauth2.GenerateVerifier()
	for _, uri := range []string{
		"https://APP.example/cb", "https://app.example/CB", "https://app.example/cb/",
		"https://app.example/cb?x=1", "https://app.example/cb#f", "https://app.example:443/cb",
		"https://app.example/%63b", "https://app.example/cb/../cb", "https://app.example/cb/..;/x",
		"https://app.example/cb%2F..%2Fx", "https://app.example/cb%252f..",
		"https://app.example.evil.com/cb", "https://app.example@evil.com/cb", `https://evil.com\@app.example/cb`,
		" https://app.example/cb", "https://app.example/c\tb", "https://app.example/cb\r\nX: y",
	} {
		wantErrorPage(t, uri, e.anon(e.authURL(e.web, uri, v, nil)))
	}
	wantSignIn(t, "the registered URI", e.anon(e.authURL(e.web, webCallback, v, nil)))
	r := e.anon(e.authURL(e.web, "https://evil.example/<script>alert(1)</script>", v, nil))
	if strings.Contains(string(r.body), "<script>alert(1)") {
		t.Error("the refused redirect_uri is reflected unescaped")
	}
}

func TestRD02_RedirectURIQueryComponent(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	c := e.createClient(identity.Client{ID: "rd02-tenant", RedirectURIs: []string{"https://app.example/cb?tenant=1"},
		GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{identity.ScopeReadPets}})
	v := oauth2.GenerateVerifier()
	read := url.Values{"scope": {"read:pets"}}
	wantSignIn(t, "identical query", e.anon(e.authURL(c, "https://app.example/cb?tenant=1", v, read)))
	for _, uri := range []string{"https://app.example/cb?tenant=2", "https://app.example/cb", "https://app.example/cb?tenant=1&x=1", "https://app.example/cb?x=1&tenant=1"} {
		wantErrorPage(t, uri, e.anon(e.authURL(c, uri, v, read)))
	}
}

func TestRD03_LoopbackRedirects(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	v := oauth2.GenerateVerifier()
	read := url.Values{"scope": {"read:pets"}}
	for _, uri := range []string{"http://127.0.0.1/cb", "http://127.0.0.1:5555/cb", "http://127.0.0.1:61234/cb"} {
		wantSignIn(t, uri, e.anon(e.authURL(e.spa, uri, v, read)))
	}
	for _, uri := range []string{"http://127.0.0.1:5555/other", "http://127.0.0.2:5555/cb", "http://localhost:5555/cb",
		"http://127.0.0.1.evil.com/cb", "http://localhost:80@evil.com/cb", "http://127.0.0.1evil/cb", "https://127.0.0.1:5555/cb"} {
		wantErrorPage(t, uri, e.anon(e.authURL(e.spa, uri, v, read)))
	}
	v6 := e.createClient(identity.Client{ID: "rd03-v6", Public: true, RedirectURIs: []string{"http://[::1]/cb"},
		GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{identity.ScopeReadPets}})
	wantSignIn(t, "[::1] any port", e.anon(e.authURL(v6, "http://[::1]:4444/cb", v, read)))
	wantErrorPage(t, "[::1] other path", e.anon(e.authURL(v6, "http://[::1]:4444/x", v, read)))
	// A confidential web client gets exact matching only, no loopback rule.
	lc := e.createClient(identity.Client{ID: "rd03-localhost", Public: true, RedirectURIs: []string{"http://localhost:8000/cb"},
		GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{identity.ScopeReadPets}})
	wantErrorPage(t, "localhost other port", e.anon(e.authURL(lc, "http://localhost:8001/cb", v, read)))
}

func TestRD04_RedirectURIValidationAtRegistration(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	for i, uri := range []string{
		"https://app.example/cb#frag", "javascript://x/%0aalert(1)", "javascript:alert(1)", "data:text/html,hi",
		"vbscript:msgbox", "file:///etc/passwd", "http://app.example/cb", "https://*.example/cb", "https://app.example/*",
		"https://user:pw@app.example/cb", "/cb", "app.example/cb", "https://app.example/cb?code=x",
		"https://app.example/cb?state=x", "https://app.example/cb?iss=x", "https://app.example/cb?error=x", "",
	} {
		id := "rd04-" + string(rune('a'+i))
		r := e.adminAPI(http.MethodPost, "/clients", map[string]any{"id": id, "name": "Bad", "redirect_uris": []string{uri}})
		if r.status != http.StatusBadRequest {
			t.Errorf("%q: registration answered %d, want 400", uri, r.status)
		}
		if g := e.adminAPI(http.MethodGet, "/clients/"+id, nil); g.status != http.StatusNotFound {
			t.Errorf("%q: the refused client was stored (%d)", uri, g.status)
		}
	}
	// Updating a client is held to the same rules.
	r := e.adminAPI(http.MethodPatch, "/clients/"+e.other.ID, map[string]any{"redirect_uris": []string{"javascript:alert(1)"}})
	if r.status != http.StatusBadRequest {
		t.Errorf("PATCH with a javascript: redirect URI: %d", r.status)
	}
	if r := e.adminAPI(http.MethodPost, "/clients", map[string]any{"id": "rd04-good", "name": "Good", "redirect_uris": []string{"https://good.example/cb", "http://127.0.0.1/cb"}}); r.status != http.StatusCreated {
		t.Errorf("a valid registration: %d %s", r.status, r.body)
	} else {
		e.remember(r.str("client_secret"), "client secret")
	}
}

func TestRD05_MissingRedirectURI(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	v := oauth2.GenerateVerifier()
	wantSignIn(t, "one registered URI", e.anon(e.authURL(e.web, "", v, url.Values{"redirect_uri": nil})))
	two := e.createClient(identity.Client{ID: "rd05-two", RedirectURIs: []string{"https://a.example/cb", "https://b.example/cb"},
		GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{identity.ScopeReadPets}})
	wantErrorPage(t, "two registered URIs", e.anon(e.authURL(two, "", v, url.Values{"redirect_uri": nil, "scope": {"read:pets"}})))
}

func TestRD06_NoRedirectForInvalidClientOrRedirect(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	v := oauth2.GenerateVerifier()
	wantErrorPage(t, "unknown client", e.anon(e.authURL(client{ID: "nobody"}, webCallback, v, nil)))
	wantErrorPage(t, "missing client_id", e.anon(e.authURL(client{}, webCallback, v, url.Values{"client_id": nil})))
	wantErrorPage(t, "another client's redirect", e.anon(e.authURL(e.web, otherCallback, v, nil)))
	// Even with every other error present, an untrusted redirect wins.
	wantErrorPage(t, "bad everything", e.anon(e.authURL(e.web, "https://evil.example/cb", v, url.Values{"response_type": {"token"}, "scope": {"bogus"}, "code_challenge": nil})))
}

var errorDescriptionChars = regexp.MustCompile(`^[\x20-\x21\x23-\x5B\x5D-\x7E]*$`)

// wantErrorRedirect asserts an RFC 6749 §4.1.2.1 error redirect to the
// registered URI with state byte-exact and iss.
func (e *env) wantErrorRedirect(what string, r response, wantErr, state string) url.Values {
	e.t.Helper()
	loc := r.header.Get("Location")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, webCallback+"?") {
		e.t.Errorf("%s: got %d Location=%q, want a 303 to %s", what, r.status, loc, webCallback)
		return nil
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("error") != wantErr || q.Get("state") != state || q.Get("iss") != e.cfg.Issuer || q.Has("code") {
		e.t.Errorf("%s: callback %v, want error=%s, state %q and iss", what, q, wantErr, state)
	}
	if !errorDescriptionChars.MatchString(q.Get("error_description")) {
		e.t.Errorf("%s: error_description has characters RFC 6749 forbids: %q", what, q.Get("error_description"))
	}
	return q
}

func TestRD07_ErrorRedirectsAfterValidation(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	v := oauth2.GenerateVerifier()
	state := "odd state: ü+&=/?%20~"
	for _, tc := range []struct {
		name, err string
		params    url.Values
	}{
		{"unknown scope", "invalid_scope", url.Values{"scope": {"read:pets delete:everything"}}},
		{"scope the client lacks", "invalid_scope", url.Values{"scope": {"admin"}}},
		{"unsupported response_type", "unsupported_response_type", url.Values{"response_type": {"token"}}},
		{"missing response_type", "unsupported_response_type", url.Values{"response_type": nil}},
		{"missing PKCE", "invalid_request", url.Values{"code_challenge": nil, "code_challenge_method": nil}},
		{"prompt=none without a session", "login_required", url.Values{"prompt": {"none"}}},
	} {
		tc.params.Set("state", state)
		e.wantErrorRedirect(tc.name, e.anon(e.authURL(e.web, webCallback, v, tc.params)), tc.err, state)
	}
	// The user's denial.
	b := e.browser()
	p := e.signIn(b, b.Get(e.authURL(e.web, webCallback, v, url.Values{"state": {state}})), e.alice)
	p = e.consent(b, p, "deny")
	e.wantErrorRedirect("denied", response{status: p.Status, header: p.Header}, "access_denied", state)
}

func TestRD08_ImplicitAndHybridDisabled(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	b := e.aliceBrowser()
	v := oauth2.GenerateVerifier()
	for _, rt := range []string{"token", "id_token token", "code token", "code id_token", "code id_token token", "id_token"} {
		p := b.Get(e.authURL(e.web, webCallback, v, url.Values{"response_type": {rt}, "scope": {"read:pets"}}))
		if strings.Contains(p.Location, "access_token") || strings.Contains(p.Location, "#") || strings.Contains(p.Location, "code=") {
			t.Errorf("response_type=%s: Location %q", rt, p.Location)
		}
		if u, _ := url.Parse(p.Location); p.Location == "" || u.Query().Get("error") != "unsupported_response_type" {
			t.Errorf("response_type=%s: %d %q, want unsupported_response_type", rt, p.Status, p.Location)
		}
	}
}

func TestRD09_PasswordGrantDisabled(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	r := e.token(e.web, url.Values{"grant_type": {"password"}, "username": {e.alice.Email}, "password": {e.alice.Password}})
	if r.status != http.StatusBadRequest || r.str("error") != "unsupported_grant_type" || r.str("access_token") != "" {
		t.Fatalf("password grant: %d %s", r.status, r.body)
	}
}

func TestRD10_DuplicateParametersRejected(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	v := oauth2.GenerateVerifier()
	base := e.authURL(e.web, webCallback, v, nil)
	for _, p := range []string{"client_id=web", "redirect_uri=https%3A%2F%2Fevil.example%2Fcb", "response_type=code", "scope=read%3Apets",
		"state=another-state-1", "code_challenge=" + oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()), "code_challenge_method=S256"} {
		wantErrorPage(t, "/oauth2/auth with "+p+" twice", e.anon(base+"&"+p))
	}
	for _, tc := range []struct{ name, body string }{
		{"grant_type", "grant_type=authorization_code&grant_type=authorization_code&code=x&code_verifier=y"},
		{"code", "grant_type=authorization_code&code=a&code=b&code_verifier=y"},
		{"code_verifier", "grant_type=authorization_code&code=a&code_verifier=x&code_verifier=y"},
		{"redirect_uri", "grant_type=authorization_code&code=a&redirect_uri=x&redirect_uri=y"},
		{"refresh_token", "grant_type=refresh_token&refresh_token=a&refresh_token=b"},
		{"scope", "grant_type=client_credentials&scope=read:pets&scope=read:pets"},
		{"client_id in body and query", "grant_type=client_credentials"},
	} {
		u := e.as.URL + "/oauth2/token"
		if strings.Contains(tc.name, "query") {
			u += "?client_id=svc"
		}
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(e.svc.ID, e.svc.Secret)
		if r := e.do(req); r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
			t.Errorf("/oauth2/token with %s twice: %d %s", tc.name, r.status, r.body)
		}
	}
}

func TestRD11_Robustness(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	b := e.aliceBrowser()
	v := oauth2.GenerateVerifier()
	// Unknown parameters are ignored; scope order does not matter; a valid
	// PKCE request succeeds.
	q := e.authorize(b, e.web, e.alice, v, url.Values{"scope": {"offline_access read:pets"}, "foo": {"bar"}, "ui_locales": {"de"}})
	if q.Get("code") == "" {
		t.Fatalf("unknown parameter and reordered scopes: %v", q)
	}
	if r := e.redeem(e.web, q.Get("code"), v); r.status != http.StatusOK || r.str("scope") != "offline_access read:pets" && r.str("scope") != "read:pets offline_access" {
		t.Fatalf("redeem: %d %s", r.status, r.body)
	}
	// POST to the authorization endpoint works like GET.
	u, _ := url.Parse(e.authURL(e.web, webCallback, v, url.Values{"scope": {"read:pets"}}))
	req, _ := http.NewRequest(http.MethodPost, e.as.URL+"/oauth2/auth", strings.NewReader(u.RawQuery))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p := b.Do(req)
	if isConsentPage(p) {
		p = e.consent(b, p, "allow")
	}
	if q := e.redirectQuery(p); q.Get("code") == "" {
		t.Fatalf("POST /oauth2/auth: %v", q)
	}
}

// Our policy (docs/security.md): PKCE is required for every client, so
// state is optional. A missing state is accepted and none is sent back (no
// "state=" either), on success and on error; any state is echoed
// byte-exact up to the request size limit. invalid_state is not an RFC 6749
// error code and is never answered.
func TestRD12_StatePolicy(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	v := oauth2.GenerateVerifier()
	for _, tc := range []struct {
		name  string
		state []string
	}{{"missing", nil}, {"short", []string{"abc"}}, {"one character", []string{"x"}}} {
		q := e.authorize(e.aliceBrowser(), e.web, e.alice, v, url.Values{"state": tc.state, "scope": {"read:pets"}})
		if q.Get("code") == "" || q.Get("error") != "" {
			t.Fatalf("state %s: %v; want a code", tc.name, q)
		}
		if got, sent := q["state"], tc.state; !slices.Equal(got, sent) {
			t.Fatalf("state %s: callback carries state %q, want %q", tc.name, got, sent)
		}
	}
	r := e.anon(e.authURL(e.web, webCallback, v, url.Values{"state": nil, "prompt": {"none"}}))
	if q := e.wantErrorRedirect("prompt=none without state", r, "login_required", ""); q != nil && q.Has("state") {
		t.Fatalf("error redirect carries a state although none was sent: %v", q)
	}
	e.wantErrorRedirect("short state", e.anon(e.authURL(e.web, webCallback, v, url.Values{"state": {"abc"}, "prompt": {"none"}})), "login_required", "abc")
	long := strings.Repeat("s-~._", 300) // 1500 bytes
	q := e.authorize(e.aliceBrowser(), e.web, e.alice, v, url.Values{"state": {long}, "scope": {"read:pets"}})
	if q.Get("state") != long || q.Get("code") == "" {
		t.Fatalf("a 1.5 KB state was not echoed byte-exact")
	}
}

func TestRD13_No307AfterCredentialPost(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	b := e.browser()
	b.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v := oauth2.GenerateVerifier()
	r := e.anon(e.authURL(e.web, webCallback, v, url.Values{"scope": {"read:pets"}}))
	login := b.Get(e.as.URL + r.header.Get("Location"))
	p := e.signIn(b, login, e.alice)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("POST /login answered %d, want 303", p.Status)
	}
	p = b.Get(e.as.URL + p.Location)
	p = e.consent(b, p, "allow")
	if p.Status != http.StatusSeeOther {
		t.Fatalf("POST /oauth2/consent answered %d, want 303", p.Status)
	}
}

func TestRD14_IssInAuthorizationResponse(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	md := e.anon(e.as.URL + "/.well-known/oauth-authorization-server")
	issuer := md.str("issuer")
	if issuer != e.cfg.Issuer || md.json["authorization_response_iss_parameter_supported"] != true {
		t.Fatalf("metadata: %s", md.body)
	}
	v := oauth2.GenerateVerifier()
	q := e.authorize(e.aliceBrowser(), e.web, e.alice, v, url.Values{"scope": {"read:pets"}})
	if q.Get("iss") != issuer || q.Get("code") == "" {
		t.Fatalf("success: %v", q)
	}
	e.wantErrorRedirect("error", e.anon(e.authURL(e.web, webCallback, v, url.Values{"scope": {"bogus"}})), "invalid_scope", "state-0123456789")
}

func TestRD15_NoCORSOnAuthorize(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	for _, m := range []string{http.MethodGet, http.MethodOptions, http.MethodPost} {
		req, _ := http.NewRequest(m, e.authURL(e.web, webCallback, oauth2.GenerateVerifier(), nil), nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		r := e.do(req)
		for k := range r.header {
			if strings.HasPrefix(k, "Access-Control-Allow") {
				t.Errorf("%s /oauth2/auth answers %s", m, k)
			}
		}
	}
}

func TestRD16_SizeLimits(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	v := oauth2.GenerateVerifier()
	for _, tc := range []struct {
		name string
		u    string
	}{
		{"100 KB query", e.authURL(e.web, webCallback, v, url.Values{"pad": {strings.Repeat("a", 100<<10)}})},
		{"10 KB state", e.authURL(e.web, webCallback, v, url.Values{"state": {strings.Repeat("s", 10<<10)}})},
		{"10 KB scope", e.authURL(e.web, webCallback, v, url.Values{"scope": {strings.Repeat("read:pets ", 1<<10)}})},
	} {
		r := e.anon(tc.u)
		switch r.status {
		case http.StatusBadRequest, http.StatusRequestURITooLong, http.StatusRequestHeaderFieldsTooLarge:
		default:
			t.Errorf("%s: %d, want 400/414/431", tc.name, r.status)
		}
	}
}
