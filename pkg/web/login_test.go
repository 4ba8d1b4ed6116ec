package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Unknown email, wrong password and disabled account look the same: same
// status, same page (apart from the echoed email), same message.
func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	e.users.users["usr_bob"].Disabled = true
	b := e.browser()
	normalise := func(p page, email string) string { return strings.ReplaceAll(p.Body, email, "EMAIL") }

	wrong := e.login(b, "alice@example.com", "not the password", nil)
	unknown := e.login(b, "nobody@example.com", "not the password", nil)
	disabled := e.login(b, "bob@example.com", alicePass, nil)
	for name, p := range map[string]page{"wrong password": wrong, "unknown email": unknown, "disabled user": disabled} {
		if p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "Incorrect email or password.") {
			t.Fatalf("%s: HTTP %d; want 401 with the generic message", name, p.Status)
		}
	}
	if normalise(wrong, "alice@example.com") != normalise(unknown, "nobody@example.com") ||
		normalise(wrong, "alice@example.com") != normalise(disabled, "bob@example.com") {
		t.Fatal("failed logins are distinguishable by their page")
	}
	for _, reason := range []string{"bad_password", "unknown_user", "disabled"} {
		if e.audit.count("login.failure", reason) != 1 {
			t.Errorf("no login.failure audit event with reason %s", reason)
		}
	}
	if p := b.Get("/account"); p.Status != http.StatusSeeOther {
		t.Fatalf("signed in after failed logins: HTTP %d", p.Status)
	}
}

// WB-01: the session cookie is __Host- prefixed, Secure, HttpOnly,
// SameSite=Lax, host-only; a browser-session cookie unless "keep me signed
// in".
func TestSessionCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       []envOption
		remember   bool
		wantName   string
		wantSecure bool
		wantMaxAge int
	}{
		{"browser session", nil, false, "__Host-petstore_session", true, 0},
		{"keep me signed in", nil, true, "__Host-petstore_session", true, 30 * 24 * 3600},
		{"development over http", []envOption{insecureCookies}, false, "petstore_session", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			b := e.browser()
			extra := url.Values{}
			if tc.remember {
				extra.Set("remember", "on")
			}
			p := e.login(b, "alice@example.com", alicePass, extra)
			resp := http.Response{Header: p.Header}
			cs := resp.Cookies()
			if len(cs) != 1 {
				t.Fatalf("login set %d cookies, want 1", len(cs))
			}
			c := cs[0]
			if c.Name != tc.wantName || c.Secure != tc.wantSecure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
				c.Path != "/" || c.Domain != "" || c.MaxAge != tc.wantMaxAge {
				t.Fatalf("cookie %s", p.Header.Get("Set-Cookie"))
			}
		})
	}
}

// Sign-in starts a new session: new cookie, new CSRF token; the token of
// the anonymous session no longer works.
func TestLoginRotatesSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	before := b.Get("/login")
	oldToken := before.CSRF(t)
	oldCookie := (&http.Response{Header: before.Header}).Cookies()[0].Value

	p := b.Post("/login", url.Values{"email": {"alice@example.com"}, "password": {alicePass}, "csrf_token": {oldToken}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("login: HTTP %d", p.Status)
	}
	newCookie := (&http.Response{Header: p.Header}).Cookies()[0].Value
	account := b.Get("/account")
	if newCookie == oldCookie || account.CSRF(t) == oldToken {
		t.Fatal("session cookie or CSRF token not renewed at sign-in")
	}
	if p := b.Post("/logout", url.Values{"csrf_token": {oldToken}}); p.Status != http.StatusForbidden {
		t.Fatalf("pre-login CSRF token accepted after login: HTTP %d", p.Status)
	}
}

func TestLogoutEndsSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	account := b.Get("/account")
	if account.Status != http.StatusOK {
		t.Fatalf("account: HTTP %d", account.Status)
	}
	p := b.Post("/logout", url.Values{"csrf_token": {account.CSRF(t)}})
	if p.Status != http.StatusSeeOther || p.Location != "/login?logged_out=1" {
		t.Fatalf("logout: HTTP %d to %q", p.Status, p.Location)
	}
	c := (&http.Response{Header: p.Header}).Cookies()
	if len(c) != 1 || c[0].MaxAge >= 0 {
		t.Fatalf("logout did not delete the cookie: %v", p.Header["Set-Cookie"])
	}
	if p := b.Get("/account"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Fatalf("account after logout: HTTP %d to %q", p.Status, p.Location)
	}
	if !strings.Contains(b.Get("/login?logged_out=1").Body, "You have been signed out.") {
		t.Fatal("login page does not confirm the sign-out")
	}
	if e.audit.count("logout", "") != 1 {
		t.Fatalf("audit events %v", e.audit.types())
	}
}

// Disabling (or otherwise updating) a user ends their sessions.
func TestDisabledUserSessionEnds(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	u, _ := e.users.UserByID(t.Context(), "usr_alice")
	u.Disabled = true
	u.UpdatedAt = u.UpdatedAt.Add(1e9)
	_ = e.users.UpdateUser(t.Context(), u)
	if p := b.Get("/account"); p.Status != http.StatusSeeOther {
		t.Fatalf("disabled user still signed in: HTTP %d", p.Status)
	}
}

