package admin_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/admin"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
)

const api = admin.APIPrefix

func TestCreateClientShowsTheSecretOnce(t *testing.T) {
	e := newEnv(t)
	res := e.do("POST", api+"/clients", credClient, map[string]any{
		"name": "My App", "redirect_uris": []string{"https://myapp.example/cb"}, "scopes": []string{"read:pets", "offline_access"},
	}).want(t, 201)
	id, _ := res.json["id"].(string)
	secret, _ := res.json["client_secret"].(string)
	if !strings.HasPrefix(id, "my-app-") || !strings.HasPrefix(secret, identity.PrefixClientSecret) {
		t.Fatalf("id %q, secret %q: want a derived id and a pst_cs_ secret", id, secret)
	}
	if res.Header().Get("Location") != api+"/clients/"+id || res.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("Location %q, Cache-Control %q", res.Header().Get("Location"), res.Header().Get("Cache-Control"))
	}
	c, err := e.st.ClientByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(secret)); string(c.SecretHash) != string(sum[:]) {
		t.Error("the stored hash is not the SHA-256 of the secret shown")
	}
	if got := strings.Join(c.GrantTypes, " "); got != "authorization_code refresh_token" {
		t.Errorf("default grant types = %q", got)
	}
	for _, path := range []string{"/clients/" + id, "/clients"} {
		body := e.do("GET", api+path, credClient, nil).want(t, 200).Body.String()
		// "client_secret_basic" (token_endpoint_auth_method) names a
		// method, not a secret; the secret and its hash never appear.
		if strings.Contains(body, secret) || strings.Contains(body, `"client_secret"`) || strings.Contains(body, "secret_hash") {
			t.Errorf("GET %s shows the secret or its hash: %s", path, body)
		}
	}

	// A service client without redirect URIs defaults to client_credentials.
	res = e.do("POST", api+"/clients", credClient, map[string]any{"id": "billing-svc", "name": "Billing", "scopes": []string{"admin"}}).want(t, 201)
	if res.json["grant_types"].([]any)[0] != "client_credentials" {
		t.Errorf("grant types = %v, want client_credentials", res.json["grant_types"])
	}
	// A public client gets no secret.
	res = e.do("POST", api+"/clients", credClient, map[string]any{"name": "CLI", "public": true,
		"redirect_uris": []string{"http://127.0.0.1/cb"}}).want(t, 201)
	if _, ok := res.json["client_secret"]; ok {
		t.Errorf("a public client got a secret: %v", res.json)
	}
}

// TestCreateClientRefusesBadRedirectURIs is checklist RD-04: each bad URI
// is a 400 and nothing is stored.
func TestCreateClientRefusesBadRedirectURIs(t *testing.T) {
	e := newEnv(t)
	bad := []string{
		"https://app.example/cb#frag", "javascript:alert(1)", "javascript://app.example/%0aalert(1)",
		"data:text/html,<script>alert(1)</script>", "vbscript:msgbox", "file:///etc/passwd",
		"http://app.example/cb", "https://*.example/cb", "https://app.example/*", "https://user:pw@app.example/cb",
		"/relative/cb", "https://app.example/cb?code=x", "https://app.example/cb?state=x", "https://app.example/cb?iss=x",
		"https://app.example/cb?error=x", "http://localhost:80@evil.example/cb", "http://127.0.0.1.evil.example/cb", "",
	}
	for _, uri := range bad {
		t.Run(uri, func(t *testing.T) {
			res := e.do("POST", api+"/clients", credClient, map[string]any{
				"id": "rd04-app", "name": "RD04", "redirect_uris": []string{uri},
			}).want(t, 400)
			if res.json["error"] != "invalid" || !strings.Contains(res.json["error_description"].(string), "redirect URI") {
				t.Errorf("error = %v", res.json)
			}
			if _, err := e.st.ClientByID(context.Background(), "rd04-app"); !identity.IsNotFound(err) {
				t.Errorf("a client with a bad redirect URI was stored (err %v)", err)
			}
		})
	}
}

