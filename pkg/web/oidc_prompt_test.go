package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// The OpenID Connect authorization request parameters (OIDC Core
// §3.1.2.1) on fosite's OpenID Connect explicit handler, as the catalogue's
// RD-18 and the Basic OP modules of §3.1 ask. The clock is the test clock:
// nothing sleeps.

const oidcScope = "openid profile email read:pets"

// idTokenHint is an ID token for sub signed with the test provider's key.
func (e *env) idTokenHint(sub string, exp time.Time) string {
	e.t.Helper()
	tok, _, err := e.signer.Generate(context.Background(), jwt.MapClaims{
		"iss": testIssuer, "sub": sub, "aud": []string{testClient}, "iat": exp.Add(-time.Hour).Unix(), "exp": exp.Unix(),
	}, &jwt.Headers{})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// codeClaims are the ID token claims fosite will issue for code: what the
// authorization endpoint stamped on its session.
func (e *env) codeClaims(code string) *jwt.IDTokenClaims {
	e.t.Helper()
	sig := code[strings.LastIndex(code, ".")+1:]
	req, err := e.fosite.GetAuthorizeCodeSession(context.Background(), sig, nil)
	if err != nil {
		e.t.Fatalf("code %q is not stored: %v", code, err)
	}
	s, ok := req.GetSession().(*openid.DefaultSession)
	if !ok {
		e.t.Fatalf("session %T", req.GetSession())
	}
	return s.Claims
}

// consentOIDC remembers the signed-in user's consent to oidcScope; it
// returns the ID token claims of the first code.
func (e *env) consentOIDC(b *webtest.Browser) *jwt.IDTokenClaims {
	e.t.Helper()
	q := redirectParams(e.t.(*testing.T), e.consent(b, b.Get(authPathFor(oidcScope)), "allow", strings.Fields(oidcScope), true))
	return e.codeClaims(q.Get("code"))
}

// signInTo follows a redirect to the sign-in page and signs in there as
// email; it returns where the sign-in sends the browser (return_to).
func (e *env) signInTo(t *testing.T, b *webtest.Browser, p page, email string) string {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?return_to=") {
		t.Fatalf("HTTP %d to %q; want the sign-in page", p.Status, p.Location)
	}
	returnTo, _ := url.QueryUnescape(strings.TrimPrefix(p.Location, "/login?return_to="))
	login := b.Get(p.Location)
	if login.Status != http.StatusOK || !strings.Contains(login.Body, `name="password"`) {
		t.Fatalf("sign-in page: HTTP %d to %q; want the form", login.Status, login.Location)
	}
	done := b.Post("/login", url.Values{"email": {email}, "password": {alicePass}, "csrf_token": {login.CSRF(t)}, "return_to": {returnTo}})
	if done.Status != http.StatusSeeOther || done.Location != returnTo {
		t.Fatalf("sign-in: HTTP %d to %q, want %q", done.Status, done.Location, returnTo)
	}
	return returnTo
}

