// Package bearertest is a fake authorization server speaking exactly the
// HTTP contract pkg/bearer relies on (introspection, JWKS, revoked-JWT
// list), for tests and benchmarks of resource servers. It signs RFC 9068
// JWTs with an ES256 key and answers introspection from a table the test
// fills in.
package bearertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
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
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// The credentials the fake expects from the resource server.
const (
	ClientID     = "petstore-api"
	ClientSecret = "s3cret/with+chars"     // needs form-encoding before Basic
	Audience     = "http://127.0.0.1:8081" // the development API's URL (RFC 8707), bearer.DefaultAudience
)

// Server is the fake authorization server. Its URL is the issuer.
type Server struct {
	*httptest.Server
	tb  testing.TB
	now func() time.Time

	mu      sync.Mutex
	key     *ecdsa.PrivateKey
	kid     string
	answers map[string]map[string]any // token -> introspection answer
	revoked []map[string]any
	seq     int

	down           atomic.Bool
	introspections atomic.Int64
	jwksFetches    atomic.Int64
	polls          atomic.Int64
}

// NewServer starts a fake authorization server, closed at the end of the
// test. now is its clock (time.Now if nil).
func NewServer(tb testing.TB, now func() time.Time) *Server {
	tb.Helper()
	if now == nil {
		now = time.Now
	}
	s := &Server{tb: tb, now: now, key: NewKey(tb), kid: "k1", answers: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/introspect", s.handleIntrospect)
	mux.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
	mux.HandleFunc("GET /oauth2/revoked-jwts", s.handleRevokedJWTs)
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// NewKey returns a fresh P-256 key.
func NewKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// SetDown makes every endpoint answer 500 (or work again).
func (s *Server) SetDown(down bool) { s.down.Store(down) }

// Introspections, JWKSFetches and Polls count calls to each endpoint.
func (s *Server) Introspections() int64 { return s.introspections.Load() }
func (s *Server) JWKSFetches() int64    { return s.jwksFetches.Load() }
func (s *Server) Polls() int64          { return s.polls.Load() }

// Key returns the current signing key and its kid.
func (s *Server) Key() (*ecdsa.PrivateKey, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.key, s.kid
}

// Rotate replaces the published signing key with a new one under kid.
func (s *Server) Rotate(kid string) {
	k := NewKey(s.tb)
	s.mu.Lock()
	s.key, s.kid = k, kid
	s.mu.Unlock()
}

func (s *Server) authenticated(w http.ResponseWriter, r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	if !ok || id != ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) != 1 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return false
	}
	return true
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	s.introspections.Add(1)
	if s.down.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	if !s.authenticated(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil || r.URL.RawQuery != "" {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	ans, ok := s.answers[r.PostForm.Get("token")]
	s.mu.Unlock()
	if !ok {
		ans = map[string]any{"active": false}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	s.jwksFetches.Add(1)
	if s.down.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	key, kid := s.Key()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_ = json.NewEncoder(w).Encode(set)
}

func (s *Server) handleRevokedJWTs(w http.ResponseWriter, r *http.Request) {
	s.polls.Add(1)
	if s.down.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	if !s.authenticated(w, r) {
		return
	}
	if _, err := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64); err != nil {
		http.Error(w, "since", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	list := append([]map[string]any{}, s.revoked...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"revoked": list, "now": s.now().Unix()})
}

// SetAnswer makes introspection of token answer ans plus "active":true.
func (s *Server) SetAnswer(token string, ans map[string]any) {
	a := map[string]any{"active": true, "iss": s.URL, "iat": s.now().Unix()}
	for k, v := range ans {
		a[k] = v
	}
	s.mu.Lock()
	s.answers[token] = a
	s.mu.Unlock()
}

// AccessToken registers token as an active opaque access token of user-1,
// issued to client "app", valid for an hour.
func (s *Server) AccessToken(token, scope string) string {
	s.SetAnswer(token, map[string]any{"scope": scope, "client_id": "app", "sub": "user-1",
		"exp": s.now().Add(time.Hour).Unix(), "aud": []string{Audience},
		"token_type": "access_token", "token_use": "access_token"})
	return token
}

// Opaque returns a well-formed opaque access token (checksummed, as
// petstore-auth issues them) derived from name: the same name gives the
// same token. Register it with AccessToken or SetAnswer.
func Opaque(name string) string {
	return tokenformat.Seal(tokenformat.AccessToken, hmacLike(name))
}

// LegacyOpaque is Opaque in the format issued before checksums existed.
func LegacyOpaque(name string) string { return tokenformat.AccessToken + hmacLike(name) }

func hmacLike(name string) string {
	k, sig := sha256.Sum256([]byte("key:"+name)), sha256.Sum256([]byte("sig:"+name))
	return base64.RawURLEncoding.EncodeToString(k[:]) + "." + base64.RawURLEncoding.EncodeToString(sig[:])
}

// APIKey generates and registers an active API key of user-2.
func (s *Server) APIKey(env, scope string) string {
	s.tb.Helper()
	k, err := apikey.Generate(env)
	if err != nil {
		s.tb.Fatal(err)
	}
	s.SetAnswer(k, map[string]any{"scope": scope, "sub": "user-2", "aud": Audience,
		"token_type": "api_key", "token_use": "access_token", "env": env})
	return k
}

// Forget makes token unknown (revoked) at the server.
func (s *Server) Forget(token string) {
	s.mu.Lock()
	delete(s.answers, token)
	s.mu.Unlock()
}

// RevokeJTI puts a JWT id on the revocation list.
func (s *Server) RevokeJTI(jti string, exp time.Time) {
	s.mu.Lock()
	s.revoked = append(s.revoked, map[string]any{"jti": jti, "exp": exp.Unix()})
	s.mu.Unlock()
}

// ClearRevoked empties the revocation list (as expired entries leave it).
func (s *Server) ClearRevoked() {
	s.mu.Lock()
	s.revoked = nil
	s.mu.Unlock()
}

// Claims returns the RFC 9068 claims of a good access token for user-3
// with a unique jti; tests edit them before signing.
func (s *Server) Claims(scope string) map[string]any {
	now := s.now()
	s.mu.Lock()
	s.seq++
	jti := "jti-" + strconv.Itoa(s.seq)
	s.mu.Unlock()
	return map[string]any{"iss": s.URL, "sub": "user-3", "aud": []string{Audience}, "client_id": "app",
		"scope": scope, "jti": jti, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()}
}

// JWT signs claims as an access token with the current key.
func (s *Server) JWT(claims map[string]any) string {
	key, kid := s.Key()
	return Sign(s.tb, key, jose.ES256, "at+jwt", kid, claims)
}

// Sign signs claims with any key, algorithm, typ ("" for none) and kid.
func Sign(tb testing.TB, key any, alg jose.SignatureAlgorithm, typ, kid string, claims map[string]any) string {
	tb.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// PublicKeyDER is what an algorithm-confusion attacker uses as HMAC secret.
func (s *Server) PublicKeyDER() []byte {
	key, _ := s.Key()
	b, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		s.tb.Fatal(err)
	}
	return b
}
