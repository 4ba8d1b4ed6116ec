package proxytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/binarytest"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/logtest"
	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/tlstest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const (
	aliceEmail = "alice@example.com"
	alicePass  = "correct horse battery staple"
	redirect   = "https://app.example/cb"
)

// TestBehindNginx: sign-in, consent, token exchange and an API call through
// nginx terminating TLS; Secure cookies and HSTS; the audit log, the
// sign-in throttle and the API's log see the address nginx forwards, a
// client cannot choose its address by sending X-Forwarded-For through
// nginx, and forwarded headers sent straight to the servers change nothing.
//
// The test clients bind distinct loopback addresses (127.0.0.2, …) while
// nginx talks to the servers from 127.0.0.1, the only trusted proxy, so the
// address a server records shows where it came from.
func TestBehindNginx(t *testing.T) {
	nginx := binarytest.Tool(t, "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	bin := binarytest.Build(t, "./cmd/petstore-auth", "./cmd/petstore-api")
	certFile, keyFile, pool := tlstest.Cert(t)

	freePort := func() string { _, p, _ := net.SplitHostPort(binarytest.FreeAddr(t)); return p }
	authPort, apiPort, authTLSPort, apiTLSPort := freePort(), freePort(), freePort(), freePort()
	issuer := "https://127.0.0.1:" + authTLSPort
	apiURL := "https://127.0.0.1:" + apiTLSPort
	authDirect := "http://127.0.0.1:" + authPort
	apiDirect := "http://127.0.0.1:" + apiPort
	dbPath := filepath.Join(dir, "auth.db")
	authEnv := []string{
		"PETSTORE_DEV=false", "PETSTORE_ISSUER=" + issuer, "PETSTORE_LISTEN=127.0.0.1:" + authPort,
		"PETSTORE_DATABASE_URL=sqlite://" + dbPath, "PETSTORE_DATA_DIR=" + dir,
		"PETSTORE_SECRET=proxytest-secret-proxytest-secret-0123", "PETSTORE_TRUSTED_PROXIES=127.0.0.1/32",
		"PETSTORE_RESOURCES=" + apiURL, // the API's public URL, as clients reach it through nginx
	}

	// Seed with the CLI, as an operator would.
	cli := func(stdin string, args ...string) []byte {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "petstore-auth"), args...)
		cmd.Dir, cmd.Env, cmd.Stdin = dir, append(os.Environ(), authEnv...), strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("petstore-auth %s: %v\n%s", strings.Join(args, " "), err, stderrOf(err))
		}
		return out
	}
	cli("", "migrate", "up")
	cli(alicePass+"\n", "user", "create", "--email", aliceEmail, "--password-stdin")
	var app, api struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	mustJSON(t, cli("", "client", "create", "--name", "Pet Diary", "--redirect-uri", redirect, "--scope", "read:pets", "-o", "json"), &app)
	mustJSON(t, cli("", "client", "create", "--name", "PetStore API", "--introspect", "-o", "json"), &api)

	authLog := start(t, dir, filepath.Join(bin, "petstore-auth"), []string{"serve"}, authEnv)
	apiLog := start(t, dir, filepath.Join(bin, "petstore-api"), nil, []string{
		"PETSTORE_API_DEV=false", "PETSTORE_API_LISTEN=127.0.0.1:" + apiPort, "PETSTORE_AUTH_ISSUER=" + issuer,
		"PETSTORE_API_DATABASE_URL=sqlite://" + filepath.Join(dir, "api.db"),
		"PETSTORE_API_CLIENT_ID=" + api.ClientID, "PETSTORE_API_CLIENT_SECRET=" + api.ClientSecret,
		"PETSTORE_API_TRUSTED_PROXIES=127.0.0.1/32", "PETSTORE_API_PUBLIC_URL=" + apiURL,
		"SSL_CERT_FILE=" + certFile, // the API reaches the issuer through nginx
	})
	startNginx(t, nginx, dir, map[string]any{
		"Dir": dir, "Root": os.Geteuid() == 0, "Cert": certFile, "Key": keyFile,
		"AuthPort": authPort, "APIPort": apiPort, "AuthTLSPort": authTLSPort, "APITLSPort": apiTLSPort,
	})
	waitUp(t, authDirect+"/healthz", authLog)
	waitUp(t, apiDirect+"/v1/pets", apiLog)
	waitUp(t, issuer+"/healthz", nil, pool)

	audit := openAudit(t, dbPath)

	t.Run("sign-in, consent and token exchange through nginx", func(t *testing.T) {
		c := newClient(t, "127.0.0.2", pool)
		verifier := rand.Text() + rand.Text()
		sum := sha256.Sum256([]byte(verifier))
		authorize := issuer + "/oauth2/auth?" + url.Values{
			"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {redirect}, "scope": {"read:pets"},
			"state": {"state-0123456789abcdef"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
			"code_challenge_method": {"S256"},
		}.Encode()
		resp := c.get(authorize)
		loginURL := c.next(resp, http.StatusSeeOther)
		resp = c.get(loginURL)
		form := webtest.Hidden(c.body(resp, http.StatusOK))
		form.Set("email", aliceEmail)
		form.Set("password", alicePass)
		resp = c.post(issuer+"/login", form, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: HTTP %d", resp.StatusCode)
		}
		cookie := resp.Header.Get("Set-Cookie")
		if !strings.HasPrefix(cookie, "__Host-") || !strings.Contains(cookie, "; Secure") || !strings.Contains(cookie, "HttpOnly") {
			t.Fatalf("session cookie %q: want __Host-, Secure, HttpOnly", cookie)
		}
		if !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Fatal("no HSTS through the TLS proxy")
		}
		consentURL := c.next(resp, http.StatusSeeOther)
		resp = c.get(consentURL)
		form = webtest.Hidden(c.body(resp, http.StatusOK))
		form.Set("decision", "allow")
		form.Set("scope", "read:pets")
		resp = c.post(issuer+"/oauth2/consent", form, nil)
		cb, err := url.Parse(c.next(resp, http.StatusSeeOther))
		if err != nil || !strings.HasPrefix(cb.String(), redirect+"?") || cb.Query().Get("code") == "" || cb.Query().Get("iss") != issuer {
			t.Fatalf("callback %v", cb)
		}

		req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth2/token", strings.NewReader(url.Values{
			"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier},
		}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(app.ClientID), url.QueryEscape(app.ClientSecret))
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		mustJSON(t, []byte(c.body(c.do(req), http.StatusOK)), &tok)

		req, _ = http.NewRequest(http.MethodGet, apiURL+"/v1/pets", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp = c.do(req)
		c.body(resp, http.StatusOK)
		if !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Fatal("no HSTS from the API through the TLS proxy")
		}

		audit.want(t, "login.success", "127.0.0.2")
		wantLine(t, apiLog, `"path":"/v1/pets","status":200`, `"client":"127.0.0.2"`)
	})

	t.Run("forwarded headers sent through nginx cannot choose the address", func(t *testing.T) {
		c := newClient(t, "127.0.0.3", pool)
		forged := map[string]string{"X-Forwarded-For": "203.0.113.7", "Forwarded": "for=203.0.113.7", "X-Real-IP": "203.0.113.7"}
		if resp := c.login(issuer, "wrong password", forged); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: HTTP %d", resp.StatusCode)
		}
		audit.want(t, "login.failure", "127.0.0.3")
		audit.none(t, "203.0.113.7")
	})

	t.Run("the sign-in throttle sees the forwarded address", func(t *testing.T) {
		guesser := newClient(t, "127.0.0.4", pool)
		for i := range 5 {
			if resp := guesser.login(issuer, fmt.Sprint("guess-", i), nil); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("guess %d: HTTP %d", i, resp.StatusCode)
			}
		}
		for _, h := range []map[string]string{nil, {"X-Forwarded-For": "198.51.100.77"}} {
			resp := guesser.login(issuer, "another guess", h)
			body := guesser.body(resp, http.StatusTooManyRequests)
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Try again in") {
				t.Fatalf("throttled answer without Retry-After or message (headers %v)", h)
			}
		}
		// The owner, from another address behind the same proxy, signs in.
		if resp := newClient(t, "127.0.0.5", pool).login(issuer, alicePass, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("owner from another address: HTTP %d, want 303", resp.StatusCode)
		}
	})

	t.Run("forwarded headers straight to the servers change nothing", func(t *testing.T) {
		c := newClient(t, "127.0.0.6", pool)
		spoof := map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "Forwarded": "for=203.0.113.9;proto=https"}
		resp := c.login(authDirect, "wrong password", spoof)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("direct sign-in: HTTP %d", resp.StatusCode)
		}
		if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "" {
			t.Fatalf("plain-HTTP answer claims HTTPS (HSTS %q) because of a forged X-Forwarded-Proto", hsts)
		}
		audit.want(t, "login.failure", "127.0.0.6")
		audit.none(t, "203.0.113.9")

		req, _ := http.NewRequest(http.MethodGet, apiDirect+"/v1/pets?direct", nil)
		for k, v := range spoof {
			req.Header.Set(k, v)
		}
		resp = c.do(req)
		c.body(resp, http.StatusUnauthorized)
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Fatal("API: plain-HTTP answer with HSTS")
		}
		wantLine(t, apiLog, `"path":"/v1/pets","status":401`, `"client":"127.0.0.6"`)
		if strings.Contains(apiLog.String(), "203.0.113.9") {
			t.Fatal("API logged the forged address")
		}
	})

	// A server that answers before reading a large body must not turn into
	// a 502 at the proxy: nginx speaks HTTP/1.1 with keep-alive upstream, so
	// the servers drain the body instead of resetting the connection.
	t.Run("large refused bodies are answered, not 502", func(t *testing.T) {
		c := newClient(t, "127.0.0.7", pool)
		for i := range 20 {
			big := strings.Repeat("x", []int{120 << 10, 700 << 10}[i%2])
			for _, tc := range []struct {
				method, url, ctype string
				want               int
			}{
				{http.MethodPost, issuer + "/oauth2/token", "application/json", http.StatusBadRequest},
				{http.MethodPut, apiURL + "/v1/pets", "application/json", http.StatusUnauthorized},
				{http.MethodPost, apiURL + "/v1/pets", "application/json", http.StatusUnauthorized},
			} {
				req, _ := http.NewRequest(tc.method, tc.url, strings.NewReader(`{"a":"`+big+`"}`))
				req.Header.Set("Content-Type", tc.ctype)
				if tc.url != issuer+"/oauth2/token" {
					req.Header.Set("Authorization", "Bearer sk_test_unknown")
				}
				resp := c.do(req)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					t.Fatalf("round %d: %s %s answered %d through nginx, want a 4xx", i, tc.method, tc.url, resp.StatusCode)
				}
			}
		}
	})
}

