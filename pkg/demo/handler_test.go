package demo

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const revokedText = "Your connection to PetStore was revoked or expired. Connect again."

func assertContains(t *testing.T, p page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (status %d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}

func assertNotConnected(t *testing.T, e *env) {
	t.Helper()
	home := e.get("/")
	assertContains(t, home, "Sign in with PetStore")
	if strings.Contains(home.body, `action="/disconnect"`) || strings.Contains(home.body, "Biscuit") {
		t.Errorf("home page shows a connection:\n%s", home.body)
	}
}

func TestConnectRedirectsToAuthorizationServer(t *testing.T) {
	e := newEnv(t)
	p := e.get("/connect")
	u, err := url.Parse(p.location)
	if err != nil || p.status != http.StatusSeeOther || u.Path != "/oauth2/auth" {
		t.Fatalf("status %d, location %q", p.status, p.location)
	}
	q := u.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             testClientID,
		"redirect_uri":          e.app.URL + "/callback",
		"scope":                 "read:pets write:pets offline_access",
		"code_challenge_method": "S256",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("state")) < 22 || len(q.Get("code_challenge")) != 43 {
		t.Errorf("state %q or code_challenge %q too short", q.Get("state"), q.Get("code_challenge"))
	}
	if len(p.cookies) != 1 {
		t.Fatalf("want one session cookie, got %q", p.cookies)
	}
	c := p.cookies[0]
	for _, attr := range []string{"myapp_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(c, attr) {
			t.Errorf("cookie %q lacks %s", c, attr)
		}
	}
	if second := e.startConnect(); second.Get("state") == q.Get("state") || second.Get("code_challenge") == q.Get("code_challenge") {
		t.Error("a second connect reused the state or the PKCE challenge")
	}
}

func TestCallbackRefusesForeignAnswers(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(e *env, q url.Values)
		want  string
	}{
		{"state missing", func(e *env, q url.Values) { q.Del("state") }, "This link cannot be used"},
		{"state mismatch", func(e *env, q url.Values) { q.Set("state", "attacker-state-0123456789abcdef") }, "This link cannot be used"},
		{"state repeated", func(e *env, q url.Values) { q.Add("state", q.Get("state")) }, "This link cannot be used"},
		{"issuer mismatch", func(e *env, q url.Values) { q.Set("iss", "https://evil.example") }, "did not come from the PetStore server"},
		{"issuer missing", func(e *env, q url.Values) { q.Del("iss") }, "did not come from the PetStore server"},
		{"issuer empty", func(e *env, q url.Values) { q.Set("iss", "") }, "did not come from the PetStore server"},
		{"issuer with a trailing slash", func(e *env, q url.Values) { q.Set("iss", e.asSrv.URL+"/") }, "did not come from the PetStore server"},
		{"issuer repeated", func(e *env, q url.Values) { q.Add("iss", q.Get("iss")) }, "This link cannot be used"},
		{"error without issuer", func(e *env, q url.Values) {
			q.Del("code")
			q.Del("iss")
			q.Set("error", "access_denied")
		}, "did not come from the PetStore server"},
		{"no cookie", func(e *env, q url.Values) { e.browser.Jar = nil }, "This link cannot be used"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ar := e.startConnect()
			q := e.approve(ar)
			tc.tweak(e, q)
			p := e.callback(q)
			if p.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", p.status)
			}
			assertContains(t, p, tc.want, "Nothing was connected")
			if ex, _, _ := e.as.stats(); ex != 0 {
				t.Errorf("the code was exchanged %d times", ex)
			}
			if e.browser.Jar != nil {
				// The state is consumed: the genuine answer no longer works.
				genuine := e.approve(ar)
				if p := e.callback(genuine); p.status != http.StatusBadRequest {
					t.Errorf("the genuine answer after a refused one: status %d", p.status)
				}
				assertNotConnected(t, e)
			}
		})
	}
}

func TestCallbackAccessDenied(t *testing.T) {
	e := newEnv(t)
	ar := e.startConnect()
	p := e.callback(url.Values{"error": {"access_denied"}, "state": {ar.Get("state")}, "iss": {e.asSrv.URL}})
	if p.status != http.StatusOK {
		t.Errorf("status %d", p.status)
	}
	assertContains(t, p, "You chose not to connect", `href="/connect"`)
	assertNotConnected(t, e)
}

func TestCallbackOtherError(t *testing.T) {
	e := newEnv(t)
	ar := e.startConnect()
	p := e.callback(url.Values{"error": {"server_error"}, "state": {ar.Get("state")}, "iss": {e.asSrv.URL}})
	assertContains(t, p, "PetStore could not connect MyApp", "server_error")
	if p.status != http.StatusBadGateway {
		t.Errorf("server_error: status %d, want 502", p.status)
	}
	assertNotConnected(t, e)
	ar = e.startConnect()
	p = e.callback(url.Values{"error": {"invalid_scope"}, "state": {ar.Get("state")}, "iss": {e.asSrv.URL}})
	if p.status != http.StatusBadRequest {
		t.Errorf("invalid_scope: status %d, want 400", p.status)
	}
	assertNotConnected(t, e)
}