// WB-10: unsafe requests from another origin, or without the session's
// token, are refused before anything happens.
func TestFormsRefuseCrossOriginAndBadCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	consent := b.Get(authPathFor("read:pets"))
	token := consent.CSRF(t)
	consentForm := func(tok string) url.Values {
		v := url.Values{"return_to": {authPathFor("read:pets")}, "decision": {"allow"}, "scope": {"read:pets"}}
		if tok != "" {
			v.Set("csrf_token", tok)
		}
		return v
	}
	loginForm := func(tok string) url.Values {
		v := url.Values{"email": {"alice@example.com"}, "password": {alicePass}}
		if tok != "" {
			v.Set("csrf_token", tok)
		}
		return v
	}
	for _, tc := range []struct {
		name, path string
		form       url.Values
		headers    []string
	}{
		{"cross-site login", "/login", loginForm(token), []string{"Sec-Fetch-Site", "cross-site"}},
		{"cross-origin login (Origin)", "/login", loginForm(token), []string{"Origin", "https://evil.example"}},
		{"cross-site consent", "/oauth2/consent", consentForm(token), []string{"Sec-Fetch-Site", "cross-site"}},
		{"consent without token", "/oauth2/consent", consentForm(""), nil},
		{"consent with wrong token", "/oauth2/consent", consentForm("forged-token"), nil},
		{"login without token", "/login", loginForm(""), nil},
		{"logout with wrong token", "/logout", url.Values{"csrf_token": {"forged"}}, nil},
		{"revoke without token", "/account/grants/grt_1/revoke", url.Values{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.Post(tc.path, tc.form, tc.headers...)
			if p.Status != http.StatusForbidden || p.Location != "" {
				t.Fatalf("HTTP %d to %q; want 403", p.Status, p.Location)
			}
		})
	}
	if len(e.grants.grants) != 0 {
		t.Fatal("a refused consent form created a grant")
	}
	if p := b.Get("/account"); p.Status != http.StatusOK {
		t.Fatalf("refused logout signed the user out: HTTP %d", p.Status)
	}
}

// After sign-in the user lands on the page that sent them to /login when it
// is one of ours; any other return_to (an open redirect) lands on /account.
func TestLoginReturnTo(t *testing.T) {
	for _, tc := range []struct{ returnTo, want string }{
		{"/admin/clients", "/admin/clients"},
		{"/admin/grants?user=alice%40example.com", "/admin/grants?user=alice%40example.com"},
		{"/account", "/account"},
		{authPathFor("read:pets"), ""}, // consent page, checked below
		{"https://evil.example/", "/account"},
		{"//evil.example/oauth2/auth?x", "/account"},
		{"/\\evil.example", "/account"},
		{"/oauth2/authx", "/account"},
		{"/account/../x", "/account"},
		{"/logout", "/account"},
	} {
		t.Run(tc.returnTo, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			p := e.login(b, "alice@example.com", alicePass, url.Values{"return_to": {tc.returnTo}})
			want := tc.want
			if want == "" {
				want = tc.returnTo
			}
			if p.Status != http.StatusSeeOther || p.Location != want {
				t.Fatalf("HTTP %d to %q; want 303 to %q", p.Status, p.Location, want)
			}
		})
	}
}

// TestValidReturnTo is the list of places a sign-in may lead back to:
// our account, admin and authorization pages, and nothing else.
func TestValidReturnTo(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"/account", true},
		{"/account/apps", true},
		{"/account?tab=keys", true},
		{"/admin", true},
		{"/admin/", true},
		{"/admin/clients", true},
		{"/admin/users/usr_123", true},
		{"/admin/grants?user=alice%40example.com&client=myapp", true},
		{"/admin/audit?type=login.failure", true},
		{"/oauth2/auth?client_id=myapp&response_type=code", true},

		{"", false},
		{"/", false},
		{"/login", false},
		{"/logout", false},
		{"/accounts", false},
		{"/administrator", false},
		{"/admin.evil", false},
		{"/oauth2/auth", false},
		{"/oauth2/auth?", false},
		{"/oauth2/authx?client_id=a", false},
		{"/oauth2/token?x=1", false},
		{"admin", false},
		{"account", false},
		{"//evil.example", false},
		{"//evil.example/admin", false},
		{"///evil.example/admin", false},
		{"/\\evil.example", false},
		{"/admin\\..\\..\\evil", false},
		{"/admin/%5c%5cevil", false},
		{"\\/evil.example", false},
		{"https://evil.example/admin", false},
		{"http:/admin", false},
		{"javascript:alert(1)", false},
		{"/admin/../login", false},
		{"/admin/./clients", false},
		{"/admin//clients", false},
		{"/admin/%2e%2e/login", false},
		{"/admin%2f..%2f..%2flogin", false},
		{"/admin/clients#frag", false},
		{"/admin\tx", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/admin\r\nSet-Cookie: x=1", false},
		{"/admin\x00", false},
		{"/admin\x7f", false},
		{"/admin\u0085", false},
		{"/admin\u00a0x", false},
		{"/admin/\xff", false},
		{"/admin /x", false},
		{"/" + strings.Repeat("a", maxReturnTo), false},
		{"/admin?" + strings.Repeat("a", maxReturnTo), false},
	} {
		if got := validReturnTo(tc.in); got != tc.ok {
			t.Errorf("validReturnTo(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}
