package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

const (
	spaRedirect    = "https://spa.example/callback"
	spaOrigin      = "https://spa.example"
	spaExtraOrigin = "http://127.0.0.1:5173"
)

// addSPA registers a public client for a single-page app: its redirect
// URI's origin and one extra allowed origin.
func (f *fixture) addSPA() *identity.Client {
	f.t.Helper()
	c := &identity.Client{ID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{spaRedirect},
		AllowedOrigins: []string{spaExtraOrigin},
		GrantTypes:     []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "offline_access"}, TokenFormat: "opaque"}
	if err := c.Validate(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.CreateClient(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
	f.p.ClientsChanged()
	return c
}

// spaCode gets a code for the SPA client the way the web package does
// after login and consent.
func (f *fixture) spaCode(verifier string) string {
	f.t.Helper()
	ctx := context.Background()
	g, err := f.st.UpsertGrant(ctx, f.user.ID, "spa", []string{"read:pets", "offline_access"}, true)
	if err != nil {
		f.t.Fatal(err)
	}
	q := url.Values{"response_type": {"code"}, "client_id": {"spa"}, "redirect_uri": {spaRedirect},
		"scope": {"read:pets offline_access"}, "state": {"state-12345678"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	req, _ := http.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil)
	ar, err := f.p.OAuth2.NewAuthorizeRequest(ctx, req)
	if err != nil {
		f.t.Fatalf("authorize request: %v", err)
	}
	ar.GrantScope("read:pets")
	ar.GrantScope("offline_access")
	resp, err := f.p.OAuth2.NewAuthorizeResponse(ctx, ar, NewSession(f.user.ID, g.ID))
	if err != nil {
		f.t.Fatalf("authorize response: %v", err)
	}
	return resp.GetParameters().Get("code")
}

// do sends a request with an Origin header, as a browser would.
func (f *fixture) do(method, path, origin string, form url.Values, hdr map[string]string) *http.Response {
	f.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, f.ts.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { res.Body.Close() })
	return res
}

func preflightHeaders() map[string]string {
	return map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, dpop"}
}

// TestCORSPreflight: a preflight to token or revoke from a public client's
// origin (of a redirect URI, or added with --allowed-origin) answers 204
// with that exact origin; any other origin, a confidential client's
// redirect origin included, gets 204 without CORS headers.
func TestCORSPreflight(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		f.addSPA()
		for _, path := range []string{"/oauth2/token", "/oauth2/revoke"} {
			tests := []struct {
				name, origin string
				allowed      bool
			}{
				{"redirect URI origin", spaOrigin, true},
				{"allowed origin", spaExtraOrigin, true},
				{"other origin", "https://evil.example", false},
				{"confidential client's redirect origin", "https://app.example", false},
				{"origin with another port", "https://spa.example:8443", false},
				{"null origin", "null", false},
			}
			for _, tc := range tests {
				t.Run(path+"/"+tc.name, func(t *testing.T) {
					res := f.do(http.MethodOptions, path, tc.origin, nil, preflightHeaders())
					if res.StatusCode != http.StatusNoContent {
						t.Fatalf("status %d, want 204", res.StatusCode)
					}
					checkPreflight(t, res.Header, tc.origin, tc.allowed)
				})
			}
		}
		// Introspection is for resource servers, never for browsers.
		res := f.do(http.MethodOptions, "/oauth2/introspect", spaOrigin, nil, preflightHeaders())
		if res.Header.Get("Access-Control-Allow-Origin") != "" || res.StatusCode == http.StatusNoContent {
			t.Errorf("introspect preflight: %d %v", res.StatusCode, res.Header)
		}
	})
}