// oidcc-prompt-none-not-logged-in, oidcc-prompt-none-logged-in (RD-18):
// login_required with iss and state when signed out; consent_required when
// consent is needed; a code for the same sub, with the sign-in's auth_time
// and the browser session's sid, when signed in and consented.
func TestOIDCPromptNone(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	none := authPathFor(oidcScope, "prompt", "none")
	q := redirectParams(t, b.Get(none))
	if q.Get("error") != "login_required" || q.Get("iss") != testIssuer || q.Get("state") != testState || q.Get("code") != "" {
		t.Fatalf("signed out: %v; want login_required with iss and state", q)
	}
	e.mustLogin(b, "alice@example.com")
	signedInAt := e.clock.Now().Truncate(time.Second)
	if q := redirectParams(t, b.Get(none)); q.Get("error") != "consent_required" || q.Get("iss") != testIssuer || q.Get("state") != testState {
		t.Fatalf("no consent yet: %v; want consent_required", q)
	}
	first := e.consentOIDC(b)
	e.clock.Advance(30 * time.Second)
	q = redirectParams(t, b.Get(none))
	if q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("signed in and consented: %v; want a code", q)
	}
	c := e.codeClaims(q.Get("code"))
	if c.Subject != "usr_alice" || c.Subject != first.Subject {
		t.Fatalf("sub %q, first %q; want usr_alice both times", c.Subject, first.Subject)
	}
	if !c.AuthTime.Equal(signedInAt) || !first.AuthTime.Equal(signedInAt) {
		t.Fatalf("auth_time %v / %v, want the sign-in time %v", c.AuthTime, first.AuthTime, signedInAt)
	}
	if sid, _ := c.Extra["sid"].(string); sid == "" || sid != first.Extra["sid"] {
		t.Fatalf("sid %q, first %q; want the same browser session's sid", sid, first.Extra["sid"])
	}
	// Another browser's session has another sid.
	b2 := e.browser()
	e.mustLogin(b2, "alice@example.com")
	q = redirectParams(t, b2.Get(none))
	if e.codeClaims(q.Get("code")).Extra["sid"] == c.Extra["sid"] {
		t.Fatal("two browsers share a sid")
	}
}

// oidcc-prompt-login (RD-18): a signed-in user signs in again and the new
// code's auth_time is later than the first.
func TestOIDCPromptLoginAuthTimeIncreases(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	first := e.consentOIDC(b)
	e.clock.Advance(5 * time.Second)
	returnTo := e.signInTo(t, b, b.Get(authPathFor(oidcScope, "prompt", "login")), "alice@example.com")
	q := redirectParams(t, b.Get(returnTo))
	c := e.codeClaims(q.Get("code"))
	if !c.AuthTime.After(first.AuthTime) {
		t.Fatalf("auth_time %v after prompt=login, first %v; want later", c.AuthTime, first.AuthTime)
	}
	if c.Subject != first.Subject {
		t.Fatalf("sub %q, want %q", c.Subject, first.Subject)
	}
	// Signing in again replaces this browser's session and keeps its sid,
	// so back-channel logout of that sid still reaches the first app.
	if c.Extra["sid"] != first.Extra["sid"] {
		t.Fatalf("sid %v after prompt=login, first %v; want the same", c.Extra["sid"], first.Extra["sid"])
	}
	if list, _ := e.sessions.UserSessions(context.Background(), "usr_alice"); len(list) != 1 {
		t.Fatalf("%d sessions for alice after signing in again in one browser, want 1", len(list))
	}
}

// prompt=consent shows the consent page even when consent is remembered.
func TestOIDCPromptConsent(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	e.consentOIDC(b)
	if q := redirectParams(t, b.Get(authPathFor(oidcScope))); q.Get("code") == "" {
		t.Fatalf("remembered consent: %v", q)
	}
	p := b.Get(authPathFor(oidcScope, "prompt", "consent"))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `action="/oauth2/consent"`) {
		t.Fatalf("prompt=consent: HTTP %d to %q; want the consent page", p.Status, p.Location)
	}
}