func TestCreateClientRefusesBadInput(t *testing.T) {
	e := newEnv(t)
	lookalike := &identity.User{ID: "usr_lower", Email: "lower@example.com"}
	if err := e.st.CreateUser(context.Background(), lookalike); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, body, contentType string
		wantStatus              int
		wantIn                  string
	}{
		{"wrong content type", `{"name":"x"}`, "text/plain", 415, "application/json"},
		{"form body", `name=x`, "application/x-www-form-urlencoded", 415, "application/json"},
		{"unknown field", `{"name":"x","secret":"mine"}`, "application/json", 400, "unknown field"},
		{"wrong type", `{"name":["x"]}`, "application/json", 400, "wrong type"},
		{"two objects", `{"name":"x"}{"name":"y"}`, "application/json", 400, "exactly one"},
		{"not json", `{"name":`, "application/json", 400, "not a valid JSON"},
		{"too big", `{"name":"` + strings.Repeat("a", 1<<20) + `"}`, "application/json", 413, "1 MiB"},
		{"unknown scope", `{"name":"x","scopes":["pets:*"]}`, "application/json", 400, "unknown scope"},
		{"bad grant type", `{"name":"x","grant_types":["password"]}`, "application/json", 400, "unsupported grant type"},
		{"public client_credentials", `{"name":"x","public":true,"grant_types":["client_credentials"]}`, "application/json", 400, "public client"},
		{"id of a user", `{"id":"usr_lower","name":"x","grant_types":["client_credentials"]}`, "application/json", 400, "prefix of user ids"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", api+"/clients", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.contentType)
			r.Header.Set("Authorization", "Bearer "+credClient)
			res := e.serve(r).want(t, tc.wantStatus)
			if d, _ := res.json["error_description"].(string); !strings.Contains(d, tc.wantIn) {
				t.Errorf("error_description %q does not mention %q", d, tc.wantIn)
			}
		})
	}
	if _, total, _ := e.st.ListClients(context.Background(), identity.ClientFilter{}); total != 0 {
		t.Errorf("%d clients stored from bad requests", total)
	}
}

func TestUpdateClient(t *testing.T) {
	e := newEnv(t)
	e.mustClient("shop")
	res := e.do("PATCH", api+"/clients/shop", credClient, map[string]any{
		"redirect_uris": []string{"https://shop.example/a", "https://shop.example/b"}, "scopes": []string{"read:pets", "write:pets"},
	}).want(t, 200)
	if got := res.json["redirect_uris"].([]any); len(got) != 2 {
		t.Errorf("redirect_uris = %v", got)
	}
	c, _ := e.st.ClientByID(context.Background(), "shop")
	if strings.Join(c.Scopes, " ") != "read:pets write:pets" || c.Name != "shop" {
		t.Errorf("stored client = %+v", c)
	}
	e.do("PATCH", api+"/clients/shop", credClient, map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}).want(t, 400)
	e.do("PATCH", api+"/clients/shop", credClient, map[string]any{}).want(t, 400)
	e.do("PATCH", api+"/clients/nope", credClient, map[string]any{"name": "x"}).want(t, 404)
	if c2, _ := e.st.ClientByID(context.Background(), "shop"); len(c2.RedirectURIs) != 2 {
		t.Errorf("a refused patch changed the client: %v", c2.RedirectURIs)
	}
}

