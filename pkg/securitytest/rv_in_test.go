package securitytest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/config"
)

func TestRV01_RevocationFamilySemantics(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		tk := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		if r := e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.refresh}, "token_type_hint": {"refresh_token"}}); r.status != http.StatusOK {
			t.Fatalf("revoke refresh token: %d", r.status)
		}
		e.wantInactive("revoked refresh token", tk.refresh)
		e.wantInactive("access token of the revoked refresh token", tk.access)
		// Revoking an access token also ends its refresh token (documented).
		tk = e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		if r := e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.access}}); r.status != http.StatusOK {
			t.Fatalf("revoke access token: %d", r.status)
		}
		e.wantInactive("revoked access token", tk.access)
		e.wantInactive("refresh token of the revoked access token", tk.refresh)
	})
}

func TestRV02_RevocationNeedsAuthentication(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	at := e.clientCredentials(e.svc, "read:pets")
	wantTokenError(t, "no credentials", e.post("/oauth2/revoke", client{}, url.Values{"token": {at}}), http.StatusUnauthorized, "invalid_client")
	wantTokenError(t, "wrong secret", e.post("/oauth2/revoke", client{ID: e.svc.ID, Secret: "pst_cs_x"}, url.Values{"token": {at}}), http.StatusUnauthorized, "invalid_client")
	e.wantActive("token after refused revocations", at)
}

// fosite answers another client's revocation like one of an unknown
// token (RFC 7009 §2.2: no error the caller could use to probe tokens);
// what counts is that the token stays alive.
func TestRV03_CrossClientRevocation(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		tk := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		for _, tok := range []string{tk.access, tk.refresh} {
			// RFC 7009 §2.1: refused, and the client is told (issue 12, item 2).
			wantTokenError(t, "another client's revocation", e.post("/oauth2/revoke", e.other, url.Values{"token": {tok}}), http.StatusBadRequest, "unauthorized_client")
		}
		e.wantActive("access token after another client's attempt", tk.access)
		e.wantActive("refresh token after another client's attempt", tk.refresh)
	})
}

func TestRV04_UnknownOrInvalidTokens(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		tk := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		for name, tok := range map[string]string{"unknown": "pst_at_unknown.token", "malformed": "%%%not a token", "api-key-like": "sk_test_nope"} {
			if r := e.post("/oauth2/revoke", e.web, url.Values{"token": {tok}}); r.status != http.StatusOK {
				t.Errorf("%s token: %d %s", name, r.status, r.body)
			}
		}
		if r := e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.refresh}, "token_type_hint": {"access_token"}}); r.status != http.StatusOK {
			t.Fatalf("refresh token with a wrong hint: %d", r.status)
		}
		e.wantInactive("refresh token revoked with a wrong hint", tk.refresh)
		if r := e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.refresh}}); r.status != http.StatusOK {
			t.Errorf("already revoked: %d", r.status)
		}
	})
}

// A storage failure while revoking is never a 200; after recovery the
// retry revokes.
func TestRV05_StorageFailureDuringRevocation(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		tk := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		db := e.srv.Store.DB()
		for _, tbl := range []string{"refresh_tokens", "access_tokens"} {
			if _, err := db.Exec("ALTER TABLE " + tbl + " RENAME TO " + tbl + "_away"); err != nil {
				t.Fatal(err)
			}
		}
		r := e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.refresh}})
		for _, tbl := range []string{"refresh_tokens", "access_tokens"} {
			if _, err := db.Exec("ALTER TABLE " + tbl + "_away RENAME TO " + tbl); err != nil {
				t.Fatal(err)
			}
		}
		if r.status == http.StatusOK || r.status < 500 {
			t.Fatalf("revocation with the database failing answered %d %s, want 5xx", r.status, r.body)
		}
		e.wantActive("refresh token after the failed revocation", tk.refresh)
		if r := e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.refresh}}); r.status != http.StatusOK {
			t.Fatalf("retry: %d", r.status)
		}
		e.wantInactive("refresh token after the retry", tk.refresh)
	})
}