// checkPreflight checks the CORS headers of a preflight's 204.
func checkPreflight(t *testing.T, h http.Header, origin string, allowed bool) {
	t.Helper()
	if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Errorf("no Vary: Origin: %v", h)
	}
	if !allowed {
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("disallowed origin got %s: %s", k, h.Get(k))
			}
		}
		return
	}
	if got := h.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("Allow-Origin %q, want %q", got, origin)
	}
	if got := h.Get("Access-Control-Allow-Methods"); got != "POST" {
		t.Errorf("Allow-Methods %q", got)
	}
	if got := h.Get("Access-Control-Allow-Headers"); got != "Content-Type, Authorization, DPoP" {
		t.Errorf("Allow-Headers %q", got)
	}
	if h.Get("Access-Control-Max-Age") == "" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("Max-Age %q, Allow-Credentials %q", h.Get("Access-Control-Max-Age"), h.Get("Access-Control-Allow-Credentials"))
	}
}

// TestCORSTokenExchange: the actual POST carries Access-Control-Allow-Origin
// only when the Origin belongs to the client the request names, so a page
// on another client's origin cannot read the answer.
func TestCORSTokenExchange(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		f.addSPA()
		exchange := func(origin string) (*http.Response, map[string]any) {
			v := oauth2.GenerateVerifier()
			res := f.do(http.MethodPost, "/oauth2/token", origin, url.Values{"grant_type": {"authorization_code"},
				"client_id": {"spa"}, "code": {f.spaCode(v)}, "redirect_uri": {spaRedirect}, "code_verifier": {v}}, nil)
			var m map[string]any
			_ = json.NewDecoder(res.Body).Decode(&m)
			return res, m
		}
		for _, origin := range []string{spaOrigin, spaExtraOrigin} {
			res, m := exchange(origin)
			if res.StatusCode != 200 || str(m, "access_token") == "" {
				t.Fatalf("exchange from %s: %d %v", origin, res.StatusCode, m)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("exchange from %s: Allow-Origin %q", origin, got)
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("token response without no-store")
			}
			// Revocation from the same page.
			rv := f.do(http.MethodPost, "/oauth2/revoke", origin, url.Values{"client_id": {"spa"}, "token": {str(m, "refresh_token")}}, nil)
			if rv.StatusCode != 200 || rv.Header.Get("Access-Control-Allow-Origin") != origin {
				t.Errorf("revoke from %s: %d, Allow-Origin %q", origin, rv.StatusCode, rv.Header.Get("Access-Control-Allow-Origin"))
			}
		}

		checkCORSOtherOrigins(t, f, exchange)
		checkNoCORSForConfidential(t, f)

		// A disabled SPA loses its origins once the change is seen.
		spa, _ := f.st.ClientByID(context.Background(), "spa")
		spa.Disabled = true
		if err := f.st.UpdateClient(context.Background(), spa); err != nil {
			t.Fatal(err)
		}
		f.p.ClientsChanged()
		if res := f.do(http.MethodOptions, "/oauth2/token", spaOrigin, nil, preflightHeaders()); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("disabled client's origin still allowed")
		}
	})
}

// TestCORSOriginsFollowClientChanges: the cached origin set is reloaded
// after ClientsChanged, and at the latest after the TTL for changes made by
// another process.
func TestCORSOriginsFollowClientChanges(t *testing.T) {
	f := newFixture(t, "sqlite://"+t.TempDir()+"/p.db", "opaque")
	if res := f.do(http.MethodOptions, "/oauth2/token", spaOrigin, nil, preflightHeaders()); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("origin allowed before any client has it")
	}
	// Another process (the CLI) registers the client: seen after the TTL.
	c := &identity.Client{ID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{spaRedirect},
		GrantTypes: []string{"authorization_code"}, TokenFormat: "opaque"}
	if err := f.st.CreateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	f.advance(corsOriginsTTL + 1)
	if res := f.do(http.MethodOptions, "/oauth2/token", spaOrigin, nil, preflightHeaders()); res.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Fatal("new client's origin not seen after the TTL")
	}
	c.AllowedOrigins = []string{spaExtraOrigin}
	if err := f.st.UpdateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	f.p.ClientsChanged()
	if res := f.do(http.MethodOptions, "/oauth2/token", spaExtraOrigin, nil, preflightHeaders()); res.Header.Get("Access-Control-Allow-Origin") != spaExtraOrigin {
		t.Fatal("added origin not seen after ClientsChanged")
	}
}

