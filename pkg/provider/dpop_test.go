package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

const tokenURL = "https://auth.example/oauth2/token"

// dpopToken posts form to the token endpoint as client (secret "" for a
// public client) with proof in the DPoP header ("" for none).
func (f *fixture) dpopToken(client, secret string, form url.Values, proof string) (int, map[string]any, http.Header) {
	f.t.Helper()
	if secret == "" {
		form.Set("client_id", client)
	}
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(client, secret)
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m, res.Header
}

func (f *fixture) introspect(token string) map[string]any {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.rsID, f.rsSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return m
}

// addClient registers c; a confidential one gets a secret, returned.
func (f *fixture) addClient(c identity.Client) string {
	f.t.Helper()
	var secret string
	if !c.Public {
		var hash []byte
		secret, hash = identity.NewClientSecret()
		c.SecretHash = hash
	}
	if c.TokenFormat == "" {
		c.TokenFormat = identity.TokenFormatOpaque
	}
	if err := f.st.CreateClient(context.Background(), &c); err != nil {
		f.t.Fatal(err)
	}
	return secret
}

// authorizeClient runs the authorization endpoint for client as pkg/web
// does, the code bound to jkt when not "" (dpop_jkt).
func (f *fixture) authorizeClient(client, verifier, jkt string, scopes ...string) string {
	f.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirectURI},
		"scope": {strings.Join(scopes, " ")}, "state": {"state-12345678"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	req := httptest.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil)
	ar, err := f.p.OAuth2.NewAuthorizeRequest(req.Context(), req)
	if err != nil {
		f.t.Fatalf("authorize request: %v", err)
	}
	for _, s := range scopes {
		ar.GrantScope(s)
	}
	sess := NewSession(f.user.ID, f.grant.ID)
	sess.BindCode(jkt)
	resp, err := f.p.OAuth2.NewAuthorizeResponse(req.Context(), ar, sess)
	if err != nil {
		f.t.Fatalf("authorize response: %v", err)
	}
	return resp.GetParameters().Get("code")
}

var dpopCCForm = func() url.Values { return url.Values{"grant_type": {"client_credentials"}} }

// TestDPoPProofTableAtTokenEndpoint: every bad proof is refused with
// invalid_dpop_proof and issues nothing.
func TestDPoPProofTableAtTokenEndpoint(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		k, other := dpoptest.NewKey(), dpoptest.NewKey()
		replayed := k.Proof("POST", tokenURL, dpoptest.Opts{})
		if code, m, _ := f.dpopToken(f.rsID, f.rsSecret, dpopCCForm(), replayed); code != 200 || m["token_type"] != "DPoP" {
			t.Fatalf("good proof: %d %v", code, m)
		}
		now := f.clock()
		for name, proof := range map[string]string{
			"missing typ":        k.Proof("POST", tokenURL, dpoptest.Opts{Typ: "-", IAT: now}),
			"wrong typ":          k.Proof("POST", tokenURL, dpoptest.Opts{Typ: "JWT", IAT: now}),
			"alg none":           dpoptest.Unsigned("none", "POST", tokenURL),
			"HS256":              dpoptest.Unsigned("HS256", "POST", tokenURL),
			"private key in jwk": k.Proof("POST", tokenURL, dpoptest.Opts{EmbedPrivate: true, IAT: now}),
			"bad signature":      k.Proof("POST", tokenURL, dpoptest.Opts{SignWith: other.Priv, IAT: now}),
			"wrong htm":          k.Proof("GET", tokenURL, dpoptest.Opts{IAT: now}),
			"wrong htu":          k.Proof("POST", "https://auth.example/oauth2/revoke", dpoptest.Opts{IAT: now}),
			"iat too old":        k.Proof("POST", tokenURL, dpoptest.Opts{IAT: now.Add(-5 * time.Minute)}),
			"iat too new":        k.Proof("POST", tokenURL, dpoptest.Opts{IAT: now.Add(5 * time.Minute)}),
			"replayed jti":       replayed,
			"ath at the AS":      k.Proof("POST", tokenURL, dpoptest.Opts{AccessToken: "x", IAT: now}),
			"garbage":            "not-a-proof",
		} {
			code, m, _ := f.dpopToken(f.rsID, f.rsSecret, dpopCCForm(), proof)
			if code != http.StatusBadRequest || m["error"] != "invalid_dpop_proof" || m["access_token"] != nil {
				t.Errorf("%s: %d %v, want 400 invalid_dpop_proof", name, code, m)
			}
		}
		// htu is compared without query, scheme and host case-insensitively.
		if code, m, _ := f.dpopToken(f.rsID, f.rsSecret, dpopCCForm(), k.Proof("POST", "HTTPS://AUTH.example:443/oauth2/token?x=1", dpoptest.Opts{IAT: now})); code != 200 {
			t.Errorf("normalised htu: %d %v", code, m)
		}
	})
}

