package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

const redirectURI = "https://app.example/cb"

// fixture is a provider on a real store behind httptest, with a user, a
// grant, a confidential web client and a resource server.
type fixture struct {
	t        testing.TB
	p        *Provider
	st       *store.Store
	ts       *httptest.Server
	now      time.Time
	mu       sync.Mutex
	web      identity.Client
	secret   string
	rsID     string
	rsSecret string
	user     *identity.User
	grant    *identity.Grant
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// eachDatabase runs fn on SQLite and, when configured, PostgreSQL.
func eachDatabase(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db")) })
	if os.Getenv("PETSTORE_TEST_POSTGRES_DSN") != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresURL(t)) })
	}
}

func newFixture(t testing.TB, dbURL string, format string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, now: time.Now().UTC().Truncate(time.Second)}
	st, err := store.Open(ctx, dbURL, store.Options{Now: f.clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	f.st = st
	var hash []byte
	f.secret, hash = identity.NewClientSecret()
	f.web = identity.Client{ID: "web", Name: "Web", SecretHash: hash, RedirectURIs: []string{redirectURI},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "write:pets", "offline_access"}, TokenFormat: format}
	if err := st.CreateClient(ctx, &f.web); err != nil {
		t.Fatal(err)
	}
	var rsHash []byte
	f.rsSecret, rsHash = identity.NewClientSecret()
	f.rsID = "rs"
	if err := st.CreateClient(ctx, &identity.Client{ID: "rs", Name: "RS", SecretHash: rsHash, GrantTypes: []string{"client_credentials"}, CanIntrospect: true, TokenFormat: "opaque"}); err != nil {
		t.Fatal(err)
	}
	f.user = &identity.User{Email: "alice@example.com", PasswordHash: "x"}
	if err := st.CreateUser(ctx, f.user); err != nil {
		t.Fatal(err)
	}
	f.grant, err = st.UpsertGrant(ctx, f.user.ID, "web", []string{"read:pets", "offline_access"}, true)
	if err != nil {
		t.Fatal(err)
	}
	f.p, err = New(ctx, Config{Issuer: "https://auth.example", Secret: []byte(strings.Repeat("k", 32)),
		AuthorizeCodeLifespan: time.Minute, AccessTokenLifespan: 15 * time.Minute, RefreshTokenIdleLifespan: 24 * time.Hour,
		RefreshTokenAbsoluteLifespan: 72 * time.Hour, RefreshGraceWindow: 10 * time.Second, Resources: testResources},
		st, Options{Audit: st, Logger: slog.New(slog.DiscardHandler), Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	f.p.Mount(r)
	f.ts = httptest.NewServer(r)
	t.Cleanup(f.ts.Close)
	return f
}

// authorize runs the authorization endpoint in process, as the web package
// does after login and consent, and returns a code for the verifier.
func (f *fixture) authorize(verifier string, scopes ...string) string {
	f.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {redirectURI},
		"scope": {strings.Join(scopes, " ")}, "state": {"state-12345678"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	req := httptest.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil)
	ctx := req.Context()
	ar, err := f.p.OAuth2.NewAuthorizeRequest(ctx, req)
	if err != nil {
		f.t.Fatalf("authorize request: %v", err)
	}
	for _, s := range scopes {
		ar.GrantScope(s)
	}
	resp, err := f.p.OAuth2.NewAuthorizeResponse(ctx, ar, NewSession(f.user.ID, f.grant.ID))
	if err != nil {
		f.t.Fatalf("authorize response: %v", err)
	}
	return resp.GetParameters().Get("code")
}

func (f *fixture) token(form url.Values) (int, map[string]any) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("web", f.secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	json.Unmarshal(b, &m)
	if res.StatusCode == 200 && res.Header.Get("Cache-Control") != "no-store" {
		f.t.Errorf("token response without Cache-Control: no-store")
	}
	return res.StatusCode, m
}

func (f *fixture) exchange(code, verifier string) (int, map[string]any) {
	return f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
}

func (f *fixture) refresh(rt string) (int, map[string]any) {
	return f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func (f *fixture) active(token string) bool {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.rsID, f.rsSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return m["active"] == true
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// TestRefreshGraceWindow pins RT-06: a rotated refresh token presented again
// within the window gets the same pair; after the window it is reuse and
// the whole family dies.
func TestRefreshGraceWindow(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		v := oauth2.GenerateVerifier()
		st, first := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
		if st != 200 || str(first, "refresh_token") == "" {
			t.Fatalf("exchange: %d %v", st, first)
		}
		rt0 := str(first, "refresh_token")
		st, a := f.refresh(rt0)
		if st != 200 {
			t.Fatalf("refresh: %d %v", st, a)
		}
		f.advance(5 * time.Second)
		st, b := f.refresh(rt0)
		if st != 200 || str(a, "access_token") != str(b, "access_token") || str(a, "refresh_token") != str(b, "refresh_token") {
			t.Fatalf("replay within the window must return the same pair: %d\n%v\n%v", st, a, b)
		}
		if !f.active(str(a, "access_token")) {
			t.Fatal("successor access token inactive after a replay")
		}
		f.advance(6 * time.Second) // now 11 s after the rotation
		st, c := f.refresh(rt0)
		if st != 400 || c["error"] != "invalid_grant" {
			t.Fatalf("replay after the window: %d %v", st, c)
		}
		if f.active(str(a, "access_token")) {
			t.Fatal("reuse after the window must revoke the family's access token")
		}
		if st, _ := f.refresh(str(a, "refresh_token")); st == 200 {
			t.Fatal("reuse after the window must revoke the family's newest refresh token")
		}
	})
}

// TestRefreshGraceWindowWrongClient: the grace window is per client.
func TestRefreshGraceReplayByAnotherClientFails(t *testing.T) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), "opaque")
	v := oauth2.GenerateVerifier()
	_, first := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
	rt0 := str(first, "refresh_token")
	f.refresh(rt0)
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt0}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.rsID, f.rsSecret)
	res, _ := http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode == 200 {
		t.Fatal("another client got the successor pair")
	}
}

