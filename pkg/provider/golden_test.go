package provider

import (
	"bytes"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// post sends form to path with Basic credentials and returns the answer.
func (f *fixture) post(path, user, pass string, form url.Values) (*http.Response, []byte) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(user, pass)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestProtocolBodiesGolden pins the JSON bodies of issue 12's answers
// (testdata/golden/*.json; go test -update rewrites them): the revocation
// success `{}` (RFC 7009 §2.2) and the errors the token and revocation
// endpoints now give, each with its status and a JSON Content-Type.
func TestProtocolBodiesGolden(t *testing.T) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), "opaque")
	v := oauth2.GenerateVerifier()
	_, first := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
	access, rt := str(first, "access_token"), str(first, "refresh_token")
	refresh := func(scope string) (*http.Response, []byte) {
		return f.post("/oauth2/token", "web", f.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {scope}})
	}
	cases := []struct {
		name   string
		send   func() (*http.Response, []byte)
		status int
	}{
		// First, while the access token is live (a refresh revokes it).
		{"revoke-unauthorized-client", func() (*http.Response, []byte) {
			return f.post("/oauth2/revoke", f.rsID, f.rsSecret, url.Values{"token": {access}})
		}, 400},
		{"token-refresh-invalid-scope", func() (*http.Response, []byte) { return refresh("read:pets write:pets") }, 400},
		{"token-refresh-replay-other-scope", func() (*http.Response, []byte) {
			if res, b := refresh("read:pets"); res.StatusCode != 200 {
				t.Fatalf("narrowing refresh: %d %s", res.StatusCode, b)
			}
			return refresh("offline_access")
		}, 400},
		{"token-redirect-uri-not-registered", func() (*http.Response, []byte) {
			v := oauth2.GenerateVerifier()
			return f.post("/oauth2/token", "web", f.secret, url.Values{"grant_type": {"authorization_code"}, "code": {f.authorizeNoRedirect(v)},
				"redirect_uri": {"https://app.example/other"}, "code_verifier": {v}})
		}, 400},
		{"revoke-invalid-client", func() (*http.Response, []byte) {
			return f.post("/oauth2/revoke", "web", "wrong-secret", url.Values{"token": {access}})
		}, 401},
		{"revoke-ok", func() (*http.Response, []byte) {
			return f.post("/oauth2/revoke", "web", f.secret, url.Values{"token": {access}})
		}, 200},
	}
	for _, tc := range cases {
		res, got := tc.send()
		if res.StatusCode != tc.status || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d Content-Type=%q Cache-Control=%q, want %d, JSON, no-store", tc.name, res.StatusCode,
				res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), tc.status)
		}
		golden := filepath.Join("testdata", "golden", tc.name+".json")
		if *update {
			_ = os.MkdirAll(filepath.Dir(golden), 0o755)
			_ = os.WriteFile(golden, got, 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -run TestProtocolBodiesGolden -update once)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: body differs from %s:\n%s", tc.name, golden, got)
		}
	}
}

// authorizeNoRedirect is authorize for a request without redirect_uri
// (fosite then takes the one registered URI and checks none at the token
// endpoint; we do).
func (f *fixture) authorizeNoRedirect(verifier string) string {
	f.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "scope": {"read:pets"}, "state": {"state-12345678"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	req := httptest.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil)
	ar, err := f.p.OAuth2.NewAuthorizeRequest(req.Context(), req)
	if err != nil {
		f.t.Fatalf("authorize request: %v", err)
	}
	ar.GrantScope("read:pets")
	resp, err := f.p.OAuth2.NewAuthorizeResponse(req.Context(), ar, NewSession(f.user.ID, f.grant.ID))
	if err != nil {
		f.t.Fatalf("authorize response: %v", err)
	}
	return resp.GetParameters().Get("code")
}
