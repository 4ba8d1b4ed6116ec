package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// pkjwtKey is a client's signing key and its public JWK.
type pkjwtKey struct {
	alg  jose.SignatureAlgorithm
	kid  string
	priv crypto.Signer
}

func newPKJWTKey(t testing.TB, alg jose.SignatureAlgorithm, kid string) pkjwtKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	return pkjwtKey{alg: alg, kid: kid, priv: priv}
}

func (k pkjwtKey) jwks(t testing.TB) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// claims are an assertion's claims for client id, valid for one minute
// from now, with a fresh jti.
func assertionClaims(f *fixture, id, aud string) jwt.Claims {
	now := f.clock()
	return jwt.Claims{Issuer: id, Subject: id, Audience: jwt.Audience{aud}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}
}

func (k pkjwtKey) sign(t testing.TB, c jwt.Claims) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(c).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// addPKJWTClient registers a private_key_jwt service client (it may also
// introspect) with keys inline (jwks) or at jwksURI.
func (f *fixture) addPKJWTClient(id, jwks, jwksURI string) {
	f.t.Helper()
	c := &identity.Client{ID: id, Name: id, GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets"},
		CanIntrospect: true, TokenFormat: "opaque", TokenEndpointAuthMethod: identity.AuthPrivateKeyJWT, JWKS: jwks, JWKSURI: jwksURI}
	if err := c.Validate(); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.CreateClient(context.Background(), c); err != nil {
		f.t.Fatal(err)
	}
}

// postAssertion posts form plus the assertion (RFC 7523 §2.2) to path.
func (f *fixture) postAssertion(path, assertion string, form url.Values) (int, map[string]any) {
	f.t.Helper()
	form.Set("client_assertion_type", clientAssertionType)
	form.Set("client_assertion", assertion)
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

var ccForm = func() url.Values { return url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}} }

