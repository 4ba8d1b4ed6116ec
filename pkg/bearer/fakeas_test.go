package bearer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
)

const (
	testClientID = "petstore-api"
	testSecret   = "s3cret/with+chars"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeAS is an authorization server speaking the contract pkg/bearer relies
// on: introspection, JWKS and the revoked-JWT list.
type fakeAS struct {
	*httptest.Server
	t     testing.TB
	clock *clock
	key   *ecdsa.PrivateKey
	kid   string

	mu      sync.Mutex
	answers map[string]map[string]any // token -> introspection answer
	revoked []map[string]any

	down           atomic.Bool // answer 500 everywhere
	introspections atomic.Int64
	jwksFetches    atomic.Int64
	polls          atomic.Int64
}

func newFakeAS(t testing.TB, c *clock) *fakeAS {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	as := &fakeAS{t: t, clock: c, key: key, kid: "k1", answers: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/introspect", as.introspect)
	mux.HandleFunc("GET /.well-known/jwks.json", as.jwks)
	mux.HandleFunc("GET /oauth2/revoked-jwts", as.revokedJWTs)
	as.Server = httptest.NewServer(mux)
	t.Cleanup(as.Close)
	return as
}

func (as *fakeAS) authenticated(w http.ResponseWriter, r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	if !ok || id != testClientID || secret != testSecret {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return false
	}
	return true
}

func (as *fakeAS) introspect(w http.ResponseWriter, r *http.Request) {
	as.introspections.Add(1)
	if as.down.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	if !as.authenticated(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil || r.URL.RawQuery != "" {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	as.mu.Lock()
	ans, ok := as.answers[r.PostForm.Get("token")]
	as.mu.Unlock()
	if !ok {
		ans = map[string]any{"active": false}
	}
	_ = json.NewEncoder(w).Encode(ans)
}

func (as *fakeAS) jwks(w http.ResponseWriter, _ *http.Request) {
	as.jwksFetches.Add(1)
	if as.down.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	as.mu.Lock()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &as.key.PublicKey, KeyID: as.kid, Algorithm: "ES256", Use: "sig"}}}
	as.mu.Unlock()
	_ = json.NewEncoder(w).Encode(set)
}

func (as *fakeAS) revokedJWTs(w http.ResponseWriter, r *http.Request) {
	as.polls.Add(1)
	if as.down.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	if !as.authenticated(w, r) {
		return
	}
	if _, err := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64); err != nil {
		http.Error(w, "since", http.StatusBadRequest)
		return
	}
	as.mu.Lock()
	list := append([]map[string]any{}, as.revoked...)
	as.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"revoked": list, "now": as.clock.Now().Unix()})
}

// setToken makes the fake answer ans (plus active:true) for token.
func (as *fakeAS) setToken(token string, ans map[string]any) {
	a := map[string]any{"active": true, "iss": as.URL, "iat": as.clock.Now().Unix()}
	for k, v := range ans {
		a[k] = v
	}
	as.mu.Lock()
	as.answers[token] = a
	as.mu.Unlock()
}

// accessToken registers an active opaque access token.
func (as *fakeAS) accessToken(token, scope string) string {
	as.setToken(token, map[string]any{"scope": scope, "client_id": "app", "sub": "user-1",
		"exp": as.clock.Now().Add(time.Hour).Unix(), "aud": []string{"petstore-api"},
		"token_type": "access_token", "token_use": "access_token"})
	return token
}

// apiKey registers an active API key of env.
func (as *fakeAS) apiKey(env, scope string) string {
	as.t.Helper()
	k, err := apikey.Generate(env)
	if err != nil {
		as.t.Fatal(err)
	}
	as.setToken(k, map[string]any{"scope": scope, "sub": "user-2", "aud": "petstore-api",
		"token_type": "api_key", "token_use": "access_token", "env": env})
	return k
}

func (as *fakeAS) forget(token string) {
	as.mu.Lock()
	delete(as.answers, token)
	as.mu.Unlock()
}

func (as *fakeAS) revokeJTI(jti string, exp time.Time) {
	as.mu.Lock()
	as.revoked = append(as.revoked, map[string]any{"jti": jti, "exp": exp.Unix()})
	as.mu.Unlock()
}

// claims are the RFC 9068 claims of a good token; tests edit them.
func (as *fakeAS) claims(scope string) map[string]any {
	now := as.clock.Now()
	return map[string]any{"iss": as.URL, "sub": "user-3", "aud": []string{"petstore-api"}, "client_id": "app",
		"scope": scope, "jti": "jti-" + strconv.FormatInt(now.UnixNano(), 36) + scope,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()}
}

// sign signs claims with the fake's key (or key) and the given typ and kid.
func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, typ, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (as *fakeAS) jwt(claims map[string]any) string {
	as.mu.Lock()
	key, kid := as.key, as.kid
	as.mu.Unlock()
	return sign(as.t, key, jose.ES256, "at+jwt", kid, claims)
}

// publicKeyDER is what an algorithm-confusion attacker uses as HMAC secret.
func (as *fakeAS) publicKeyDER() []byte {
	b, err := x509.MarshalPKIXPublicKey(&as.key.PublicKey)
	if err != nil {
		as.t.Fatal(err)
	}
	return b
}
