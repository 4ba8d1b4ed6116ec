package securitytest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestAT01_JWTAccessTokenProfile(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	tok := e.clientCredentials(e.jwt, "read:pets write:pets")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.20s", tok)
	}
	var hdr, claims map[string]any
	for i, dst := range []*map[string]any{&hdr, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			t.Fatalf("part %d does not decode", i)
		}
	}
	if hdr["typ"] != "at+jwt" || hdr["kid"] == nil || hdr["alg"] == "none" || strings.HasPrefix(hdr["alg"].(string), "HS") {
		t.Errorf("header %v", hdr)
	}
	aud, _ := claims["aud"].([]any)
	if claims["iss"] != e.cfg.Issuer || claims["client_id"] != e.jwt.ID || claims["sub"] == nil || claims["jti"] == nil ||
		claims["scope"] != "read:pets write:pets" || claims["exp"] == nil || claims["iat"] == nil {
		t.Errorf("claims %v", claims)
	}
	// RFC 8707: the audience is the default resource, the API's URL.
	if want := e.cfg.Resources[0].Identifier; claims["aud"] != want && (len(aud) != 1 || aud[0] != want) {
		t.Errorf("aud %v", claims["aud"])
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat > 15*60 {
		t.Errorf("lifetime %v s, want at most 15 min", exp-iat)
	}
	if r := e.api(http.MethodGet, "/v1/pets", tok, ""); r.status != http.StatusOK {
		t.Errorf("the API refuses the JWT: %d %s", r.status, r.body)
	}
}

// Login, consent, error and authorization pages: not frameable, no
// referrer, no caching, strict CSP (WB-12, WB-13).
func TestWB12_ClickjackingAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	b := e.browser()
	v := oauth2.GenerateVerifier()
	login := b.Get(e.authURL(e.web, webCallback, v, nil))
	consent := e.signIn(b, login, e.alice)
	pages := map[string]page{
		"login": login, "consent": consent,
		"error": b.Get(e.authURL(e.web, "https://evil.example/cb", v, nil)),
		"404":   b.Get(e.as.URL + "/no/such/page"),
	}
	for name, p := range pages {
		h := p.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s (%d): frameable: CSP %q XFO %q", name, p.Status, csp, h.Get("X-Frame-Options"))
		}
		if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: Referrer-Policy %q nosniff %q", name, h.Get("Referrer-Policy"), h.Get("X-Content-Type-Options"))
		}
		if name == "login" || name == "consent" {
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(h.Get("Cache-Control"), "no-store") {
				t.Errorf("%s: CSP %q Cache-Control %q", name, csp, h.Get("Cache-Control"))
			}
		}
	}
}
