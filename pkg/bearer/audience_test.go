package bearer

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
)

const audienceChallenge = `Bearer realm="petstore", error="invalid_token", error_description="The access token's audience does not include this API"`

func wantWrongAudience(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusUnauthorized || r.challenge != audienceChallenge || !strings.Contains(r.body, "audience") {
		t.Fatalf("got %d %q %q; want 401 with %q", r.status, r.body, r.challenge, audienceChallenge)
	}
}

// TestAudience: the API accepts only tokens whose aud includes its
// identifier (RFC 8707) — JWT and introspected alike — or one of
// AcceptAudiences (the legacy "petstore-api" of tokens issued before
// resource indicators); a refusal says "audience" in WWW-Authenticate; an
// API key needs no audience.
func TestAudience(t *testing.T) {
	e := newEnv(t, func(v *Verifier) { v.AcceptAudiences = []string{LegacyAudience} })
	with := func(aud any) map[string]any {
		c := e.as.Claims("read:pets")
		c["aud"] = aud
		return c
	}
	opaque := func(name string, aud any) string {
		tok := bearertest.Opaque(name)
		e.as.SetAnswer(tok, map[string]any{"scope": "read:pets", "client_id": "app", "sub": "user-1", "aud": aud,
			"exp": e.clock.Now().Add(time.Hour).Unix(), "token_type": "access_token", "token_use": "access_token"})
		return tok
	}
	for _, tc := range []struct {
		name string
		aud  any
		ok   bool
	}{
		{"this API", []string{DefaultAudience}, true},
		{"this API among others", []string{"https://photos.example", DefaultAudience}, true},
		{"this API as a string", DefaultAudience, true},
		{"legacy petstore-api", LegacyAudience, true},
		{"another resource", []string{"https://photos.example"}, false},
		{"this API with a trailing slash", []string{DefaultAudience + "/"}, false},
		{"no audience", nil, false},
	} {
		t.Run("jwt/"+tc.name, func(t *testing.T) {
			r := e.get(t, e.as.JWT(with(tc.aud)))
			if tc.aud == nil {
				wantInvalid(t, r) // a JWT access token without aud is malformed (RFC 9068 §2.2)
				return
			}
			if tc.ok {
				wantPrincipal(t, r, "user-3", KindJWT)
			} else {
				wantWrongAudience(t, r)
			}
		})
		t.Run("opaque/"+tc.name, func(t *testing.T) {
			r := e.get(t, opaque("aud "+tc.name, tc.aud))
			if tc.ok {
				wantPrincipal(t, r, "user-1", KindOpaque)
			} else {
				wantWrongAudience(t, r)
			}
		})
	}
	t.Run("API key without audience", func(t *testing.T) {
		key := e.as.APIKey(apikey.EnvTest, "read:pets")
		e.as.SetAnswer(key, map[string]any{"scope": "read:pets", "sub": "user-2", "token_type": "api_key",
			"token_use": "access_token", "env": "test"})
		wantPrincipal(t, e.get(t, key), "user-2", KindAPIKey)
	})
	t.Run("legacy refused when not accepted", func(t *testing.T) {
		strict := newEnv(t)
		wantWrongAudience(t, strict.get(t, strict.as.JWT(func() map[string]any {
			c := strict.as.Claims("read:pets")
			c["aud"] = LegacyAudience
			return c
		}())))
	})
}

// TestResourceMetadataInChallenges: with ResourceMetadata set, every 401
// (missing, invalid, wrong audience) and the 403 name it (RFC 9728 §5.1).
func TestResourceMetadataInChallenges(t *testing.T) {
	const rm = "http://127.0.0.1:8081/.well-known/oauth-protected-resource"
	e := newEnv(t, func(v *Verifier) { v.ResourceMetadata = rm })
	for name, r := range map[string]response{
		"missing":  e.do(t, "GET", "/read", ""),
		"invalid":  e.get(t, bearertest.Opaque("unknown")),
		"audience": e.get(t, e.as.JWT(func() map[string]any { c := e.as.Claims("read:pets"); c["aud"] = "x"; return c }())),
	} {
		if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.challenge, "Bearer ") ||
			!strings.HasSuffix(r.challenge, `resource_metadata="`+rm+`"`) {
			t.Errorf("%s: %d %q, want 401 naming resource_metadata", name, r.status, r.challenge)
		}
	}
	read := e.as.AccessToken(bearertest.Opaque("reader"), "read:pets")
	want := `Bearer realm="petstore", error="insufficient_scope", scope="write:pets", resource_metadata="` + rm + `"`
	if r := e.do(t, "POST", "/write", "Bearer "+read); r.status != http.StatusForbidden || r.challenge != want {
		t.Errorf("insufficient scope: %d %q, want 403 %q", r.status, r.challenge, want)
	}
}
