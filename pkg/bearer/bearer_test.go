package bearer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
)

// env is a fake authorization server and an API protected by a Verifier.
type env struct {
	as    *bearertest.Server
	clock *clock
	v     *Verifier
	api   *httptest.Server
}

func newEnv(t *testing.T, opts ...func(*Verifier)) *env {
	t.Helper()
	c := newClock()
	as := bearertest.NewServer(t, c.Now)
	v := &Verifier{Issuer: as.URL, ClientID: bearertest.ClientID, ClientSecret: bearertest.ClientSecret, Mode: "test",
		Now: c.Now, Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(v)
	}
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(FromContext(r.Context()))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /read", v.Require("read:pets")(echo))
	mux.Handle("POST /write", v.Require("write:pets")(echo))
	mux.Handle("POST /both", v.Require("read:pets", "write:pets")(echo))
	api := httptest.NewServer(mux)
	t.Cleanup(api.Close)
	return &env{as: as, clock: c, v: v, api: api}
}

type response struct {
	status    int
	body      string
	challenge string
	header    http.Header
}

// do calls the API with the given Authorization header values.
func (e *env) do(t *testing.T, method, path string, authorization ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.api.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range authorization {
		req.Header.Add("Authorization", a)
	}
	resp, err := e.api.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b), resp.Header.Get("WWW-Authenticate"), resp.Header}
}

func (e *env) get(t *testing.T, token string) response {
	t.Helper()
	return e.do(t, "GET", "/read", "Bearer "+token)
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden returns the expected body from testdata/golden/name.json; with
// -update it first writes got there.
func golden(t *testing.T, name, got string) string {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		_ = os.MkdirAll(filepath.Dir(path), 0o755)
		_ = os.WriteFile(path, []byte(got), 0o644)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update once)", err)
	}
	return string(b)
}

// The answers to failed credentials, in the JSON APIs' one error shape.
var (
	invalidBody    = readGolden("invalid-token")
	missingBody    = readGolden("missing-credential")
	badRequestBody = readGolden("bad-request")
	invalidHeader  = `Bearer realm="petstore", error="invalid_token"`
)

func readGolden(name string) string {
	b, _ := os.ReadFile(filepath.Join("testdata", "golden", name+".json"))
	return string(b)
}

func wantInvalid(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusUnauthorized || r.body != invalidBody || r.challenge != invalidHeader {
		t.Fatalf("got %d %q %q; want 401 %q %q", r.status, r.body, r.challenge, invalidBody, invalidHeader)
	}
}

func wantPrincipal(t *testing.T, r response, subject, kind string) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d %s, want 200", r.status, r.body)
	}
	var p Principal
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}
	if p.Subject != subject || p.Kind != kind {
		t.Fatalf("principal %+v, want subject %q kind %q", p, subject, kind)
	}
}

// TestEachCredentialKind runs the same scope matrix over the three kinds of
// credential.
func TestEachCredentialKind(t *testing.T) {
	e := newEnv(t)
	creds := []struct {
		name, kind, subject string
		make                func(scope string) string
	}{
		{"opaque", KindOpaque, "user-1", func(scope string) string {
			return e.as.AccessToken(bearertest.Opaque(scope), scope)
		}},
		{"jwt", KindJWT, "user-3", func(scope string) string { return e.as.JWT(e.as.Claims(scope)) }},
		{"api key", KindAPIKey, "user-2", func(scope string) string { return e.as.APIKey("test", scope) }},
	}
	for _, c := range creds {
		t.Run(c.name, func(t *testing.T) {
			read := c.make("read:pets")
			both := c.make("read:pets write:pets")
			t.Run("right scope", func(t *testing.T) {
				wantPrincipal(t, e.get(t, read), c.subject, c.kind)
				wantPrincipal(t, e.do(t, "POST", "/both", "Bearer "+both), c.subject, c.kind)
			})
			t.Run("missing scope", func(t *testing.T) {
				r := e.do(t, "POST", "/write", "Bearer "+read)
				want := `Bearer realm="petstore", error="insufficient_scope", scope="write:pets"`
				if r.status != http.StatusForbidden || r.challenge != want ||
					r.body != golden(t, "insufficient-scope", r.body) {
					t.Fatalf("got %d %q %q", r.status, r.challenge, r.body)
				}
				if r := e.do(t, "POST", "/both", "Bearer "+read); r.status != http.StatusForbidden {
					t.Fatalf("one of two scopes: status %d, want 403", r.status)
				}
			})
			t.Run("unknown", func(t *testing.T) {
				switch c.kind {
				case KindJWT:
					wantInvalid(t, e.get(t, bearertest.Sign(t, bearertest.NewKey(t), jose.ES256, "at+jwt", "nope", e.as.Claims("read:pets"))))
				case KindAPIKey:
					k := c.make("read:pets")
					e.as.Forget(k)
					wantInvalid(t, e.get(t, k))
				default:
					wantInvalid(t, e.get(t, bearertest.Opaque("never-issued")))
				}
			})
		})
	}
}