// TestCORSPublicDocuments: metadata and JWKS are public, credential-free
// documents: any origin may read them.
func TestCORSPublicDocuments(t *testing.T) {
	f := newFixture(t, "sqlite://"+t.TempDir()+"/p.db", "opaque")
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/jwks.json"} {
		res := f.do(http.MethodGet, path, "https://anyone.example", nil, nil)
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("GET %s: %d, Allow-Origin %q", path, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
		res = f.do(http.MethodOptions, path, "https://anyone.example", nil, map[string]string{"Access-Control-Request-Method": "GET"})
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("OPTIONS %s: %d, Allow-Origin %q", path, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	// The revocation list needs a resource server's credentials: no CORS.
	res := f.do(http.MethodGet, "/oauth2/revoked-jwts", "https://anyone.example", nil, nil)
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("revoked-jwts has CORS")
	}
}

// TestCORSBodyReachesHandler: reading the client_id for CORS leaves the body
// intact, so the handler's own checks (duplicates, size) still apply.
func TestCORSBodyReachesHandler(t *testing.T) {
	f := newFixture(t, "sqlite://"+t.TempDir()+"/p.db", "opaque")
	f.addSPA()
	res := f.do(http.MethodPost, "/oauth2/token", spaOrigin, url.Values{"grant_type": {"authorization_code"}, "client_id": {"spa", "spa"}}, nil)
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != 400 || !strings.Contains(str(m, "error_description"), "more than once") {
		t.Fatalf("duplicated client_id: %d %v", res.StatusCode, m)
	}
}

func basic(id, secret string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return req.Header.Get("Authorization")
}

// checkCORSOtherOrigins: a request naming the SPA from any origin but its
// own is answered without Allow-Origin, so the browser hides the answer.
func checkCORSOtherOrigins(t *testing.T, f *fixture, exchange func(origin string) (*http.Response, map[string]any)) {
	t.Helper()
	// Another origin: the server answers, the browser hides it.
	res, _ := exchange("https://evil.example")
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin got Allow-Origin %q", got)
	}
	// Another public client's origin passes the preflight (it names no
	// client) but gets nothing on a request naming this client.
	other := &identity.Client{ID: "spa2", Name: "SPA 2", Public: true, RedirectURIs: []string{"https://other-spa.example/cb"},
		GrantTypes: []string{"authorization_code"}, TokenFormat: "opaque"}
	if err := f.st.CreateClient(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	f.p.ClientsChanged()
	if pre := f.do(http.MethodOptions, "/oauth2/token", "https://other-spa.example", nil, preflightHeaders()); pre.Header.Get("Access-Control-Allow-Origin") != "https://other-spa.example" {
		t.Errorf("preflight from another public client's origin refused")
	}
	res, _ = exchange("https://other-spa.example")
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("another public client's origin got Allow-Origin %q on a request naming spa", got)
	}
	// The confidential client's redirect origin is not the SPA's.
	res, _ = exchange("https://app.example")
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("confidential client's origin got Allow-Origin %q on a SPA request", got)
	}
}

// checkNoCORSForConfidential: a confidential client never gets CORS, even
// from its own redirect URI's origin: its secret does not belong in a
// browser.
func checkNoCORSForConfidential(t *testing.T, f *fixture) {
	t.Helper()
	v := oauth2.GenerateVerifier()
	req := url.Values{"grant_type": {"authorization_code"}, "code": {f.authorize(v, "read:pets")}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
	cres := f.do(http.MethodPost, "/oauth2/token", "https://app.example", req, map[string]string{"Authorization": basic("web", f.secret)})
	if cres.StatusCode != 200 || cres.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("confidential client: %d, Allow-Origin %q", cres.StatusCode, cres.Header.Get("Access-Control-Allow-Origin"))
	}
	pre := f.do(http.MethodOptions, "/oauth2/token", "https://app.example", nil, preflightHeaders())
	if pre.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("confidential client's redirect origin passed the preflight")
	}
}
