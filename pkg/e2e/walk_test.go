package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/petstore-auth/petstore-auth/pkg/binarytest"
	"github.com/petstore-auth/petstore-auth/pkg/logtest"
)

var screenshots = flag.Bool("screenshots", false, "write the README screenshots to docs/screenshots")

const (
	adminEmail = "admin@example.com"
	userEmail  = "alice@example.com"
	password   = "correct horse battery staple"
)

// TestWalkBuiltBinaries runs what users run: the three programs built with
// `go build`, seeded with the README's CLI commands, started as processes
// from the shipped config/ files (only the ports moved, through the
// documented environment variables, and the data in a temporary
// directory). In Chromium it walks MyApp's connect → sign-in → consent →
// pets story, the account page, the error pages and every page of the
// admin console, failing on any 5xx response and on any error page where
// none is expected.
func TestWalkBuiltBinaries(t *testing.T) {
	browser := binarytest.Tool(t, "chromium")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	bin := binarytest.Build(t, "./cmd/petstore-auth", "./cmd/petstore-api", "./cmd/petstore-demo")
	t.Logf("go build of the three programs: %s", time.Since(began).Round(time.Millisecond))

	// The shipped configuration files, run from a fresh directory: the
	// relative data paths (data/…) land in it.
	work := t.TempDir()
	if err := os.CopyFS(filepath.Join(work, "config"), os.DirFS(filepath.Join(root, "config"))); err != nil {
		t.Fatal(err)
	}
	authAddr, apiAddr, demoAddr := binarytest.FreeAddr(t), binarytest.FreeAddr(t), binarytest.FreeAddr(t)
	authURL, apiURL, demoURL := "http://"+authAddr, "http://"+apiAddr, "http://"+demoAddr
	env := []string{
		"PETSTORE_LISTEN=" + authAddr, "PETSTORE_ISSUER=" + authURL,
		"PETSTORE_API_LISTEN=" + apiAddr, "PETSTORE_AUTH_ISSUER=" + authURL, "PETSTORE_RESOURCES=" + apiURL,
		"PETSTORE_DEMO_LISTEN=" + demoAddr, "PETSTORE_DEMO_PUBLIC_URL=" + demoURL,
		"PETSTORE_DEMO_ISSUER=" + authURL, "PETSTORE_DEMO_API_URL=" + apiURL,
	}
	p := &procs{t: t, dir: work, env: env, bin: bin}

	// Seed exactly as the README's CLI reference and Docker section do.
	p.cli(password+"\n", "user", "create", "--email", adminEmail, "--admin", "--password-stdin")
	p.cli(password+"\n", "user", "create", "--email", userEmail, "--name", "Alice Example", "--password-stdin")
	api := p.client("client", "create", "--name", "PetStore API", "--introspect", "-o", "json")
	myapp := p.client("client", "create", "--id", "myapp", "--name", "MyApp", "--redirect-uri", demoURL+"/callback",
		"--post-logout-redirect-uri", demoURL+"/signed-out", "--scope", "openid profile email read:pets write:pets offline_access", "-o", "json")
	p.cli("", "apikey", "create", "--owner", userEmail, "--scope", "read:pets", "--env", "test", "--name", "Nightly sync")
	p.cli("", "client", "create", "--id", "pet-tv", "--name", "Pet TV", "--public", "--grant-type", "device_code", "--scope", "read:pets")

	p.start("petstore-auth", nil, "serve")
	waitOK(t, authURL+"/readyz")
	p.start("petstore-api", []string{"PETSTORE_API_CLIENT_ID=" + api.ClientID, "PETSTORE_API_CLIENT_SECRET=" + api.ClientSecret})
	waitOK(t, apiURL+"/healthz")
	p.start("petstore-demo", []string{"PETSTORE_DEMO_CLIENT_SECRET=" + myapp.ClientSecret})
	waitOK(t, demoURL+"/")

	w := newWalker(t, browser)
	defer w.report()

	// MyApp: connect → sign in → consent → back at MyApp listing pets.
	w.step("MyApp home", demoURL+"/", 200, `a.ps-button`, chromedp.Navigate(demoURL+"/"))
	w.phoneFits("MyApp home")
	w.step("sign-in page (from MyApp)", "", 200, `input[name="email"]`, chromedp.Click(chromedp.CSS(`a.ps-button`)))
	w.shoot("login")
	w.phoneFits("login")
	w.step("consent page", "", 200, `button[value="allow"]`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), userEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	if text := w.text(`main`); !strings.Contains(text, "MyApp") || !strings.Contains(text, "Know your name") || !strings.Contains(text, "Know your email address") {
		t.Fatalf("the consent page does not name MyApp and the identity scopes: %.500q", text)
	}
	w.shoot("consent")
	w.phoneFits("consent")
	w.step("MyApp connected", demoURL+"/", 200, `form[action="/pets"]`, chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	if hello := w.text(`h1#pets-h`); hello != "Hello, Alice Example" {
		t.Fatalf("MyApp does not greet the user by name: %q", hello)
	}
	w.shoot("myapp-signed-in")
	w.step("MyApp lists the added pet", demoURL+"/", 200, `li.pet`,
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Pixel"),
		chromedp.SendKeys(chromedp.CSS(`input[name="species"]`), "cat"),
		chromedp.Click(chromedp.CSS(`form[action="/pets"] button[type="submit"]`)))
	if pets := w.text(`ul.pet-grid`); !strings.Contains(pets, "Pixel") {
		t.Fatalf("MyApp does not list the pet it added: %q", pets)
	}
	w.phoneFits("MyApp pets")
	w.step("MyApp unknown page", demoURL+"/no-such-page", 404, `.message-problem`, chromedp.Navigate(demoURL+"/no-such-page"))

	// The user's own pages on the authorization server.
	w.step("home (signed in: to the account)", authURL+"/account", 200, `main`, chromedp.Navigate(authURL+"/"))
	w.step("account", authURL+"/account", 200, `form[action^="/account/grants/"]`, chromedp.Navigate(authURL+"/account"))
	if text := w.text(`main`); !strings.Contains(text, "MyApp") || !strings.Contains(text, "Nightly sync") {
		t.Fatalf("the account page lacks the connected app or the API key: %.500q", text)
	}
	w.shoot("account")
	w.phoneFits("account")
	if text := w.text(`#sessions`); !strings.Contains(text, "Where you’re signed in") || !strings.Contains(strings.ToLower(text), "this device") {
		t.Fatalf("the account page lacks the session list: %.500q", text)
	}
	// prompt=select_account: the signed-in account, "Continue as …".
	selectAccount := authURL + "/oauth2/auth?" + url.Values{"response_type": {"code"}, "client_id": {"myapp"},
		"redirect_uri": {demoURL + "/callback"}, "scope": {"read:pets"}, "state": {"walk-state"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
		"prompt": {"select_account"}}.Encode()
	w.step("select_account page", "", 200, `a.account-choice`, chromedp.Navigate(selectAccount))
	w.shoot("select-account")
	w.phoneFits("select_account")
	walkDeveloperPage(w, authURL)
	// The device grant (RFC 8628): a TV asks, the signed-in user enters
	// the code on /device and allows.
	userCode := deviceUserCode(t, authURL, "pet-tv")
	w.step("device: enter the code", authURL+"/device", 200, `#user_code`, chromedp.Navigate(authURL+"/device"))
	w.phoneFits("device: enter the code")
	w.step("device: wrong code", "", 400, `#device-error`, chromedp.Navigate(authURL+"/device?user_code=BBBB-BBBB"))
	w.step("device: confirm", "", 200, `#device-allow`, chromedp.Navigate(authURL+"/device?user_code="+userCode))
	w.shoot("device-confirm")
	w.phoneFits("device: confirm")
	w.step("device: allowed", authURL+"/device", 200, `#device-done`, chromedp.Click(chromedp.CSS(`#device-allow`)))
	w.step("error page: unknown client", "", 400, `.card-error`,
		chromedp.Navigate(authURL+"/oauth2/auth?response_type=code&client_id=nobody&state=abcdefgh"))
	w.step("error page: unregistered redirect_uri", "", 400, `.card-error`,
		chromedp.Navigate(authURL+"/oauth2/auth?response_type=code&client_id=myapp&state=abcdefgh&redirect_uri="+
			url.QueryEscape("https://evil.example/cb")))
	w.step("non-admin on /admin", authURL+"/admin", 403, `.card-error`, chromedp.Navigate(authURL+"/admin"))

	// OpenID Connect RP-Initiated Logout: the confirmation page (no
	// id_token_hint), then MyApp's Sign out (with the hint: no question),
	// which ends the session at PetStore and comes back to MyApp.
	w.step("end_session: confirmation", "", 200, `form[action="/oauth2/logout/confirm"] button`,
		chromedp.Navigate(authURL+"/oauth2/logout?client_id=myapp&post_logout_redirect_uri="+url.QueryEscape(demoURL+"/signed-out")))
	if text := w.text(`main`); !strings.Contains(text, "Sign out of PetStore?") || !strings.Contains(text, "MyApp") {
		t.Fatalf("the confirmation page: %.300q", text)
	}
	w.shoot("logout-confirm")
	w.phoneFits("end_session confirmation")
	w.step("end_session: unregistered post_logout_redirect_uri", "", 400, `.card-error`,
		chromedp.Navigate(authURL+"/oauth2/logout?client_id=myapp&post_logout_redirect_uri="+url.QueryEscape("https://evil.example/")))
	w.step("MyApp, signed in", demoURL+"/", 200, `form[action="/signout"] button`, chromedp.Navigate(demoURL+"/"))
	w.step("MyApp: signed out at PetStore", "", 200, `.message-notice`, chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)))
	if text := w.text(`main`); !strings.Contains(text, "You are signed out") {
		t.Fatalf("MyApp after sign-out: %.300q", text)
	}
	w.shoot("myapp-signed-out")
	w.phoneFits("MyApp signed out")
	w.step("PetStore session ended", "", 200, `input[name="email"]`, chromedp.Navigate(authURL+"/account"))
	w.step("end_session: signed out already", authURL+"/oauth2/logout?client_id=myapp", 200, `.card`,
		chromedp.Navigate(authURL+"/oauth2/logout?client_id=myapp"))
	w.shoot("logged-out")
	w.phoneFits("signed-out page")

	// The admin console: signing in from a console page lands back on it.
	target := "/admin/grants?user=" + url.QueryEscape(userEmail)
	w.step("sign-in page (from the console)", "", 200, `input[name="email"]`, chromedp.Navigate(authURL+target))
	w.step("back on the console page after sign-in", authURL+target, 200, `.admin-main`,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), adminEmail),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))

	w.step("users", authURL+"/admin/users", 200, `.admin-main`, chromedp.Navigate(authURL+"/admin/users"))
	userPath := w.href(`a[href^="/admin/users/"]`, userEmail)
	w.step("grants", authURL+"/admin/grants", 200, `.admin-main`, chromedp.Navigate(authURL+"/admin/grants"))
	grantRevoke := w.href(`a[href^="/admin/grants/"][href*="/revoke"]`, "")
	w.step("API keys", authURL+"/admin/api-keys", 200, `.admin-main`, chromedp.Navigate(authURL+"/admin/api-keys"))
	keyRevoke := w.href(`a[href^="/admin/api-keys/"][href*="/revoke"]`, "")
	userID := strings.TrimPrefix(userPath, "/admin/users/")

	pages := []struct{ shot, path string }{
		{"admin-dashboard", "/admin"},
		{"admin-clients", "/admin/clients"},
		{"", "/admin/clients?filter=registered"},
		{"admin-client", "/admin/clients/myapp"},
		{"", "/admin/clients/myapp/rotate-secret"},
		{"", "/admin/clients/myapp/disable"},
		{"", "/admin/clients/myapp/delete"},
		{"admin-users", "/admin/users"},
		{"", "/admin/users?q=alice"},
		{"admin-user", userPath},
		{"", userPath + "/disable"},
		{"admin-grants", "/admin/grants"},
		{"", "/admin/grants?user=" + url.QueryEscape(userEmail)},
		{"", "/admin/grants/revoke?user_id=" + userID},
		{"", "/admin/grants/revoke?client_id=myapp"},
		{"admin-grant-revoke-confirm", grantRevoke},
		{"admin-apikeys", "/admin/api-keys"},
		{"", keyRevoke},
		{"admin-audit", "/admin/audit"},
		{"", "/admin/audit?type=login.success"},
	}
	for _, pg := range pages {
		w.step(pg.path, authURL+pg.path, 200, `.admin-main`, chromedp.Navigate(authURL+pg.path))
		w.phoneFits(pg.path)
		if pg.shot != "" {
			w.shoot(pg.shot)
		}
	}
	w.step("console: unknown client", "", 404, `.card-error`, chromedp.Navigate(authURL+"/admin/clients/no-such-client"))
	w.step("console: grants revoke without a target", "", 400, `.card-error`, chromedp.Navigate(authURL+"/admin/grants/revoke"))

	// Forms: a new client shows its secret once; revoking the grant ends
	// it and MyApp notices.
	w.step("clients", authURL+"/admin/clients", 200, `#new-client input[name="name"]`, chromedp.Navigate(authURL+"/admin/clients"))
	w.step("new client: secret page", authURL+"/admin/clients", 201, `.admin-main code`,
		chromedp.SendKeys(chromedp.CSS(`#new-client input[name="name"]`), "Vet Portal"),
		chromedp.SendKeys(chromedp.CSS(`#redirect_uris`), "https://vets.example/oauth/cb"),
		chromedp.Click(chromedp.CSS(`#new-client button[type="submit"]`)))
	if text := w.text(`.admin-main`); !strings.Contains(text, "pst_cs_") {
		t.Fatalf("the new client's page shows no secret: %.500q", text)
	}
	w.step("grant revoke: confirm", authURL+grantRevoke, 200, `form.confirm-actions button[type="submit"]`, chromedp.Navigate(authURL+grantRevoke))
	w.step("grant revoked", authURL+"/admin/grants?done=grant_revoked", 200, `.alert-success`,
		chromedp.Click(chromedp.CSS(`form.confirm-actions button[type="submit"]`)))
	w.step("logout", "", 200, `input[name="email"]`, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
}