func TestRotateDisableDeleteClient(t *testing.T) {
	e := newEnv(t)
	res := e.do("POST", api+"/clients", credClient, map[string]any{"id": "svc", "name": "Svc"}).want(t, 201)
	old := res.json["client_secret"].(string)
	res = e.do("POST", api+"/clients/svc/rotate-secret", credClient, nil).want(t, 200)
	secret := res.json["client_secret"].(string)
	c, _ := e.st.ClientByID(context.Background(), "svc")
	if sum := sha256.Sum256([]byte(secret)); secret == old || string(c.SecretHash) != string(sum[:]) {
		t.Error("rotation did not store the hash of a new secret")
	}

	e.do("POST", api+"/clients/svc/disable", credClient, nil).want(t, 200)
	if c, _ := e.st.ClientByID(context.Background(), "svc"); !c.Disabled {
		t.Error("client not disabled")
	}
	e.do("POST", api+"/clients/svc/enable", credClient, nil).want(t, 200)
	if c, _ := e.st.ClientByID(context.Background(), "svc"); c.Disabled {
		t.Error("client not enabled again")
	}
	e.do("DELETE", api+"/clients/svc", credClient, nil).want(t, 204)
	e.do("GET", api+"/clients/svc", credClient, nil).want(t, 404)
	e.do("DELETE", api+"/clients/svc", credClient, nil).want(t, 404)
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	res := e.do("POST", api+"/users", credClient, map[string]any{"email": "  New.Person@Example.COM ", "password": "a long passphrase"}).want(t, 201)
	id := res.json["id"].(string)
	if res.json["email"] != "new.person@example.com" || res.json["admin"] != false {
		t.Errorf("created = %v", res.json)
	}
	if strings.Contains(res.Body.String(), "argon2") || strings.Contains(res.Body.String(), "passphrase") {
		t.Errorf("the response shows the password or its hash: %s", res.Body)
	}
	u, _ := e.st.UserByID(context.Background(), id)
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || !password.Verify(u.PasswordHash, "a long passphrase") {
		t.Errorf("stored hash %q is not an Argon2id hash of the password", u.PasswordHash)
	}
	for _, tc := range []struct{ name, email, pw string }{
		{"short password", "short@example.com", "123456789"},
		{"no at sign", "nobody.example.com", "a long passphrase"},
		{"display name", "Bob <bob@example.com>", "a long passphrase"},
		{"no domain dot", "bob@example", "a long passphrase"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do("POST", api+"/users", credClient, map[string]any{"email": tc.email, "password": tc.pw}).want(t, 400)
		})
	}
	e.do("POST", api+"/users", credClient, map[string]any{"email": "NEW.person@example.com", "password": "another passphrase"}).want(t, 409)

	res = e.do("GET", api+"/users?q=PERSON", credClient, nil).want(t, 200)
	if res.json["total"] != float64(1) {
		t.Errorf("search found %v users, want 1", res.json["total"])
	}

	e.do("POST", api+"/users/"+id+"/password", credClient, map[string]any{"password": "short"}).want(t, 400)
	e.do("POST", api+"/users/"+id+"/password", credClient, map[string]any{"password": "brand new passphrase"}).want(t, 204)
	u, _ = e.st.UserByID(context.Background(), id)
	if !password.Verify(u.PasswordHash, "brand new passphrase") || password.Verify(u.PasswordHash, "a long passphrase") {
		t.Error("the password was not reset")
	}
	e.do("POST", api+"/users/usr_missing/password", credClient, map[string]any{"password": "brand new passphrase"}).want(t, 404)
}

// TestDisableUserRevokesEverything: the user's grants (with their tokens)
// and API keys stop working; other users keep theirs.
func TestDisableUserRevokesEverything(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mustClient("app")
	g := e.mustGrant(e.user.ID, "app")
	kept := e.mustGrant(e.admin.ID, "app")
	e.mustTokens(g, "victim")
	key := &identity.APIKey{OwnerID: e.user.ID, Name: "ci", Env: identity.EnvTest, Prefix: "sk_test_ab12", Hash: []byte("h1"), Scopes: []string{"read:pets"}}
	if err := e.st.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	res := e.do("POST", api+"/users/"+e.user.ID+"/disable", credAdminKey, nil).want(t, 200)
	if res.json["disabled"] != true || res.json["grants_revoked"] != float64(1) {
		t.Errorf("answer = %v", res.json)
	}
	e.assertRevoked(g, "victim")
	if k, _ := e.st.APIKeyByID(ctx, key.ID); k.RevokedAt == nil {
		t.Error("the disabled user's API key still works")
	}
	if k, _ := e.st.GrantByID(ctx, kept.ID); k.RevokedAt != nil {
		t.Error("another user's grant was revoked")
	}
	// An admin cannot lock themself out.
	e.do("POST", api+"/users/"+e.admin.ID+"/disable", credAdminKey, nil).want(t, 400)
	e.do("POST", api+"/users/"+e.user.ID+"/enable", credAdminKey, nil).want(t, 200)
	if u, _ := e.st.UserByID(ctx, e.user.ID); u.Disabled {
		t.Error("user not enabled")
	}
}

