package dpop_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
)

// signRaw makes an ES256 compact JWS of any header and claims with k, so
// that headers dpoptest cannot make are tested too.
func signRaw(t *testing.T, k *ecdsa.PrivateKey, header map[string]any, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := enc(h) + "." + enc(c)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + enc(sig)
}

// TestParseHeaders: the proof's own compact parser accepts a well-formed
// proof and refuses every header and encoding a JWS library would, plus
// crit and case-folded member names.
func TestParseHeaders(t *testing.T) {
	k := dpoptest.NewKey()
	priv := k.Priv.(*ecdsa.PrivateKey)
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	claims := map[string]any{"jti": "j1", "htm": "GET", "htu": htu, "iat": time.Now().Unix()}
	hdr := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
		if edit != nil {
			edit(h)
		}
		return h
	}
	good := signRaw(t, priv, hdr(nil), claims)
	p, err := dpop.Parse(good)
	if err != nil {
		t.Fatalf("good proof refused: %v", err)
	}
	if p.JKT != k.JKT() || p.JTI != "j1" || p.Alg != "ES256" {
		t.Fatalf("proof %+v", p)
	}
	parts := strings.Split(good, ".")
	rsaKey := dpoptest.NewKey() // only its thumbprint matters below
	for name, proof := range map[string]string{
		"crit":                   signRaw(t, priv, hdr(func(h map[string]any) { h["crit"] = []string{"b64"}; h["b64"] = false }), claims),
		"ALG instead of alg":     signRaw(t, priv, hdr(func(h map[string]any) { delete(h, "alg"); h["ALG"] = "ES256" }), claims),
		"Typ instead of typ":     signRaw(t, priv, hdr(func(h map[string]any) { delete(h, "typ"); h["Typ"] = "dpop+jwt" }), claims),
		"jwk a string":           signRaw(t, priv, hdr(func(h map[string]any) { h["jwk"] = "key" }), claims),
		"no jwk":                 signRaw(t, priv, hdr(func(h map[string]any) { delete(h, "jwk") }), claims),
		"alg RS256 with EC key":  signRaw(t, priv, hdr(func(h map[string]any) { h["alg"] = "RS256" }), claims),
		"alg ES384":              signRaw(t, priv, hdr(func(h map[string]any) { h["alg"] = "ES384" }), claims),
		"jwk of another key":     signRaw(t, priv, hdr(func(h map[string]any) { h["jwk"] = jose.JSONWebKey{Key: rsaKey.Priv.Public()} }), claims),
		"header not JSON":        base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2],
		"header an array":        base64.RawURLEncoding.EncodeToString([]byte("[1]")) + "." + parts[1] + "." + parts[2],
		"padded signature":       good + "==",
		"short signature":        parts[0] + "." + parts[1] + "." + parts[2][:40],
		"signature not base64":   parts[0] + "." + parts[1] + ".!!!!",
		"payload not base64":     parts[0] + ".!!!!." + parts[2],
		"four segments":          good + ".x",
		"two segments":           parts[0] + "." + parts[1],
		"payload swapped":        parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"j2","htm":"GET","htu":"`+htu+`","iat":1}`)) + "." + parts[2],
		"JSON serialization":     `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`,
		"whitespace in the JWS":  parts[0] + ". " + parts[1] + "." + parts[2],
		"claims not JSON object": signRaw(t, priv, hdr(nil), nil),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := dpop.Parse(proof); !errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("Parse = %v, want ErrInvalidProof", err)
			}
		})
	}
}

// TestParseKeyCache: a key seen before is taken from the cache, and the
// cache changes no verdict: the same jwk with a proof signed by another
// key, or under an algorithm that does not fit it, is still refused.
func TestParseKeyCache(t *testing.T) {
	k, other := dpoptest.NewKey(), dpoptest.NewKey()
	for i := range 3 {
		p, err := dpop.Parse(k.Proof("GET", htu, dpoptest.Opts{}))
		if err != nil || p.JKT != k.JKT() {
			t.Fatalf("proof %d: %v, %+v", i, err, p)
		}
	}
	if _, err := dpop.Parse(k.Proof("GET", htu, dpoptest.Opts{SignWith: other.Priv})); !errors.Is(err, dpop.ErrInvalidProof) {
		t.Fatalf("cached jwk, signed by another key: %v", err)
	}
	priv := k.Priv.(*ecdsa.PrivateKey)
	claims := map[string]any{"jti": "j", "htm": "GET", "htu": htu, "iat": time.Now().Unix()}
	for _, alg := range []string{"RS256", "EdDSA", "none", "HS256"} {
		h := map[string]any{"typ": "dpop+jwt", "alg": alg, "jwk": jose.JSONWebKey{Key: &priv.PublicKey}}
		if _, err := dpop.Parse(signRaw(t, priv, h, claims)); !errors.Is(err, dpop.ErrInvalidProof) {
			t.Fatalf("cached EC jwk under alg %s: %v", alg, err)
		}
	}
}
