package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/sessions"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Config is what New needs. FS and Secret are required.
type Config struct {
	// FS holds templates/ and static/ at its root: os.DirFS(".") or an
	// embedded FS.
	FS fs.FS
	// Secret is the system secret (at least 32 bytes); the session keys are
	// derived from it.
	Secret []byte
	// PreviousSecrets are system secrets being rotated out: cookies sealed
	// with them still open; new cookies use Secret.
	PreviousSecrets [][]byte
	// Insecure drops the __Host- prefix and the Secure flag from the session
	// cookie. Set it only in development mode with a plain-http loopback
	// issuer: browsers refuse Secure cookies over http.
	Insecure bool
	// Required lists pages that must exist ("login", "admin/clients"); New
	// fails naming every missing one. Their templates are parsed on first
	// use: a syntax error is a 500 error page then, or ParseAll's error.
	Required []string
	// Funcs are extra template functions.
	Funcs template.FuncMap
	// BrowserLifetime bounds a session without "keep me signed in"
	// (default 12 h); RememberLifetime one with it (default 30 days).
	BrowserLifetime  time.Duration
	RememberLifetime time.Duration
	// Sessions, when set, records signed-in sessions on the server so that
	// logging out ends every copy of the cookie; without it a copied cookie
	// stays valid until it expires.
	Sessions SessionRegistry
	Now      func() time.Time
	Logger   *slog.Logger
}