func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func cnfJKT(m map[string]any) string {
	c, _ := m["cnf"].(map[string]any)
	s, _ := c["jkt"].(string)
	return s
}

// TestDPoPBindsAccessTokens: a proof makes token_type DPoP and cnf.jkt in
// the JWT and in introspection, for opaque and JWT tokens; no proof, no cnf.
func TestDPoPBindsAccessTokens(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		k := dpoptest.NewKey()
		for _, format := range []string{identity.TokenFormatOpaque, identity.TokenFormatJWT} {
			id := "svc-" + format
			secret := f.addClient(identity.Client{ID: id, Name: id, GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets"}, TokenFormat: format})
			code, m, _ := f.dpopToken(id, secret, dpopCCForm(), k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()}))
			if code != 200 || m["token_type"] != "DPoP" {
				t.Fatalf("%s: %d %v", format, code, m)
			}
			at := str(m, "access_token")
			if format == identity.TokenFormatJWT && cnfJKT(jwtClaims(t, at)) != k.JKT() {
				t.Errorf("JWT cnf.jkt = %v, want %s", jwtClaims(t, at)["cnf"], k.JKT())
			}
			if got := cnfJKT(f.introspect(at)); got != k.JKT() {
				t.Errorf("%s: introspection cnf.jkt = %q, want %q", format, got, k.JKT())
			}
			code, m, _ = f.dpopToken(id, secret, dpopCCForm(), "")
			if code != 200 || m["token_type"] != "bearer" || f.introspect(str(m, "access_token"))["cnf"] != nil {
				t.Errorf("%s without proof: %d %v", format, code, m)
			}
		}
	})
}

// TestDPoPBoundClient: a client registered dpop_bound gets no token
// without a proof.
func TestDPoPBoundClient(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		secret := f.addClient(identity.Client{ID: "bound", Name: "Bound", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets"}, DPoPBound: true})
		if code, m, _ := f.dpopToken("bound", secret, dpopCCForm(), ""); code != 400 || m["error"] != "invalid_dpop_proof" {
			t.Fatalf("without proof: %d %v", code, m)
		}
		k := dpoptest.NewKey()
		if code, m, _ := f.dpopToken("bound", secret, dpopCCForm(), k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()})); code != 200 || m["token_type"] != "DPoP" {
			t.Fatalf("with proof: %d %v", code, m)
		}
	})
}

// TestDPoPNonceRoundTrip: with nonces required, a proof without one gets
// use_dpop_nonce and a DPoP-Nonce header; the retry with it succeeds.
func TestDPoPNonceRoundTrip(t *testing.T) {
	f := newFixtureWith(t, "sqlite://"+t.TempDir()+"/p.db", "opaque", func(c *Config, _ *Options) { c.DPoPNonce = true })
	k := dpoptest.NewKey()
	code, m, h := f.dpopToken(f.rsID, f.rsSecret, dpopCCForm(), k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()}))
	nonce := h.Get("DPoP-Nonce")
	if code != 400 || m["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("without nonce: %d %v nonce=%q", code, m, nonce)
	}
	code, m, _ = f.dpopToken(f.rsID, f.rsSecret, dpopCCForm(), k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock(), Nonce: nonce}))
	if code != 200 || m["token_type"] != "DPoP" {
		t.Fatalf("with nonce: %d %v", code, m)
	}
	// Another replica with the same secret accepts the nonce: no shared state.
	g := newFixtureWith(t, "sqlite://"+t.TempDir()+"/q.db", "opaque", func(c *Config, _ *Options) { c.DPoPNonce = true })
	if code, m, _ := g.dpopToken(g.rsID, g.rsSecret, dpopCCForm(), k.Proof("POST", tokenURL, dpoptest.Opts{IAT: g.clock(), Nonce: nonce})); code != 200 {
		t.Fatalf("other replica: %d %v", code, m)
	}
}