// oidcc-max-age-1 / oidcc-max-age-10000 (RD-18): a sign-in older than
// max_age means signing in again (login_required with prompt=none), and the
// code then carries the new auth_time; a large max_age does not.
func TestOIDCMaxAge(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	first := e.consentOIDC(b)
	e.clock.Advance(2 * time.Second)

	q := redirectParams(t, b.Get(authPathFor(oidcScope, "max_age", "10000")))
	if c := e.codeClaims(q.Get("code")); !c.AuthTime.Equal(first.AuthTime) {
		t.Fatalf("max_age=10000: auth_time %v, want the first %v (no new sign-in)", c.AuthTime, first.AuthTime)
	}
	q = redirectParams(t, b.Get(authPathFor(oidcScope, "max_age", "1", "prompt", "none")))
	if q.Get("error") != "login_required" || q.Get("iss") != testIssuer || q.Get("state") != testState {
		t.Fatalf("max_age=1 after 2 s with prompt=none: %v; want login_required", q)
	}
	returnTo := e.signInTo(t, b, b.Get(authPathFor(oidcScope, "max_age", "1")), "alice@example.com")
	q = redirectParams(t, b.Get(returnTo))
	c := e.codeClaims(q.Get("code"))
	if !c.AuthTime.After(first.AuthTime) || c.AuthTime.IsZero() {
		t.Fatalf("max_age=1: auth_time %v, first %v; want a new sign-in", c.AuthTime, first.AuthTime)
	}
	// max_age=0 is prompt=login: a sign-in that just happened is not enough.
	if p := b.Get(authPathFor(oidcScope, "max_age", "0")); !strings.HasPrefix(p.Location, "/login?") {
		t.Fatalf("max_age=0: HTTP %d to %q; want the sign-in page", p.Status, p.Location)
	}
}

// select_account shows the signed-in account; "Continue as …" goes on with
// it, "Not you?" signs it out and, after another sign-in, goes on as the
// other user without asking again.
func TestOIDCSelectAccount(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	e.consentOIDC(b)
	p := b.Get(authPathFor(oidcScope, "prompt", "select_account"))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Continue as alice@example.com") || !strings.Contains(p.Body, "Not you?") {
		t.Fatalf("select_account: HTTP %d; want the account page\n%s", p.Status, p.Body)
	}
	cont := regexp.MustCompile(`class="account-choice" href="([^"]+)"`).FindStringSubmatch(p.Body)
	if cont == nil {
		t.Fatal("no Continue link")
	}
	q := redirectParams(t, b.Get(html.UnescapeString(cont[1])))
	if c := e.codeClaims(q.Get("code")); c.Subject != "usr_alice" {
		t.Fatalf("Continue: sub %q", c.Subject)
	}
	// The Continue link of one browser session does not work in another.
	b2 := e.browser()
	e.mustLogin(b2, "alice@example.com")
	if p := b2.Get(html.UnescapeString(cont[1])); p.Status != http.StatusOK || !strings.Contains(p.Body, "Continue as") {
		t.Fatalf("another browser's Continue link: HTTP %d to %q; want the account page", p.Status, p.Location)
	}

	out := b.Submit(p, "/logout", nil)
	returnTo := e.signInTo(t, b, out, "bob@example.com")
	consent := b.Get(returnTo)
	if consent.Status != http.StatusOK || !strings.Contains(consent.Body, "bob@example.com") {
		t.Fatalf("after Not you? and signing in as bob: HTTP %d to %q; want bob's consent page", consent.Status, consent.Location)
	}
	q = redirectParams(t, e.consent(b, consent, "allow", strings.Fields(oidcScope), false))
	if c := e.codeClaims(q.Get("code")); c.Subject != "usr_bob" {
		t.Fatalf("after switching: sub %q, want usr_bob", c.Subject)
	}
	if n := e.audit.count("logout", ""); n != 1 {
		t.Fatalf("%d logout events, want 1", n)
	}
}