// want waits until one log line contains every part.
func wantLine(t *testing.T, b *logtest.Buffer, parts ...string) {
	t.Helper()
	eventually(t, func() bool {
		for _, line := range strings.Split(b.String(), "\n") {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(line, p)
			}
			if ok {
				return true
			}
		}
		return false
	}, "no log line with %q in:\n%s", parts, b)
}

// start runs a program in dir until the test ends.
func start(t *testing.T, dir, path string, args, env []string) *logtest.Buffer {
	t.Helper()
	out := &logtest.Buffer{}
	cmd := exec.Command(path, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, append(os.Environ(), env...), out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(path), out)
		}
	})
	return out
}

// startNginx writes testdata/nginx.conf for this run and runs nginx in the
// foreground with dir as its prefix.
func startNginx(t *testing.T, nginx, dir string, data map[string]any) {
	t.Helper()
	tmpl := template.Must(template.ParseFiles("testdata/nginx.conf"))
	var conf bytes.Buffer
	if err := tmpl.Execute(&conf, data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, conf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// nginx checks its default error log before reading the configuration;
	// -e points it into dir.
	if out, err := exec.Command(nginx, "-t", "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log")).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s\n%s", err, out, conf.String())
	}
	log := start(t, dir, nginx, []string{"-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log")}, nil)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s\n%s", b, log)
		}
	})
}