// SessionRegistry is the server-side list of live signed-in sessions (the
// store implements it).
type SessionRegistry interface {
	// CreateSession records the signed-in session id with b.
	CreateSession(ctx context.Context, id string, b identity.BrowserSession) error
	// SessionActive reports whether the session is live, and when it was
	// last seen.
	SessionActive(ctx context.Context, id string) (lastSeen time.Time, active bool, err error)
	// TouchSession sets when the session was last seen.
	TouchSession(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error
}

// Kit renders pages and manages sessions. It is safe for concurrent use.
type Kit struct {
	pages    map[string]*page
	assets   map[string]string // static file name → content hash
	static   fs.FS
	store    *sessions.CookieStore
	cookie   string
	insecure bool
	browser  time.Duration
	remember time.Duration
	now      func() time.Time
	log      *slog.Logger
	cop      *http.CrossOriginProtection
	sessions SessionRegistry
}

// CSP is the Content-Security-Policy of every page: nothing inline, nothing
// from elsewhere, never framed.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// cspSource is what AllowFormTargets accepts: a scheme, or a scheme and a
// host with an optional port (or "*" port), nothing that could end the
// directive.
var cspSource = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:(//(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:([0-9]{1,5}|\*))?)?$`)

// AllowFormTargets widens the page's form-action to targets (CSP source
// expressions like "https://app.example" or "com.example.app:"). Browsers
// apply form-action to every redirect that follows a form submission, so
// a form whose answer is a 303 back to an OAuth client (consent, sign-in
// with remembered consent) must name the client's origin. Call it before
// Render; invalid targets are dropped.
func AllowFormTargets(w http.ResponseWriter, targets ...string) {
	var ok []string
	for _, t := range targets {
		if t = strings.ToLower(t); cspSource.MatchString(t) && !slices.Contains(ok, t) {
			ok = append(ok, t)
		}
	}
	if len(ok) > 0 {
		w.Header().Set("Content-Security-Policy",
			strings.Replace(CSP, "form-action 'self'", "form-action 'self' "+strings.Join(ok, " "), 1))
	}
}

// New lists the pages and checks that the required ones exist; each page
// is parsed when first rendered (ParseAll parses them all now).
func New(cfg Config) (*Kit, error) {
	if cfg.FS == nil {
		return nil, errors.New("ui: no file system for templates and static files")
	}
	if len(cfg.Secret) < 32 {
		return nil, errors.New("ui: the system secret must be at least 32 bytes")
	}
	k := &Kit{
		insecure: cfg.Insecure,
		browser:  cfg.BrowserLifetime,
		remember: cfg.RememberLifetime,
		now:      cfg.Now,
		log:      cfg.Logger,
		cop:      http.NewCrossOriginProtection(),
		sessions: cfg.Sessions,
	}
	if k.browser <= 0 {
		k.browser = 12 * time.Hour
	}
	if k.remember <= 0 {
		k.remember = 30 * 24 * time.Hour
	}
	if k.now == nil {
		k.now = time.Now
	}
	if k.log == nil {
		k.log = slog.Default()
	}
	var err error
	if k.store, err = newCookieStore(append([][]byte{cfg.Secret}, cfg.PreviousSecrets...), k.remember); err != nil {
		return nil, err
	}
	k.cookie = "__Host-petstore_session"
	if cfg.Insecure {
		k.cookie = "petstore_session"
	}
	if k.static, err = fs.Sub(cfg.FS, "static"); err != nil {
		return nil, fmt.Errorf("ui: static files: %w", err)
	}
	if k.assets, err = hashAssets(k.static); err != nil {
		return nil, fmt.Errorf("ui: static files: %w", err)
	}
	if k.pages, err = k.index(cfg.FS, cfg.Funcs); err != nil {
		return nil, err
	}
	if err := k.Check(append([]string{"error"}, cfg.Required...)...); err != nil {
		return nil, err
	}
	return k, nil
}

// ParseAll parses every page now, reporting the first template error; a
// page is otherwise parsed when it is first rendered. Use it where the
// templates are not the binary's own (web_dir), so that a broken edit stops
// the start instead of failing that page.
func (k *Kit) ParseAll() error {
	for _, name := range slices.Sorted(maps.Keys(k.pages)) {
		if _, err := k.pages[name].template(); err != nil {
			return err
		}
	}
	return nil
}

// Check reports every page in names that was not loaded.
func (k *Kit) Check(names ...string) error {
	var missing []string
	for _, n := range names {
		if _, ok := k.pages[n]; !ok && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("ui: missing templates: %s", strings.Join(missing, ", "))
	}
	return nil
}

// page is one page's template set: layout, the partials of the page's
// directory and its parents, then the page itself. It is parsed on first
// use: a server renders few of its pages between restarts, and parsing all
// of them at start allocated 2 MB, of which the parsed sets kept 1.3 MB.
type page struct {
	fsys  fs.FS
	funcs template.FuncMap
	files []string // "templates/layout.html" first, the page's own file last
	once  sync.Once
	t     *template.Template
	err   error
}

func (p *page) template() (*template.Template, error) {
	p.once.Do(func() {
		t := template.New("layout").Funcs(p.funcs)
		for _, f := range p.files {
			if p.err = parseFile(t, p.fsys, f); p.err != nil {
				return
			}
		}
		p.t = t
	})
	return p.t, p.err
}

// index lists the pages of fsys and the files each is made of.
func (k *Kit) index(fsys fs.FS, extra template.FuncMap) (map[string]*page, error) {
	if _, err := fs.Stat(fsys, "templates/layout.html"); err != nil {
		return nil, fmt.Errorf("ui: missing templates: layout (%v)", err)
	}
	var pages, partials []string
	err := fs.WalkDir(fsys, "templates", func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && p == "templates/demo":
			return fs.SkipDir
		case d.IsDir() || !strings.HasSuffix(p, ".html") || p == "templates/layout.html":
			return nil
		case strings.HasPrefix(path.Base(p), "_"):
			partials = append(partials, p)
		default:
			pages = append(pages, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ui: templates: %w", err)
	}
	funcs := k.funcs()
	for name, f := range extra {
		funcs[name] = f
	}
	out := map[string]*page{}
	for _, p := range pages {
		files := []string{"templates/layout.html"}
		dir := path.Dir(p)
		for _, q := range partials {
			if qd := path.Dir(q); qd == dir || strings.HasPrefix(dir, qd+"/") {
				files = append(files, q)
			}
		}
		out[strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")] = &page{fsys: fsys, funcs: funcs, files: append(files, p)}
	}
	return out, nil
}

func parseFile(t *template.Template, fsys fs.FS, p string) error {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return fmt.Errorf("ui: %s: %w", p, err)
	}
	if _, err := t.Parse(string(b)); err != nil {
		return fmt.Errorf("ui: %s: %w", p, err)
	}
	return nil
}

func (k *Kit) funcs() template.FuncMap {
	return template.FuncMap{
		// asset returns the URL of a static file with its content hash, so
		// that it can be cached for a year and still change on deploy.
		"asset": func(name string) string {
			if h, ok := k.assets[name]; ok {
				return "/static/" + name + "?v=" + h
			}
			return "/static/" + name
		},
		"date": func(v any) string { return formatTime(v, "Jan 2, 2006") },
		"datetime": func(v any) string {
			return formatTime(v, "Jan 2, 2006 15:04 MST")
		},
		"join": strings.Join,
		"has":  slices.Contains[[]string],
		// initial is the first letter of a name, for avatars.
		"initial": func(s string) string {
			for _, r := range strings.TrimSpace(s) {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
	}
}

func formatTime(v any, layout string) string {
	switch t := v.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(layout)
	case *time.Time:
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format(layout)
	}
	return ""
}

// View is what every page template receives: the page's own data in .Data
// and what the layout needs around it.
type View struct {
	Data      any
	Session   *Session // never nil inside Pages; zero when signed out
	CSRFToken string
	RequestID string
	Path      string
}

// Render executes page name into a buffer and only then writes it, so a
// template error is a clean 500 error page, never half a page.
func (k *Kit) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	if err := k.render(w, r, status, name, data); err != nil {
		httpx.Logger(r.Context()).Error("render page", "page", name, "err", err)
		k.Error(w, r, http.StatusInternalServerError, "Something went wrong",
			"We could not show this page. Please try again in a moment.")
	}
}

func (k *Kit) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	p, ok := k.pages[name]
	if !ok {
		return fmt.Errorf("no page %q", name)
	}
	t, err := p.template()
	if err != nil {
		return err
	}
	s := SessionFrom(r.Context())
	if s == nil {
		s = &Session{}
	}
	v := View{Data: data, Session: s, CSRFToken: s.CSRF, RequestID: httpx.RequestID(r.Context()), Path: r.URL.Path}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return err
	}
	setPageHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// ErrorPage is the data of templates/error.html.
type ErrorPage struct {
	Status  int
	Title   string
	Message string
}

// Error renders the friendly error page. Title and Message are shown as
// given (escaped): never pass an internal error's text.
func (k *Kit) Error(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	err := k.render(w, r, status, "error", ErrorPage{Status: status, Title: title, Message: message})
	if err != nil {
		httpx.Logger(r.Context()).Error("render error page", "err", err)
		setPageHeaders(w.Header())
		http.Error(w, title, status)
	}
}

// errorTitles are the error page's headings per identity error code.
var errorTitles = map[string]string{
	identity.EINVALID:      "That did not work",
	identity.ECONFLICT:     "That did not work",
	identity.ENOTFOUND:     "Not found",
	identity.EUNAUTHORIZED: "Please sign in",
	identity.EFORBIDDEN:    "Not allowed",
	identity.ERATELIMITED:  "Too many attempts",
}

// Fail renders the error page for err with the status of the one
// code→status map the JSON APIs use (httpx.StatusOf), so a page and the
// API answer the same failure alike (a conflict is 409 on both). The
// caller-safe message of err is shown for what the user can fix; anything
// else is logged and shown generically.
func (k *Kit) Fail(w http.ResponseWriter, r *http.Request, err error) {
	status := httpx.StatusOf(err)
	title, ok := errorTitles[identity.ErrorCode(err)]
	if !ok || status >= 500 {
		httpx.Logger(r.Context()).Error("page failed", "path", r.URL.Path, "err", err)
		k.Error(w, r, status, "Something went wrong", "We could not complete your request. Please try again in a moment.")
		return
	}
	k.Error(w, r, status, title, identity.ErrorMessage(err))
}

// setPageHeaders sets the headers of every HTML page. Pages are never
// cached: they carry CSRF tokens and personal data.
func setPageHeaders(h http.Header) {
	if !strings.HasPrefix(h.Get("Content-Security-Policy"), CSP[:strings.Index(CSP, "form-action")]) {
		h.Set("Content-Security-Policy", CSP) // unless AllowFormTargets widened ours
	}
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func hashAssets(fsys fs.FS) (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == "demo" {
				return fs.SkipDir // the demo app's own files
			}
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out, err
}
