package demo

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const (
	testClientID     = "myapp"
	testClientSecret = "s3cret:with&odd chars"
)

// fakeAS plays the authorization server's token and revocation endpoints
// and decides which tokens the fake API accepts.
type fakeAS struct {
	t      *testing.T
	mu     sync.Mutex
	issuer string
	n      int
	codes  map[string]string // code → code_challenge
	// scope granted for new codes; "" means the response omits "scope"
	grantScope string
	access     map[string]bool // live access tokens
	refresh    map[string]bool // live refresh tokens
	issued     []string        // every token ever issued
	exchanges  int
	refreshes  int
	revoked    []url.Values
}

func (f *fakeAS) newToken(kind string) string {
	f.n++
	t := fmt.Sprintf("%s_SECRET_%d_%d", kind, f.n, time.Now().UnixNano())
	f.issued = append(f.issued, t)
	return t
}

// issueCode records the challenge of an authorization request and returns
// the code the server would send back.
func (f *fakeAS) issueCode(challenge string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.newToken("code")
	f.codes[c] = challenge
	return c
}

// expireAccess makes every access token fail at the API, as after expiry.
func (f *fakeAS) expireAccess() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.access)
}

// revokeGrant kills every token, as when the user removes MyApp in their
// PetStore account.
func (f *fakeAS) revokeGrant() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.access)
	clear(f.refresh)
}

func (f *fakeAS) stats() (exchanges, refreshes int, revoked []url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exchanges, f.refreshes, append([]url.Values(nil), f.revoked...)
}

func (f *fakeAS) oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func (f *fakeAS) clientOK(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return false
	}
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	return id == testClientID && secret == testClientSecret
}

func (f *fakeAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !f.clientOK(r) {
		f.oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/oauth2/token":
		var scope string
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			f.exchanges++
			challenge, ok := f.codes[r.PostForm.Get("code")]
			delete(f.codes, r.PostForm.Get("code"))
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
				f.oauthError(w, http.StatusBadRequest, "invalid_grant")
				return
			}
			scope = f.grantScope
		case "refresh_token":
			f.refreshes++
			rt := r.PostForm.Get("refresh_token")
			if !f.refresh[rt] {
				f.oauthError(w, http.StatusBadRequest, "invalid_grant")
				return
			}
			delete(f.refresh, rt) // rotation
		default:
			f.oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
			return
		}
		at, rt := f.newToken("at"), f.newToken("rt")
		f.access[at], f.refresh[rt] = true, true
		resp := map[string]any{"access_token": at, "token_type": "bearer", "expires_in": 900, "refresh_token": rt}
		if scope != "" {
			resp["scope"] = scope
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(resp)
	case "/oauth2/revoke":
		f.revoked = append(f.revoked, r.PostForm)
		delete(f.access, r.PostForm.Get("token"))
		delete(f.refresh, r.PostForm.Get("token"))
		w.WriteHeader(http.StatusOK)
	default:
		http.NotFound(w, r)
	}
}

// fakeAPI is the PetStore API: it accepts the live access tokens of as.
type fakeAPI struct {
	as    *fakeAS
	mu    sync.Mutex
	pets  []Pet
	calls int
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.as.mu.Lock()
	live := a.as.access[tok]
	scope := a.as.grantScope
	a.as.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !live {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"unauthorized","error_description":"Invalid token"}`)
		return
	}
	switch {
	case r.URL.Path == "/v1/pets" && r.Method == http.MethodGet:
		_ = json.NewEncoder(w).Encode(map[string]any{"pets": a.pets, "next": nil})
	case r.URL.Path == "/v1/pets" && r.Method == http.MethodPost:
		if scope != "" && !strings.Contains(scope, "write:pets") {
			w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error":"forbidden","error_description":"Insufficient scope: this call needs write:pets"}`)
			return
		}
		var p Pet
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		p.ID = fmt.Sprintf("pet_%d", len(a.pets)+1)
		a.pets = append(a.pets, p)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(p)
	default:
		http.NotFound(w, r)
	}
}

