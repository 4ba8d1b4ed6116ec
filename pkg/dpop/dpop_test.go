package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/redis/go-redis/v9"

	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
)

const htu = "https://api.example.com/v1/pets"

func TestCheckRefusals(t *testing.T) {
	k := dpoptest.NewKey()
	other := dpoptest.NewKey()
	now := time.Now()
	cases := []struct {
		name  string
		proof string
		req   dpop.Request
	}{
		{"missing typ", k.Proof("GET", htu, dpoptest.Opts{Typ: "-"}), dpop.Request{}},
		{"wrong typ", k.Proof("GET", htu, dpoptest.Opts{Typ: "JWT"}), dpop.Request{}},
		{"alg none", dpoptest.Unsigned("none", "GET", htu), dpop.Request{}},
		{"HS256", dpoptest.Unsigned("HS256", "GET", htu), dpop.Request{}},
		{"private key in jwk", k.Proof("GET", htu, dpoptest.Opts{EmbedPrivate: true}), dpop.Request{}},
		{"bad signature", k.Proof("GET", htu, dpoptest.Opts{SignWith: other.Priv}), dpop.Request{}},
		{"wrong htm", k.Proof("POST", htu, dpoptest.Opts{}), dpop.Request{}},
		{"wrong htu", k.Proof("GET", "https://api.example.com/v1/other", dpoptest.Opts{}), dpop.Request{}},
		{"wrong htu host", k.Proof("GET", "https://evil.example.com/v1/pets", dpoptest.Opts{}), dpop.Request{}},
		{"iat too old", k.Proof("GET", htu, dpoptest.Opts{IAT: now.Add(-2 * time.Minute)}), dpop.Request{}},
		{"iat too new", k.Proof("GET", htu, dpoptest.Opts{IAT: now.Add(2 * time.Minute)}), dpop.Request{}},
		{"no ath with token", k.Proof("GET", htu, dpoptest.Opts{}), dpop.Request{AccessToken: "tok"}},
		{"wrong ath", k.Proof("GET", htu, dpoptest.Opts{AccessToken: "other"}), dpop.Request{AccessToken: "tok"}},
		{"ath without token", k.Proof("GET", htu, dpoptest.Opts{AccessToken: "tok"}), dpop.Request{}},
		{"another key", k.Proof("GET", htu, dpoptest.Opts{}), dpop.Request{JKT: other.JKT()}},
		{"no jti", k.Proof("GET", htu, dpoptest.Opts{Claims: map[string]any{"htm": "GET", "htu": htu, "iat": now.Unix()}}), dpop.Request{}},
		{"iat a string", k.Proof("GET", htu, dpoptest.Opts{Claims: map[string]any{"jti": "a", "htm": "GET", "htu": htu, "iat": "now"}}), dpop.Request{}},
		{"not a JWS", "a.b.c", dpop.Request{}},
		{"empty", "", dpop.Request{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &dpop.Validator{Replay: &dpop.Memory{}}
			c.req.Method, c.req.URL = "GET", htu
			_, err := v.Check(context.Background(), c.proof, c.req)
			if !errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("Check = %v, want ErrInvalidProof", err)
			}
		})
	}
}

func TestCheckAccepts(t *testing.T) {
	k := dpoptest.NewKey()
	v := &dpop.Validator{Replay: &dpop.Memory{}}
	// The query is not part of htu, and scheme/host case and default port are normalised.
	p, err := v.Check(context.Background(), k.Proof("GET", "HTTPS://API.example.com:443/v1/pets", dpoptest.Opts{AccessToken: "tok"}),
		dpop.Request{Method: "GET", URL: htu + "?limit=5#x", AccessToken: "tok", JKT: k.JKT()})
	if err != nil {
		t.Fatal(err)
	}
	if p.JKT != k.JKT() {
		t.Errorf("JKT = %q, want %q", p.JKT, k.JKT())
	}
}