func TestMissingAndMalformed(t *testing.T) {
	e := newEnv(t)
	good := e.as.AccessToken(bearertest.Opaque("good"), "read:pets")
	for _, tc := range []struct {
		name          string
		authorization []string
		path          string
		status        int
		challenge     string
		body          string
	}{
		{"no header", nil, "/read", 401, `Bearer realm="petstore"`, missingBody},
		{"empty header", []string{""}, "/read", 401, `Bearer realm="petstore"`, missingBody},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, "/read", 401, `Bearer realm="petstore"`, missingBody},
		{"scheme only", []string{"Bearer"}, "/read", 401, invalidHeader, invalidBody},
		{"whitespace token", []string{"Bearer    "}, "/read", 401, invalidHeader, invalidBody},
		{"token with space", []string{"Bearer pst_at_good .sig"}, "/read", 401, invalidHeader, invalidBody},
		{"oversized", []string{"Bearer " + strings.Repeat("a", MaxHeaderLen)}, "/read", 401, invalidHeader, invalidBody},
		{"two headers", []string{"Bearer " + good, "Bearer " + good}, "/read", 400,
			`Bearer realm="petstore", error="invalid_request"`, badRequestBody},
		{"token in query", nil, "/read?access_token=" + good, 400,
			`Bearer realm="petstore", error="invalid_request"`, badRequestBody},
		{"token in query and header", []string{"Bearer " + good}, "/read?access_token=" + good, 400,
			`Bearer realm="petstore", error="invalid_request"`, badRequestBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "GET", tc.path, tc.authorization...)
			if r.status != tc.status || r.challenge != tc.challenge || r.body != tc.body {
				t.Fatalf("got %d %q %q; want %d %q %q", r.status, r.challenge, r.body, tc.status, tc.challenge, tc.body)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("headers %v", r.header)
			}
		})
	}
	for _, scheme := range []string{"bearer", "BEARER", "bEaReR"} {
		t.Run("scheme "+scheme, func(t *testing.T) {
			wantPrincipal(t, e.do(t, "GET", "/read", scheme+" "+good), "user-1", KindOpaque)
		})
	}
}

