package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/provider"
)

// withoutParam removes name from an authorization request path.
func withoutParam(t *testing.T, path, name string) string {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del(name)
	u.RawQuery = q.Encode()
	return u.String()
}

// rawQueryHas reports whether the redirect's query names param at all,
// even with an empty value.
func rawQueryHas(t *testing.T, p page, param string) bool {
	t.Helper()
	u, err := url.Parse(p.Location)
	if err != nil {
		t.Fatal(err)
	}
	_, ok := u.Query()[param]
	return ok
}

// RD-12 policy: PKCE is required, so state is optional. A request without
// state gets no state parameter back at all (not "state="), on success and
// on error; a short state is echoed unchanged.
func TestStateIsOptionalAndEchoedAsSent(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	redirectParams(t, e.consent(b, b.Get(authPathFor("read:pets")), "allow", []string{"read:pets"}, true))

	noState := withoutParam(t, authPathFor("read:pets"), "state")
	p := b.Get(noState)
	if q := redirectParams(t, p); q.Get("code") == "" || q.Get("iss") != testIssuer {
		t.Fatalf("no state: %v; want a code and iss", q)
	}
	if rawQueryHas(t, p, "state") {
		t.Fatalf("no state sent, but the redirect carries one: %s", p.Location)
	}
	p = b.Get(withoutParam(t, authPathFor("read:pets delete:everything"), "state"))
	if q := redirectParams(t, p); q.Get("error") != "invalid_scope" || q.Get("iss") != testIssuer {
		t.Fatalf("no state, bad scope: %v", q)
	}
	if rawQueryHas(t, p, "state") {
		t.Fatalf("no state sent, but the error redirect carries one: %s", p.Location)
	}

	// fosite checks state last; without state, every earlier check must
	// still answer (these fail if a fosite upgrade moves the state check).
	for _, tc := range []struct{ path, wantErr string }{
		{withoutParam(t, authPathFor("read:pets", "response_type", "token"), "state"), "unsupported_response_type"},
		{withoutParam(t, authPathFor("read:pets", "registration", "{}"), "state"), "registration_not_supported"},
		{withoutParam(t, authPathFor("read:pets", "response_mode", "fragment"), "state"), "unsupported_response_mode"},
	} {
		p := b.Get(tc.path)
		if q := redirectParams(t, p); q.Get("error") != tc.wantErr || rawQueryHas(t, p, "state") {
			t.Fatalf("no state: %v; want %s without state", q, tc.wantErr)
		}
	}

	for _, path := range []string{authPathFor("read:pets", "state", "abc"), authPathFor("delete:everything", "state", "abc")} {
		q := redirectParams(t, b.Get(path))
		if q.Get("state") != "abc" || q.Get("error") == "invalid_state" {
			t.Fatalf("state=abc: %v; want it echoed", q)
		}
	}
}

// OIDC Core §3.1.2.1 prompt=login: a signed-in user with remembered
// consent must sign in again, and only that new sign-in yields a code.
func TestPromptLoginRequiresAFreshSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	redirectParams(t, e.consent(b, b.Get(authPathFor("read:pets")), "allow", []string{"read:pets"}, true))

	p := b.Get(authPathFor("read:pets", "prompt", "login"))
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?return_to=") {
		t.Fatalf("prompt=login while signed in: HTTP %d to %q; want the sign-in page", p.Status, p.Location)
	}
	returnTo, _ := url.QueryUnescape(strings.TrimPrefix(p.Location, "/login?return_to="))

	// The sign-in page shows its form even though a session exists.
	login := b.Get(p.Location)
	if login.Status != http.StatusOK || !strings.Contains(login.Body, `name="password"`) {
		t.Fatalf("sign-in page: HTTP %d to %q; want the form", login.Status, login.Location)
	}
	// Skipping the sign-in gets no code: straight back to the sign-in page.
	if p := b.Get(returnTo); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?") {
		t.Fatalf("return_to without signing in: HTTP %d to %q; want the sign-in page again", p.Status, p.Location)
	}
	// Nor does a forged marker naming the current session.
	if p := b.Get(returnTo); strings.Contains(p.Location, testRedirect) {
		t.Fatal("a code without a new sign-in")
	}
	if n := e.audit.count("login.success", ""); n != 1 {
		t.Fatalf("%d sign-ins before re-authentication, want 1", n)
	}

	p = b.Post("/login", url.Values{
		"email": {"alice@example.com"}, "password": {alicePass},
		"csrf_token": {login.CSRF(t)}, "return_to": {returnTo},
	})
	if p.Status != http.StatusSeeOther || p.Location != returnTo {
		t.Fatalf("after signing in again: HTTP %d to %q", p.Status, p.Location)
	}
	q := redirectParams(t, b.Get(p.Location))
	if q.Get("code") == "" || q.Get("state") != testState || q.Get("iss") != testIssuer {
		t.Fatalf("after re-authentication: %v; want a code", q)
	}
	if n := e.audit.count("login.success", ""); n != 2 {
		t.Fatalf("%d sign-ins, want 2", n)
	}
	// The same request again (same marker, same new session) still works:
	// the loop ends after one sign-in; a new prompt=login asks again.
	if q := redirectParams(t, b.Get(returnTo)); q.Get("code") == "" {
		t.Fatalf("replaying the satisfied request: %v", q)
	}
	if p := b.Get(authPathFor("read:pets", "prompt", "login")); !strings.HasPrefix(p.Location, "/login?") {
		t.Fatalf("a second prompt=login: HTTP %d to %q; want the sign-in page", p.Status, p.Location)
	}
}