// mustTokens issues an access and a refresh token under g, named after
// tag, the way the provider stores them.
func (e *env) mustTokens(g *identity.Grant, tag string) {
	e.t.Helper()
	ctx := context.Background()
	sess := provider.NewSession(g.UserID, g.ID)
	exp := time.Now().Add(time.Hour)
	sess.SetExpiresAt(fosite.AccessToken, exp)
	sess.SetExpiresAt(fosite.RefreshToken, exp)
	req := &fosite.Request{ID: "req-" + tag, RequestedAt: time.Now().UTC(), Client: &fosite.DefaultClient{ID: g.ClientID},
		GrantedScope: fosite.Arguments(g.Scopes), Session: sess}
	if err := e.st.CreateAccessTokenSession(ctx, "at-"+tag, req); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.CreateRefreshTokenSession(ctx, "rt-"+tag, "at-"+tag, req); err != nil {
		e.t.Fatal(err)
	}
}

// assertRevoked checks that the grant and both tokens named after tag are
// revoked.
func (e *env) assertRevoked(g *identity.Grant, tag string) {
	e.t.Helper()
	ctx := context.Background()
	if got, err := e.st.GrantByID(ctx, g.ID); err != nil || got.RevokedAt == nil {
		e.t.Errorf("grant %s not revoked (%v)", g.ID, err)
	}
	if _, err := e.st.GetAccessTokenSession(ctx, "at-"+tag, provider.NewSession("", "")); !errors.Is(err, fosite.ErrInactiveToken) {
		e.t.Errorf("access token of the grant: %v, want inactive", err)
	}
	if _, err := e.st.GetRefreshTokenSession(ctx, "rt-"+tag, provider.NewSession("", "")); !errors.Is(err, fosite.ErrInactiveToken) {
		e.t.Errorf("refresh token of the grant: %v, want inactive", err)
	}
}

func TestRevokeGrantViaAPI(t *testing.T) {
	e := newEnv(t)
	e.mustClient("app")
	e.mustClient("other")
	g := e.mustGrant(e.user.ID, "app")
	bystander := e.mustGrant(e.user.ID, "other")
	e.mustTokens(g, "g")
	e.mustTokens(bystander, "b")

	res := e.do("GET", api+"/grants?user_id="+e.user.ID, credClient, nil).want(t, 200)
	if res.json["total"] != float64(2) {
		t.Fatalf("grants of the user: %v", res.json)
	}
	res = e.do("POST", api+"/grants/"+g.ID+"/revoke", credClient, nil).want(t, 200)
	if res.json["revoked_at"] == nil {
		t.Errorf("answer %v has no revoked_at", res.json)
	}
	e.assertRevoked(g, "g")
	if _, err := e.st.GetRefreshTokenSession(context.Background(), "rt-b", provider.NewSession("", "")); err != nil {
		t.Errorf("the other grant's refresh token was revoked: %v", err)
	}
	res = e.do("GET", api+"/grants?client_id=app", credClient, nil).want(t, 200)
	if res.json["total"] != float64(0) {
		t.Errorf("revoked grant still listed as active: %v", res.json)
	}
	res = e.do("GET", api+"/grants?client_id=app&include_revoked=true", credClient, nil).want(t, 200)
	if res.json["total"] != float64(1) {
		t.Errorf("include_revoked: %v", res.json)
	}
	e.do("POST", api+"/grants/grt_missing/revoke", credClient, nil).want(t, 404)
	e.do("GET", api+"/grants?include_revoked=maybe", credClient, nil).want(t, 400)
}