func TestJWTNegatives(t *testing.T) {
	e := newEnv(t)
	as := e.as
	with := func(k string, v any) map[string]any {
		c := as.Claims("read:pets")
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	payload, _ := json.Marshal(as.Claims("read:pets"))
	good := as.JWT(as.Claims("read:pets"))
	parts := strings.Split(good, ".")
	otherKey := bearertest.NewKey(t)
	key, kid := as.Key()
	now := e.clock.Now()
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"alg none", b64(`{"alg":"none","typ":"at+jwt","kid":"k1"}`) + "." + b64(string(payload)) + ".AAAA"},
		{"alg none without signature", b64(`{"alg":"none","typ":"at+jwt","kid":"k1"}`) + "." + b64(string(payload)) + "."},
		{"HS256 with the public key", bearertest.Sign(t, as.PublicKeyDER(), jose.HS256, "at+jwt", kid, as.Claims("read:pets"))},
		{"ES384 header", b64(`{"alg":"ES384","typ":"at+jwt","kid":"k1"}`) + "." + parts[1] + "." + parts[2]},
		{"signed by another key with our kid", bearertest.Sign(t, otherKey, jose.ES256, "at+jwt", kid, as.Claims("read:pets"))},
		{"wrong iss", as.JWT(with("iss", "https://evil.example"))},
		{"iss with trailing slash", as.JWT(with("iss", as.URL+"/"))},
		{"expired", as.JWT(with("exp", now.Add(-2*time.Minute).Unix()))},
		{"missing exp", as.JWT(with("exp", nil))},
		{"nbf in the future", as.JWT(with("nbf", now.Add(5*time.Minute).Unix()))},
		{"iat in the future", as.JWT(with("iat", now.Add(5*time.Minute).Unix()))},
		{"missing jti", as.JWT(with("jti", nil))},
		{"missing sub and client_id", func() string { c := with("sub", nil); delete(c, "client_id"); return as.JWT(c) }()},
		{"typ JWT (ID token)", bearertest.Sign(t, key, jose.ES256, "JWT", kid, as.Claims("read:pets"))},
		{"no typ", bearertest.Sign(t, key, jose.ES256, "", kid, as.Claims("read:pets"))},
		{"flipped payload byte", parts[0] + "." + flip(parts[1]) + "." + parts[2]},
		{"flipped signature byte", parts[0] + "." + parts[1] + "." + flip(parts[2])},
		{"duplicated alg header", b64(`{"alg":"ES256","alg":"none","typ":"at+jwt","kid":"k1"}`) + "." + parts[1] + "." + parts[2]},
		{"no kid", b64(`{"alg":"ES256","typ":"at+jwt"}`) + "." + parts[1] + "." + parts[2]},
	} {
		t.Run(tc.name, func(t *testing.T) { wantInvalid(t, e.get(t, tc.token)) })
	}
	t.Run("still accepts the good token", func(t *testing.T) { wantPrincipal(t, e.get(t, good), "user-3", KindJWT) })
	t.Run("typ variants", func(t *testing.T) {
		for _, typ := range []string{"AT+JWT", "application/at+jwt"} {
			wantPrincipal(t, e.get(t, bearertest.Sign(t, key, jose.ES256, typ, kid, as.Claims("read:pets"))), "user-3", KindJWT)
		}
	})
	t.Run("within leeway", func(t *testing.T) {
		wantPrincipal(t, e.get(t, as.JWT(with("exp", now.Add(-10*time.Second).Unix()))), "user-3", KindJWT)
	})
	t.Run("client_credentials token without sub", func(t *testing.T) {
		wantPrincipal(t, e.get(t, as.JWT(with("sub", nil))), "app", KindJWT)
	})
}

// flip changes one character in the middle of a base64url segment.
func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestUnknownKidRefetchesJWKSRateLimited(t *testing.T) {
	e := newEnv(t)
	wantPrincipal(t, e.get(t, e.as.JWT(e.as.Claims("read:pets"))), "user-3", KindJWT)
	before := e.as.JWKSFetches()
	rotated := bearertest.Sign(t, bearertest.NewKey(t), jose.ES256, "at+jwt", "k2", e.as.Claims("read:pets"))
	e.clock.Advance(11 * time.Second)
	wantInvalid(t, e.get(t, rotated))
	if got := e.as.JWKSFetches(); got != before+1 {
		t.Fatalf("JWKS fetches after unknown kid = %d, want %d", got, before+1)
	}
	for range 5 {
		wantInvalid(t, e.get(t, rotated))
	}
	if got := e.as.JWKSFetches(); got != before+1 {
		t.Fatalf("unknown kids made %d more JWKS fetches within 10 s, want none", got-before-1)
	}

	// A real rotation: the AS publishes a new key; after the rate limit
	// window the new kid is fetched and accepted.
	e.as.Rotate("k3")
	e.clock.Advance(11 * time.Second)
	wantPrincipal(t, e.get(t, e.as.JWT(e.as.Claims("read:pets"))), "user-3", KindJWT)
}

func TestRefreshTokenRefused(t *testing.T) {
	e := newEnv(t)
	e.as.SetAnswer("pst_rt_refresh.sig", map[string]any{"scope": "read:pets offline_access", "client_id": "app",
		"sub": "user-1", "aud": bearertest.Audience, "token_type": "refresh_token", "token_use": "refresh_token",
		"exp": e.clock.Now().Add(time.Hour).Unix()})
	wantInvalid(t, e.get(t, "pst_rt_refresh.sig"))
}

