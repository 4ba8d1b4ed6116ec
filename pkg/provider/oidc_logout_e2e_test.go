package provider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const rpSignedOut = "https://rp.example/signed-out"

// bcReceiver is a relying party's backchannel_logout_uri.
type bcReceiver struct {
	mu     sync.Mutex
	tokens []string
	srv    *httptest.Server
}

func newBCReceiver(t *testing.T) *bcReceiver {
	r := &bcReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_ = req.ParseForm()
		r.mu.Lock()
		r.tokens = append(r.tokens, req.PostForm.Get("logout_token"))
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait polls until n tokens arrived (the server's worker delivers in the
// background); a deadline, not a timing assertion.
func (r *bcReceiver) wait(t *testing.T, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r.mu.Lock()
		got := append([]string(nil), r.tokens...)
		r.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("the receiver got %d logout tokens, want %d", len(got), n)
			}
			return got
		}
	}
}

// logoutRP is a relying party registered for both logouts.
func logoutRP(t *testing.T, srv *servertest.Server, name, backchannel string) *rp {
	c := srv.MustClient(t, identity.Client{Name: name, RedirectURIs: []string{rpCallback},
		GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{"openid", "profile", "email"},
		PostLogoutRedirectURIs: []string{rpSignedOut, "https://rp.example/" + name}, BackchannelLogoutURI: backchannel})
	return newRP(t, srv, c, "openid", "profile")
}

func (r *rp) endSession() string {
	r.t.Helper()
	var m struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := r.provider.Claims(&m); err != nil || m.EndSession != r.srv.URL+"/oauth2/logout" {
		r.t.Fatalf("discovery end_session_endpoint = %q, %v", m.EndSession, err)
	}
	return m.EndSession
}

func signedIn(b *webtest.Browser) bool {
	p := b.Get("/account")
	return p.Status == http.StatusOK && strings.HasSuffix(p.Path(), "/account")
}

// verifyLogoutToken checks a logout token as an RP must (Back-Channel
// Logout 1.0 §2.6) with go-oidc's key set on our discovery document's
// jwks_uri, and returns its claims.
func verifyLogoutToken(t *testing.T, srv *servertest.Server, token, aud string) map[string]any {
	t.Helper()
	payload, err := oidc.NewRemoteKeySet(context.Background(), srv.URL+"/.well-known/jwks.json").VerifySignature(context.Background(), token)
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	var h struct{ Typ, Alg string }
	_ = json.Unmarshal(hdr, &h)
	if h.Typ != "logout+jwt" || h.Alg != "RS256" {
		t.Errorf("logout token header %s: want typ logout+jwt, RS256 like the client's ID tokens", hdr)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	events, _ := c["events"].(map[string]any)
	aud0, _ := c["aud"].([]any)
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	if c["iss"] != srv.URL || len(aud0) != 1 || aud0[0] != aud || iat == 0 || exp <= iat || exp-iat > 300 || c["jti"] == "" ||
		events["http://schemas.openid.net/event/backchannel-logout"] == nil || c["nonce"] != nil {
		t.Errorf("logout token claims: %v", c)
	}
	return c
}

// TestRPInitiatedLogoutWithIDTokenHint: go-oidc signs alice in; the RP
// sends her to end_session_endpoint with the ID token as hint: she is
// signed out at once and sent to the registered URI with state; the
// clients that got an ID token in that session receive a verifiable
// logout token with its sid and sub; the outcome is audited.
func TestRPInitiatedLogoutWithIDTokenHint(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		rcv, other := newBCReceiver(t), newBCReceiver(t)
		r := logoutRP(t, srv, "rp-one", rcv.srv.URL+"/bc")
		r2 := logoutRP(t, srv, "rp-two", other.srv.URL+"/bc")
		b := srv.Browser(t)
		tok := r.login(b, alice, oidc.Nonce("nonce-1"))
		idt, claims, _ := r.idToken(tok)
		sid, _ := claims["sid"].(string)
		// The other RP signs in in another browser (another session).
		r2.login(srv.Browser(t), alice)

		raw, _ := tok.Extra("id_token").(string)
		p := b.Get(r.endSession() + "?" + url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {rpSignedOut},
			"state": {"rp-state-1"}, "ui_locales": {"fr-CA"}}.Encode())
		if p.Location != rpSignedOut+"?state=rp-state-1" {
			t.Fatalf("end_session with hint: HTTP %d to %q\n%.800s", p.Status, p.Location, p.Body)
		}
		if signedIn(b) {
			t.Fatal("still signed in after end_session")
		}
		c := verifyLogoutToken(t, srv, rcv.wait(t, 1)[0], r.conf.ClientID)
		if c["sid"] != sid || sid == "" || c["sub"] != idt.Subject {
			t.Errorf("logout token sid %v sub %v; want the ID token's %q %q", c["sid"], c["sub"], sid, idt.Subject)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			_, n, _ := srv.Store.ListAudit(context.Background(), identity.AuditFilter{Type: identity.EventBackchannelLogoutDelivered})
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d delivered events in the audit log, want 1", n)
			}
		}
		other.mu.Lock()
		got := len(other.tokens)
		other.mu.Unlock()
		if got != 0 {
			t.Errorf("the RP of another session got %d logout tokens", got)
		}
	})
}