func TestRevokeAllGrantsOfAClient(t *testing.T) {
	e := newEnv(t)
	e.mustClient("app")
	e.mustClient("other")
	g1, g2 := e.mustGrant(e.user.ID, "app"), e.mustGrant(e.admin.ID, "app")
	kept := e.mustGrant(e.user.ID, "other")
	e.mustTokens(g1, "1")
	e.mustTokens(g2, "2")
	e.do("POST", api+"/grants/revoke", credClient, map[string]any{}).want(t, 400)
	res := e.do("POST", api+"/grants/revoke", credClient, map[string]any{"client_id": "app"}).want(t, 200)
	if res.json["revoked"] != float64(2) {
		t.Errorf("revoked = %v, want 2", res.json["revoked"])
	}
	e.assertRevoked(g1, "1")
	e.assertRevoked(g2, "2")
	if g, _ := e.st.GrantByID(context.Background(), kept.ID); g.RevokedAt != nil {
		t.Error("a grant of another client was revoked")
	}
	res = e.do("POST", api+"/grants/revoke", credClient, map[string]any{"user_id": e.user.ID}).want(t, 200)
	if res.json["revoked"] != float64(1) {
		t.Errorf("revoked = %v, want 1", res.json["revoked"])
	}
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i, owner := range []string{e.user.ID, e.user.ID, e.admin.ID} {
		k := &identity.APIKey{OwnerID: owner, Name: "k", Env: identity.EnvLive, Prefix: "sk_live_k" + string(rune('a'+i)),
			Hash: []byte{byte(i)}, Scopes: []string{"read:pets"}}
		if err := e.st.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	res := e.do("GET", api+"/api-keys?owner_id="+e.user.ID, credClient, nil).want(t, 200)
	items := res.json["items"].([]any)
	if len(items) != 2 || strings.Contains(res.Body.String(), `"hash"`) {
		t.Fatalf("keys of the user: %s", res.Body)
	}
	id := items[0].(map[string]any)["id"].(string)
	e.do("POST", api+"/api-keys/"+id+"/revoke", credClient, nil).want(t, 200)
	if k, _ := e.st.APIKeyByID(ctx, id); k.RevokedAt == nil {
		t.Error("key not revoked")
	}
	res = e.do("GET", api+"/api-keys?owner_id="+e.user.ID, credClient, nil).want(t, 200)
	if res.json["total"] != float64(1) {
		t.Errorf("active keys after revoke: %v", res.json["total"])
	}
	e.do("GET", api+"/api-keys/"+id, credClient, nil).want(t, 200)
	e.do("POST", api+"/api-keys/key_missing/revoke", credClient, nil).want(t, 404)
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"c1", "c2", "c3", "c4", "c5"} {
		e.mustClient(id)
	}
	res := e.do("GET", api+"/clients?offset=1&limit=2", credClient, nil).want(t, 200)
	if len(res.json["items"].([]any)) != 2 || res.json["total"] != float64(5) || res.json["offset"] != float64(1) || res.json["limit"] != float64(2) {
		t.Errorf("page = %s", res.Body)
	}
	res = e.do("GET", api+"/clients?offset=4", credClient, nil).want(t, 200)
	if len(res.json["items"].([]any)) != 1 || res.json["limit"] != float64(50) {
		t.Errorf("last page = %s", res.Body)
	}
	res = e.do("GET", api+"/clients?offset=10", credClient, nil).want(t, 200)
	if items := res.json["items"].([]any); items == nil || len(items) != 0 {
		t.Errorf("past the end: items = %v, want []", res.json["items"])
	}
	for _, q := range []string{"limit=0", "limit=501", "limit=x", "offset=-1", "offset=1e3", "limit=1%20OR%201=1"} {
		t.Run(q, func(t *testing.T) {
			e.do("GET", api+"/clients?"+q, credClient, nil).want(t, 400)
		})
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t)
	e.mustClient("app")
	e.mustGrant(e.user.ID, "app")
	if err := e.st.RecordAudit(context.Background(), &identity.AuditEvent{Type: "login.failure", Outcome: "failure"}); err != nil {
		t.Fatal(err)
	}
	e.now = time.Now().UTC()
	res := e.do("GET", api+"/stats", credClient, nil).want(t, 200)
	want := map[string]float64{"clients": 1, "users": 3, "active_grants": 1, "failed_logins": 1, "tokens_issued": 0}
	for k, v := range want {
		if res.json[k] != v {
			t.Errorf("%s = %v, want %v", k, res.json[k], v)
		}
	}
}