// waitUp polls url until it answers below 500 (a fresh process takes a
// moment to listen).
func waitUp(t *testing.T, u string, log *logtest.Buffer, pool ...*x509.CertPool) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	if len(pool) > 0 {
		c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool[0]}}
	}
	var last string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	if log != nil {
		t.Logf("output:\n%s", log)
	}
	t.Fatalf("%s did not come up: %s", u, last)
}

func eventually(t *testing.T, ok func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf(format, args...)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// auditLog reads the audit events petstore-auth wrote (in batches) to its
// database.
type auditLog struct{ st *store.Store }

func openAudit(t *testing.T, dbPath string) auditLog {
	st, err := store.Open(context.Background(), "sqlite://"+dbPath, store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return auditLog{st}
}

func (a auditLog) events(t *testing.T) []*identity.AuditEvent {
	t.Helper()
	evs, _, err := a.st.ListAudit(context.Background(), identity.AuditFilter{Page: identity.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// want waits for an event of the type recorded with the client address ip.
func (a auditLog) want(t *testing.T, typ, ip string) {
	t.Helper()
	eventually(t, func() bool {
		for _, e := range a.events(t) {
			if e.Type == typ && e.IP == ip {
				return true
			}
		}
		return false
	}, "no %s audit event from %s", typ, ip)
}

// none checks that no event carries ip.
func (a auditLog) none(t *testing.T, ip string) {
	t.Helper()
	for _, e := range a.events(t) {
		if e.IP == ip {
			t.Fatalf("audit event %s recorded the forged address %s", e.Type, ip)
		}
	}
}

// client is a browser-like HTTP client from one loopback address that
// trusts the test certificate and does not follow redirects.
type client struct {
	t *testing.T
	c *http.Client
}

func newClient(t *testing.T, localIP string, pool *x509.CertPool) *client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	jar, _ := cookiejar.New(nil)
	return &client{t: t, c: &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(req *http.Request) *http.Response {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (c *client) get(u string) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return c.do(req)
}

// post submits a form the way a browser on the server's origin does.
func (c *client) post(u string, form url.Values, headers map[string]string) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	// Over plain HTTP (straight to a server) the jar keeps the Secure
	// session cookie to itself; send it as a browser that ignored Secure would.
	if req.URL.Scheme == "http" {
		for _, ck := range c.c.Jar.Cookies(&url.URL{Scheme: "https", Host: req.URL.Host}) {
			req.AddCookie(ck)
		}
	}
	return c.do(req)
}

// login fetches the sign-in page of base and posts alice's email with pw.
func (c *client) login(base, pw string, headers map[string]string) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/login", nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp := c.do(req)
	if base[:5] == "http:" {
		// The session cookie is Secure; keep it for post to send.
		u := *resp.Request.URL
		u.Scheme = "https"
		c.c.Jar.SetCookies(&u, resp.Cookies())
	}
	form := webtest.Hidden(c.body(resp, http.StatusOK))
	form.Set("email", aliceEmail)
	form.Set("password", pw)
	return c.post(base+"/login", form, headers)
}

// body reads the answer and checks its status.
func (c *client) body(resp *http.Response, want int) string {
	c.t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: HTTP %d, want %d\n%s", resp.Request.Method, resp.Request.URL, resp.StatusCode, want, b)
	}
	return string(b)
}

// next returns the absolute Location of a redirect.
func (c *client) next(resp *http.Response, want int) string {
	c.t.Helper()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("%s: HTTP %d, want %d\n%s", resp.Request.URL, resp.StatusCode, want, b)
	}
	u, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		c.t.Fatal(err)
	}
	return u.String()
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