// oidcc-id-token-hint: the hinted user signed in gets a code with
// prompt=none; another user signed in is login_required with prompt=none,
// and otherwise is signed out and sent to sign in with the hinted user's
// email filled in. A hint that is not our ID token is invalid_request; an
// expired one still hints.
func TestOIDCIDTokenHint(t *testing.T) {
	e := newEnv(t)
	var ended []string
	var mu sync.Mutex
	e.h.SessionsEnded = func(_ context.Context, userID string, sids []string) {
		mu.Lock()
		defer mu.Unlock()
		ended = append(ended, userID+":"+strings.Join(sids, ","))
	}
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	e.consentOIDC(b)
	alice := e.idTokenHint("usr_alice", time.Now().Add(time.Hour))
	bob := e.idTokenHint("usr_bob", time.Now().Add(-time.Hour)) // expired: still a hint

	q := redirectParams(t, b.Get(authPathFor(oidcScope, "prompt", "none", "id_token_hint", alice)))
	if e.codeClaims(q.Get("code")).Subject != "usr_alice" {
		t.Fatalf("matching hint, prompt=none: %v", q)
	}
	q = redirectParams(t, b.Get(authPathFor(oidcScope, "prompt", "none", "id_token_hint", bob)))
	if q.Get("error") != "login_required" || q.Get("iss") != testIssuer || q.Get("state") != testState {
		t.Fatalf("other user's hint, prompt=none: %v; want login_required", q)
	}
	for _, bad := range []string{"not-a-jwt", strings.TrimSuffix(alice, alice[len(alice)-4:]) + "AAAA"} {
		if q := redirectParams(t, b.Get(authPathFor(oidcScope, "id_token_hint", bad))); q.Get("error") != "invalid_request" {
			t.Fatalf("hint %q: %v; want invalid_request", bad, q)
		}
	}
	sid := e.codeClaims(redirectParams(t, b.Get(authPathFor(oidcScope))).Get("code")).Extra["sid"].(string)

	// A GET alone signs nobody out: the page asks, and only its form does.
	ask := b.Get(authPathFor(oidcScope, "id_token_hint", bob))
	if ask.Status != http.StatusOK || !strings.Contains(ask.Body, "Sign out and continue as bob@example.com") {
		t.Fatalf("other user's hint: HTTP %d; want the page asking to switch:\n%s", ask.Status, ask.Body)
	}
	if got := b.Get("/account"); got.Status != http.StatusOK {
		t.Fatalf("the hint's GET signed alice out: /account HTTP %d", got.Status)
	}
	if n := e.audit.count("logout", ""); n != 0 {
		t.Fatalf("%d logout events before the user confirmed", n)
	}
	p := b.Submit(ask, "/logout", nil)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?") {
		t.Fatalf("switch: HTTP %d to %q; want the sign-in page", p.Status, p.Location)
	}
	if login := b.Get(p.Location); !strings.Contains(login.Body, `value="bob@example.com"`) {
		t.Fatalf("sign-in page does not offer bob's email:\n%s", login.Body)
	}
	if got := b.Get("/account"); got.Status != http.StatusSeeOther {
		t.Fatalf("alice is still signed in: /account HTTP %d", got.Status)
	}
	if n := e.audit.count("logout", ""); n != 1 {
		t.Errorf("%d logout events for the switch, want 1", n)
	}
	mu.Lock()
	if !slices.Equal(ended, []string{"usr_alice:" + sid}) {
		t.Errorf("SessionsEnded calls %v, want alice's session %s", ended, sid)
	}
	mu.Unlock()
	returnTo := e.signInTo(t, b, p, "bob@example.com")
	consent := b.Get(returnTo)
	q = redirectParams(t, e.consent(b, consent, "allow", strings.Fields(oidcScope), false))
	if e.codeClaims(q.Get("code")).Subject != "usr_bob" {
		t.Fatalf("after signing in as the hinted user: %v", q)
	}
}

// oidcc-login-hint: login_hint fills in the email on the sign-in page;
// one that is not an email address is ignored.
func TestOIDCLoginHint(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.Get(authPathFor(oidcScope, "login_hint", "bob@example.com"))
	if login := b.Get(p.Location); !strings.Contains(login.Body, `value="bob@example.com"`) {
		t.Fatalf("login_hint not prefilled:\n%s", login.Body)
	}
	p = b.Get(authPathFor(oidcScope, "login_hint", `"><script>x</script>`))
	if login := b.Get(p.Location); login.Status != http.StatusOK || strings.Contains(login.Body, "<script>x") || !strings.Contains(login.Body, `name="email" type="email" autocomplete="username" required autofocus
          value=""`) {
		t.Fatalf("a login_hint that is no email: HTTP %d\n%s", login.Status, login.Body)
	}
}