// procs runs the built programs in one directory with one environment and
// stops them at the end of the test, showing their logs if it failed.
type procs struct {
	t   *testing.T
	dir string
	env []string
	bin string
}

// environ is the test's environment without PETSTORE_* variables (a
// developer's own settings must not change the run), plus env and extra.
func (p *procs) environ(extra []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PETSTORE_") {
			out = append(out, kv)
		}
	}
	return append(append(out, p.env...), extra...)
}

// cli runs `petstore-auth args…` with stdin and returns its standard output.
func (p *procs) cli(stdin string, args ...string) string {
	p.t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, "petstore-auth"), args...)
	cmd.Dir, cmd.Env, cmd.Stdin = p.dir, p.environ(nil), strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		p.t.Fatalf("petstore-auth %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

type created struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// client runs a `client create … -o json` command and reads its answer.
func (p *procs) client(args ...string) created {
	p.t.Helper()
	out := p.cli("", args...)
	var c created
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" || c.ClientSecret == "" {
		p.t.Fatalf("client create printed %q: %v", out, err)
	}
	return c
}

// start runs a built program until the end of the test; SIGTERM stops it.
func (p *procs) start(name string, extra []string, args ...string) {
	p.t.Helper()
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir, cmd.Env = p.dir, p.environ(extra)
	logs := &logtest.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	p.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				p.t.Errorf("%s: %v", name, err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			p.t.Errorf("%s did not stop within 15 s of SIGTERM", name)
		}
		if p.t.Failed() {
			p.t.Logf("--- %s log ---\n%s", name, logs.String())
		}
	})
}