func TestIntrospectionAnswersRefused(t *testing.T) {
	e := newEnv(t)
	base := func() map[string]any {
		return map[string]any{"scope": "read:pets", "client_id": "app", "sub": "user-1", "aud": bearertest.Audience,
			"token_type": "access_token", "token_use": "access_token", "exp": e.clock.Now().Add(time.Hour).Unix()}
	}
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"expired", func(a map[string]any) { a["exp"] = e.clock.Now().Add(-time.Second).Unix() }},
		{"no token_use", func(a map[string]any) { delete(a, "token_use") }},
		{"api_key type for an opaque token", func(a map[string]any) { a["token_type"] = "api_key" }},
		{"no subject", func(a map[string]any) { delete(a, "sub"); delete(a, "client_id") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := base()
			tc.edit(a)
			tok := bearertest.Opaque(tc.name)
			e.as.SetAnswer(tok, a)
			wantInvalid(t, e.get(t, tok))
		})
	}
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	t.Run("live key on a test server", func(t *testing.T) {
		live := e.as.APIKey("live", "read:pets")
		n := e.as.Introspections()
		wantInvalid(t, e.get(t, live))
		if e.as.Introspections() != n {
			t.Fatal("a key of the wrong environment reached the authorization server")
		}
	})
	t.Run("AS says live for a test-prefixed key", func(t *testing.T) {
		k := e.as.APIKey("test", "read:pets")
		e.as.SetAnswer(k, map[string]any{"scope": "read:pets", "sub": "user-2", "aud": bearertest.Audience,
			"token_type": "api_key", "token_use": "access_token", "env": "live"})
		wantInvalid(t, e.get(t, k))
	})
	t.Run("typo rejected without a network call", func(t *testing.T) {
		k := e.as.APIKey("test", "read:pets")
		typo := k[:20] + string(k[21]) + string(k[20]) + k[22:]
		if typo == k {
			t.Skip("equal neighbours")
		}
		n := e.as.Introspections()
		wantInvalid(t, e.get(t, typo))
		if e.as.Introspections() != n {
			t.Fatal("a mistyped key reached the authorization server")
		}
	})
	t.Run("unknown, revoked and malformed keys look the same", func(t *testing.T) {
		revoked := e.as.APIKey("test", "read:pets")
		wantPrincipal(t, e.get(t, revoked), "user-2", KindAPIKey)
		e.as.Forget(revoked)
		e.clock.Advance(DefaultCacheTTL + time.Second)
		unknown := e.as.APIKey("test", "read:pets")
		e.as.Forget(unknown)
		r1, r2, r3 := e.get(t, unknown), e.get(t, revoked), e.get(t, "sk_test_short")
		for _, r := range []response{r1, r2, r3} {
			wantInvalid(t, r)
		}
		if r1.body != r2.body || r1.challenge != r2.challenge || r2.body != r3.body {
			t.Fatal("responses differ")
		}
	})
}

func TestIntrospectionCache(t *testing.T) {
	e := newEnv(t, func(v *Verifier) { v.CacheTTL = 10 * time.Second })
	tok := e.as.AccessToken(bearertest.Opaque("cached"), "read:pets")
	wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
	n := e.as.Introspections()
	wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
	if got := e.as.Introspections(); got != n {
		t.Fatalf("second request introspected again (%d calls)", got-n)
	}
	// The cached answer does not carry a decision: scopes are checked again.
	if r := e.do(t, "POST", "/write", "Bearer "+tok); r.status != http.StatusForbidden {
		t.Fatalf("cached read-only token on a write route: %d, want 403", r.status)
	}
	if s := e.v.Stats(); s.Hits < 2 || s.Misses != 1 {
		t.Fatalf("stats %+v, want ≥2 hits and 1 miss", s)
	}

	e.as.Forget(tok) // revoked at the AS
	e.clock.Advance(9 * time.Second)
	wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque) // still cached: the documented window
	e.clock.Advance(2 * time.Second)
	wantInvalid(t, e.get(t, tok))

	t.Run("negative answers are cached briefly", func(t *testing.T) {
		n := e.as.Introspections()
		wantInvalid(t, e.get(t, bearertest.Opaque("nobody")))
		wantInvalid(t, e.get(t, bearertest.Opaque("nobody")))
		if got := e.as.Introspections() - n; got != 1 {
			t.Fatalf("%d introspections, want 1", got)
		}
		e.as.AccessToken(bearertest.Opaque("nobody"), "read:pets")
		e.clock.Advance(DefaultNegativeTTL + time.Second)
		wantPrincipal(t, e.get(t, bearertest.Opaque("nobody")), "user-1", KindOpaque)
	})
	t.Run("TTL bounded by the token's exp", func(t *testing.T) {
		e.as.SetAnswer(bearertest.Opaque("short"), map[string]any{"scope": "read:pets", "client_id": "app", "sub": "user-1",
			"aud": bearertest.Audience, "token_type": "access_token", "token_use": "access_token",
			"exp": e.clock.Now().Add(3 * time.Second).Unix()})
		wantPrincipal(t, e.get(t, bearertest.Opaque("short")), "user-1", KindOpaque)
		e.clock.Advance(4 * time.Second)
		wantInvalid(t, e.get(t, bearertest.Opaque("short")))
	})
}