// prompt=login while signed out is an ordinary sign-in, then a code (or
// the consent page): one sign-in is enough.
func TestPromptLoginSignedOut(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.Get(authPathFor("read:pets", "prompt", "login"))
	returnTo, _ := url.QueryUnescape(strings.TrimPrefix(p.Location, "/login?return_to="))
	login := b.Get(p.Location)
	p = b.Post("/login", url.Values{
		"email": {"alice@example.com"}, "password": {alicePass},
		"csrf_token": {login.CSRF(t)}, "return_to": {returnTo},
	})
	consent := b.Get(p.Location)
	if consent.Status != http.StatusOK || !strings.Contains(consent.Body, `action="/oauth2/consent"`) {
		t.Fatalf("after one sign-in: HTTP %d to %q; want the consent page", consent.Status, consent.Location)
	}
	if q := redirectParams(t, e.consent(b, consent, "allow", []string{"read:pets"}, false)); q.Get("code") == "" {
		t.Fatalf("consent: %v", q)
	}
}

// prompt=none never shows a page: login_required or consent_required at
// the redirect URI (with iss, and state when sent), a code otherwise.
func TestPromptNone(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	check := func(name string, p page, wantErr, wantState string) {
		t.Helper()
		q := redirectParams(t, p)
		if q.Get("error") != wantErr || q.Get("iss") != testIssuer || q.Get("state") != wantState {
			t.Fatalf("%s: %v; want error=%q, iss, state=%q", name, q, wantErr, wantState)
		}
		if _, has := q["state"]; wantState == "" && has {
			t.Fatalf("%s: state in the redirect although none was sent", name)
		}
		if (wantErr == "") != (q.Get("code") != "") {
			t.Fatalf("%s: code=%q with error=%q", name, q.Get("code"), q.Get("error"))
		}
	}
	none := authPathFor("read:pets", "prompt", "none")
	check("signed out", b.Get(none), "login_required", testState)
	check("signed out, no state", b.Get(withoutParam(t, none, "state")), "login_required", "")
	e.mustLogin(b, "alice@example.com")
	check("no consent yet", b.Get(none), "consent_required", testState)
	redirectParams(t, e.consent(b, b.Get(authPathFor("read:pets")), "allow", []string{"read:pets"}, true))
	check("remembered consent", b.Get(none), "", testState)
	check("more scopes than remembered", b.Get(authPathFor("read:pets write:pets", "prompt", "none")), "consent_required", testState)
}

// Unknown prompt values and none with anything else are invalid_request
// at the redirect URI, with iss.
func TestPromptInvalidValues(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	for _, v := range []string{"none login", "login none", "none consent", "none select_account", "bogus", "login bogus"} {
		q := redirectParams(t, b.Get(authPathFor("read:pets", "prompt", v)))
		if q.Get("error") != "invalid_request" || q.Get("iss") != testIssuer || q.Get("state") != testState || q.Get("code") != "" {
			t.Fatalf("prompt=%q: %v; want invalid_request with iss and state", v, q)
		}
	}
}

// The metadata advertises exactly the prompt values this package honours.
func TestPromptValuesMatchMetadata(t *testing.T) {
	got := (&provider.Provider{Issuer: testIssuer}).Metadata()["prompt_values_supported"]
	if !slices.Equal(got.([]string), PromptValues) {
		t.Fatalf("metadata prompt_values_supported %v, handler honours %v", got, PromptValues)
	}
}

// Parameters whose meaning would silently change if ignored are refused at
// the redirect URI, never answered with a normal flow.
func TestUnsupportedParametersAreRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	redirectParams(t, e.consent(b, b.Get(authPathFor("read:pets")), "allow", []string{"read:pets"}, true))
	for _, tc := range []struct{ param, value, wantErr string }{
		{"request", "eyJhbGciOiJub25lIn0.eyJzY29wZSI6InJlYWQ6cGV0cyJ9.", "request_not_supported"},
		{"request_uri", "https://app.example/request.jwt", "request_uri_not_supported"},
		{"registration", `{"client_name":"x"}`, "registration_not_supported"},
		{"id_token_hint", "eyJ.eyJ.sig", "invalid_request"},
		{"max_age", "-1", "invalid_request"},
		{"max_age", "soon", "invalid_request"},
		{"response_mode", "form_post", "unsupported_response_mode"},
	} {
		t.Run(tc.param, func(t *testing.T) {
			q := redirectParams(t, b.Get(authPathFor("read:pets", tc.param, tc.value)))
			if q.Get("error") != tc.wantErr || q.Get("iss") != testIssuer || q.Get("state") != testState || q.Get("code") != "" {
				t.Fatalf("%s: %v; want %s with iss and state, no code", tc.param, q, tc.wantErr)
			}
		})
	}
	// Our own request_uri (RFC 9126) that was never pushed: no request to
	// trust, so no redirect at all (par_test.go has the pushed ones).
	if p := b.Get(authPathFor("read:pets", "request_uri", "urn:ietf:params:oauth:request_uri:abc")); p.Status != http.StatusBadRequest || p.Location != "" {
		t.Fatalf("unknown pushed request: HTTP %d to %q", p.Status, p.Location)
	}
	// Before the redirect URI is validated, no redirect at all.
	p := b.Get(authPathFor("read:pets", "request_uri", "urn:x", "redirect_uri", "https://evil.example/cb"))
	if p.Status != http.StatusBadRequest || p.Location != "" {
		t.Fatalf("unregistered redirect_uri with request_uri: HTTP %d to %q", p.Status, p.Location)
	}
}
