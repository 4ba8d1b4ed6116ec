package bearer

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
)

// revocationSET returns the claims of a good revocation SET for subject, as
// petstore-auth signs them; tests edit them before signing.
func revocationSET(e *env, jti string, subject map[string]string) map[string]any {
	return map[string]any{"iss": e.as.URL, "aud": bearertest.ClientID, "jti": jti, "iat": e.clock.Now().Unix(),
		"sub_id": subject, "events": map[string]any{eventCredentialChange: map[string]any{
			"credential_type": "oauth2-access-token", "change_type": "revoke"}}}
}

func opaqueSubject(id string) map[string]string {
	return map[string]string{"format": "opaque", "id": id}
}

// TestSETVerified: a SET is applied only when it is ES256-signed by a key
// of the issuer's JWKS, typed secevent+jwt, from our issuer, for our
// client, under the jti it was delivered with; anything else is refused
// and drops nothing.
func TestSETVerified(t *testing.T) {
	e := newEnv(t)
	key, kid := e.as.Key()
	tok := bearertest.Opaque("cached")
	e.as.SetAnswer(tok, map[string]any{"scope": "read:pets", "sub": "user-1", "aud": []string{bearertest.Audience},
		"token_type": "access_token", "token_use": "access_token", "jti": "tok-1"})
	wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
	e.as.Forget(tok) // revoked at the server; the cache still says yes

	forger := bearertest.NewKey(t)
	good := func() map[string]any { return revocationSET(e, "set-1", opaqueSubject("tok-1")) }
	edit := func(k string, v any) map[string]any { c := good(); c[k] = v; return c }
	for _, tc := range []struct {
		name string
		set  string
	}{
		{"forged signature", bearertest.Sign(t, forger, jose.ES256, setType, kid, good())},
		{"unknown kid", bearertest.Sign(t, forger, jose.ES256, setType, "other-kid", good())},
		{"access token typ", bearertest.Sign(t, key, jose.ES256, "at+jwt", kid, good())},
		{"no typ", bearertest.Sign(t, key, jose.ES256, "", kid, good())},
		{"HMAC with the public key", bearertest.Sign(t, e.as.PublicKeyDER(), jose.HS256, setType, kid, good())},
		{"other issuer", bearertest.Sign(t, key, jose.ES256, setType, kid, edit("iss", "https://evil.example"))},
		{"other audience", bearertest.Sign(t, key, jose.ES256, setType, kid, edit("aud", "another-api"))},
		{"other jti", bearertest.Sign(t, key, jose.ES256, setType, kid, edit("jti", "set-2"))},
		{"unknown subject format", bearertest.Sign(t, key, jose.ES256, setType, kid, edit("sub_id", map[string]string{"format": "email", "email": "a@b"}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.v.applySET(context.Background(), "set-1", tc.set)
			if err == nil {
				t.Fatal("applied")
			}
			if errors.Is(err, ErrUnavailable) {
				t.Fatalf("%v: a bad SET must be refused, not retried", err)
			}
			wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
		})
	}
	if err := e.v.applySET(context.Background(), "set-1", bearertest.Sign(t, key, jose.ES256, setType, kid, good())); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, e.get(t, tok))
}

// TestSETRevokesEachKind: an opaque token's and an API key's cache entries
// are dropped by id; a JWT's id goes on the deny list at once, without
// waiting for the revocation poll.
func TestSETRevokesEachKind(t *testing.T) {
	e := newEnv(t)
	key, kid := e.as.Key()
	apply := func(jti string, sub map[string]string) {
		t.Helper()
		if err := e.v.applySET(context.Background(), jti, bearertest.Sign(t, key, jose.ES256, setType, kid, revocationSET(e, jti, sub))); err != nil {
			t.Fatal(err)
		}
	}
	other := e.as.AccessToken(bearertest.Opaque("other"), "read:pets")
	wantPrincipal(t, e.get(t, other), "user-1", KindOpaque)

	ak := e.as.APIKey("test", "read:pets")
	e.as.SetAnswer(ak, map[string]any{"scope": "read:pets", "sub": "user-2", "token_type": "api_key",
		"token_use": "access_token", "env": "test", "jti": "key-1"})
	wantPrincipal(t, e.get(t, ak), "user-2", KindAPIKey)
	e.as.Forget(ak)
	apply("set-key", opaqueSubject("key-1"))
	wantInvalid(t, e.get(t, ak))

	claims := e.as.Claims("read:pets")
	jwtTok := e.as.JWT(claims)
	wantPrincipal(t, e.get(t, jwtTok), "user-3", KindJWT)
	apply("set-jwt", map[string]string{"format": "jwt_id", "iss": e.as.URL, "jti": claims["jti"].(string)})
	wantInvalid(t, e.get(t, jwtTok))
	// Kept past the poll's bound, so the poll (which knows exp) takes over.
	e.clock.Advance(DefaultRevocationMaxAge - time.Second)
	wantInvalid(t, e.get(t, jwtTok))

	if err := e.v.applySET(context.Background(), "set-x", bearertest.Sign(t, key, jose.ES256, setType, kid,
		revocationSET(e, "set-x", map[string]string{"format": "jwt_id", "iss": "https://evil.example", "jti": "x"}))); err == nil {
		t.Fatal("a jwt_id of another issuer was applied")
	}
	wantPrincipal(t, e.get(t, other), "user-1", KindOpaque)
}

// TestIntrospectionRacingARevocation: an answer obtained while a
// revocation event was applied may predate the revocation, so it is not
// cached: the next request asks again.
func TestIntrospectionRacingARevocation(t *testing.T) {
	var v *Verifier
	e := newEnv(t, func(vv *Verifier) {
		v = vv
		vv.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/oauth2/introspect" {
				v.revGen.Add(1) // an event is applied while the call runs
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	})
	tok := e.as.AccessToken(bearertest.Opaque("racing"), "read:pets")
	wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
	wantPrincipal(t, e.get(t, tok), "user-1", KindOpaque)
	if n := e.as.Introspections(); n != 2 {
		t.Fatalf("%d introspections; an answer racing a revocation was cached", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