func TestCallbackCodeRefused(t *testing.T) {
	e := newEnv(t)
	ar := e.startConnect()
	q := e.approve(ar)
	q.Set("code", "code_not_issued")
	p := e.callback(q)
	if p.status != http.StatusBadRequest { // a refused code is bad input, not a PetStore failure
		t.Errorf("status %d", p.status)
	}
	assertContains(t, p, "The connection did not complete")
	assertNotConnected(t, e)
}

func TestHappyPathListsPets(t *testing.T) {
	e := newEnv(t)
	before := e.startConnect()
	cookieBefore := e.browser.Jar.Cookies(mustURL(e.app.URL))
	cb := e.callback(e.approve(before))
	if cb.status != http.StatusSeeOther || cb.location != "/" {
		t.Fatalf("callback: %d %q", cb.status, cb.location)
	}
	if ex, _, _ := e.as.stats(); ex != 1 {
		t.Errorf("%d exchanges, want 1 (PKCE verified by the fake)", ex)
	}
	if after := e.browser.Jar.Cookies(mustURL(e.app.URL)); after[0].Value == cookieBefore[0].Value {
		t.Error("the session id was not rotated at connect")
	}
	home := e.get("/")
	assertContains(t, home, "Connected", "Biscuit", "Dog · 3 years", "See your pets", "Add pets for you",
		"Stay connected", "Disconnect", "Add a pet", `class="conn-pill"`)
}

func TestHomeHasSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.app.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if !strings.Contains(resp.Header.Get(k), want) {
			t.Errorf("%s = %q, want %q in it", k, resp.Header.Get(k), want)
		}
	}
}

func TestExpiredAccessTokenIsRefreshedOnce(t *testing.T) {
	e := newEnv(t)
	e.connect()
	e.as.expireAccess()
	calls := e.api.callCount()
	home := e.get("/")
	assertContains(t, home, "Biscuit", `action="/disconnect"`)
	if _, refreshes, _ := e.as.stats(); refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}
	if got := e.api.callCount() - calls; got != 2 {
		t.Errorf("%d API calls, want 2 (401, then the retry)", got)
	}
	// The new tokens are kept: the next page needs no refresh.
	assertContains(t, e.get("/"), "Biscuit")
	if _, refreshes, _ := e.as.stats(); refreshes != 1 {
		t.Errorf("%d refreshes after a second page, want 1", refreshes)
	}
}

func TestRevokedGrantSendsUserBackToConnect(t *testing.T) {
	e := newEnv(t)
	e.connect()
	e.as.revokeGrant()
	home := e.get("/")
	if home.status != http.StatusOK {
		t.Errorf("status %d", home.status)
	}
	assertContains(t, home, revokedText, "Sign in with PetStore")
	if strings.Contains(home.body, `action="/disconnect"`) {
		t.Error("still offers Disconnect")
	}
	// The tokens are gone: the next visit neither refreshes nor calls the API.
	calls := e.api.callCount()
	assertNotConnected(t, e)
	if _, refreshes, _ := e.as.stats(); refreshes != 1 || e.api.callCount() != calls {
		t.Errorf("after the drop: %d refreshes, %d more API calls", refreshes, e.api.callCount()-calls)
	}
}

func TestAddPetWhenRevokedExplains(t *testing.T) {
	e := newEnv(t)
	csrf := csrfOf(t, e.connect())
	e.as.revokeGrant()
	p := e.post("/pets", url.Values{"csrf_token": {csrf}, "name": {"Rex"}, "species": {"dog"}, "age": {"2"}}, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d", p.status)
	}
	assertContains(t, e.get("/"), revokedText, "Sign in with PetStore")
}

func TestDisconnectRevokesAndForgets(t *testing.T) {
	e := newEnv(t)
	csrf := csrfOf(t, e.connect())
	e.as.mu.Lock()
	var rt string
	for k := range e.as.refresh {
		rt = k
	}
	e.as.mu.Unlock()

	p := e.post("/disconnect", url.Values{"csrf_token": {csrf}}, nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("status %d: %s", p.status, p.body)
	}
	_, _, revoked := e.as.stats()
	if len(revoked) == 0 || revoked[0].Get("token") != rt || revoked[0].Get("token_type_hint") != "refresh_token" {
		t.Errorf("revocations %v, want the refresh token first", revoked)
	}
	home := e.get("/")
	assertContains(t, home, "Disconnected", "Sign in with PetStore")
	calls := e.api.callCount()
	assertNotConnected(t, e)
	if e.api.callCount() != calls {
		t.Error("MyApp still calls the API after disconnecting")
	}
}

func TestDisconnectWhenServerUnreachable(t *testing.T) {
	e := newEnv(t)
	csrf := csrfOf(t, e.connect())
	e.asSrv.Close()
	e.post("/disconnect", url.Values{"csrf_token": {csrf}}, nil)
	home := e.get("/")
	assertContains(t, home, "Disconnected here, but not at PetStore", "connected apps")
	assertNotConnected(t, e)
}

