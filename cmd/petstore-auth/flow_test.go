package main

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const appCallback = "https://app.example/cb"

// newBrowser is one user agent with its own cookie jar; it follows
// redirects within the authorization server and stops at the app's
// callback.
func newBrowser(t *testing.T, base string) *webtest.Browser {
	return webtest.NewBrowser(t, base, webtest.BrowserOptions{Follow: webtest.FollowWithin(base), SameOrigin: true})
}

type page = webtest.Page

// flowEnv is a running server with a confidential web client and a user.
type flowEnv struct {
	server *servertest.Server
	ts     *httptest.Server
	conf   *oauth2.Config
	rs     created
	client created
}

func newFlowEnv(t *testing.T, db string, clientArgs ...string) *flowEnv {
	t.Helper()
	setEnv(t, db)
	c := createClient(t, append([]string{"--name", "MyApp <b>", "--redirect-uri", appCallback, "--scope", "read:pets write:pets offline_access"}, clientArgs...)...)
	rs := createClient(t, "--name", "API", "--introspect", "--grant-type", "client_credentials")
	if out, err := cli(t, "correct horse battery\n", "user", "create", "--email", "alice@example.com", "--password-stdin"); err != nil {
		t.Fatal(out, err)
	}
	srv, ts := startServer(t)
	return &flowEnv{server: srv, ts: ts, rs: rs, client: c, conf: &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: appCallback,
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/oauth2/auth", TokenURL: ts.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}}
}

// signIn posts the login form reached from p.
func (e *flowEnv) signIn(t *testing.T, b *webtest.Browser, p page) page {
	t.Helper()
	if !strings.Contains(p.URL, "/login") {
		t.Fatalf("expected the login page, got %s (%d)", p.URL, p.Status)
	}
	form := webtest.Hidden(p.Body)
	form.Set("email", "alice@example.com")
	form.Set("password", "correct horse battery")
	return b.Post(e.ts.URL+"/login", form)
}

// consent answers the consent page with the given scopes ticked.
func (e *flowEnv) consent(t *testing.T, b *webtest.Browser, p page, decision string, remember bool, scopes ...string) page {
	t.Helper()
	if !strings.Contains(p.Body, `name="decision"`) {
		t.Fatalf("expected the consent page, got %d %s", p.Status, p.URL)
	}
	form := webtest.Hidden(p.Body)
	form.Set("decision", decision)
	for _, s := range scopes {
		form.Add("scope", s)
	}
	if remember {
		form.Set("remember", "on")
	}
	return b.Post(e.ts.URL+"/oauth2/consent", form)
}

// callback checks the redirect to the app and returns its query.
func callback(t *testing.T, p page) url.Values {
	t.Helper()
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		t.Fatalf("expected a redirect to the app, got %d at %s: %.300s", p.Status, p.URL, p.Body)
	}
	u, err := url.Parse(p.Location)
	if err != nil || !strings.HasPrefix(p.Location, appCallback+"?") {
		t.Fatalf("redirected to %q, want %s", p.Location, appCallback)
	}
	return u.Query()
}

func (e *flowEnv) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	_, body := postForm(t, e.ts.URL+"/oauth2/introspect", e.rs.ClientID, e.rs.ClientSecret, url.Values{"token": {token}})
	return body
}