// TestParallelRefreshKeepsUserSignedIn: 20 parallel refreshes of one token
// (two tabs, retries) all succeed with one and the same successor pair, and
// that pair stays alive (RT-06, FL-02).
func TestParallelRefreshKeepsUserSignedIn(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		for round := range 5 {
			v := oauth2.GenerateVerifier()
			_, first := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
			rt := str(first, "refresh_token")
			var wg sync.WaitGroup
			results := make([]map[string]any, 20)
			codes := make([]int, 20)
			for i := range 20 {
				wg.Add(1)
				go func() { defer wg.Done(); codes[i], results[i] = f.refresh(rt) }()
			}
			wg.Wait()
			pairs := map[string]bool{}
			for i := range 20 {
				if codes[i] != 200 {
					t.Fatalf("round %d: a parallel refresh failed: %d %v", round, codes[i], results[i])
				}
				pairs[str(results[i], "refresh_token")] = true
			}
			if len(pairs) != 1 {
				t.Fatalf("round %d: %d different successor chains, want exactly one", round, len(pairs))
			}
			if !f.active(str(results[0], "access_token")) {
				t.Fatalf("round %d: the successor access token is inactive", round)
			}
		}
	})
}

// TestParallelCodeRedemption (PK-09): of 20 parallel redemptions at most one
// gets tokens (exactly one in the store-level suite; here a loser may burn
// the code before the winner reaches it), the others invalid_grant, and no
// token issued for a replayed code stays alive.
func TestParallelCodeRedemption(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		total := 0
		defer func() {
			if total == 0 {
				t.Error("no round had a winner: redemption under concurrency never succeeds")
			}
		}()
		for round := range 10 {
			v := oauth2.GenerateVerifier()
			code := f.authorize(v, "read:pets", "offline_access")
			var wg sync.WaitGroup
			codes := make([]int, 20)
			bodies := make([]map[string]any, 20)
			for i := range 20 {
				wg.Add(1)
				go func() { defer wg.Done(); codes[i], bodies[i] = f.exchange(code, v) }()
			}
			wg.Wait()
			wins := 0
			var winner map[string]any
			for i, c := range codes {
				switch {
				case c == 200:
					wins++
					winner = bodies[i]
				case c != 400 || bodies[i]["error"] != "invalid_grant":
					t.Fatalf("round %d: loser got %d %v, want 400 invalid_grant", round, c, bodies[i])
				}
			}
			total += wins
			if wins > 1 {
				t.Fatalf("round %d: %d redemptions succeeded, want at most 1", round, wins)
			}
			if wins == 1 && f.active(str(winner, "access_token")) {
				t.Fatalf("round %d: tokens of a replayed code are still active", round)
			}
		}
	})
}