// oidcc-display-page/-popup, oidcc-ui-locales, oidcc-claims-locales,
// oidcc-ensure-request-with-acr-values-succeeds, oidcc-claims-essential,
// oidcc-ensure-request-with-unknown-parameter-succeeds: hints and unknown
// parameters are ignored, the flow succeeds.
func TestOIDCIgnoredParametersSucceed(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	e.consentOIDC(b)
	for _, kv := range [][2]string{
		{"display", "page"}, {"display", "popup"}, {"ui_locales", "fr-CA fr en"}, {"claims_locales", "de"},
		{"acr_values", "1 2"}, {"claims", `{"id_token":{"email":{"essential":true}}}`}, {"nonce", "n-0S6_WzA2Mj"},
		{"unknown_param", "x"}, {"login_hint", "alice@example.com"},
	} {
		q := redirectParams(t, b.Get(authPathFor(oidcScope, kv[0], kv[1])))
		if q.Get("code") == "" || q.Get("error") != "" || q.Get("state") != testState {
			t.Fatalf("%s=%s: %v; want a code", kv[0], kv[1], q)
		}
	}
	// The reversed scope order works too (oidcc-alternate-happy-flow).
	if q := redirectParams(t, b.Get(authPathFor("read:pets email profile openid"))); q.Get("code") == "" {
		t.Fatalf("reversed scopes: %v", q)
	}
}

// oidcc-request-uri-unsigned-…, oidcc-unsigned-request-object-…: request
// objects are refused at the redirect URI with the OIDC Core §3.1.2.6
// codes, also for OpenID Connect requests (which fosite would handle
// itself).
func TestOIDCRequestObjectsRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	e.consentOIDC(b)
	for _, tc := range []struct{ param, value, wantErr string }{
		{"request", "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.", "request_not_supported"},
		{"request_uri", "https://app.example/request.jwt", "request_uri_not_supported"},
		{"registration", `{"client_name":"x"}`, "registration_not_supported"},
	} {
		q := redirectParams(t, b.Get(authPathFor(oidcScope, tc.param, tc.value)))
		if q.Get("error") != tc.wantErr || q.Get("iss") != testIssuer || q.Get("state") != testState || q.Get("code") != "" {
			t.Fatalf("%s: %v; want %s with iss and state", tc.param, q, tc.wantErr)
		}
	}
}

// The consent page groups the identity scopes first, in plain words;
// unticking email narrows the grant (and so the claims) to openid profile.
func TestConsentIdentityScopes(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	p := b.Get(authPathFor(oidcScope))
	group := strings.Index(p.Body, "Know your name and email address")
	pets := strings.Index(p.Body, "View your pets")
	if group < 0 || pets < 0 || group > pets {
		t.Fatalf("identity scopes not grouped first (group at %d, pets at %d):\n%s", group, pets, p.Body)
	}
	q := redirectParams(t, e.consent(b, p, "allow", []string{"openid", "profile", "read:pets"}, true))
	if got := e.grantedScopesOfCode(q.Get("code")); !slices.Equal(got, []string{"openid", "profile", "read:pets"}) {
		t.Fatalf("granted %v; want email left out", got)
	}
	if g := e.grants.grants[0]; slices.Contains(g.Scopes, "email") {
		t.Fatalf("the grant keeps email: %v", g.Scopes)
	}
	if got := e.grantsScopesSummary(t, b); got != "Know your name" {
		t.Fatalf("only profile: summary %q", got)
	}
}

func (e *env) grantsScopesSummary(t *testing.T, b *webtest.Browser) string {
	p := b.Get(authPathFor("openid profile", "prompt", "consent"))
	m := regexp.MustCompile(`id="identity-summary">([^<]+)<`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no summary:\n%s", p.Body)
	}
	return m[1]
}
