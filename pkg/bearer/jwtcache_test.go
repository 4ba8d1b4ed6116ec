package bearer

import (
	"context"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
)

// The verified-JWT cache skips the signature check only: a cached token
// stops at its exp (with the same leeway as without the cache), a revoked
// one is refused at the next poll, and one whose key left the JWKS is
// refused once the key set is refreshed.
func TestJWTCache(t *testing.T) {
	long := func(v *Verifier) { v.CacheTTL = time.Hour } // only exp bounds the entries
	t.Run("entry ends at exp", func(t *testing.T) {
		e := newEnv(t, long)
		c := e.as.Claims("read:pets")
		exp := e.clock.Now().Add(2 * time.Minute)
		c["exp"] = exp.Unix()
		tok := e.as.JWT(c)
		wantPrincipal(t, e.get(t, tok), "user-3", KindJWT)
		if n := e.v.jwtCache.len(); n != 1 {
			t.Fatalf("jwt cache holds %d entries, want 1", n)
		}
		e.clock.Advance(exp.Add(Leeway - time.Second).Sub(e.clock.Now()))
		wantPrincipal(t, e.get(t, tok), "user-3", KindJWT)
		e.clock.Advance(time.Second) // exactly exp + Leeway, as without the cache
		wantInvalid(t, e.get(t, tok))
	})
	t.Run("revoked while cached", func(t *testing.T) {
		e := newEnv(t, long)
		c := e.as.Claims("read:pets")
		tok := e.as.JWT(c)
		wantPrincipal(t, e.get(t, tok), "user-3", KindJWT)
		wantPrincipal(t, e.get(t, tok), "user-3", KindJWT)
		e.as.RevokeJTI(c["jti"].(string), time.Unix(c["exp"].(int64), 0))
		if err := e.v.pollRevocations(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, e.get(t, tok))
	})
	t.Run("key withdrawn from the JWKS while cached", func(t *testing.T) {
		e := newEnv(t, long)
		c := e.as.Claims("read:pets")
		c["exp"] = e.clock.Now().Add(time.Hour).Unix()
		tok := e.as.JWT(c)
		wantPrincipal(t, e.get(t, tok), "user-3", KindJWT)
		e.as.Rotate("k2") // k1 is no longer published
		e.clock.Advance(jwksMaxAge + time.Second)
		wantInvalid(t, e.get(t, tok))
		wantPrincipal(t, e.get(t, e.as.JWT(e.as.Claims("read:pets"))), "user-3", KindJWT)
	})
	t.Run("a cached token under another kid is not trusted", func(t *testing.T) {
		e := newEnv(t, long)
		key, _ := e.as.Key()
		forged := bearertest.Sign(t, key, jose.ES256, "at+jwt", "k-unknown", e.as.Claims("read:pets"))
		wantInvalid(t, e.get(t, forged))
		if n := e.v.jwtCache.len(); n != 0 {
			t.Fatalf("a refused token was cached (%d entries)", n)
		}
	})
}