// TestCodeReuseAndPKCE: PK-01 and PK-05.
func TestCodeReuseAndPKCE(t *testing.T) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), "opaque")
	v := oauth2.GenerateVerifier()
	code := f.authorize(v, "read:pets", "offline_access")
	st, first := f.exchange(code, v)
	if st != 200 {
		t.Fatalf("exchange: %d %v", st, first)
	}
	if st, body := f.exchange(code, v); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("second redemption: %d %v", st, body)
	}
	if f.active(str(first, "access_token")) {
		t.Fatal("code reuse must revoke the tokens of the first redemption")
	}
	if st, _ := f.refresh(str(first, "refresh_token")); st == 200 {
		t.Fatal("code reuse must revoke the refresh token of the first redemption")
	}

	code = f.authorize(v, "read:pets")
	if st, body := f.exchange(code, oauth2.GenerateVerifier()); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", st, body)
	}
	if st, body := f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}); st == 200 {
		t.Fatalf("retry without verifier after a failed PKCE check got tokens: %v", body)
	}
	code = f.authorize(v, "read:pets")
	if st, _ := f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}); st == 200 {
		t.Fatal("a code redeemed without a verifier got tokens")
	}
}

// TestRefreshCannotWiden (RT-04) and absolute lifetime (RT-05).
func TestRefreshScopeAndLifetime(t *testing.T) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), "opaque")
	v := oauth2.GenerateVerifier()
	_, first := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
	st, wide := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(first, "refresh_token")}, "scope": {"read:pets write:pets"}})
	if st == 200 && strings.Contains(str(wide, "scope"), "write:pets") {
		t.Fatalf("refresh widened the scope: %v", wide)
	}
	rt := str(first, "refresh_token")
	if st == 200 {
		rt = str(wide, "refresh_token")
	}
	f.advance(73 * time.Hour) // past the absolute lifetime; each step below the idle one
	if st, body := f.refresh(rt); st != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after the absolute lifetime: %d %v", st, body)
	}
}

// TestGrantRevocationKillsTokens: the one revocation path.
func TestGrantRevocationKillsTokens(t *testing.T) {
	for _, format := range []string{"opaque", "jwt"} {
		t.Run(format, func(t *testing.T) {
			f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), format)
			v := oauth2.GenerateVerifier()
			_, tok := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
			at := str(tok, "access_token")
			if format == "jwt" && strings.Count(at, ".") != 2 {
				t.Fatalf("jwt client got %q", at)
			}
			if !f.active(at) {
				t.Fatal("fresh token inactive")
			}
			if err := f.st.RevokeGrant(context.Background(), f.grant.ID); err != nil {
				t.Fatal(err)
			}
			if f.active(at) {
				t.Fatal("access token active after its grant was revoked")
			}
			if st, body := f.refresh(str(tok, "refresh_token")); st != 400 || body["error"] != "invalid_grant" {
				t.Fatalf("refresh after grant revocation: %d %v", st, body)
			}
			if format == "jwt" {
				list, _ := f.st.ListRevokedJWTs(context.Background(), time.Time{})
				if len(list) == 0 {
					t.Fatal("the revoked JWT is not on the revocation list")
				}
			}
		})
	}
}

// TestIntrospectionTokenUse (IN-08): a refresh token never passes as an
// access token.
func TestIntrospectionTokenUse(t *testing.T) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), "opaque")
	v := oauth2.GenerateVerifier()
	_, tok := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {str(tok, "refresh_token")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.rsID, f.rsSecret)
	res, _ := http.DefaultClient.Do(req)
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	res.Body.Close()
	if m["active"] == true && m["token_use"] != "refresh_token" {
		t.Fatalf("refresh token introspected without token_use refresh_token: %v", m)
	}
	if _, err := f.p.Authenticate(context.Background(), str(tok, "refresh_token")); err == nil {
		t.Fatal("a refresh token authenticated as an access token")
	}
	pr, err := f.p.Authenticate(context.Background(), str(tok, "access_token"))
	if err != nil || pr.Subject != f.user.ID || !pr.HasScope("read:pets") {
		t.Fatalf("access token: %+v %v", pr, err)
	}
}

