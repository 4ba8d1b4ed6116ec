package provider

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

// previousRelease is the schema version of the release before the current
// migrations: the version users upgrade from. Raise it with each release.
const previousRelease = 3

// upgradeResource is the default resource (RFC 8707) of the upgraded server.
const upgradeResource = "https://api.example"

// upgradeState is what the seed made and the check proves still works.
type upgradeState struct {
	password, webSecret, rsSecret, apiKey string
	access, refresh                       string
	kids                                  []string
	userID, browserSession                string
}

// TestUpgradeFromPreviousRelease is the upgrade test every schema change
// extends: a database of the previous release, holding a user, a
// confidential and a public client, a resource server, an API key, a
// signing key and a grant with a live access and refresh token, is migrated
// to the latest schema; then the user's password verifies, the clients
// authenticate, the API key and the access token introspect active, the
// refresh token refreshes, the JWKS still has the key, and the public client
// gets CORS from its redirect URI's origin. 00004 (OpenID Connect): the
// previous release had only an ES256 key; after the upgrade an RS256 key is
// made and published beside it, users have no name and an unverified email,
// clients the default ID token algorithm.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		upgradeTest(func(tb testing.TB) string { return "sqlite://" + filepath.Join(tb.TempDir(), "u.db") }).Run(t)
	})
	if os.Getenv(storetest.PostgresEnv) != "" {
		t.Run("postgres", func(t *testing.T) { upgradeTest(storetest.PostgresURL).Run(t) })
	}
}

func upgradeTest(newURL func(testing.TB) string) storetest.Upgrade {
	var st upgradeState
	return storetest.Upgrade{From: previousRelease, NewURL: newURL,
		Seed: func(t *testing.T, s *store.Store) { st = seedRelease(t, s) },
		// The previous release made ES256 keys only.
		BeforeUpgrade: func(t *testing.T, db *sql.DB) {
			if _, err := db.Exec(`DELETE FROM signing_keys WHERE algorithm = 'RS256'`); err != nil {
				t.Fatal(err)
			}
		},
		Check: func(t *testing.T, s *store.Store) { checkRelease(t, s, st) },
	}
}