func TestAlgorithms(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ek, _ := ed25519.GenerateKey(rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, c := range []struct {
		key *dpoptest.Key
		ok  bool
	}{
		{dpoptest.NewKey(), true},
		{&dpoptest.Key{Priv: rk, Alg: jose.RS256}, true},
		{&dpoptest.Key{Priv: ek, Alg: jose.EdDSA}, true},
		{&dpoptest.Key{Priv: small, Alg: jose.RS256}, false},
		{&dpoptest.Key{Priv: rk, Alg: jose.PS256}, false},
		{&dpoptest.Key{Priv: p384, Alg: jose.ES384}, false},
	} {
		_, err := dpop.Parse(c.key.Proof("GET", htu, dpoptest.Opts{}))
		if (err == nil) != c.ok {
			t.Errorf("alg %s: Parse = %v, want ok=%v", c.key.Alg, err, c.ok)
		}
	}
}

func TestReplayMemory(t *testing.T) {
	testReplay(t, &dpop.Memory{}, &dpop.Memory{}, false)
}

// TestReplayRedis shows two replicas sharing Redis refuse a proof the other
// accepted. It runs whenever PETSTORE_TEST_REDIS_ADDR is set.
func TestReplayRedis(t *testing.T) {
	addr := os.Getenv("PETSTORE_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PETSTORE_TEST_REDIS_ADDR not set")
	}
	prefix := "petstore:test:dpop:" + time.Now().Format("150405.000000000") + ":"
	a := &dpop.Redis{Client: redis.NewClient(&redis.Options{Addr: addr}), Prefix: prefix}
	b := &dpop.Redis{Client: redis.NewClient(&redis.Options{Addr: addr}), Prefix: prefix}
	testReplay(t, a, b, true)
}

func testReplay(t *testing.T, a, b dpop.Replay, shared bool) {
	t.Helper()
	k := dpoptest.NewKey()
	proof := k.Proof("GET", htu, dpoptest.Opts{})
	va := &dpop.Validator{Replay: a}
	vb := &dpop.Validator{Replay: b}
	req := dpop.Request{Method: "GET", URL: htu}
	if _, err := va.Check(context.Background(), proof, req); err != nil {
		t.Fatal(err)
	}
	if _, err := va.Check(context.Background(), proof, req); !errors.Is(err, dpop.ErrInvalidProof) {
		t.Fatalf("replay on the same replica: %v, want ErrInvalidProof", err)
	}
	_, err := vb.Check(context.Background(), proof, req)
	if shared && !errors.Is(err, dpop.ErrInvalidProof) {
		t.Fatalf("replay on the other replica: %v, want ErrInvalidProof", err)
	}
}

func TestNonces(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	key := []byte("0123456789abcdef0123456789abcdef")
	a := &dpop.Nonces{Key: key, Now: func() time.Time { return now }}
	b := &dpop.Nonces{Key: key, Now: func() time.Time { return now }} // another replica
	n := a.Current()
	if !b.Valid(n) {
		t.Fatal("replica b refuses replica a's nonce")
	}
	if (&dpop.Nonces{Key: []byte("another secret, another server!!"), Now: a.Now}).Valid(n) {
		t.Fatal("a nonce of another key is accepted")
	}
	now = now.Add(dpop.DefaultNonceBucket)
	if !b.Valid(n) {
		t.Fatal("previous bucket's nonce refused")
	}
	now = now.Add(dpop.DefaultNonceBucket)
	if b.Valid(n) {
		t.Fatal("nonce two buckets old accepted")
	}
	// The validator asks for the nonce, then accepts it.
	k := dpoptest.NewKey()
	v := &dpop.Validator{Nonces: a, Now: func() time.Time { return now }}
	req := dpop.Request{Method: "GET", URL: htu}
	if _, err := v.Check(context.Background(), k.Proof("GET", htu, dpoptest.Opts{IAT: now}), req); !errors.Is(err, dpop.ErrUseNonce) {
		t.Fatalf("without nonce: %v, want ErrUseNonce", err)
	}
	if _, err := v.Check(context.Background(), k.Proof("GET", htu, dpoptest.Opts{IAT: now, Nonce: a.Current()}), req); err != nil {
		t.Fatalf("with nonce: %v", err)
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"HTTPS://Example.COM:443/a?b=c#d": "https://example.com/a",
		"http://example.com:80":           "http://example.com/",
		"http://example.com:8080/%7euser": "http://example.com:8080/~user",
		"https://[::1]:8443/x":            "https://[::1]:8443/x",
	} {
		if got, ok := dpop.NormalizeURL(in); !ok || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"/relative", "ftp://example.com/", "https://user@example.com/", "::"} {
		if _, ok := dpop.NormalizeURL(bad); ok {
			t.Errorf("NormalizeURL(%q) ok", bad)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	k := dpoptest.NewKey()
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = k.Proof("GET", htu, dpoptest.Opts{AccessToken: "tok"})
	}
	v := &dpop.Validator{Replay: &dpop.Memory{}}
	req := dpop.Request{Method: "GET", URL: htu, AccessToken: "tok", JKT: k.JKT()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := v.Check(context.Background(), proofs[i], req); err != nil {
			b.Fatal(err)
		}
	}
}