// TestRPInitiatedLogoutRefusals: with real ID tokens, a hint for another
// client than client_id, a URI registered for another client, or a URI
// that differs from the registered one is refused without a redirect; a
// hint of another user asks first; without a hint the user confirms.
func TestRPInitiatedLogoutRefusals(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		bob := srv.MustUser(t, "bob@example.com", "another fine password 42")
		r := logoutRP(t, srv, "rp-one", "")
		r2 := logoutRP(t, srv, "rp-two", "")
		b := srv.Browser(t)
		hint, _ := r.login(b, alice).Extra("id_token").(string)
		bobHint, _ := r.login(srv.Browser(t), bob).Extra("id_token").(string)
		end := r.endSession()
		for name, q := range map[string]url.Values{
			"client_id of another client":     {"id_token_hint": {hint}, "client_id": {r2.conf.ClientID}},
			"URI of another client":           {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://rp.example/rp-two"}},
			"trailing slash":                  {"id_token_hint": {hint}, "post_logout_redirect_uri": {rpSignedOut + "/"}},
			"query added":                     {"id_token_hint": {hint}, "post_logout_redirect_uri": {rpSignedOut + "?next=/"}},
			"unregistered":                    {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}},
			"tampered hint":                   {"id_token_hint": {hint[:len(hint)-4] + "AAAA"}, "post_logout_redirect_uri": {rpSignedOut}},
			"access token is not an ID token": {"id_token_hint": {"eyJhbGciOiJub25lIn0.e30."}, "client_id": {r.conf.ClientID}},
		} {
			p := b.Get(end + "?" + q.Encode())
			if p.Status != http.StatusBadRequest || p.Location != "" {
				t.Errorf("%s: HTTP %d to %q, want the error page", name, p.Status, p.Location)
			}
		}
		if !signedIn(b) {
			t.Fatal("a refused end_session signed alice out")
		}
		p := b.Get(end + "?" + url.Values{"id_token_hint": {bobHint}, "post_logout_redirect_uri": {rpSignedOut}}.Encode())
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "Sign out of PetStore?") || !signedIn(b) {
			t.Fatalf("bob's hint while alice is signed in: HTTP %d to %q; want the confirmation page", p.Status, p.Location)
		}
		p = b.Get(end + "?" + url.Values{"client_id": {r.conf.ClientID}, "post_logout_redirect_uri": {rpSignedOut}, "state": {"s2"}}.Encode())
		if !strings.Contains(p.Body, "Sign out of PetStore?") || !strings.Contains(p.Body, "rp-one") {
			t.Fatalf("without a hint: want the confirmation page naming the app, got HTTP %d", p.Status)
		}
		done := b.Submit(p, "/oauth2/logout/confirm", nil)
		if done.Location != rpSignedOut+"?state=s2" || signedIn(b) {
			t.Fatalf("after confirming: HTTP %d to %q, signed in %v", done.Status, done.Location, signedIn(b))
		}
	})
}