func TestFormsRefuseForgedPosts(t *testing.T) {
	tests := []struct {
		name   string
		form   func(csrf string) url.Values
		header http.Header
	}{
		{"no CSRF token", func(string) url.Values { return url.Values{} }, nil},
		{"wrong CSRF token", func(string) url.Values { return url.Values{"csrf_token": {"guess"}} }, nil},
		{"cross-site", func(c string) url.Values { return url.Values{"csrf_token": {c}} }, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			csrf := csrfOf(t, e.connect())
			for _, path := range []string{"/disconnect", "/pets"} {
				f := tc.form(csrf)
				f.Set("name", "Forged")
				f.Set("species", "cat")
				f.Set("age", "1")
				if p := e.post(path, f, tc.header); p.status != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", path, p.status)
				}
			}
			_, _, revoked := e.as.stats()
			home := e.get("/")
			if len(revoked) != 0 || !strings.Contains(home.body, `action="/disconnect"`) || strings.Contains(home.body, "Forged") {
				t.Errorf("a forged form had an effect (revocations %d)", len(revoked))
			}
		})
	}
}

func TestAddPet(t *testing.T) {
	tests := []struct {
		name  string
		scope string
		form  url.Values
		want  string
	}{
		{"added", "", url.Values{"name": {"Rex"}, "species": {"Dog"}, "age": {"2"}}, "Rex is now in your PetStore account"},
		{"no name", "", url.Values{"name": {" "}, "species": {"dog"}, "age": {"2"}}, "Give your pet a name"},
		{"bad age", "", url.Values{"name": {"Rex"}, "species": {"dog"}, "age": {"-1"}}, "whole number of years"},
		{"write not granted", "read:pets offline_access", url.Values{"name": {"Rex"}, "species": {"dog"}, "age": {"2"}}, "you did not give it that permission"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.scope != "" {
				e.as.grantScope = tc.scope
			}
			csrf := csrfOf(t, e.connect())
			tc.form.Set("csrf_token", csrf)
			if p := e.post("/pets", tc.form, nil); p.status != http.StatusSeeOther {
				t.Fatalf("status %d", p.status)
			}
			home := e.get("/")
			assertContains(t, home, tc.want)
			if tc.name == "added" {
				assertContains(t, home, "Rex", "2 years")
			}
		})
	}
}

func TestReadOnlyGrantHidesAddForm(t *testing.T) {
	e := newEnv(t)
	e.as.grantScope = "read:pets"
	home := e.connect()
	assertContains(t, home, "You did not allow MyApp to add pets", "See your pets")
	if strings.Contains(home.body, `action="/pets"`) || strings.Contains(home.body, "Stay connected") {
		t.Error("the page offers what was not granted")
	}
}

func TestAPIUnreachableIsFriendly(t *testing.T) {
	e := newEnv(t)
	e.connect()
	e.apiSrv.Close()
	home := e.get("/")
	if home.status != http.StatusOK {
		t.Errorf("status %d", home.status)
	}
	assertContains(t, home, "the PetStore API cannot be reached right now", `action="/disconnect"`)
}

func TestUnknownPageAndStatic(t *testing.T) {
	e := newEnv(t)
	if p := e.get("/nope"); p.status != http.StatusNotFound || !strings.Contains(p.body, "Page not found") {
		t.Errorf("unknown page: %d", p.status)
	}
	if p := e.get("/static/myapp.css"); p.status != http.StatusOK || !strings.Contains(p.body, "--teal") {
		t.Errorf("stylesheet: %d", p.status)
	}
	for _, path := range []string{"/static/..%2fpkg%2fdemo%2fhandler.go", "/static/../../go.mod", "/static/"} {
		if p := e.get(path); p.status == http.StatusOK {
			t.Errorf("%s served: %.80s", path, p.body)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestTokenKnownExpiredIsRefreshedBeforeTheCall(t *testing.T) {
	e := newEnv(t)
	e.connect()
	e.h.Now = func() time.Time { return time.Now().Add(time.Hour) } // past expires_in=900
	calls := e.api.callCount()
	assertContains(t, e.get("/"), "Biscuit")
	if _, refreshes, _ := e.as.stats(); refreshes != 1 || e.api.callCount()-calls != 1 {
		t.Errorf("%d refreshes and %d API calls, want 1 and 1", refreshes, e.api.callCount()-calls)
	}
}

// Two tabs hitting a 401 together must not both spend the refresh token:
// the server rotates it, so the second use would end the connection.
func TestParallelPagesRefreshOnce(t *testing.T) {
	e := newEnv(t)
	e.connect()
	e.as.expireAccess()
	var wg sync.WaitGroup
	pages := make([]page, 4)
	for i := range pages {
		wg.Go(func() { pages[i] = e.get("/") })
	}
	wg.Wait()
	for i, p := range pages {
		if !strings.Contains(p.body, "Biscuit") {
			t.Errorf("tab %d lost the connection:\n%.300s", i, p.body)
		}
	}
	if _, refreshes, _ := e.as.stats(); refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}
}