// waitOK waits until u answers 200 (the program has started).
func waitOK(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 60 s (last: %v)", u, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// walker drives one Chromium tab and records every response it sees.
type walker struct {
	t   *testing.T
	ctx context.Context

	mu           sync.Mutex
	serverErrors []string // every 5xx, of documents and subresources alike
	visited      []string
}

func newWalker(t *testing.T, path string) *walker {
	w := &walker{t: t}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		if e, ok := ev.(*network.EventResponseReceived); ok && e.Response.Status >= 500 {
			w.mu.Lock()
			w.serverErrors = append(w.serverErrors, fmt.Sprintf("%d %s", e.Response.Status, e.Response.URL))
			w.mu.Unlock()
		}
	}))
	if err := chromedp.Do(ctx); err != nil { // start the browser without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	w.ctx = ctx
	return w
}

// step runs actions that load a page, then checks it: the document's
// status is want, the page shows sel, it is the friendly error page
// exactly when want is an error, and (when wantURL is set) the browser
// ended at wantURL. No response so far was a 5xx.
func (w *walker) step(name, wantURL string, want int, sel string, actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	// Each page gets 30 s, so a broken one fails fast instead of using up
	// the whole walk's deadline.
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, actions...)
	loc, _ := chromedp.Run(w.ctx, chromedp.Location())
	body := func() string {
		b, _ := chromedp.Run(w.ctx, chromedp.Text(chromedp.CSS(`body`)))
		return b
	}
	w.mu.Lock()
	serverErrors := append([]string(nil), w.serverErrors...)
	if err == nil {
		u, _ := url.Parse(loc)
		w.visited = append(w.visited, fmt.Sprintf("%-45s %d %s", name, res.Status, u.RequestURI()))
	}
	w.mu.Unlock()
	switch {
	case len(serverErrors) > 0:
		w.t.Fatalf("%s: server errors: %v (at %s): %.500q", name, serverErrors, loc, body())
	case err != nil:
		w.t.Fatalf("%s: %v (at %s): %.500q", name, err, loc, body())
	case int(res.Status) != want:
		w.t.Fatalf("%s: HTTP %d at %s, want %d: %.500q", name, res.Status, loc, want, body())
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		w.t.Fatalf("%s: %s never showed: %v (at %s): %.500q", name, sel, err, loc, body())
	}
	isError, err := chromedp.Run(w.ctx, chromedp.Evaluate[bool](`document.querySelector('.card-error, .message-problem, .banner-problem, .alert-error') !== null`))
	if err != nil {
		w.t.Fatal(err)
	}
	if isError != (want >= 400) {
		w.t.Fatalf("%s: error page shown = %v at %s (HTTP %d): %.500q", name, isError, loc, res.Status, body())
	}
	if wantURL != "" && loc != wantURL {
		w.t.Fatalf("%s: the browser is at %s, want %s", name, loc, wantURL)
	}
}