func (a *fakeAPI) callCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// env is MyApp running against the fakes, with a browser-like client that
// keeps cookies, does not follow redirects and records every response so
// that each test can prove no token reached the browser.
type env struct {
	t       *testing.T
	as      *fakeAS
	api     *fakeAPI
	asSrv   *httptest.Server
	apiSrv  *httptest.Server
	app     *httptest.Server
	h       *Handler
	browser *http.Client

	mu   sync.Mutex
	seen []string // bodies and Set-Cookie headers the browser received
	logs lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t}
	e.as = &fakeAS{t: t, codes: map[string]string{}, access: map[string]bool{}, refresh: map[string]bool{},
		grantScope: "read:pets write:pets offline_access"}
	e.api = &fakeAPI{as: e.as, pets: []Pet{{ID: "pet_0", Name: "Biscuit", Species: "dog", Age: 3,
		CreatedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}}}
	e.asSrv = httptest.NewServer(e.as)
	e.apiSrv = httptest.NewServer(e.api)
	t.Cleanup(e.asSrv.Close)
	t.Cleanup(e.apiSrv.Close)
	e.as.issuer = e.asSrv.URL

	pages, err := LoadPages(webtest.Files())
	if err != nil {
		t.Fatal(err)
	}
	static, err := fs.Sub(webtest.Files(), "static/demo")
	if err != nil {
		t.Fatal(err)
	}
	e.app = httptest.NewUnstartedServer(nil) // its address is known before it starts
	e.h = &Handler{
		Config: Config{
			Listen: "127.0.0.1:0", PublicURL: "http://" + e.app.Listener.Addr().String(), Issuer: e.asSrv.URL, APIURL: e.apiSrv.URL,
			ClientID: testClientID, ClientSecret: testClientSecret, Scopes: Scopes{"read:pets", "write:pets", "offline_access"}, // OAuth only; OpenID Connect: cmd/petstore-auth tests
		},
		Pages: pages, Static: static,
		Logger: slog.New(slog.NewTextHandler(&e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if err := e.h.Config.Validate(); err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	e.h.Mount(r)
	e.app.Config.Handler = r
	e.app.Start()
	t.Cleanup(e.app.Close)

	jar, _ := cookiejar.New(nil)
	e.browser = &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(e.assertNoTokenLeak)
	return e
}

// page is a response as the browser saw it.
type page struct {
	status   int
	location string
	body     string
	cookies  []string
}

func (e *env) do(req *http.Request) page {
	e.t.Helper()
	resp, err := e.browser.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b), cookies: resp.Header.Values("Set-Cookie")}
	e.mu.Lock()
	e.seen = append(append(e.seen, p.body, p.location), p.cookies...)
	e.mu.Unlock()
	return p
}

func (e *env) get(path string) page {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+path, nil)
	return e.do(req)
}

func (e *env) post(path string, form url.Values, header http.Header) page {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.app.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return e.do(req)
}

// authRequest is what MyApp sent to /oauth2/auth.
type authRequest struct{ url.Values }

// startConnect presses "Connect with PetStore".
func (e *env) startConnect() authRequest {
	e.t.Helper()
	p := e.get("/connect")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, e.asSrv.URL+"/oauth2/auth?") {
		e.t.Fatalf("connect: status %d, location %q", p.status, p.location)
	}
	u, _ := url.Parse(p.location)
	return authRequest{u.Query()}
}

// approve is the server's successful answer to an authorization request.
func (e *env) approve(ar authRequest) url.Values {
	return url.Values{"code": {e.as.issueCode(ar.Get("code_challenge"))}, "state": {ar.Get("state")}, "iss": {e.asSrv.URL}}
}

func (e *env) callback(q url.Values) page {
	e.t.Helper()
	return e.get("/callback?" + q.Encode())
}

// connect runs the whole happy path and returns the home page after it.
func (e *env) connect() page {
	e.t.Helper()
	cb := e.callback(e.approve(e.startConnect()))
	if cb.status != http.StatusSeeOther || cb.location != "/" {
		e.t.Fatalf("callback: status %d, location %q, body %s", cb.status, cb.location, cb.body)
	}
	return e.get("/")
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", p.body)
	}
	return m[1]
}

// assertNoTokenLeak checks that no code, access or refresh token issued by
// the fake server ever appeared in a body, Location or Set-Cookie.
func (e *env) assertNoTokenLeak() {
	e.as.mu.Lock()
	issued := append([]string(nil), e.as.issued...)
	e.as.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	logs := e.logs.String()
	for _, tok := range issued {
		if strings.Contains(logs, tok) {
			e.t.Errorf("token %s was logged", tok)
		}
		if strings.HasPrefix(tok, "code_") {
			continue // the code travels through the browser by design
		}
		for _, s := range e.seen {
			if i := strings.Index(s, tok); i >= 0 {
				e.t.Errorf("token %s reached the browser: …%s…", tok, s[max(0, i-60):i+len(tok)])
			}
		}
	}
}
