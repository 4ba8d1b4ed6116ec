package bearer

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
)

// callDPoP calls the API with "Authorization: <scheme> token" and the
// proofs as DPoP headers.
func (e *env) callDPoP(t *testing.T, method, path, scheme, token string, proofs ...string) response {
	t.Helper()
	req, _ := http.NewRequest(method, e.api.URL+path, nil)
	req.Header.Set("Authorization", scheme+" "+token)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := e.api.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b), strings.Join(resp.Header.Values("WWW-Authenticate"), ", "), resp.Header}
}

// boundTokens registers a DPoP-bound opaque token and makes a bound JWT.
func boundTokens(e *env, jkt string) map[string]string {
	op := bearertest.Opaque("bound-" + jkt)
	e.as.SetAnswer(op, map[string]any{"scope": "read:pets", "client_id": "app", "sub": "user-1",
		"exp": e.clock.Now().Add(time.Hour).Unix(), "aud": []string{bearertest.Audience},
		"token_type": "access_token", "token_use": "access_token", "cnf": map[string]any{"jkt": jkt}})
	c := e.as.Claims("read:pets")
	c["cnf"] = map[string]any{"jkt": jkt}
	return map[string]string{"opaque": op, "jwt": e.as.JWT(c)}
}

// TestDPoPProofTableAtAPI: every bad proof, a proof for another key, URL
// or method, a replay, and a bound token sent as Bearer are refused with a
// DPoP challenge; the good proof is accepted, for opaque and JWT tokens.
func TestDPoPProofTableAtAPI(t *testing.T) {
	e := newEnv(t)
	k, other := dpoptest.NewKey(), dpoptest.NewKey()
	for kind, tok := range boundTokens(e, k.JKT()) {
		t.Run(kind, func(t *testing.T) {
			now := e.clock.Now()
			url := e.api.URL + "/read"
			good := func(o dpoptest.Opts) string { o.AccessToken, o.IAT = tok, now; return k.Proof("GET", url, o) }
			replayed := good(dpoptest.Opts{})
			if r := e.callDPoP(t, "GET", "/read", "DPoP", tok, replayed); r.status != 200 {
				t.Fatalf("good proof: %d %s %s", r.status, r.challenge, r.body)
			}
			// htu is compared without its query.
			if r := e.callDPoP(t, "GET", "/read?limit=5", "DPoP", tok, good(dpoptest.Opts{})); r.status != 200 {
				t.Fatalf("request with a query: %d %s", r.status, r.challenge)
			}
			for name, proofs := range map[string][]string{
				"missing typ":        {good(dpoptest.Opts{Typ: "-"})},
				"wrong typ":          {good(dpoptest.Opts{Typ: "jwt"})},
				"alg none":           {dpoptest.Unsigned("none", "GET", url)},
				"HS256":              {dpoptest.Unsigned("HS256", "GET", url)},
				"private key in jwk": {good(dpoptest.Opts{EmbedPrivate: true})},
				"bad signature":      {good(dpoptest.Opts{SignWith: other.Priv})},
				"wrong htm":          {k.Proof("POST", url, dpoptest.Opts{AccessToken: tok, IAT: now})},
				"wrong htu":          {k.Proof("GET", e.api.URL+"/write", dpoptest.Opts{AccessToken: tok, IAT: now})},
				"iat too old":        {k.Proof("GET", url, dpoptest.Opts{AccessToken: tok, IAT: now.Add(-5 * time.Minute)})},
				"iat too new":        {k.Proof("GET", url, dpoptest.Opts{AccessToken: tok, IAT: now.Add(5 * time.Minute)})},
				"replayed jti":       {replayed},
				"wrong ath":          {good(dpoptest.Opts{ATH: dpop.AccessTokenHash("another token")})},
				"another key":        {other.Proof("GET", url, dpoptest.Opts{AccessToken: tok, IAT: now})},
				"no proof":           nil,
				"two proofs":         {good(dpoptest.Opts{}), good(dpoptest.Opts{})},
			} {
				r := e.callDPoP(t, "GET", "/read", "DPoP", tok, proofs...)
				if r.status != 401 || !strings.HasPrefix(r.challenge, `DPoP error="invalid_dpop_proof", algs="ES256 RS256 EdDSA"`) {
					t.Errorf("%s: %d %q", name, r.status, r.challenge)
				}
			}
			// A bound token presented as a bearer token is refused.
			if r := e.callDPoP(t, "GET", "/read", "Bearer", tok); r.status != 401 || !strings.HasPrefix(r.challenge, `DPoP error="invalid_token"`) {
				t.Errorf("bound token as Bearer: %d %q", r.status, r.challenge)
			}
			if r := e.callDPoP(t, "GET", "/read", "Bearer", tok, good(dpoptest.Opts{})); r.status != 401 {
				t.Errorf("bound token as Bearer with a proof: %d", r.status)
			}
		})
	}
	// A bearer token under the DPoP scheme is refused; as Bearer it works
	// and keeps its Bearer challenges.
	plain := e.as.AccessToken(bearertest.Opaque("plain"), "read:pets")
	if r := e.callDPoP(t, "GET", "/read", "DPoP", plain, k.Proof("GET", e.api.URL+"/read", dpoptest.Opts{AccessToken: plain, IAT: e.clock.Now()})); r.status != 401 {
		t.Errorf("bearer token with the DPoP scheme: %d", r.status)
	}
	if r := e.callDPoP(t, "GET", "/read", "Bearer", plain); r.status != 200 {
		t.Errorf("bearer token: %d", r.status)
	}
	if r := e.do(t, "GET", "/read"); r.status != 401 || r.header.Values("WWW-Authenticate")[0] != `Bearer realm="petstore"` ||
		r.header.Values("WWW-Authenticate")[1] != `DPoP algs="ES256 RS256 EdDSA"` {
		t.Errorf("no credentials: %d %v", r.status, r.header.Values("WWW-Authenticate"))
	}
}