// TestJWKSAndRotation (MD-02, MD-03): the JWKS publishes public keys only,
// one ES256 and one RS256 (2048 bits or more) with distinct kids, and after
// a rotation the new and the previous key of each algorithm.
func TestJWKSAndRotation(t *testing.T) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), "jwt")
	get := func() []map[string]any {
		res, err := http.Get(f.ts.URL + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var set struct{ Keys []map[string]any }
		json.NewDecoder(res.Body).Decode(&set)
		return set.Keys
	}
	kidsByAlg := func(keys []map[string]any) map[string][]string {
		out := map[string][]string{}
		for _, k := range keys {
			if k["d"] != nil || k["p"] != nil || k["kid"] == "" {
				t.Fatalf("jwks key with private parts or no kid: %v", k)
			}
			if k["alg"] == "RS256" {
				n, _ := base64.RawURLEncoding.DecodeString(k["n"].(string))
				if len(n)*8 < 2048 {
					t.Errorf("RSA key of %d bits", len(n)*8)
				}
			}
			out[k["alg"].(string)] = append(out[k["alg"].(string)], k["kid"].(string))
		}
		return out
	}
	first := kidsByAlg(get())
	if len(first) != 2 || len(first["ES256"]) != 1 || len(first["RS256"]) != 1 || first["ES256"][0] == first["RS256"][0] {
		t.Fatalf("jwks: %v; want one ES256 and one RS256 key", first)
	}
	rotated, err := f.p.RotateKeys(context.Background())
	if err != nil || len(rotated) != 2 {
		t.Fatal(rotated, err)
	}
	after := kidsByAlg(get())
	for _, alg := range []string{"ES256", "RS256"} {
		if len(after[alg]) != 2 || !slices.Contains(after[alg], first[alg][0]) {
			t.Fatalf("after rotation %s kids %v; want a new one and the previous %s", alg, after[alg], first[alg][0])
		}
	}
	f.advance(2 * time.Hour) // beyond the access- and ID-token lifetimes + margin
	f.p.strategy.jwt.reload(context.Background())
	if last := kidsByAlg(get()); len(last["ES256"]) != 1 || len(last["RS256"]) != 1 || slices.Contains(last["RS256"], first["RS256"][0]) {
		t.Fatalf("the retired keys are still published after their tokens expired: %v", last)
	}
	_ = fmt.Sprint()
}

// TestSecretRotation (MD-04): after the system secret is rotated, with the
// old one listed as previous, opaque tokens and the sealed signing key made
// under it still work; with the old secret dropped, they do not.
func TestSecretRotation(t *testing.T) {
	for _, format := range []string{"opaque", "jwt"} {
		t.Run(format, func(t *testing.T) { testSecretRotation(t, format) })
	}
}

func testSecretRotation(t *testing.T, format string) {
	f := newFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "p.db"), format)
	v := oauth2.GenerateVerifier()
	_, tok := f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
	restart := func(secret string, previous ...string) (*Provider, error) {
		cfg := f.p.cfg
		cfg.Secret = []byte(secret)
		cfg.PreviousSecrets = nil
		for _, p := range previous {
			cfg.PreviousSecrets = append(cfg.PreviousSecrets, []byte(p))
		}
		return New(context.Background(), cfg, f.st, Options{Audit: f.st, Logger: slog.New(slog.DiscardHandler), Now: f.clock})
	}
	oldSecret, newSecret := strings.Repeat("k", 32), strings.Repeat("n", 32)
	p, err := restart(newSecret, oldSecret)
	if err != nil {
		t.Fatalf("restart with the old secret as previous: %v", err)
	}
	if pr, err := p.Authenticate(context.Background(), str(tok, "access_token")); err != nil || pr.Subject != f.user.ID {
		t.Fatalf("a token made under the previous secret is refused: %v", err)
	}
	if _, err := restart(newSecret); err == nil {
		t.Fatal("the signing key sealed under the dropped secret opened: it was not sealed with the secret at all")
	}
	// The documented way to drop a secret: rotate the signing key while
	// both are configured, then drop it.
	if _, err := p.RotateKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, err = restart(newSecret)
	if err != nil {
		t.Fatalf("restart after rotating the signing key: %v", err)
	}
	_, err = p.Authenticate(context.Background(), str(tok, "access_token"))
	switch {
	case format == "opaque" && err == nil:
		t.Fatal("an opaque token made under a dropped secret still works")
	case format == "jwt" && err != nil:
		t.Fatalf("a JWT does not depend on the system secret, yet it was refused: %v", err)
	}
}