// TestConnectWithPetStore is the whole user story over real HTTP with
// x/oauth2 as the client, on SQLite and PostgreSQL.
func TestConnectWithPetStore(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			e := newFlowEnv(t, db)
			ctx := context.Background()
			b := newBrowser(t, e.ts.URL)
			v := oauth2.GenerateVerifier()
			state := "st-" + oauth2.GenerateVerifier()[:20]
			p := b.Get(e.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets write:pets offline_access")))
			p = e.signIn(t, b, p) // back to the same authorization request
			if !strings.Contains(p.Body, "MyApp &lt;b&gt;") || strings.Contains(p.Body, "MyApp <b>") {
				t.Fatal("the consent page must show the app's name, escaped")
			}
			q := callback(t, e.consent(t, b, p, "allow", true, "read:pets", "offline_access")) // write:pets unticked
			if q.Get("state") != state || q.Get("iss") != "http://127.0.0.1:8080" || q.Get("code") == "" {
				t.Fatalf("callback query %v", q)
			}
			tok, err := e.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if s, _ := tok.Extra("scope").(string); s != "read:pets offline_access" {
				t.Fatalf("narrowed consent: token scope %q", s)
			}
			if ins := e.introspect(t, tok.AccessToken); ins["active"] != true || ins["sub"] == "" {
				t.Fatalf("introspection: %v", ins)
			}

			// Remembered consent: the next authorization skips the page.
			v2 := oauth2.GenerateVerifier()
			p = b.Get(e.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(v2), oauth2.SetAuthURLParam("scope", "read:pets")))
			if q := callback(t, p); q.Get("code") == "" {
				t.Fatalf("remembered consent did not skip the page: %v", q)
			}
			// More scopes than remembered ask again.
			p = b.Get(e.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(v2), oauth2.SetAuthURLParam("scope", "read:pets write:pets")))
			if !strings.Contains(p.Body, `name="decision"`) {
				t.Fatalf("asking for more scopes must show the consent page again: %d %s", p.Status, p.Location)
			}
			// Deny → access_denied with state and iss.
			q = callback(t, e.consent(t, b, p, "deny", false))
			if q.Get("error") != "access_denied" || q.Get("state") != state || q.Get("iss") == "" || q.Get("code") != "" {
				t.Fatalf("deny: %v", q)
			}

			// Refresh keeps working; the account page revokes the grant.
			ts := e.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)})
			fresh, err := ts.Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			acct := b.Get(e.ts.URL + "/account")
			if acct.Status != 200 || !strings.Contains(acct.Body, "MyApp") {
				t.Fatalf("account page: %d", acct.Status)
			}
			m := regexp.MustCompile(`action="(/account/grants/[^"]+/revoke)"`).FindStringSubmatch(acct.Body)
			if m == nil {
				t.Fatal("no revoke button on the account page")
			}
			form := webtest.Hidden(acct.Body)
			if p := b.Post(e.ts.URL+html.UnescapeString(m[1]), form); p.Status >= 400 {
				t.Fatalf("revoke: %d %.200s", p.Status, p.Body)
			}
			if ins := e.introspect(t, fresh.AccessToken); ins["active"] != false {
				t.Fatalf("access token still active after revoking the grant: %v", ins)
			}
			if _, err := e.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil ||
				!strings.Contains(err.Error(), "invalid_grant") {
				t.Fatalf("refresh after revocation: %v", err)
			}
		})
	}
}

// TestAuthorizeRejectsRedirectVariants (RD-01, RD-06): any byte difference
// from the registered URI is an error page, never a redirect.
func TestAuthorizeRejectsRedirectVariants(t *testing.T) {
	e := newFlowEnv(t, "sqlite://"+t.TempDir()+"/a.db")
	b := newBrowser(t, e.ts.URL)
	v := oauth2.GenerateVerifier()
	for _, uri := range []string{"https://APP.example/cb", "https://app.example/CB", "https://app.example/cb/", "https://app.example/cb?x=1",
		"https://app.example/%63b", "https://app.example@evil.com/cb", "https://app.example.evil.com/cb", "https://app.example:443/cb",
		"https://app.example/cb/../cb", "https://evil.com\\@app.example/cb"} {
		t.Run(uri, func(t *testing.T) {
			u := e.conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("redirect_uri", uri), oauth2.SetAuthURLParam("scope", "read:pets"))
			p := b.Get(u)
			if p.Status != http.StatusBadRequest || p.Location != "" || strings.Contains(p.Body, "code=") {
				t.Fatalf("got %d Location=%q", p.Status, p.Location)
			}
		})
	}
	p := b.Get(strings.Replace(e.conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)), "client_id="+e.client.ClientID, "client_id=unknown", 1))
	if p.Status < 400 || p.Location != "" {
		t.Fatalf("unknown client: %d %q", p.Status, p.Location)
	}
	// Missing PKCE after a valid redirect_uri: an error redirect with iss.
	p = b.Get(e.conf.AuthCodeURL("state-12345678", oauth2.SetAuthURLParam("scope", "read:pets")))
	if q := callback(t, p); q.Get("error") == "" || q.Get("iss") == "" || q.Get("state") != "state-12345678" {
		t.Fatalf("missing PKCE: %v", q)
	}
}