// TestDPoPNonceAtAPI: use_dpop_nonce with a DPoP-Nonce header, then the
// retry with that nonce succeeds.
func TestDPoPNonceAtAPI(t *testing.T) {
	e := newEnv(t, func(v *Verifier) {
		v.DPoP = &dpop.Validator{Replay: &dpop.Memory{}, Nonces: &dpop.Nonces{Key: []byte(strings.Repeat("n", 32)), Now: v.Now}, Now: v.Now}
	})
	k := dpoptest.NewKey()
	tok := boundTokens(e, k.JKT())["opaque"]
	url := e.api.URL + "/read"
	r := e.callDPoP(t, "GET", "/read", "DPoP", tok, k.Proof("GET", url, dpoptest.Opts{AccessToken: tok, IAT: e.clock.Now()}))
	nonce := r.header.Get("DPoP-Nonce")
	if r.status != 401 || !strings.HasPrefix(r.challenge, `DPoP error="use_dpop_nonce"`) || nonce == "" {
		t.Fatalf("without nonce: %d %q nonce=%q", r.status, r.challenge, nonce)
	}
	r = e.callDPoP(t, "GET", "/read", "DPoP", tok, k.Proof("GET", url, dpoptest.Opts{AccessToken: tok, IAT: e.clock.Now(), Nonce: nonce}))
	if r.status != 200 {
		t.Fatalf("with nonce: %d %q", r.status, r.challenge)
	}
}

// TestDPoPReplayAcrossReplicas: two API replicas sharing Redis (and a
// public URL): a proof accepted by one is refused by the other. Runs
// whenever PETSTORE_TEST_REDIS_ADDR is set.
func TestDPoPReplayAcrossReplicas(t *testing.T) {
	addr := os.Getenv("PETSTORE_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PETSTORE_TEST_REDIS_ADDR not set")
	}
	prefix := "petstore:test:bearer-dpop:" + time.Now().Format("150405.000000000") + ":"
	shared := func(v *Verifier) {
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { c.Close() })
		v.PublicURL = "https://api.example"
		v.DPoP = &dpop.Validator{Replay: &dpop.Redis{Client: c, Prefix: prefix}, Now: v.Now}
	}
	a := newEnv(t, shared)
	b := newEnv(t, shared)
	k := dpoptest.NewKey()
	tokA := boundTokens(a, k.JKT())["jwt"]
	// Replica b trusts a's server key: same token valid at both.
	b.as = a.as
	b.v.Issuer = a.v.Issuer
	proof := k.Proof("GET", "https://api.example/read", dpoptest.Opts{AccessToken: tokA, IAT: a.clock.Now()})
	if r := a.callDPoP(t, "GET", "/read", "DPoP", tokA, proof); r.status != 200 {
		t.Fatalf("replica a: %d %q", r.status, r.challenge)
	}
	if r := b.callDPoP(t, "GET", "/read", "DPoP", tokA, proof); r.status != 401 || !strings.Contains(r.challenge, "invalid_dpop_proof") {
		t.Fatalf("replica b accepted a replay: %d %q", r.status, r.challenge)
	}
}