// text returns the visible text of the first element matching sel.
func (w *walker) text(sel string) string {
	w.t.Helper()
	s, err := chromedp.Run(w.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// href returns the href of the first link matching sel whose row mentions
// contains (any link when contains is empty).
func (w *walker) href(sel, contains string) string {
	w.t.Helper()
	js := fmt.Sprintf(`(() => { const a = [...document.querySelectorAll(%q)].find(a => (a.closest('tr') || a).textContent.includes(%q)); return a ? a.getAttribute('href') : ''; })()`, sel, contains)
	h, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](js))
	if err != nil || h == "" || !strings.HasPrefix(h, "/admin/") {
		w.t.Fatalf("no link %s mentioning %q on the page: %q %v", sel, contains, h, err)
	}
	return h
}

// shoot writes the page at desktop and phone width to
// docs/screenshots/NAME-desktop.png and NAME-phone.png when -screenshots.
func (w *walker) shoot(name string) {
	w.t.Helper()
	if !*screenshots {
		return
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	for _, size := range []struct {
		suffix string
		w, h   int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		err := chromedp.Do(w.ctx, chromedp.EmulateViewport(size.w, size.h), chromedp.Sleep(200*time.Millisecond))
		if err != nil {
			w.t.Fatal(err)
		}
		png, err := chromedp.Run(w.ctx, pageScreenshot(size.w))
		if err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+size.suffix+".png"), png, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := chromedp.Do(w.ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		w.t.Fatal(err)
	}
}

// overflowJS lists the elements that stick out of the viewport on the
// right: on a phone they make the whole page scroll sideways.
const overflowJS = `(() => {
	const doc = document.documentElement.scrollWidth;
	if (doc <= window.innerWidth + 1) return [];
	const out = [], inTables = [];
	for (const el of document.querySelectorAll('body *')) {
		const r = el.getBoundingClientRect();
		if (r.right <= window.innerWidth + 1) continue;
		const name = el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().replace(/\s+/g, '.') : '') + ' right=' + Math.round(r.right);
		(el.closest('.table-wrap') ? inTables : out).push(name);
	}
	// Content of a scrollable table scrolls inside it; if the document is
	// wider all the same, something escaped the table (e.g. an absolutely
	// positioned element whose containing block is outside it).
	return (out.length ? out : inTables).slice(0, 8).concat(['document width ' + doc]);
})()`

// phoneFits checks that the page fits a phone's width: nothing but a
// scrollable table sticks out to the right.
func (w *walker) phoneFits(name string) {
	w.t.Helper()
	err := chromedp.Do(w.ctx, chromedp.EmulateViewport(390, 844))
	if err != nil {
		w.t.Fatal(err)
	}
	defer chromedp.Do(w.ctx, chromedp.EmulateViewport(1280, 900))
	out, err := chromedp.Run(w.ctx, chromedp.Evaluate[[]string](overflowJS))
	if err != nil {
		w.t.Fatal(err)
	}
	if len(out) > 0 {
		w.t.Errorf("%s: wider than a phone (390 px); sticking out: %v", name, out)
	}
}

// pageScreenshot captures the whole height of the page at the viewport's
// width. (FullScreenshot widens the image to the scrollable overflow of a
// wide table, which the page itself does not show.)
func pageScreenshot(width int64) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		h, err := chromedp.Evaluate[float64](`document.documentElement.scrollHeight`)(ctx, t)
		if err != nil {
			return nil, err
		}
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format: page.CaptureScreenshotFormatPng, CaptureBeyondViewport: new(true),
			Clip: &page.Viewport{Width: float64(width), Height: h, Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}
}