// TestLoginInOneBrowserCannotCompleteInAnother (WB-02/WB-05).
func TestLoginInOneBrowserCannotCompleteInAnother(t *testing.T) {
	e := newFlowEnv(t, "sqlite://"+t.TempDir()+"/a.db")
	victim, attacker := newBrowser(t, e.ts.URL), newBrowser(t, e.ts.URL)
	v := oauth2.GenerateVerifier()
	p := attacker.Get(e.conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets")))
	form := webtest.Hidden(p.Body) // the attacker's login form, CSRF token and all
	form.Set("email", "alice@example.com")
	form.Set("password", "correct horse battery")
	if p := victim.Post(e.ts.URL+"/login", form); p.Status != http.StatusForbidden {
		t.Fatalf("a login form from another browser was accepted: %d", p.Status)
	}
	// A cross-origin POST is refused even with a token.
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := attacker.Do(req); p.Status != http.StatusForbidden {
		t.Fatalf("cross-origin login POST: %d", p.Status)
	}
	// Pages are not frameable.
	res, _ := http.Get(e.ts.URL + "/login")
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", res.Header.Get("Content-Security-Policy"))
	}
	res.Body.Close()
	_ = json.Valid
}

// TestCLIGrantRevoke: `grant list` shows the user's grant and `grant revoke`
// (by id, and by --user) has the same effect as the account page: every
// token under the grant is dead.
func TestCLIGrantRevoke(t *testing.T) {
	e := newFlowEnv(t, "sqlite://"+t.TempDir()+"/a.db")
	connect := func() *oauth2.Token {
		t.Helper()
		b := newBrowser(t, e.ts.URL)
		v := oauth2.GenerateVerifier()
		p := e.signIn(t, b, b.Get(e.conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets offline_access"))))
		q := callback(t, e.consent(t, b, p, "allow", false, "read:pets", "offline_access"))
		tok, err := e.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	dead := func(tok *oauth2.Token) {
		t.Helper()
		if ins := e.introspect(t, tok.AccessToken); ins["active"] != false {
			t.Fatalf("access token alive after CLI revoke: %v", ins)
		}
		if _, err := e.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil ||
			!strings.Contains(err.Error(), "invalid_grant") {
			t.Fatalf("refresh after CLI revoke: %v", err)
		}
	}

	tok := connect()
	out, err := cli(t, "", "grant", "list", "--user", "alice@example.com", "--output", "json")
	if err != nil {
		t.Fatal(out, err)
	}
	var grants []struct {
		ID       string   `json:"id"`
		User     string   `json:"user"`
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scopes"`
	}
	if err := json.Unmarshal([]byte(out), &grants); err != nil || len(grants) != 1 || grants[0].User != "alice@example.com" || grants[0].ClientID != e.client.ClientID {
		t.Fatalf("grant list: %s", out)
	}
	if out, err := cli(t, "", "grant", "revoke", grants[0].ID); err != nil {
		t.Fatal(out, err)
	}
	dead(tok)

	tok = connect()
	if out, err := cli(t, "", "grant", "revoke", "--user", "alice@example.com"); err != nil || !strings.Contains(out, "revoked 1 grant") {
		t.Fatal(out, err)
	}
	dead(tok)
}

// TestLogoutKillsCopiedCookie (WB-11): after logout, a copy of the session
// cookie taken before it no longer signs anyone in.
func TestLogoutKillsCopiedCookie(t *testing.T) {
	e := newFlowEnv(t, "sqlite://"+t.TempDir()+"/a.db")
	b := newBrowser(t, e.ts.URL)
	p := b.Get(e.ts.URL + "/login")
	e.signIn(t, b, p)
	if p := b.Get(e.ts.URL + "/account"); p.Status != 200 || !strings.Contains(p.Body, "alice@example.com") {
		t.Fatalf("not signed in: %d", p.Status)
	}
	u, _ := url.Parse(e.ts.URL)
	thief := newBrowser(t, e.ts.URL)
	thief.Jar().SetCookies(u, b.Jar().Cookies(u)) // the stolen copy
	if p := thief.Get(e.ts.URL + "/account"); p.Status != 200 || !strings.Contains(p.Body, "alice@example.com") {
		t.Fatal("the copied cookie should work before logout (else this test proves nothing)")
	}
	acct := b.Get(e.ts.URL + "/account")
	b.Post(e.ts.URL+"/logout", webtest.Hidden(acct.Body))
	if p := thief.Get(e.ts.URL + "/account"); strings.Contains(p.Body, "alice@example.com") || !strings.Contains(p.URL, "/login") {
		t.Fatalf("the copied cookie still works after logout: %d at %s", p.Status, p.URL)
	}
}
