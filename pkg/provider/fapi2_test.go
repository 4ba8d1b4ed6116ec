package provider

import (
	"context"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// TestFAPI2CodeLifetime: with codes configured to live 10 minutes, a
// fapi2 client's code still expires within 60 s; another client's does not.
func TestFAPI2CodeLifetime(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixtureWith(t, dbURL, "opaque", func(c *Config, _ *Options) { c.AuthorizeCodeLifespan = 10 * time.Minute })
		f.addClient(identity.Client{ID: "fapi", Name: "FAPI", Public: true, Profile: identity.ProfileFAPI2, RedirectURIs: []string{redirectURI},
			GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "offline_access"}})
		expiry := func(client string) time.Duration {
			code := f.authorizeClient(client, oauth2.GenerateVerifier(), "", "read:pets")
			ar, err := f.st.GetAuthorizeCodeSession(context.Background(), f.p.strategy.AuthorizeCodeSignature(context.Background(), code), NewSession("", ""))
			if err != nil {
				t.Fatal(err)
			}
			return ar.GetSession().GetExpiresAt("authorize_code").Sub(f.clock())
		}
		if d := expiry("fapi"); d > 60*time.Second || d <= 0 {
			t.Errorf("fapi2 code lives %s, want at most 60s", d)
		}
		if d := expiry("web"); d < 9*time.Minute {
			t.Errorf("ordinary code lives %s, want the configured 10m", d)
		}
	})
}

// TestFAPI2NoRefreshGrace: a fapi2 client's rotated refresh token presented
// again within the grace window is reuse, not a replay of the pair.
func TestFAPI2NoRefreshGrace(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		f.addClient(identity.Client{ID: "fapi", Name: "FAPI", Public: true, Profile: identity.ProfileFAPI2, RedirectURIs: []string{redirectURI},
			GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "offline_access"}})
		k := dpoptest.NewKey()
		proof := func() string { return k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()}) }
		v := oauth2.GenerateVerifier()
		code := f.authorizeClient("fapi", v, "", "read:pets", "offline_access")
		st, m, _ := f.dpopToken("fapi", "", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}, proof())
		if st != 200 {
			t.Fatalf("exchange: %d %v", st, m)
		}
		rt := str(m, "refresh_token")
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		st, m, _ = f.dpopToken("fapi", "", refresh, proof())
		if st != 200 {
			t.Fatalf("refresh: %d %v", st, m)
		}
		next := str(m, "access_token")
		f.advance(time.Second)
		if st, m, _ := f.dpopToken("fapi", "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, proof()); st != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("replay within the window: %d %v, want invalid_grant", st, m)
		}
		if f.active(next) {
			t.Error("the family survived the reuse")
		}
	})
}