// TestPrivateKeyJWT: a private_key_jwt client (RFC 7523 §2.2) gets tokens
// and introspects with RS256, ES256, PS256 and EdDSA assertions whose aud
// is the issuer or the token endpoint; every broken assertion is refused
// with invalid_client: a reused jti, a wrong aud, an exp too far ahead or
// past, alg none or HS256, an unknown kid, a key of someone else, another
// client's iss; and the client cannot authenticate with a secret.
func TestPrivateKeyJWT(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		keys := map[string]pkjwtKey{}
		for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.PS256, jose.EdDSA} {
			id := "svc-" + strings.ToLower(string(alg))
			keys[id] = newPKJWTKey(t, alg, "k1")
			f.addPKJWTClient(id, keys[id].jwks(t), "")
		}
		for id, k := range keys {
			status, tok := f.postAssertion("/oauth2/token", k.sign(t, assertionClaims(f, id, f.p.Issuer)), ccForm())
			if status != http.StatusOK || str(tok, "access_token") == "" {
				t.Fatalf("%s: token with a valid assertion: %d %v", id, status, tok)
			}
			status, m := f.postAssertion("/oauth2/introspect", k.sign(t, assertionClaims(f, id, f.p.Issuer+"/oauth2/token")), url.Values{"token": {str(tok, "access_token")}})
			if status != http.StatusOK || m["active"] != true || m["client_id"] != id {
				t.Fatalf("%s: introspection with an assertion (aud = token endpoint): %d %v", id, status, m)
			}
		}
		rs := keys["svc-rs256"]
		reused := rs.sign(t, assertionClaims(f, "svc-rs256", f.p.Issuer))
		if status, _ := f.postAssertion("/oauth2/token", reused, ccForm()); status != http.StatusOK {
			t.Fatalf("first use: %d", status)
		}
		stranger := newPKJWTKey(t, jose.RS256, "k1")
		bad := map[string]string{
			"jti reused":             reused,
			"aud another server":     rs.sign(t, assertionClaims(f, "svc-rs256", "https://other.example")),
			"aud the revocation url": rs.sign(t, assertionClaims(f, "svc-rs256", f.p.Issuer+"/oauth2/revoke")),
			"exp 10 minutes ahead":   rs.sign(t, withExp(assertionClaims(f, "svc-rs256", f.p.Issuer), f.clock().Add(10*time.Minute))),
			"expired":                rs.sign(t, withExp(assertionClaims(f, "svc-rs256", f.p.Issuer), f.clock().Add(-time.Minute))),
			"no exp":                 rs.sign(t, withExp(assertionClaims(f, "svc-rs256", f.p.Issuer), time.Time{})),
			"no jti":                 rs.sign(t, withJTI(assertionClaims(f, "svc-rs256", f.p.Issuer), "")),
			"alg none":               unsigned(t, assertionClaims(f, "svc-rs256", f.p.Issuer)),
			"HS256":                  hmacSigned(t, assertionClaims(f, "svc-rs256", f.p.Issuer)),
			"unknown kid":            pkjwtKey{alg: jose.RS256, kid: "k2", priv: rs.priv}.sign(t, assertionClaims(f, "svc-rs256", f.p.Issuer)),
			"someone else's key":     stranger.sign(t, assertionClaims(f, "svc-rs256", f.p.Issuer)),
			"sub another client":     rs.sign(t, withSub(assertionClaims(f, "svc-rs256", f.p.Issuer), "svc-es256")),
			"iss a secret client":    rs.sign(t, assertionClaims(f, "rs", f.p.Issuer)),
			"not a JWT":              "not-a-jwt",
		}
		for name, a := range bad {
			status, m := f.postAssertion("/oauth2/token", a, ccForm())
			if status != http.StatusUnauthorized || m["error"] != "invalid_client" {
				t.Errorf("%s: %d %v; want 401 invalid_client", name, status, m)
			}
		}
		// A private_key_jwt client has no secret: no secret, and no
		// missing one, authenticates it.
		for _, secret := range []string{"pst_cs_guess", ""} {
			res, body := f.post("/oauth2/token", "svc-rs256", secret, ccForm())
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("private_key_jwt client with secret %q: %d %s", secret, res.StatusCode, body)
			}
		}
		if status, m := f.postAssertion("/oauth2/revoke", rs.sign(t, assertionClaims(f, "svc-rs256", f.p.Issuer)), url.Values{"token": {"pst_at_unknown"}}); status != http.StatusOK {
			t.Errorf("revocation with an assertion: %d %v", status, m)
		}
	})
}

func withExp(c jwt.Claims, exp time.Time) jwt.Claims {
	c.Expiry = nil
	if !exp.IsZero() {
		c.Expiry = jwt.NewNumericDate(exp)
	}
	return c
}
func withJTI(c jwt.Claims, jti string) jwt.Claims { c.ID = jti; return c }
func withSub(c jwt.Claims, sub string) jwt.Claims { c.Subject = sub; return c }