// walkDeveloperPage walks /account/apps as the signed-in user: register
// an app (first with a refused redirect URI), its secret shown once, its
// page, the rotation with a grace period and the deletion.
func walkDeveloperPage(w *walker, authURL string) {
	submit := chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))
	w.step("your apps", authURL+"/account/apps", 200, `a[href="/account/apps/new"]`, chromedp.Navigate(authURL+"/account/apps"))
	w.shoot("apps")
	w.phoneFits("your apps")
	w.step("register an app", authURL+"/account/apps/new", 200, `form[action="/account/apps"]`,
		chromedp.Click(chromedp.CSS(`a[href="/account/apps/new"]`)))
	w.phoneFits("register an app")
	w.step("register: refused redirect URI", authURL+"/account/apps", 400, `#app-redirect-uris-error`,
		chromedp.SendKeys(chromedp.CSS(`#app-name`), "Pet Diary"),
		chromedp.SendKeys(chromedp.CSS(`#app-redirect-uris`), "http://diary.example/cb"), submit)
	w.shoot("app-errors")
	w.phoneFits("register: refused redirect URI")
	w.step("register: the secret, once", authURL+"/account/apps", 201, `#client-secret`,
		chromedp.SetValue(chromedp.CSS(`#app-redirect-uris`), "https://diary.example/cb"), submit)
	w.shoot("app-secret")
	w.phoneFits("register: the secret, once")
	w.step("the app's page", "", 200, `a[href$="/rotate"]`, chromedp.Click(chromedp.CSS(`main .actions a.btn-primary`)))
	if text := w.text(`main`); strings.Contains(text, "pst_cs_") {
		w.t.Fatalf("the app's page shows the secret again: %.300q", text)
	}
	w.shoot("app")
	w.phoneFits("the app's page")
	w.step("rotate: confirm with a grace period", "", 200, `select#grace`, chromedp.Click(chromedp.CSS(`a[href$="/rotate"]`)))
	w.shoot("app-rotate")
	w.phoneFits("rotate: confirm")
	w.step("rotate: the new secret", "", 200, `#client-secret`, chromedp.SetValue(chromedp.CSS(`select#grace`), "24h"), submit)
	w.step("the app's page again", "", 200, `a[href$="/delete"]`, chromedp.Click(chromedp.CSS(`main .actions a.btn-primary`)))
	w.step("delete: confirm", "", 200, `main form button[type="submit"]`, chromedp.Click(chromedp.CSS(`a[href$="/delete"]`)))
	w.shoot("app-delete")
	w.phoneFits("delete: confirm")
	w.step("deleted", authURL+"/account/apps?notice=app_deleted", 200, `.alert-success`, submit)
}

// report logs the pages walked (go test -v shows them).
func (w *walker) report() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Logf("pages walked (%d):\n%s", len(w.visited), strings.Join(w.visited, "\n"))
}

// deviceUserCode starts a device authorization (RFC 8628 §3.1) for a
// public client and returns the user code.
func deviceUserCode(t *testing.T, authURL, client string) string {
	t.Helper()
	res, err := http.PostForm(authURL+"/oauth2/device/auth", url.Values{"client_id": {client}, "scope": {"read:pets"}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m struct {
		UserCode string `json:"user_code"`
	}
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != http.StatusOK || m.UserCode == "" {
		t.Fatalf("device authorization: %d %v", res.StatusCode, err)
	}
	return m.UserCode
}