func TestRV06_ImmediateEffect(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		at := e.clientCredentials(e.svc, "read:pets")
		if r := e.post("/oauth2/revoke", e.svc, url.Values{"token": {at}}); r.status != http.StatusOK {
			t.Fatal(r.status)
		}
		e.wantInactive("the very next introspection", at)
	})
}

func TestRV07_AdminRevokeAllForUserOrClient(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		b := e.aliceBrowser()
		web, other := e.login(b, e.web, "read:pets offline_access"), e.login(b, e.other, "read:pets offline_access")
		if r := e.adminAPI(http.MethodPost, "/grants/revoke", map[string]string{"client_id": e.web.ID}); r.status != http.StatusOK {
			t.Fatalf("revoke all for a client: %d %s", r.status, r.body)
		}
		e.wantInactive("web's access token", web.access)
		e.wantInactive("web's refresh token", web.refresh)
		e.wantActive("other's access token", other.access)
		if r := e.adminAPI(http.MethodPost, "/grants/revoke", map[string]string{"user_id": e.alice.ID}); r.status != http.StatusOK {
			t.Fatalf("revoke all for a user: %d %s", r.status, r.body)
		}
		e.wantInactive("other's access token", other.access)
		e.wantInactive("other's refresh token", other.refresh)
	})
}

func TestIN01_IntrospectionCallerAuthentication(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	at := e.clientCredentials(e.svc, "read:pets")
	for name, c := range map[string]client{"none": {}, "wrong secret": {ID: e.rsc.ID, Secret: "pst_cs_x"}, "unknown": {ID: "nobody", Secret: "pst_cs_x"}} {
		if r := e.post("/oauth2/introspect", c, url.Values{"token": {at}}); r.status != http.StatusUnauthorized || r.json["active"] != nil {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
}

func TestIN02_OnlyResourceServersIntrospect(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	user := e.login(e.aliceBrowser(), e.web, "read:pets").access
	if r := e.post("/oauth2/introspect", e.svc, url.Values{"token": {user}}); r.status != http.StatusForbidden || r.json["active"] != nil {
		t.Errorf("svc with its credentials: %d %s", r.status, r.body)
	}
	svcAT := e.clientCredentials(e.svc, "read:pets")
	req, _ := http.NewRequest(http.MethodPost, e.as.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {user}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+svcAT)
	if r := e.do(req); (r.status != http.StatusUnauthorized && r.status != http.StatusForbidden) || r.json["active"] != nil {
		t.Errorf("svc with its access token as Bearer: %d %s", r.status, r.body)
	}
	if r := e.post("/oauth2/introspect", e.web, url.Values{"token": {user}}); r.status != http.StatusForbidden {
		t.Errorf("the token's own client: %d", r.status)
	}
	e.wantActive("the resource server", user)
}

func TestIN03_InactiveTokensRevealNothing(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		b := e.aliceBrowser()
		revoked := e.login(b, e.web, "read:pets offline_access")
		e.post("/oauth2/revoke", e.web, url.Values{"token": {revoked.access}})
		reused := e.login(b, e.web, "read:pets offline_access")
		next := e.mustRefresh(e.web, reused.refresh)
		code, _ := e.code(b, e.web, "read:pets")
		short := e.login(b, e.web, "read:pets")
		time.Sleep(2100 * time.Millisecond) // fosite checks access-token expiry against the wall clock
		e.pastGrace()
		e.refresh(e.web, reused.refresh)
		for what, tok := range map[string]string{"expired": short.access, "revoked": revoked.access, "unknown": "pst_at_x.y",
			"malformed": "<>", "refresh token after reuse": next.refresh, "code": code, "unknown API key": "sk_test_abc"} {
			e.wantInactive(what, tok)
		}
	}, func(c *config.Config) { c.Tokens.AccessTokenLifespan = config.Duration(time.Second) })
}