func TestCacheIsBounded(t *testing.T) {
	e := newEnv(t, func(v *Verifier) { v.CacheSize = 5 })
	for i := range 20 {
		tok := e.as.AccessToken(bearertest.Opaque(string(rune('a'+i))), "read:pets")
		wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
	}
	if n := e.v.cache.len(); n > 5 {
		t.Fatalf("cache holds %d entries, bound is 5", n)
	}
}

func TestAuthorizationServerDown(t *testing.T) {
	wantUnavailable := func(t *testing.T, r response) {
		t.Helper()
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
			t.Fatalf("got %d (Retry-After %q) %s, want 503 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
		}
	}
	t.Run("5xx", func(t *testing.T) {
		e := newEnv(t)
		tok := e.as.AccessToken(bearertest.Opaque("x"), "read:pets")
		key := e.as.APIKey("test", "read:pets")
		e.as.SetDown(true)
		wantUnavailable(t, e.get(t, tok))
		wantUnavailable(t, e.get(t, key))
		wantUnavailable(t, e.get(t, e.as.JWT(e.as.Claims("read:pets"))))
		e.as.SetDown(false)
		wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque) // the failure was not cached
	})
	t.Run("unreachable", func(t *testing.T) {
		e := newEnv(t)
		tok := e.as.AccessToken(bearertest.Opaque("x"), "read:pets")
		e.as.Close()
		wantUnavailable(t, e.get(t, tok))
	})
	t.Run("our client refused", func(t *testing.T) {
		e := newEnv(t, func(v *Verifier) { v.ClientSecret = "wrong" })
		wantUnavailable(t, e.get(t, e.as.AccessToken(bearertest.Opaque("x"), "read:pets")))
	})
	t.Run("JWTs keep working briefly with loaded keys", func(t *testing.T) {
		e := newEnv(t)
		wantPrincipal(t, e.get(t, e.as.JWT(e.as.Claims("read:pets"))), "user-3", KindJWT)
		e.as.SetDown(true)
		wantPrincipal(t, e.get(t, e.as.JWT(e.as.Claims("read:pets"))), "user-3", KindJWT)
		// Once the revocation list is too old, fail closed.
		e.clock.Advance(DefaultRevocationMaxAge + time.Second)
		wantUnavailable(t, e.get(t, e.as.JWT(e.as.Claims("read:pets"))))
	})
}