// TestDPoPRefreshBoundForPublicClients: a public client's refresh token
// is bound to the key of the proof it was issued with: another key or none
// is refused and rotates nothing; the same key works; there is no grace
// replay of a bound token.
func TestDPoPRefreshBoundForPublicClients(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		f.addClient(identity.Client{ID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{redirectURI},
			GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "offline_access"}})
		k, other := dpoptest.NewKey(), dpoptest.NewKey()
		v := oauth2.GenerateVerifier()
		code := f.authorizeClient("spa", v, "", "read:pets", "offline_access")
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}
		st, m, _ := f.dpopToken("spa", "", form, k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()}))
		if st != 200 || m["token_type"] != "DPoP" {
			t.Fatalf("code exchange: %d %v", st, m)
		}
		rt := str(m, "refresh_token")
		refresh := func() url.Values { return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}} }
		if st, m, _ := f.dpopToken("spa", "", refresh(), other.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()})); st != 400 || m["error"] != "invalid_grant" {
			t.Errorf("refresh with another key: %d %v, want invalid_grant", st, m)
		}
		if st, m, _ := f.dpopToken("spa", "", refresh(), ""); st != 400 || m["error"] != "invalid_dpop_proof" {
			t.Errorf("refresh without proof: %d %v, want invalid_dpop_proof", st, m)
		}
		st, m, _ = f.dpopToken("spa", "", refresh(), k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()}))
		if st != 200 || m["token_type"] != "DPoP" || cnfJKT(f.introspect(str(m, "access_token"))) != k.JKT() {
			t.Fatalf("refresh with the key: %d %v", st, m)
		}
		// Within the grace window a replay of a bound token is reuse.
		if st, m, _ := f.dpopToken("spa", "", refresh(), k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()})); st != 400 {
			t.Errorf("replayed bound refresh token: %d %v", st, m)
		}
	})
}

// TestDPoPCodeBinding: a code bound with dpop_jkt is redeemed only with a
// proof by that key.
func TestDPoPCodeBinding(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		k := dpoptest.NewKey()
		exchange := func(proof string) (int, map[string]any) {
			v := oauth2.GenerateVerifier()
			code := f.authorizeClient("web", v, k.JKT(), "read:pets")
			st, m, _ := f.dpopToken("web", f.secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {v}}, proof)
			return st, m
		}
		if st, m := exchange(""); st != 400 || m["error"] != "invalid_dpop_proof" {
			t.Errorf("bound code without proof: %d %v", st, m)
		}
		if st, m := exchange(dpoptest.NewKey().Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()})); st != 400 || m["error"] != "invalid_dpop_proof" {
			t.Errorf("bound code with another key: %d %v", st, m)
		}
		if st, m := exchange(k.Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()})); st != 200 || m["token_type"] != "DPoP" {
			t.Errorf("bound code with its key: %d %v", st, m)
		}
	})
}

// TestDPoPReplayAcrossReplicasInDatabase: two providers on one database
// (the replay cache of deployments without Redis): a proof used at one is
// refused at the other.
func TestDPoPReplayAcrossReplicasInDatabase(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		f := newFixture(t, dbURL, "opaque")
		p2, err := New(context.Background(), f.p.cfg, f.st, Options{Now: f.clock, DPoPReplay: f.st.DPoPReplay()})
		if err != nil {
			t.Fatal(err)
		}
		r := mux.NewRouter()
		p2.Mount(r)
		ts2 := httptest.NewServer(r)
		defer ts2.Close()
		proof := dpoptest.NewKey().Proof("POST", tokenURL, dpoptest.Opts{IAT: f.clock()})
		if st, m, _ := f.dpopToken(f.rsID, f.rsSecret, dpopCCForm(), proof); st != 200 {
			t.Fatalf("replica 1: %d %v", st, m)
		}
		g := &fixture{t: t, ts: ts2}
		if st, m, _ := g.dpopToken(f.rsID, f.rsSecret, dpopCCForm(), proof); st != 400 || m["error"] != "invalid_dpop_proof" {
			t.Fatalf("replica 2 accepted a replayed proof: %d %v", st, m)
		}
		// After the window the row may be taken again (housekeeping aside).
		f.advance(3 * time.Minute)
		if fresh, err := f.st.DPoPReplay().Use(context.Background(), "k j", time.Minute); err != nil || !fresh {
			t.Fatalf("new key: %v %v", fresh, err)
		}
		if fresh, _ := f.st.DPoPReplay().Use(context.Background(), "k j", time.Minute); fresh {
			t.Fatal("same key twice is fresh")
		}
		f.advance(2 * time.Minute)
		if fresh, _ := f.st.DPoPReplay().Use(context.Background(), "k j", time.Minute); !fresh {
			t.Fatal("expired key not taken over")
		}
	})
}