func TestIN04_ActiveTokenResponse(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		tk := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		r := e.post("/oauth2/introspect", e.rsc, url.Values{"token": {tk.access}})
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
		}
		m := r.json
		for _, k := range []string{"active", "scope", "client_id", "sub", "exp", "iat", "token_type", "aud", "iss"} {
			if _, ok := m[k]; !ok {
				t.Errorf("member %s missing: %v", k, m)
			}
		}
		if m["scope"] != "read:pets offline_access" || m["client_id"] != e.web.ID || m["sub"] != e.alice.ID || m["iss"] != e.cfg.Issuer || m["token_type"] != "access_token" {
			t.Errorf("introspection %v", m)
		}
		in, _ := tk.resp.json["expires_in"].(float64)
		if exp, _ := m["exp"].(float64); exp < float64(e.clock.Now().Unix())+in-5 || exp > float64(e.clock.Now().Unix())+in+5 {
			t.Errorf("exp %v does not match expires_in %v", exp, in)
		}
	})
}

// One caller scanning tokens is throttled; the limit is
// rate_limits.per_client_per_minute (lowered here).
func TestIN06_AntiScanning(t *testing.T) {
	t.Parallel()
	e := freshSQLite(t, func(c *config.Config) { c.RateLimits.PerClient = 50 })
	limited := 0
	for i := range 80 {
		r := e.post("/oauth2/introspect", e.rsc, url.Values{"token": {"pst_at_guess" + string(rune('a'+i%26)) + ".x"}})
		if r.status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 30 {
		t.Fatalf("%d of 80 introspections were throttled, want 30", limited)
	}
}

func TestIN07_ResourceServerCacheCorrectness(t *testing.T) {
	t.Parallel()
	e := freshSQLite(t)
	read := e.login(e.aliceBrowser(), e.web, "read:pets").access
	if r := e.api(http.MethodGet, "/v1/pets", read, ""); r.status != http.StatusOK {
		t.Fatalf("read: %d", r.status)
	}
	if r := e.api(http.MethodPost, "/v1/pets", read, `{"name":"Rex","species":"dog"}`); r.status != http.StatusForbidden {
		t.Fatalf("a cached read-only token wrote: %d", r.status)
	}
	e.post("/oauth2/revoke", e.web, url.Values{"token": {read}})
	e.clock.Advance(31 * time.Second)
	if r := e.api(http.MethodGet, "/v1/pets", read, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("revoked token after the cache TTL: %d", r.status)
	}
	uncached := e.login(e.aliceBrowser(), e.web, "read:pets").access
	e.as.Close()
	if r := e.api(http.MethodGet, "/v1/pets", uncached, ""); r.status != http.StatusUnauthorized && r.status != http.StatusServiceUnavailable {
		t.Fatalf("authorization server down, uncached token: %d", r.status)
	}
}

func TestIN08_TokenTypeAtResourceServer(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	tk := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
	r := e.post("/oauth2/introspect", e.rsc, url.Values{"token": {tk.refresh}, "token_type_hint": {"refresh_token"}})
	if r.json["active"] != true || r.json["token_use"] != "refresh_token" {
		t.Fatalf("refresh token introspection: %s", r.body)
	}
	if r := e.api(http.MethodGet, "/v1/pets", tk.refresh, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("a refresh token at the API: %d", r.status)
	}
}

func TestIN09_BearerIsNotIntrospectionAuthentication(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	at := e.clientCredentials(e.svc, "read:pets")
	req, _ := http.NewRequest(http.MethodPost, e.as.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {at}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+at)
	if r := e.do(req); r.status != http.StatusUnauthorized || r.json["active"] != nil {
		t.Fatalf("the token authenticating its own introspection: %d %s", r.status, r.body)
	}
}
