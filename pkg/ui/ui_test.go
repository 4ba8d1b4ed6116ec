package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

var secret = []byte("0123456789abcdef0123456789abcdef-ui-test")

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"templates/layout.html":  {Data: []byte(`{{define "layout"}}<html lang="en"><title>{{block "title" .}}{{end}}</title>{{template "content" .}}</html>{{end}}{{define "csrf"}}<input name="csrf_token" value="{{.CSRFToken}}">{{end}}`)},
		"templates/error.html":   {Data: []byte(`{{define "content"}}<h1>{{.Data.Title}}</h1><p>{{.Data.Message}}</p><p>{{.RequestID}}</p>{{end}}`)},
		"templates/hello.html":   {Data: []byte(`{{define "content"}}<p>Hello {{.Data}}</p>{{template "csrf" .}}{{template "shared" .}}{{end}}`)},
		"templates/broken.html":  {Data: []byte(`{{define "content"}}<p>start</p>{{.Data.Missing}}{{end}}`)},
		"templates/_shared.html": {Data: []byte(`{{define "shared"}}<footer>shared</footer>{{end}}`)},
		"templates/demo/x.html":  {Data: []byte(`{{not valid`)},
		"static/app.css":         {Data: []byte("body{}")},
		"static/img/logo.svg":    {Data: []byte("<svg/>")},
		"static/demo/demo.css":   {Data: []byte("demo")},
	}
}

func newKit(t *testing.T, mod ...func(*Config)) *Kit {
	t.Helper()
	cfg := Config{FS: testFS(), Secret: secret}
	for _, m := range mod {
		m(&cfg)
	}
	k, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewReportsEveryMissingTemplate(t *testing.T) {
	_, err := New(Config{FS: testFS(), Secret: secret, Required: []string{"hello", "login", "admin/clients"}})
	if err == nil || !strings.Contains(err.Error(), "login, admin/clients") {
		t.Fatalf("err = %v; want both missing pages named", err)
	}
	if _, err := New(Config{FS: testFS(), Secret: secret[:31]}); err == nil {
		t.Fatal("a 31-byte secret was accepted")
	}
}

// TestTheRealTemplatesLoad: every page of the shipped templates parses (the
// server parses them on first use only).
func TestTheRealTemplatesLoad(t *testing.T) {
	k, err := New(Config{FS: webtest.Files(), Secret: secret, Required: []string{"login", "consent", "account", "index"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ParseAll(); err != nil {
		t.Fatal(err)
	}
	if len(k.pages) < 20 {
		t.Fatalf("%d pages found; want every page of templates/", len(k.pages))
	}
}

// TestPagesParsedOnFirstUse: New does not parse; a page whose template does
// not parse fails alone, as a clean 500 error page, and ParseAll names it.
func TestPagesParsedOnFirstUse(t *testing.T) {
	fsys := testFS()
	fsys["templates/bad.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{if}}{{end}}`)}
	k, err := New(Config{FS: fsys, Secret: secret, Required: []string{"hello", "bad"}})
	if err != nil {
		t.Fatalf("New parsed the pages: %v", err)
	}
	h := k.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.Render(w, r, http.StatusOK, r.URL.Query().Get("page"), "x")
	}))
	for _, tc := range []struct {
		page   string
		status int
		shows  string
	}{
		{"bad", http.StatusInternalServerError, "Something went wrong"},
		{"hello", http.StatusOK, "Hello x"},
		{"bad", http.StatusInternalServerError, "Something went wrong"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?page="+tc.page, nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.shows) {
			t.Fatalf("%s: HTTP %d\n%s", tc.page, rec.Code, rec.Body)
		}
	}
	if err := k.ParseAll(); err == nil || !strings.Contains(err.Error(), "templates/bad.html") {
		t.Fatalf("ParseAll = %v; want the broken file named", err)
	}
	delete(fsys, "templates/layout.html")
	if _, err := New(Config{FS: fsys, Secret: secret}); err == nil || !strings.Contains(err.Error(), "layout") {
		t.Fatalf("New without a layout = %v", err)
	}
}

func TestRenderBuffersAndFailsCleanly(t *testing.T) {
	k := newKit(t)
	h := k.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.Render(w, r, http.StatusOK, r.URL.Query().Get("page"), "<world>")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?page=hello", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Hello &lt;world&gt;") ||
		!strings.Contains(rec.Body.String(), "<footer>shared</footer>") {
		t.Fatalf("HTTP %d\n%s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatal("page without CSP")
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?page=broken", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "start") ||
		!strings.Contains(rec.Body.String(), "Something went wrong") {
		t.Fatalf("broken page: HTTP %d\n%s", rec.Code, rec.Body)
	}
}

func TestStaticFiles(t *testing.T) {
	k := newKit(t)
	for _, tc := range []struct {
		name, path string
		status     int
		cache      string
	}{
		{"file", "/static/app.css", 200, "public, max-age=300"},
		{"versioned file", "/static/app.css?v=" + k.assets["app.css"], 200, "public, max-age=31536000, immutable"},
		{"nested file", "/static/img/logo.svg", 200, "public, max-age=300"},
		{"directory", "/static/img/", 404, ""},
		{"root", "/static/", 404, ""},
		{"demo app's files", "/static/demo/demo.css", 404, ""},
		{"traversal", "/static/../templates/layout.html", 404, ""},
		{"missing", "/static/nope.css", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			k.Static().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
			if rec.Code != tc.status || (tc.cache != "" && rec.Header().Get("Cache-Control") != tc.cache) {
				t.Fatalf("HTTP %d, Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
			}
		})
	}
}

// The server enforces the absolute lifetime itself, whatever the browser
// does with the cookie.
func TestSessionAbsoluteLifetime(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	k := newKit(t, func(c *Config) { c.Now = func() time.Time { return now } })
	var seen *Session
	h := k.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = SessionFrom(r.Context())
		if r.URL.Path == "/login" {
			_ = k.SignIn(w, r, "usr_1", "a@example.com", 7, r.URL.Query().Get("remember") == "1")
		}
	}))
	signIn := func(remember string) *http.Cookie {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/login?remember="+remember, nil))
		cs := rec.Result().Cookies()
		return cs[len(cs)-1]
	}
	visit := func(c *http.Cookie) *Session {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(c)
		h.ServeHTTP(httptest.NewRecorder(), req)
		return seen
	}
	for _, tc := range []struct {
		name     string
		remember string
		after    time.Duration
		signedIn bool
	}{
		{"browser session, 11 h", "0", 11 * time.Hour, true},
		{"browser session, 13 h", "0", 13 * time.Hour, false},
		{"remembered, 29 days", "1", 29 * 24 * time.Hour, true},
		{"remembered, 31 days", "1", 31 * 24 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			c := signIn(tc.remember)
			now = now.Add(tc.after)
			s := visit(c)
			if s.SignedIn() != tc.signedIn {
				t.Fatalf("signed in = %v, want %v", s.SignedIn(), tc.signedIn)
			}
			if tc.signedIn && (s.UserID != "usr_1" || s.Version != 7) {
				t.Fatalf("session %+v", s)
			}
		})
	}
}

