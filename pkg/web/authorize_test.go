package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// RD-01/RD-06: before the client and redirect_uri are validated, the user
// gets an error page and is never redirected.
func TestAuthorizeRefusesUnknownClientAndUnregisteredRedirect(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com") // a signed-in user must not change anything
	for _, tc := range []struct {
		name, path string
	}{
		{"unknown client", authPathFor("read:pets", "client_id", "no-such-app")},
		{"unregistered redirect_uri", authPathFor("read:pets", "redirect_uri", "https://evil.example/cb")},
		{"trailing slash", authPathFor("read:pets", "redirect_uri", testRedirect+"/")},
		{"added query", authPathFor("read:pets", "redirect_uri", testRedirect+"?x=1")},
		{"host case", authPathFor("read:pets", "redirect_uri", "https://APP.example/cb")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.Get(tc.path)
			if p.Status != http.StatusBadRequest || p.Location != "" {
				t.Fatalf("HTTP %d, Location %q; want 400 without Location", p.Status, p.Location)
			}
			if !strings.Contains(p.Body, "This sign-in link does not work") || strings.Contains(p.Body, "code=") {
				t.Fatalf("unexpected error page:\n%s", p.Body)
			}
		})
	}
}

// RD-10: a parameter given twice is refused with an error page, even when
// the duplicates are split between query and body.
func TestAuthorizeRefusesDuplicatedParameters(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, tc := range []struct {
		name string
		req  func() page
	}{
		{"state twice", func() page { return b.Get(authPathFor("read:pets") + "&state=other-state-123") }},
		{"redirect_uri twice", func() page {
			return b.Get(authPathFor("read:pets") + "&redirect_uri=" + url.QueryEscape("https://evil.example/cb"))
		}},
		{"nameless parameter twice", func() page { return b.Get(authPathFor("read:pets") + "&=a&=b") }},
		{"client_id in query and body", func() page {
			return b.Post(authPathFor("read:pets"), url.Values{"client_id": {testClient}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.req()
			if p.Status != http.StatusBadRequest || p.Location != "" {
				t.Fatalf("HTTP %d, Location %q; want 400 without Location", p.Status, p.Location)
			}
			if !strings.Contains(p.Body, "appears more than once") {
				t.Fatalf("page does not explain the problem:\n%s", p.Body)
			}
		})
	}
}

// RD-07, RD-08: once the redirect URI is known good, errors go back to the
// client with error, state and iss, in the query.
func TestAuthorizeErrorsRedirectWithStateAndIss(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, tc := range []struct {
		name, path, wantErr string
	}{
		{"missing PKCE", strings.Replace(authPathFor("read:pets"), "code_challenge=", "x=", 1), "invalid_request"},
		{"implicit flow", authPathFor("read:pets", "response_type", "token"), "unsupported_response_type"},
		{"fragment response mode", authPathFor("read:pets", "response_mode", "fragment"), "unsupported_response_mode"},
		{"admin scope", authPathFor("read:pets admin"), "invalid_scope"},
		{"unknown scope", authPathFor("read:pets delete:everything"), "invalid_scope"},
		{"prompt=none while signed out", authPathFor("read:pets", "prompt", "none"), "login_required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := redirectParams(t, b.Get(tc.path))
			if q.Get("error") != tc.wantErr || q.Get("state") != testState || q.Get("iss") != testIssuer {
				t.Fatalf("error=%q state=%q iss=%q; want %s, %s, %s", q.Get("error"), q.Get("state"), q.Get("iss"),
					tc.wantErr, testState, testIssuer)
			}
			if q.Get("code") != "" {
				t.Fatal("an error redirect carries a code")
			}
		})
	}
}

// A signed-out user goes to the login page and, once signed in, comes back
// to the very same authorization request; unticking a scope on the consent
// page grants less.
func TestSignInConsentWithOneScopeUnticked(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	auth := authPathFor("read:pets write:pets offline_access")

	p := b.Get(auth)
	if p.Status != http.StatusSeeOther || p.Location != "/login?return_to="+url.QueryEscape(auth) {
		t.Fatalf("signed out: HTTP %d to %q; want 303 to the login page with return_to", p.Status, p.Location)
	}
	login := b.Get(p.Location)
	if !strings.Contains(login.Body, "to continue to <strong>Pet Diary</strong>") {
		t.Fatalf("login page does not name the app:\n%s", login.Body)
	}
	p = b.Post("/login", url.Values{
		"email": {"alice@example.com"}, "password": {alicePass},
		"csrf_token": {login.CSRF(t)}, "return_to": {auth},
	})
	if p.Status != http.StatusSeeOther || p.Location != auth {
		t.Fatalf("after login: HTTP %d to %q; want 303 back to %s", p.Status, p.Location, auth)
	}

	consent := b.Get(p.Location)
	if consent.Status != http.StatusOK {
		t.Fatalf("consent page: HTTP %d\n%s", consent.Status, consent.Body)
	}
	for _, want := range []string{"Pet Diary", "View your pets", "Manage your pets", "Stay connected", "app.example"} {
		if !strings.Contains(consent.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}

	q := redirectParams(t, e.consent(b, consent, "allow", []string{"read:pets", "offline_access", "admin"}, false))
	if q.Get("code") == "" || q.Get("state") != testState || q.Get("iss") != testIssuer {
		t.Fatalf("redirect %v: want code, state and iss", q)
	}
	if got := e.grantedScopesOfCode(q.Get("code")); !slices.Equal(got, []string{"read:pets", "offline_access"}) {
		t.Fatalf("code granted %v, want [read:pets offline_access] (write:pets unticked, admin never requested)", got)
	}
	g := e.grants.get("grt_1")
	if g.UserID != "usr_alice" || !slices.Equal(g.Scopes, []string{"read:pets", "offline_access"}) || g.Remember {
		t.Fatalf("grant %+v", g)
	}
	if e.audit.count("consent.granted", "") != 1 || e.audit.count("login.success", "") != 1 {
		t.Fatalf("audit events %v", e.audit.types())
	}
}

func TestConsentDenyRedirectsAccessDenied(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	q := redirectParams(t, e.consent(b, b.Get(authPathFor("read:pets")), "deny", []string{"read:pets"}, true))
	if q.Get("error") != "access_denied" || q.Get("state") != testState || q.Get("iss") != testIssuer || q.Get("code") != "" {
		t.Fatalf("deny redirect %v; want access_denied with state and iss, no code", q)
	}
	if e.audit.count("consent.denied", "") != 1 {
		t.Fatalf("audit events %v", e.audit.types())
	}
	if _, err := e.grants.ActiveGrant(t.Context(), "usr_alice", testClient); err == nil {
		t.Fatal("denying created a grant")
	}
}

// The consent form is re-validated: a tampered return_to with another
// redirect_uri is refused without redirect.
func TestConsentRevalidatesTheRequest(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	consent := b.Get(authPathFor("read:pets"))
	for _, tc := range []struct{ name, returnTo string }{
		{"other redirect_uri", authPathFor("read:pets", "redirect_uri", "https://evil.example/cb")},
		{"not an authorization request", "/account"},
		{"absolute URL", "https://evil.example/oauth2/auth?x=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.Post("/oauth2/consent", url.Values{
				"csrf_token": {consent.CSRF(t)}, "return_to": {tc.returnTo}, "decision": {"allow"}, "scope": {"read:pets"},
			})
			if p.Status != http.StatusBadRequest || p.Location != "" {
				t.Fatalf("HTTP %d to %q; want 400 without redirect", p.Status, p.Location)
			}
		})
	}
}

