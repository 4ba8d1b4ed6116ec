package provider

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// request sends method path through the mounted endpoints, in process, as
// from 192.0.2.1, with Basic credentials when id is not "".
func (f *fixture) request(method, path, id, secret string, form url.Values) *httptest.ResponseRecorder {
	f.t.Helper()
	r := mux.NewRouter()
	f.p.Mount(r)
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.1:40000"
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// varying are the parts of an answer that differ from run to run.
var varying = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"(exp|iat)":\d+`), `"$1":0`},
	{regexp.MustCompile(`"sub":"[^"]*"`), `"sub":"USER"`},
	{regexp.MustCompile(`"jti":"[^"]*"`), `"jti":"ID"`},
}

// checkGolden compares body, with varying parts replaced, to
// testdata/golden/name.json (go test -update rewrites it).
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	for _, v := range varying {
		body = v.re.ReplaceAll(body, []byte(v.with))
	}
	golden := filepath.Join("testdata", "golden", name+".json")
	if *update {
		_ = os.WriteFile(golden, body, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update once)", err, t.Name())
	}
	if !bytes.Equal(body, want) {
		t.Errorf("%s: body differs from %s:\n%s", name, golden, body)
	}
}

// TestIntrospectionAnswersGolden pins the RFC 7662 answers: an active
// opaque access token, an API key, a refresh token presented with its hint
// (token_type says so, so a resource server never takes it for an access
// token) and the one inactive answer for everything else.
func TestIntrospectionAnswersGolden(t *testing.T) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), "opaque")
	v := oauth2.GenerateVerifier()
	_, tokens := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
	key, err := apikey.Generate(identity.EnvTest)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.CreateAPIKey(context.Background(), &identity.APIKey{OwnerID: f.user.ID, Name: "ci", Env: identity.EnvTest,
		Prefix: apikey.DisplayPrefix(key), Hash: apikey.Hash(key), Scopes: []string{"read:pets"}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, token, hint string }{
		{"introspect-active-access-token", str(tokens, "access_token"), ""},
		{"introspect-api-key", key, ""},
		{"introspect-refresh-token", str(tokens, "refresh_token"), "refresh_token"},
		{"introspect-inactive", "pst_at_made-up", ""},
	}
	for _, tc := range cases {
		form := url.Values{"token": {tc.token}}
		if tc.hint != "" {
			form.Set("token_type_hint", tc.hint)
		}
		w := f.request(http.MethodPost, "/oauth2/introspect", f.rsID, f.rsSecret, form)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
		}
		checkGolden(t, tc.name, w.Body.Bytes())
	}
}

// TestErrorBodiesGolden pins every error body of the OAuth endpoints that
// pkg/provider writes itself (fosite's own are pinned where they matter,
// TestProtocolBodiesGolden): each is RFC 6749 §5.2 JSON with no-store,
// 401 carries WWW-Authenticate, 429 and 503 carry Retry-After.
func TestErrorBodiesGolden(t *testing.T) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), "opaque")
	v := oauth2.GenerateVerifier()
	code := f.authorize(v, "read:pets")
	if status, body := f.exchange(code, v); status != http.StatusOK {
		t.Fatalf("first redemption: %d %v", status, body)
	}
	web, rs := [2]string{"web", f.secret}, [2]string{f.rsID, f.rsSecret}
	none := [2]string{}
	cases := []struct {
		name         string
		method, path string
		as           [2]string
		form         url.Values
		status       int
		header       string // a header the answer must carry
	}{
		{"token-grant-type-missing", "POST", "/oauth2/token", web, url.Values{}, 400, ""},
		{"token-unsupported-grant-type", "POST", "/oauth2/token", web, url.Values{"grant_type": {"password"}}, 400, ""},
		{"token-no-client", "POST", "/oauth2/token", none, url.Values{"grant_type": {"client_credentials"}}, 401, "WWW-Authenticate"},
		{"token-duplicate-parameter", "POST", "/oauth2/token", web, url.Values{"grant_type": {"client_credentials", "client_credentials"}}, 400, ""},
		{"token-parameters-in-url", "POST", "/oauth2/token?code=x", web, url.Values{"grant_type": {"authorization_code"}}, 400, ""},
		{"token-scope-too-long", "POST", "/oauth2/token", web, url.Values{"grant_type": {"client_credentials"}, "scope": {strings.Repeat("a", identity.MaxScopeLength+1)}}, 400, ""},
		{"token-code-reused", "POST", "/oauth2/token", web, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}, 400, ""},
		{"token-method-not-allowed", "GET", "/oauth2/token", none, nil, 405, "Allow"},
		{"introspect-invalid-client", "POST", "/oauth2/introspect", [2]string{f.rsID, "wrong"}, url.Values{"token": {"x"}}, 401, "WWW-Authenticate"},
		{"introspect-not-a-resource-server", "POST", "/oauth2/introspect", web, url.Values{"token": {"x"}}, 403, ""},
		{"introspect-token-missing", "POST", "/oauth2/introspect", rs, url.Values{}, 400, ""},
		{"revoked-jwts-bad-since", "GET", "/oauth2/revoked-jwts?since=yesterday", rs, nil, 400, ""},
	}
	for _, tc := range cases {
		w := f.request(tc.method, tc.path, tc.as[0], tc.as[1], tc.form)
		checkError(t, tc.name, w, tc.status, tc.header)
	}

	// Over a budget: 429 with Retry-After (limit.go).
	f.p.cfg.RateLimitPerIP = 1
	f.request(http.MethodPost, "/oauth2/token", "", "", url.Values{})
	checkError(t, "token-rate-limited", f.request(http.MethodPost, "/oauth2/token", "", "", url.Values{}), 429, "Retry-After")
	f.p.cfg.RateLimitPerIP = 0

	// The database is gone: 503 with Retry-After, never invalid_client.
	f.advance(10 * time.Minute) // past the client cache
	f.st.Close()
	checkError(t, "token-unavailable", f.request(http.MethodPost, "/oauth2/token", "web", f.secret, url.Values{"grant_type": {"client_credentials"}}), 503, "Retry-After")
}

func checkError(t *testing.T, name string, w *httptest.ResponseRecorder, status int, header string) {
	t.Helper()
	if w.Code != status || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("%s: %d Content-Type=%q Cache-Control=%q, want %d, JSON, no-store", name, w.Code,
			w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"), status)
	}
	if header != "" && w.Header().Get(header) == "" {
		t.Errorf("%s: no %s header", name, header)
	}
	checkGolden(t, name, w.Body.Bytes())
}