func unsigned(t *testing.T, c jwt.Claims) string {
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`)) + "." + enc(b) + "."
}

func hmacSigned(t *testing.T, c jwt.Claims) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(strings.Repeat("s", 32))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(c).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPrivateKeyJWTJWKSURI: keys published at a jwks_uri are fetched once
// and cached; a new kid is fetched again only after jwksMinRefresh, so a
// rotation is picked up without letting made-up kids trigger fetches.
func TestPrivateKeyJWTJWKSURI(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		f.p.jwks = newJWKSFetcher(true, f.clock) // the test server is on loopback
		k1, k2 := newPKJWTKey(t, jose.ES256, "k1"), newPKJWTKey(t, jose.ES256, "k2")
		var fetches atomic.Int32
		var published atomic.Value
		published.Store(k1.jwks(t))
		ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fetches.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(published.Load().(string)))
		}))
		t.Cleanup(ks.Close)
		f.addPKJWTClient("svc-uri", "", ks.URL+"/jwks.json")
		for i := range 3 {
			if status, m := f.postAssertion("/oauth2/token", k1.sign(t, assertionClaims(f, "svc-uri", f.p.Issuer)), ccForm()); status != http.StatusOK {
				t.Fatalf("token %d: %d %v", i, status, m)
			}
		}
		if n := fetches.Load(); n != 1 {
			t.Fatalf("jwks_uri fetched %d times for 3 requests; want 1 (cached)", n)
		}
		published.Store(k2.jwks(t)) // the client rotates to k2
		if status, _ := f.postAssertion("/oauth2/token", k2.sign(t, assertionClaims(f, "svc-uri", f.p.Issuer)), ccForm()); status != http.StatusUnauthorized {
			t.Fatalf("new kid within %s of the last fetch: %d; want 401 (no refetch yet)", jwksMinRefresh, status)
		}
		f.advance(jwksMinRefresh + time.Second)
		if status, m := f.postAssertion("/oauth2/token", k2.sign(t, assertionClaims(f, "svc-uri", f.p.Issuer)), ccForm()); status != http.StatusOK {
			t.Fatalf("new kid after %s: %d %v; want 200 (refetched)", jwksMinRefresh, status, m)
		}
		if n := fetches.Load(); n != 2 {
			t.Fatalf("jwks_uri fetched %d times; want 2", n)
		}
	})
}

// TestJWKSFetcherBounds: the fetcher refuses loopback addresses (SSRF)
// unless allowed, does not follow redirects and refuses oversized sets.
func TestJWKSFetcherBounds(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat(" ", identity.MaxJWKSSize+1) + `{"keys":[]}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/ok", http.StatusFound)
		case "/big":
			_, _ = w.Write([]byte(big))
		default:
			_, _ = w.Write([]byte(`{"keys":[]}`))
		}
	}))
	defer ts.Close()
	if _, err := newJWKSFetcher(false, time.Now).keys(ctx, ts.URL+"/ok", false); err == nil || !strings.Contains(err.Error(), "non-public") {
		t.Errorf("loopback jwks_uri without allowPrivate: err = %v; want a refusal", err)
	}
	allowed := newJWKSFetcher(true, time.Now)
	if _, err := allowed.keys(ctx, ts.URL+"/ok", false); err != nil {
		t.Errorf("loopback allowed: %v", err)
	}
	if _, err := allowed.keys(ctx, ts.URL+"/redirect", false); err == nil {
		t.Error("a redirect was followed")
	}
	if _, err := allowed.keys(ctx, ts.URL+"/big", false); err == nil {
		t.Error("a JWK Set over 64 KiB was accepted")
	}
}

// TestAssertionOwnerAdmittedDuringAttack: rate-limit admission (limit.go)
// treats a valid assertion as the owner's proof, like a matching secret:
// forged assertions naming the client exhaust the failure budgets of the
// address and of the client id, yet the owner, from that same address, is
// admitted; the forger stays refused.
func TestAssertionOwnerAdmittedDuringAttack(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		f.p.cfg.RateLimitFailedAuthPerIP, f.p.cfg.RateLimitFailedAuthPerClient, f.p.cfg.RateLimitPerClient = 3, 3, 100
		k := newPKJWTKey(t, jose.ES256, "k1")
		f.addPKJWTClient("svc", k.jwks(t), "")
		forger := newPKJWTKey(t, jose.ES256, "k1")
		assertion := func(key pkjwtKey) url.Values {
			form := ccForm()
			form.Set("client_assertion_type", clientAssertionType)
			form.Set("client_assertion", key.sign(t, assertionClaims(f, "svc", f.p.Issuer)))
			return form
		}
		refused := 0
		for range 6 {
			switch w := f.from("198.51.100.7", "/oauth2/token", "", "", assertion(forger)); w.Code {
			case http.StatusUnauthorized:
			case http.StatusTooManyRequests:
				refused++
			default:
				t.Fatalf("forged assertion: %d %s", w.Code, w.Body)
			}
		}
		if refused == 0 {
			t.Fatal("forged assertions were never limited")
		}
		if w := f.from("198.51.100.7", "/oauth2/token", "", "", assertion(k)); w.Code != http.StatusOK {
			t.Fatalf("the owner's valid assertion from the attacked address: %d %s", w.Code, w.Body)
		}
		assert429(t, f.from("198.51.100.7", "/oauth2/token", "", "", assertion(forger)), "forger after the owner's success")
	})
}
