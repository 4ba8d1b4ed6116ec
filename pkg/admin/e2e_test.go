package admin_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/petstore-auth/petstore-auth/pkg/admin"
	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
)

// TestRealCredentials runs the API behind the real provider: tokens from
// /oauth2/token and API keys as the server issues them.
func TestRealCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := provider.New(ctx, provider.Config{Issuer: "http://issuer.test", Secret: []byte(strings.Repeat("k", 32)),
		Resources: identity.Resources{{Identifier: "http://api.test", Scopes: identity.ResourceScopes()}}}, e.st,
		provider.Options{Audit: e.st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.h.Auth = p
	r := mux.NewRouter()
	p.Mount(r)
	e.h.Mount(r)
	srv := httptest.NewServer(r)
	defer srv.Close()

	service := func(id string, scopes ...string) string {
		secret, hash := identity.NewClientSecret()
		c := &identity.Client{ID: id, Name: id, SecretHash: hash, GrantTypes: []string{identity.GrantClientCredentials},
			Scopes: scopes, TokenFormat: identity.TokenFormatOpaque}
		if err := e.st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
		cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/oauth2/token", Scopes: scopes}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("token for %s: %v", id, err)
		}
		return tok.AccessToken
	}
	key := func(owner *identity.User, scopes ...string) (string, *identity.APIKey) {
		raw, err := apikey.Generate(identity.EnvLive)
		if err != nil {
			t.Fatal(err)
		}
		k := &identity.APIKey{OwnerID: owner.ID, Name: "k", Env: identity.EnvLive, Prefix: apikey.DisplayPrefix(raw),
			Hash: apikey.Hash(raw), Scopes: scopes}
		if err := e.st.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		return raw, k
	}
	adminToken := service("ops", identity.ScopeAdmin)
	readerToken := service("reader", identity.ScopeReadPets)
	adminKey, adminKeyRow := key(e.admin, identity.ScopeAdmin)
	userKey, _ := key(e.user, identity.ScopeAdmin) // the owner is no admin
	readKey, _ := key(e.admin, identity.ScopeReadPets)

	call := func(cred string) int {
		req, _ := http.NewRequest("GET", srv.URL+admin.APIPrefix+"/clients", nil)
		if cred != "" {
			req.Header.Set("Authorization", "Bearer "+cred)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tc := range []struct {
		name, cred string
		want       int
	}{
		{"admin client token", adminToken, 200},
		{"admin's admin key", adminKey, 200},
		{"no credential", "", 401},
		{"garbage", "not-a-token", 401},
		{"tampered token", adminToken + "x", 401},
		{"client token without admin scope", readerToken, 403},
		{"admin's key without admin scope", readKey, 403},
		{"admin-scoped key of a non-admin", userKey, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := call(tc.cred); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}

	// Revoking the key through the API locks it out at once; disabling the
	// admin client kills its token.
	req, _ := http.NewRequest("POST", srv.URL+admin.APIPrefix+"/api-keys/"+adminKeyRow.ID+"/revoke", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("revoke key: %v %v", res, err)
	}
	if got := call(adminKey); got != 401 {
		t.Errorf("revoked key: status %d, want 401", got)
	}
	req, _ = http.NewRequest("POST", srv.URL+admin.APIPrefix+"/clients/ops/disable", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("disable client: %v %v", res, err)
	}
	if got := call(adminToken); got != 401 {
		t.Errorf("token of a disabled client: status %d, want 401", got)
	}
}