func TestRevokedJWT(t *testing.T) {
	t.Run("polled by Run", func(t *testing.T) {
		e := newEnv(t, func(v *Verifier) { v.RevocationPollInterval = 10 * time.Millisecond })
		claims := e.as.Claims("read:pets")
		tok := e.as.JWT(claims)
		wantPrincipal(t, e.get(t, tok), "user-3", KindJWT)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.v.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		e.as.RevokeJTI(claims["jti"].(string), time.Unix(claims["exp"].(int64), 0))
		waitFor(t, func() bool { return e.v.RevokedJWTs() == 1 })
		wantInvalid(t, e.get(t, tok))
		wantPrincipal(t, e.get(t, e.as.JWT(e.as.Claims("read:pets write:pets"))), "user-3", KindJWT)
	})
	t.Run("refreshed on demand when old", func(t *testing.T) {
		e := newEnv(t)
		claims := e.as.Claims("read:pets")
		tok := e.as.JWT(claims)
		wantPrincipal(t, e.get(t, tok), "user-3", KindJWT)
		e.as.RevokeJTI(claims["jti"].(string), time.Unix(claims["exp"].(int64), 0))
		e.clock.Advance(DefaultRevocationMaxAge + time.Second)
		wantInvalid(t, e.get(t, tok))
	})
	t.Run("forgotten after exp", func(t *testing.T) {
		e := newEnv(t)
		claims := e.as.Claims("read:pets")
		e.as.RevokeJTI(claims["jti"].(string), e.clock.Now().Add(time.Minute))
		wantInvalid(t, e.get(t, e.as.JWT(claims)))
		if e.v.RevokedJWTs() != 1 {
			t.Fatalf("remembers %d, want 1", e.v.RevokedJWTs())
		}
		e.clock.Advance(2*time.Minute + Leeway)
		e.as.ClearRevoked()
		if err := e.v.pollRevocations(context.Background()); err != nil {
			t.Fatal(err)
		}
		if e.v.RevokedJWTs() != 0 {
			t.Fatalf("remembers %d expired ids, want 0", e.v.RevokedJWTs())
		}
	})
}

// waitFor polls cond until it holds or a generous deadline passes; it
// asserts an eventual state, not a duration.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestMalformedOpaqueTokensRefusedOffline: a made-up, mistyped or truncated
// pst_at_ token is refused from its checksum, without a call to the
// authorization server; a well-formed one, and one issued before checksums
// existed, are introspected.
func TestMalformedOpaqueTokensRefusedOffline(t *testing.T) {
	e := newEnv(t)
	good := e.as.AccessToken(bearertest.Opaque("good"), "read:pets")
	typo := []byte(good)
	typo[10] ^= 1
	junk := []string{string(typo), good[:len(good)-1], good + "x", "pst_at_", "not-ours", "pst_rt_" + good[7:]}
	for range 200 {
		b := make([]byte, 24)
		rand.Read(b)
		junk = append(junk, "pst_at_"+hex.EncodeToString(b))
	}
	for _, tok := range junk {
		wantInvalid(t, e.get(t, tok))
	}
	if n := e.as.Introspections(); n != 0 {
		t.Fatalf("%d junk tokens reached the authorization server", n)
	}
	wantPrincipal(t, e.get(t, good), "user-1", KindOpaque)
	legacy := e.as.AccessToken(bearertest.LegacyOpaque("old"), "read:pets")
	wantPrincipal(t, e.get(t, legacy), "user-1", KindOpaque)
	if n := e.as.Introspections(); n != 2 {
		t.Fatalf("%d introspections for two well-formed tokens", n)
	}
}

// TestUnknownTokensDoNotEvictKnownOnes: refused credentials are cached apart
// from accepted ones, both bounded, so a flood of well-formed unknown tokens
// neither grows memory nor pushes a known token out of the cache.
func TestUnknownTokensDoNotEvictKnownOnes(t *testing.T) {
	e := newEnv(t, func(v *Verifier) { v.CacheSize, v.NegativeCacheSize = 5, 50 })
	var known []string
	for i := range 5 {
		tok := e.as.AccessToken(bearertest.Opaque(fmt.Sprint("known", i)), "read:pets")
		wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
		known = append(known, tok)
	}
	for i := range 500 {
		wantInvalid(t, e.get(t, bearertest.Opaque(fmt.Sprint("unknown", i))))
	}
	if n := e.v.negCache.len(); n > 50 {
		t.Fatalf("negative cache holds %d entries, bound is 50", n)
	}
	before := e.as.Introspections()
	for _, tok := range known {
		if !e.v.Known("Bearer " + tok) {
			t.Fatalf("a known token lost its cache entry to the flood")
		}
		wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
	}
	if n := e.as.Introspections() - before; n != 0 {
		t.Fatalf("known tokens needed %d introspections after the flood", n)
	}
	if e.v.Known("Bearer " + bearertest.Opaque("unknown1")) {
		t.Fatal("a refused token reads as known")
	}
}
