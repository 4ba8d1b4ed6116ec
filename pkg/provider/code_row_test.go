package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ory/fosite"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// rowCounts counts the rows of the code's three tables.
func (f *fixture) rowCounts() (codes, pkce, oidc int) {
	f.t.Helper()
	for _, c := range []struct {
		table string
		n     *int
	}{{"authorize_codes", &codes}, {"pkce_requests", &pkce}, {"oidc_requests", &oidc}} {
		if err := f.st.DB().QueryRow(`SELECT count(*) FROM ` + c.table).Scan(c.n); err != nil {
			f.t.Fatal(err)
		}
	}
	return codes, pkce, oidc
}

// openIDCode authorizes an openid client through authorize (a
// fosite.OAuth2Provider: the provider's, or fosite's own underneath) and
// returns the client's secret and the code for verifier.
func (f *fixture) openIDCode(authorize fosite.OAuth2Provider, verifier string) (string, string) {
	f.t.Helper()
	ctx := context.Background()
	secret, hash := identity.NewClientSecret()
	id := "rp-" + strings.ToLower(oauth2.GenerateVerifier()[:8])
	if err := f.st.CreateClient(ctx, &identity.Client{ID: id, Name: "RP", SecretHash: hash, RedirectURIs: []string{redirectURI},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid", "read:pets"}, TokenFormat: "opaque"}); err != nil {
		f.t.Fatal(err)
	}
	g, err := f.st.UpsertGrant(ctx, f.user.ID, id, []string{"openid", "read:pets"}, true)
	if err != nil {
		f.t.Fatal(err)
	}
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirectURI}, "scope": {"openid read:pets"},
		"state": {"state-12345678"}, "nonce": {"nonce-of-the-code"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	req := httptest.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil)
	ar, err := authorize.NewAuthorizeRequest(ctx, req)
	if err != nil {
		f.t.Fatalf("authorize request: %v", err)
	}
	ar.GrantScope("openid")
	ar.GrantScope("read:pets")
	resp, err := authorize.NewAuthorizeResponse(ctx, ar, NewSession(f.user.ID, g.ID))
	if err != nil {
		f.t.Fatalf("authorize response: %v", err)
	}
	return id + ":" + secret, resp.GetParameters().Get("code")
}

// redeemOpenID exchanges code and checks the ID token echoes the nonce; it
// returns the status of a second redemption.
func (f *fixture) redeemOpenID(creds, code, verifier string) int {
	f.t.Helper()
	id, secret, _ := strings.Cut(creds, ":")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	res, body := f.post("/oauth2/token", id, secret, form)
	var tok map[string]any
	_ = json.Unmarshal(body, &tok)
	if res.StatusCode != http.StatusOK {
		f.t.Fatalf("exchange: %d %s", res.StatusCode, body)
	}
	c, why := f.p.verifyIDToken(str(tok, "id_token"))
	if why != "" {
		f.t.Fatalf("id_token: %s", why)
	}
	if nonce := idTokenNonce(f.t, str(tok, "id_token")); nonce != "nonce-of-the-code" || c.Subject != f.user.ID {
		f.t.Errorf("id_token nonce %q sub %q; want the request's nonce and the user", nonce, c.Subject)
	}
	again, _ := f.post("/oauth2/token", id, secret, form)
	return again.StatusCode
}

func idTokenNonce(t testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	var c struct {
		Nonce string `json:"nonce"`
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[min(len(parts)-1, 1)])
	if len(parts) != 3 || err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("not a JWT: %q", tok)
	}
	return c.Nonce
}

// TestCodeIsOneRow: a code with PKCE and openid is one authorize_codes row
// (no pkce_requests or oidc_requests rows); it redeems once, with the
// nonce in its ID token, and a wrong verifier burns it.
func TestCodeIsOneRow(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		v := oauth2.GenerateVerifier()
		creds, code := f.openIDCode(f.p.OAuth2, v)
		if codes, pkce, oidc := f.rowCounts(); codes != 1 || pkce != 0 || oidc != 0 {
			t.Fatalf("rows: %d codes, %d PKCE, %d OpenID Connect; want 1, 0, 0", codes, pkce, oidc)
		}
		if again := f.redeemOpenID(creds, code, v); again != http.StatusBadRequest {
			t.Errorf("second redemption: %d, want 400", again)
		}
		id, secret, _ := strings.Cut(creds, ":")
		_, code = f.openIDCode(f.p.OAuth2, v)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}
		for _, verifier := range []string{oauth2.GenerateVerifier(), v} {
			form.Set("code_verifier", verifier)
			if res, body := f.post("/oauth2/token", id, secret, form); res.StatusCode != http.StatusBadRequest {
				t.Errorf("verifier %q: %d %s; want 400 (a wrong verifier burns the code)", verifier, res.StatusCode, body)
			}
		}
	})
}

// TestCodeStoredTheOldWay: a code stored as three rows (by an earlier
// release) still redeems, once, and leaves no PKCE or OpenID Connect row.
func TestCodeStoredTheOldWay(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		v := oauth2.GenerateVerifier()
		creds, code := f.openIDCode(f.p.fosite, v)
		if codes, pkce, oidc := f.rowCounts(); codes != 1 || pkce != 1 || oidc != 1 {
			t.Fatalf("rows: %d codes, %d PKCE, %d OpenID Connect; want one each", codes, pkce, oidc)
		}
		if again := f.redeemOpenID(creds, code, v); again != http.StatusBadRequest {
			t.Errorf("second redemption: %d, want 400", again)
		}
		if _, pkce, oidc := f.rowCounts(); pkce != 0 || oidc != 0 {
			t.Errorf("after the redemption: %d PKCE, %d OpenID Connect rows; want none", pkce, oidc)
		}
	})
}