func upgradeProvider(t *testing.T, s *store.Store) (*Provider, *httptest.Server) {
	t.Helper()
	p, err := New(context.Background(), Config{Issuer: "https://auth.example", Secret: []byte(strings.Repeat("k", 32)),
		AuthorizeCodeLifespan: time.Minute, AccessTokenLifespan: 15 * time.Minute, RefreshTokenIdleLifespan: 24 * time.Hour,
		RefreshTokenAbsoluteLifespan: 72 * time.Hour, RefreshGraceWindow: 10 * time.Second,
		Resources: identity.Resources{{Identifier: upgradeResource, Scopes: identity.ResourceScopes()}}},
		s, Options{Audit: s, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	p.Mount(r)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return p, ts
}

func seedRelease(t *testing.T, s *store.Store) upgradeState {
	ctx := context.Background()
	st := upgradeState{password: "correct horse battery staple"}
	hash, err := password.Hash(st.password)
	if err != nil {
		t.Fatal(err)
	}
	user := &identity.User{Email: "alice@example.com", PasswordHash: hash}
	must(t, s.CreateUser(ctx, user))
	var webHash, rsHash []byte
	st.webSecret, webHash = identity.NewClientSecret()
	st.rsSecret, rsHash = identity.NewClientSecret()
	must(t, s.CreateClient(ctx, &identity.Client{ID: "web", Name: "Web", SecretHash: webHash, RedirectURIs: []string{redirectURI},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "offline_access"}, TokenFormat: "opaque"}))
	must(t, s.CreateClient(ctx, &identity.Client{ID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{spaRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "offline_access"}, TokenFormat: "opaque"}))
	must(t, s.CreateClient(ctx, &identity.Client{ID: "rs", Name: "RS", SecretHash: rsHash, GrantTypes: []string{"client_credentials"},
		CanIntrospect: true, TokenFormat: "opaque"}))
	st.apiKey, err = apikey.Generate(identity.EnvTest)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.CreateAPIKey(ctx, &identity.APIKey{OwnerID: user.ID, Name: "ci", Env: identity.EnvTest,
		Prefix: apikey.DisplayPrefix(st.apiKey), Hash: apikey.Hash(st.apiKey), Scopes: []string{"read:pets"}}))

	p, ts := upgradeProvider(t, s) // creates the first signing key
	keys, err := s.ListSigningKeys(ctx)
	if err != nil || len(keys) == 0 {
		t.Fatalf("no signing key: %v", err)
	}
	for _, k := range keys {
		if k.Algorithm == "ES256" {
			st.kids = append(st.kids, k.ID)
		}
	}
	grant, err := s.UpsertGrant(ctx, user.ID, "web", []string{"read:pets", "offline_access"}, true)
	if err != nil {
		t.Fatal(err)
	}
	v := oauth2.GenerateVerifier()
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {redirectURI},
		"scope": {"read:pets offline_access"}, "state": {"state-12345678"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"}}
	ar, err := p.OAuth2.NewAuthorizeRequest(ctx, httptest.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil))
	if err != nil {
		t.Fatal(err)
	}
	ar.GrantScope("read:pets")
	ar.GrantScope("offline_access")
	resp, err := p.OAuth2.NewAuthorizeResponse(ctx, ar, NewSession(user.ID, grant.ID))
	if err != nil {
		t.Fatal(err)
	}
	status, tok := postBasic(t, ts.URL+"/oauth2/token", "web", st.webSecret, url.Values{"grant_type": {"authorization_code"},
		"code": {resp.GetParameters().Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {v}})
	st.access, st.refresh = str(tok, "access_token"), str(tok, "refresh_token")
	if status != 200 || st.access == "" || st.refresh == "" {
		t.Fatalf("seed exchange: %d %v", status, tok)
	}
	st.userID, st.browserSession = user.ID, "browser-session-of-the-previous-release"
	if err := s.CreateSession(ctx, st.browserSession, identity.BrowserSession{SID: "dropped-by-the-copy", UserID: user.ID,
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return st
}

func checkRelease(t *testing.T, s *store.Store, st upgradeState) {
	ctx := context.Background()
	u, err := s.UserByEmail(ctx, "alice@example.com")
	if err != nil || !password.Verify(u.PasswordHash, st.password) {
		t.Fatalf("the user cannot sign in after the upgrade: %v", err)
	}
	p, ts := upgradeProvider(t, s)
	introspect := func(token string) map[string]any {
		status, m := postBasic(t, ts.URL+"/oauth2/introspect", "rs", st.rsSecret, url.Values{"token": {token}})
		if status != 200 {
			t.Fatalf("introspection (the resource server authenticates): %d %v", status, m)
		}
		return m
	}
	if m := introspect(st.access); m["active"] != true {
		t.Errorf("the access token is not active after the upgrade: %v", m)
	}
	if m := introspect(st.apiKey); m["active"] != true {
		t.Errorf("the API key is not active after the upgrade: %v", m)
	}
	status, tok := postBasic(t, ts.URL+"/oauth2/token", "web", st.webSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {st.refresh}})
	if status != 200 || str(tok, "access_token") == "" {
		t.Fatalf("the refresh token does not refresh after the upgrade: %d %v", status, tok)
	}
	if m := introspect(str(tok, "access_token")); m["active"] != true {
		t.Errorf("the refreshed access token is not active: %v", m)
	} else if aud, _ := m["aud"].([]any); len(aud) != 1 || aud[0] != upgradeResource {
		// 00006 (resources): a grant of the previous release has no
		// audience; its tokens are for the default resource.
		t.Errorf("the refreshed access token's aud = %v, want [%s]", m["aud"], upgradeResource)
	}
	checkJWKSAfterUpgrade(t, ts.URL, st.kids)
	checkCORSAfterUpgrade(t, s, ts.URL)
	checkSessionsAfterUpgrade(t, s, st)
	checkRegistrationAfterUpgrade(t, s)
	checkLegacyAudiences(t, p, s, ts.URL, u.ID, st.rsSecret)
	checkOpenIDAfterUpgrade(t, s, u)
	checkRotationAfterUpgrade(t, s, ts.URL, st.webSecret)
	checkLogoutAfterUpgrade(t, s)
	if m := introspect(st.access); m["cnf"] != nil {
		t.Errorf("a token of the previous release became DPoP-bound: %v", m)
	}
	checkDPoPPARAfterUpgrade(t, s, ts.URL, st)
	checkAuthMethodAfterUpgrade(t, s)
}

// checkLegacyAudiences (00006, resources): tokens the previous release
// issued keep working at the API until they expire. An opaque token then
// carried no audience (introspection now reports the default resource); a
// JWT carried aud "petstore-api", which petstore-api accepts by default
// (bearer.LegacyAudience in AcceptAudiences). Both are made here the way
// the previous release made them, and checked with the API's verifier.
func checkLegacyAudiences(t *testing.T, p *Provider, s *store.Store, base, userID, rsSecret string) {
	ctx := context.Background()
	client, err := s.GetClient(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	legacy := func(aud ...string) fosite.Requester {
		sess := NewSession(userID, "")
		sess.SetExpiresAt(fosite.AccessToken, time.Now().Add(time.Hour))
		r := fosite.NewAccessRequest(sess)
		r.Client = client
		r.GrantedScope = fosite.Arguments{"read:pets"}
		r.GrantedAudience = aud
		return r
	}
	opaqueReq := legacy()
	opaque, sig, err := p.strategy.GenerateAccessToken(ctx, opaqueReq) // "web" is an opaque-token client
	must(t, err)
	must(t, s.CreateAccessTokenSession(ctx, sig, opaqueReq))
	jwtReq := legacy(bearer.LegacyAudience)
	jwtTok, jwtSig, err := p.strategy.jwt.generate(ctx, jwtReq)
	must(t, err)
	must(t, s.CreateAccessTokenSession(ctx, jwtSig, jwtReq))

	// The API's verifier, reaching the test server under the issuer's name.
	api := func(accept ...string) *bearer.Verifier {
		return &bearer.Verifier{Issuer: "https://auth.example", ClientID: "rs", ClientSecret: rsSecret,
			Audience: upgradeResource, AcceptAudiences: accept, Logger: slog.New(slog.DiscardHandler),
			HTTPClient: &http.Client{Transport: rewriteTo(base)}}
	}
	v := api(bearer.LegacyAudience)
	for name, tok := range map[string]string{"opaque": opaque, "jwt": jwtTok} {
		if pr, err := v.Verify(ctx, "Bearer "+tok); err != nil || pr.Subject != userID {
			t.Errorf("a %s token of the previous release is refused by the API: %v", name, err)
		}
	}
	if _, err := api().Verify(ctx, "Bearer "+jwtTok); !errors.Is(err, bearer.ErrAudience) {
		t.Errorf("without the legacy audience accepted, the old JWT: %v, want ErrAudience", err)
	}
}

// rewriteTo sends every request to base, whatever host it names.
type rewriteTo string

func (b rewriteTo) RoundTrip(r *http.Request) (*http.Response, error) {
	u, _ := url.Parse(string(b))
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
	return http.DefaultTransport.RoundTrip(r)
}

// checkOpenIDAfterUpgrade (00004): an RS256 key was made for ID tokens;
// rows of the previous release got the defaults.
func checkOpenIDAfterUpgrade(t *testing.T, s *store.Store, u *identity.User) {
	keys, err := s.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rsa := 0
	for _, k := range keys {
		if k.Algorithm == "RS256" && k.RetiredAt == nil {
			rsa++
		}
	}
	if rsa != 1 {
		t.Errorf("%d active RS256 keys after the upgrade; want 1", rsa)
	}
	if u.Name != "" || u.EmailVerified {
		t.Errorf("upgraded user: name %q, email_verified %v; want none, false", u.Name, u.EmailVerified)
	}
	web, err := s.ClientByID(context.Background(), "web")
	if err != nil || web.IDTokenSignedResponseAlg != "" {
		t.Errorf("upgraded client: %+v %v; want the default ID token algorithm", web, err)

	}
}

// checkLogoutAfterUpgrade (00011): clients of the previous release have no
// post-logout redirect URIs and no back-channel URI, still validate, and
// can get both; a revoked grant then queues a logout token.
func checkLogoutAfterUpgrade(t *testing.T, s *store.Store) {
	ctx := context.Background()
	web, err := s.ClientByID(ctx, "web")
	if err != nil || web.PostLogoutRedirectURIs != nil || web.BackchannelLogoutURI != "" || web.BackchannelLogoutSessionRequired {
		t.Fatalf("client after the upgrade: %+v, %v", web, err)
	}
	if err := web.Validate(); err != nil {
		t.Fatalf("an upgraded client no longer validates: %v", err)
	}
	web.PostLogoutRedirectURIs = []string{"https://web.example/bye"}
	web.BackchannelLogoutURI = "https://web.example/backchannel"
	must(t, web.Validate())
	must(t, s.UpdateClient(ctx, web))
	again, err := s.ClientByID(ctx, "web")
	if err != nil || !again.PostLogoutRedirectURIRegistered("https://web.example/bye") || again.BackchannelLogoutURI != web.BackchannelLogoutURI {
		t.Fatalf("logout settings after update: %+v, %v", again, err)
	}
	u, err := s.UserByEmail(ctx, "alice@example.com")
	must(t, err)
	if n, err := s.EnqueueGrantLogouts(ctx, u.ID, []string{"web", "spa"}); err != nil || n != 1 {
		t.Fatalf("EnqueueGrantLogouts after the upgrade = %d, %v; want 1", n, err)

	}
}

// checkRotationAfterUpgrade (00008): clients of the previous release have
// no owner and no previous secret; rotating one with a grace period on the
// upgraded database keeps its old secret working beside the new one.
func checkRotationAfterUpgrade(t *testing.T, s *store.Store, base, oldSecret string) {
	ctx := context.Background()
	web, err := s.ClientByID(ctx, "web")
	if err != nil || web.OwnerID != "" || web.PreviousSecretHash != nil || web.PreviousSecretExpiresAt != nil {
		t.Fatalf("client after the upgrade: %+v, %v", web, err)
	}
	fresh, err := web.RotateSecret(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	must(t, s.UpdateClient(ctx, web))
	for _, secret := range []string{oldSecret, fresh} {
		if status, m := postBasic(t, base+"/oauth2/revoke", "web", secret, url.Values{"token": {"x"}}); status != http.StatusOK {
			t.Errorf("an upgraded client rotated with grace does not authenticate: %d %v", status, m)
		}
	}
}

// checkDPoPPARAfterUpgrade (00009): clients of the previous release are
// neither DPoP-bound nor PAR-only nor under a profile, and they can get a
// DPoP-bound token (dpop_proofs) and push a request (par_requests).
func checkDPoPPARAfterUpgrade(t *testing.T, s *store.Store, base string, st upgradeState) {
	for _, id := range []string{"web", "spa", "rs"} {
		c, err := s.ClientByID(context.Background(), id)
		if err != nil || c.DPoPBound || c.RequirePAR || c.Profile != "" {
			t.Fatalf("client %s after the upgrade: %+v, %v", id, c, err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("rs", url.QueryEscape(st.rsSecret))
	req.Header.Set("DPoP", dpoptest.NewKey().Proof("POST", "https://auth.example/oauth2/token", dpoptest.Opts{}))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	if res.StatusCode != 200 || tok["token_type"] != "DPoP" {
		t.Errorf("DPoP token after the upgrade: %d %v", res.StatusCode, tok)
	}
	status, par := postBasic(t, base+"/oauth2/par", "web", st.webSecret, url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI},
		"scope": {"read:pets"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}})
	if status != http.StatusCreated || str(par, "request_uri") == "" {
		t.Errorf("PAR after the upgrade: %d %v", status, par)
	}
}

// checkAuthMethodAfterUpgrade (00010): clients of the previous release
// keep authenticating with their secret (checked above) and have no
// private_key_jwt keys.
func checkAuthMethodAfterUpgrade(t *testing.T, s *store.Store) {
	for _, id := range []string{"web", "spa", "rs"} {
		c, err := s.ClientByID(context.Background(), id)
		if err != nil || c.UsesPrivateKeyJWT() || c.JWKSURI != "" || c.JWKS != "" || c.Validate() != nil {
			t.Fatalf("client %s after the upgrade: %+v, %v", id, c, err)
		}
	}
}

// checkJWKSAfterUpgrade: the keys of the previous release are published.
func checkJWKSAfterUpgrade(t *testing.T, base string, kids []string) {
	res, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	_ = json.NewDecoder(res.Body).Decode(&jwks)
	for _, kid := range kids {
		found := false
		for _, k := range jwks.Keys {
			found = found || k.Kid == kid
		}
		if !found {
			t.Errorf("the JWKS lost key %s after the upgrade: %+v", kid, jwks)
		}
	}
}

// checkCORSAfterUpgrade (00003): clients of the previous release have no
// allowed origins, and a public one may call from its redirect URI's
// origin.
func checkCORSAfterUpgrade(t *testing.T, s *store.Store, base string) {
	spa, err := s.ClientByID(context.Background(), "spa")
	if err != nil || spa.AllowedOrigins != nil || strings.Join(spa.CORSOrigins(), " ") != spaOrigin {
		t.Fatalf("public client after the upgrade: %+v, %v", spa, err)
	}
	req, _ := http.NewRequest(http.MethodOptions, base+"/oauth2/token", nil)
	req.Header.Set("Origin", spaOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	pre, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pre.Body.Close()
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != spaOrigin {
		t.Errorf("preflight for an upgraded public client: %d %q", pre.StatusCode, pre.Header.Get("Access-Control-Allow-Origin"))
	}
}

// checkRegistrationAfterUpgrade (00007): clients of the previous release
// are operator clients — not unverified, not listed as registered, never
// removed by the unused-registration cleanup — and a registration token
// can be stored and spent.
func checkRegistrationAfterUpgrade(t *testing.T, s *store.Store) {
	ctx := context.Background()
	for _, id := range []string{"web", "spa", "rs"} {
		c, err := s.ClientByID(ctx, id)
		if err != nil || c.Unverified() || c.Registration != "" || c.LastUsedAt != nil || c.RegistrationTokenHash != nil {
			t.Fatalf("client %s after the upgrade: %+v, %v", id, c, err)
		}
	}
	if list, n, err := s.ListClients(ctx, identity.ClientFilter{Registered: true}); err != nil || n != 0 || len(list) != 0 {
		t.Errorf("registered clients after the upgrade: %d, %v", n, err)
	}
	if n, err := s.DeleteUnusedRegisteredClients(ctx, time.Now().Add(24*time.Hour), 100); err != nil || n != 0 {
		t.Errorf("cleanup removed %d clients of the previous release (%v)", n, err)
	}
	tok := &identity.RegistrationToken{Hash: []byte("0123456789abcdef0123456789abcdef"), Prefix: "pst_rit_x", MaxUses: 1}
	must(t, s.CreateRegistrationToken(ctx, tok))
	must(t, s.UseRegistrationToken(ctx, tok.Hash, time.Now()))
	if err := s.UseRegistrationToken(ctx, tok.Hash, time.Now()); identity.ErrorCode(err) != identity.EUNAUTHORIZED {
		t.Errorf("a used-up registration token: %v", err)
	}
}

func postBasic(t *testing.T, u, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// checkSessionsAfterUpgrade (00005): a browser session of the previous
// release is still signed in, and is listed with a random public sid and
// last seen when it started.
func checkSessionsAfterUpgrade(t *testing.T, s *store.Store, st upgradeState) {
	t.Helper()
	ctx := context.Background()
	if _, ok, err := s.SessionActive(ctx, st.browserSession); err != nil || !ok {
		t.Fatalf("the previous release's browser session ended by the upgrade: %v", err)
	}
	list, err := s.UserSessions(ctx, st.userID)
	if err != nil || len(list) != 1 {
		t.Fatalf("sessions %+v, %v; want the one", list, err)
	}
	if b := list[0]; len(b.SID) < 32 || b.SID == "dropped-by-the-copy" || !b.LastSeenAt.Equal(b.CreatedAt) {
		t.Fatalf("upgraded session %+v; want a random sid, last seen at its start", b)
	}
}