// TestMyAppSignsInWithOpenIDConnect: MyApp (pkg/demo, on go-oidc) asks
// for openid profile email with a nonce, verifies the ID token and greets
// alice by name; its Sign out ends the PetStore session through
// end_session with id_token_hint and comes back with its state.
func TestMyAppSignsInWithOpenIDConnect(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		rs := srv.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{identity.GrantClientCredentials}, CanIntrospect: true})
		app := srv.StartDemo(t, srv.StartAPI(t, rs))
		b := srv.Browser(t)
		b.Submit(b.Get("/login"), "/login", url.Values{"email": {alice.Email}, "password": {alice.Password}})
		ua := webtest.NewBrowser(t, app.URL, webtest.BrowserOptions{Jar: b.Jar(), SameOrigin: true,
			Follow: func(u *url.URL) bool { return u.Hostname() == "127.0.0.1" }})
		p := ua.Get("/connect")
		if !strings.Contains(p.Body, `name="decision"`) || !strings.Contains(p.URL, "nonce=") {
			t.Fatalf("connect: want the consent page for a request with a nonce, got %d at %s", p.Status, p.URL)
		}
		consent := p.Hidden()
		consent.Set("decision", "allow")
		for _, sc := range []string{"openid", "profile", "email", "read:pets", "write:pets", "offline_access"} {
			consent.Add("scope", sc)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/consent", strings.NewReader(consent.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.URL)
		home := ua.Do(req)
		if home.Status != http.StatusOK || !strings.HasPrefix(home.URL, app.URL) || !strings.Contains(home.Body, "Hello, Alice Liddell") {
			t.Fatalf("back at MyApp: %d at %s, want the greeting:\n%s", home.Status, home.URL, home.Body[strings.Index(home.Body, "<main"):])
		}
		out := ua.Submit(home, "/signout", nil)
		if out.Status != http.StatusOK || !strings.HasPrefix(out.URL, app.URL+"/signed-out?state=") || !strings.Contains(out.Body, "You are signed out") {
			t.Fatalf("sign out: %d at %s:\n%.800s", out.Status, out.URL, out.Body)
		}
		if signedIn(b) {
			t.Error("still signed in at PetStore after MyApp's sign-out")
		}
		if again := ua.Get("/"); strings.Contains(again.Body, "Hello, Alice") {
			t.Error("MyApp still greets alice after sign-out")
		}
		if replay := ua.Get(strings.TrimPrefix(out.URL, app.URL)); replay.Status != http.StatusBadRequest {
			t.Errorf("the sign-out return with a used state: %d, want 400", replay.Status)
		}
	})
}

// TestBackchannelLogoutWhenUserRevokesApp: alice removes the app on her
// account page; the app gets a logout token for the session it signed her
// in with.
func TestBackchannelLogoutWhenUserRevokesApp(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		rcv := newBCReceiver(t)
		r := logoutRP(t, srv, "rp-one", rcv.srv.URL+"/bc")
		b := srv.Browser(t)
		_, claims, _ := r.idToken(r.login(b, alice))
		acct := b.Get("/account")
		m := regexp.MustCompile(`action="(/account/grants/[^"]+/revoke)"`).FindStringSubmatch(acct.Body)
		if m == nil {
			t.Fatalf("no revoke form on the account page: %.500s", acct.Body)
		}
		b.Submit(acct, m[1], nil)
		c := verifyLogoutToken(t, srv, rcv.wait(t, 1)[0], r.conf.ClientID)
		if c["sid"] != claims["sid"] || c["sub"] != claims["sub"] {
			t.Errorf("logout token %v; want the ID token's sid and sub", c)
		}
	})
}