func TestAuditFilterValidation(t *testing.T) {
	e := newEnv(t)
	for _, q := range []string{"outcome=maybe", "since=yesterday", "until=2026-13-01T00:00:00Z"} {
		t.Run(q, func(t *testing.T) { e.do("GET", api+"/audit?"+q, credClient, nil).want(t, 400) })
	}
}

// TestClientAllowedOrigins: a public client's CORS origins are set at
// creation and by PATCH, validated like redirect URIs, and shown with the
// redirect URIs' origins in cors_origins.
func TestClientAllowedOrigins(t *testing.T) {
	e := newEnv(t)
	res := e.do("POST", api+"/clients", credClient, map[string]any{"id": "spa", "name": "SPA", "public": true,
		"redirect_uris": []string{"https://spa.example/cb"}, "allowed_origins": []string{"https://static.example"}}).want(t, 201)
	if got := fmt.Sprint(res.json["allowed_origins"], res.json["cors_origins"]); got != "[https://static.example] [https://spa.example https://static.example]" {
		t.Errorf("created client's origins: %s", got)
	}
	for name, body := range map[string]map[string]any{
		"path":         {"allowed_origins": []string{"https://static.example/app"}},
		"wildcard":     {"allowed_origins": []string{"https://*.example"}},
		"http":         {"allowed_origins": []string{"http://static.example"}},
		"not a string": {"allowed_origins": "https://static.example"},
	} {
		t.Run(name, func(t *testing.T) { e.do("PATCH", api+"/clients/spa", credClient, body).want(t, 400) })
	}
	e.do("POST", api+"/clients", credClient, map[string]any{"id": "web", "name": "Web", "redirect_uris": []string{"https://web.example/cb"},
		"allowed_origins": []string{"https://web.example"}}).want(t, 400)
	res = e.do("PATCH", api+"/clients/spa", credClient, map[string]any{"allowed_origins": []string{"http://127.0.0.1:5173"}}).want(t, 200)
	if got := fmt.Sprint(res.json["allowed_origins"]); got != "[http://127.0.0.1:5173]" {
		t.Errorf("patched allowed_origins: %s", got)
	}
	if c, _ := e.st.ClientByID(context.Background(), "spa"); strings.Join(c.AllowedOrigins, " ") != "http://127.0.0.1:5173" {
		t.Errorf("stored allowed origins %v", c.AllowedOrigins)
	}
}

// WB-16: the password policy refuses the account's own email, in any case,
// on every path that sets a password (the same password.Check the CLI
// uses).
func TestAPIRefusesPasswordEqualToEmail(t *testing.T) {
	e := newEnv(t)
	for _, pw := range []string{"long.person@example.com", "LONG.Person@Example.com"} {
		res := e.do("POST", api+"/users", credClient, map[string]any{"email": "Long.Person@example.com", "password": pw}).want(t, 400)
		if !strings.Contains(res.Body.String(), "must not be the email address") {
			t.Errorf("create with password %q: %s", pw, res.Body)
		}
	}
	if _, err := e.st.UserByEmail(context.Background(), "long.person@example.com"); err == nil {
		t.Fatal("the refused account was created")
	}
	id := e.do("POST", api+"/users", credClient, map[string]any{"email": "long.person@example.com", "password": "a long passphrase"}).want(t, 201).json["id"].(string)
	res := e.do("POST", api+"/users/"+id+"/password", credClient, map[string]any{"password": "Long.Person@Example.com"}).want(t, 400)
	if !strings.Contains(res.Body.String(), "must not be the email address") {
		t.Errorf("reset: %s", res.Body)
	}
	if u, _ := e.st.UserByID(context.Background(), id); !password.Verify(u.PasswordHash, "a long passphrase") {
		t.Error("the refused reset changed the password")
	}
}