// A remembered decision skips the consent page for the same or fewer
// scopes; asking for more shows it again.
func TestRememberedConsent(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	redirectParams(t, e.consent(b, b.Get(authPathFor("read:pets write:pets")), "allow", []string{"read:pets", "write:pets"}, true))

	for _, scope := range []string{"read:pets write:pets", "read:pets"} {
		q := redirectParams(t, b.Get(authPathFor(scope)))
		if q.Get("code") == "" || q.Get("iss") != testIssuer {
			t.Fatalf("scope %q: remembered consent did not issue a code: %v", scope, q)
		}
		if got := e.grantedScopesOfCode(q.Get("code")); !slices.Equal(got, strings.Fields(scope)) {
			t.Fatalf("scope %q: granted %v", scope, got)
		}
	}
	p := b.Get(authPathFor("read:pets write:pets offline_access"))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Stay connected") {
		t.Fatalf("more scopes: HTTP %d; want the consent page again", p.Status)
	}
	p = b.Get(authPathFor("read:pets", "prompt", "consent"))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/oauth2/consent"`) {
		t.Fatalf("prompt=consent: HTTP %d; want the consent page", p.Status)
	}
}

// Without "remember", the next request asks again.
func TestConsentNotRememberedAsksAgain(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	redirectParams(t, e.consent(b, b.Get(authPathFor("read:pets")), "allow", []string{"read:pets"}, false))
	if p := b.Get(authPathFor("read:pets")); p.Status != http.StatusOK {
		t.Fatalf("HTTP %d; want the consent page", p.Status)
	}
}

// Browsers apply form-action to the redirects after a form submission, so
// the consent form (and the login form, when consent is remembered) must
// allow the client's origin, and only that.
func TestFormsAllowTheClientRedirectOrigin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	auth := authPathFor("read:pets")
	wantCSP := "form-action 'self' https://app.example;"
	if csp := b.Get("/login?return_to=" + url.QueryEscape(auth)).Header.Get("Content-Security-Policy"); !strings.Contains(csp, wantCSP) {
		t.Fatalf("login page CSP %q", csp)
	}
	if csp := b.Get("/login").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self';") {
		t.Fatalf("plain login page CSP %q", csp)
	}
	e.mustLogin(b, "alice@example.com")
	if csp := b.Get(auth).Header.Get("Content-Security-Policy"); !strings.Contains(csp, wantCSP) || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("consent page CSP %q", csp)
	}
	if csp := b.Get("/account").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self';") {
		t.Fatalf("account page CSP %q", csp)
	}
}

func TestFormTargets(t *testing.T) {
	for _, tc := range []struct {
		uri, want string
	}{
		{"https://app.example/cb", "https://app.example"},
		{"https://app.example:8443/cb?x=1", "https://app.example:8443"},
		{"http://127.0.0.1:5555/cb", "http://127.0.0.1:*"},
		{"http://[::1]/cb", "http://[::1]:*"},
		{"com.example.app:/oauth", "com.example.app:"},
		{"not a uri", ""},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			if got := strings.Join(formTargets(tc.uri), " "); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