// A cookie from another secret (or tampered) is not a session.
func TestForgedCookieIsIgnored(t *testing.T) {
	other := newKit(t, func(c *Config) { c.Secret = []byte("another-secret-another-secret-another") })
	k := newKit(t)
	rec := httptest.NewRecorder()
	other.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = other.SignIn(w, r, "usr_1", "a@example.com", 1, false)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	cs := rec.Result().Cookies()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cs[len(cs)-1])
	var s *Session
	k.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s = SessionFrom(r.Context()) })).
		ServeHTTP(httptest.NewRecorder(), req)
	if s.SignedIn() {
		t.Fatal("a cookie sealed with another secret was accepted")
	}
}

// MD-04: after the system secret is rotated, a cookie sealed with the
// previous secret still opens while that secret is listed as previous.
func TestCookieSurvivesSecretRotation(t *testing.T) {
	oldSecret := []byte("the-old-secret-the-old-secret-the-old")
	old := newKit(t, func(c *Config) { c.Secret = oldSecret })
	rotated := newKit(t, func(c *Config) { c.PreviousSecrets = [][]byte{oldSecret} })
	rec := httptest.NewRecorder()
	old.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = old.SignIn(w, r, "usr_1", "a@example.com", 1, false)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	cs := rec.Result().Cookies()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(cs[len(cs)-1])
	var s *Session
	rotated.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s = SessionFrom(r.Context()) })).
		ServeHTTP(httptest.NewRecorder(), req)
	if !s.SignedIn() || s.UserID != "usr_1" {
		t.Fatal("a cookie sealed with the previous secret was refused after rotation")
	}
}

func TestAllowFormTargetsDropsInjection(t *testing.T) {
	for _, tc := range []struct {
		name    string
		targets []string
		want    string
	}{
		{"origin", []string{"https://app.example"}, "form-action 'self' https://app.example;"},
		{"scheme and loopback", []string{"com.example.app:", "http://127.0.0.1:*"}, "form-action 'self' com.example.app: http://127.0.0.1:*;"},
		{"directive injection", []string{"https://a.example; script-src *"}, "form-action 'self';"},
		{"quote", []string{"'unsafe-inline'"}, "form-action 'self';"},
		{"path", []string{"https://a.example/x"}, "form-action 'self';"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			rec.Header().Set("Content-Security-Policy", CSP)
			AllowFormTargets(rec, tc.targets...)
			if got := rec.Header().Get("Content-Security-Policy"); !strings.Contains(got, tc.want) || strings.Count(got, ";") != strings.Count(CSP, ";") {
				t.Fatalf("CSP %q, want it to contain %q", got, tc.want)
			}
		})
	}
}
