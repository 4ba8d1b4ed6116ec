package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
)

// chrome starts headless Chromium (Debian's package) for one test. Without
// it the test is skipped locally; CI installs it, so there it fails.
func chrome(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run installs it")
		}
		t.Skip("chromium not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Accept the confirmation prompts of destructive buttons.
	dialogs := chromedp.Events(ctx, cdpage.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, cdpage.HandleJavaScriptDialog, cdpage.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return ctx
}

// appServer plays the third-party app's callback: it records what arrives.
type appServer struct {
	*httptest.Server
	mu    sync.Mutex
	query url.Values
}

func newAppServer(t *testing.T) *appServer {
	a := &appServer{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r) // e.g. the browser's favicon request
			return
		}
		a.mu.Lock()
		a.query = r.URL.Query()
		a.mu.Unlock()
		fmt.Fprint(w, "<!doctype html><title>MyApp callback</title><h1 id=\"myapp-callback\">Back at MyApp</h1>")
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *appServer) last() url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.query
}

// TestBrowserConnectConsentRevoke: a user signs in, unticks a scope on the
// consent screen, allows, lands on the app's callback with code and state;
// then revokes the app on /account and the app's token is dead.
func TestBrowserConnectConsentRevoke(t *testing.T) {
	ctx := chrome(t)
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	app := newAppServer(t)
	c := createClient(t, "--name", "MyApp", "--redirect-uri", app.URL+"/cb", "--scope", "read:pets write:pets offline_access")
	rs := createClient(t, "--name", "API", "--introspect", "--grant-type", "client_credentials")
	if out, err := cli(t, "correct horse battery\n", "user", "create", "--email", "alice@example.com", "--password-stdin"); err != nil {
		t.Fatal(out, err)
	}
	_, ts := startServer(t)
	conf := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: app.URL + "/cb",
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/oauth2/auth", TokenURL: ts.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}
	v := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("browser-state-123", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets write:pets offline_access"))

	err := chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	consentText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(consentText, "MyApp") || !strings.Contains(consentText, "Manage your pets") {
		t.Fatalf("consent page does not name the app and the scopes: %q", consentText)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#scope-write\:pets`)), // untick write:pets
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#myapp-callback`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	q := app.last()
	if q.Get("code") == "" || q.Get("state") != "browser-state-123" {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		txt, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
		t.Fatalf("the app's callback got %v; the browser is at %s: %.300s", q, loc, txt)
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := tok.Extra("scope").(string); strings.Contains(s, "write:pets") {
		t.Fatalf("unticked scope was granted: %q", s)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/account"),
		chromedp.WaitVisible(chromedp.CSS(`form[action^="/account/grants/"] button`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	accountText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(accountText, "MyApp") {
		t.Fatalf("connected apps do not list MyApp: %q", accountText)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action^="/account/grants/"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action^="/account/grants/"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	_, body := postForm(t, ts.URL+"/oauth2/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {tok.AccessToken}})
	if body["active"] != false {
		t.Fatalf("the app's token is alive after revoking on /account: %v", body)
	}
}

// TestBrowserAdminRevokesGrant: an admin finds a user's grant and revokes
// it; the client's refresh token then fails with invalid_grant and its
// access token introspects inactive. A non-admin gets 403 on /admin.
func TestBrowserAdminRevokesGrant(t *testing.T) {
	ctx := chrome(t)
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	app := newAppServer(t)
	c := createClient(t, "--name", "MyApp", "--redirect-uri", app.URL+"/cb", "--scope", "read:pets offline_access")
	rs := createClient(t, "--name", "API", "--introspect", "--grant-type", "client_credentials")
	for _, u := range []struct{ email, admin string }{{"alice@example.com", ""}, {"root@example.com", "--admin"}} {
		args := []string{"user", "create", "--email", u.email, "--password-stdin"}
		if u.admin != "" {
			args = append(args, u.admin)
		}
		if out, err := cli(t, "correct horse battery\n", args...); err != nil {
			t.Fatal(out, err)
		}
	}
	_, ts := startServer(t)
	conf := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: app.URL + "/cb",
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/oauth2/auth", TokenURL: ts.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader}}

	// Alice connects MyApp (plain HTTP is enough for her part).
	e := &flowEnv{ts: ts, conf: conf, rs: rs, client: c}
	b := newBrowser(t, ts.URL)
	v := oauth2.GenerateVerifier()
	p := e.signIn(t, b, b.Get(conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets offline_access"))))
	p = e.consent(t, b, p, "allow", false, "read:pets", "offline_access")
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, app.URL) {
		t.Fatalf("consent: %d %s", p.Status, p.Location)
	}
	loc, _ := url.Parse(p.Location)
	tok, err := conf.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	// Alice is no admin.
	if p := b.Get(ts.URL + "/admin"); p.Status != http.StatusForbidden {
		t.Fatalf("non-admin on /admin: %d", p.Status)
	}

	signIn := func(email string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(ts.URL+"/login"),
			chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
			chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)), // signed in
			chromedp.Navigate(ts.URL+"/admin"),
			chromedp.WaitVisible(chromedp.CSS(`main`)),
		)
		if err != nil {
			t.Fatal(err)
		}
	}
	signIn("root@example.com")
	err = chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/admin/grants?user=alice%40example.com"),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/admin/grants/"][href*="/revoke"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href^="/admin/grants/"][href*="/revoke"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form.confirm-actions button[type="submit"]`)),
		chromedp.Click(chromedp.CSS(`form.confirm-actions button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.pill-bad`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("refresh after the admin revoked the grant: %v", err)
	}
	_, body := postForm(t, ts.URL+"/oauth2/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {tok.AccessToken}})
	if body["active"] != false {
		t.Fatalf("access token alive after the admin revoked the grant: %v", body)
	}
}
