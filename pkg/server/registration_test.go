package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/clientmeta"
	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// testClock is a settable clock for the server.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func openRegistration(t *testing.T, dbURL string, configure func(*config.Config)) (*servertest.Server, *testClock) {
	t.Helper()
	clk := &testClock{now: time.Now().UTC()}
	s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Now: clk.Now, Configure: configure})
	return s, clk
}

// register posts metadata (a JSON object) to the registration endpoint
// with the given bearer token ("" for none) and extra header pairs.
func register(t *testing.T, s *servertest.Server, body any, bearer string, headers ...string) servertest.Response {
	t.Helper()
	return jsonRequest(t, http.MethodPost, s.URL+"/oauth2/register", body, bearer, headers...)
}

func jsonRequest(t *testing.T, method, u string, body any, bearer string, headers ...string) servertest.Response {
	t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return servertest.Do(t, nil, req)
}

func metadataOf(t *testing.T, s *servertest.Server) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/.well-known/oauth-authorization-server", nil)
	return servertest.Do(t, nil, req).JSON
}

func countClients(t *testing.T, s *servertest.Server) int {
	t.Helper()
	_, n, err := s.Store.ListClients(context.Background(), identity.ClientFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const mcpCallback = "http://127.0.0.1:33418/callback"

// TestRegistrationLifecycle: with registration open, an app registers
// itself (RFC 7591), reads, replaces and deletes its registration with its
// registration access token (RFC 7592); the metadata advertises the
// endpoint; a wrong token reads nothing; the client is marked unverified
// and listed as registered; a confidential registration's secret
// authenticates at the token endpoint.
func TestRegistrationLifecycle(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		s, _ := openRegistration(t, dbURL, func(c *config.Config) { c.Registration = "open" })
		if got := metadataOf(t, s)["registration_endpoint"]; got != s.URL+"/oauth2/register" {
			t.Fatalf("registration_endpoint = %v", got)
		}
		res := register(t, s, map[string]any{"client_name": "Claude Desktop", "redirect_uris": []string{mcpCallback},
			"token_endpoint_auth_method": "none", "grant_types": []string{"authorization_code", "refresh_token"},
			"response_types": []string{"code"}, "software_id": "claude", "software_version": "1.2"}, "")
		if res.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", res.Status, res.Body)
		}
		id, rat := res.Str("client_id"), res.Str("registration_access_token")
		if id == "" || !strings.HasPrefix(rat, manage.PrefixRegistrationAccessToken) || res.Str("client_secret") != "" ||
			res.Str("registration_client_uri") != s.URL+"/oauth2/register/"+id || res.JSON["client_id_issued_at"] == nil ||
			res.Str("token_endpoint_auth_method") != "none" || res.Str("scope") != strings.Join(manage.RegistrationScopes(), " ") || strings.Contains(res.Str("scope"), "admin") {
			t.Fatalf("registration answer: %s", res.Body)
		}
		if _, ok := res.JSON["client_secret_expires_at"]; ok {
			t.Errorf("a public client has no secret expiry: %s", res.Body)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q", cc)
		}
		c, err := s.Store.ClientByID(context.Background(), id)
		if err != nil || !c.Unverified() || c.Registration != identity.RegistrationDynamic || !c.Public ||
			c.SoftwareID != "claude" || bytes.Contains(c.RegistrationTokenHash, []byte(rat)) || len(c.RegistrationTokenHash) != 32 {
			t.Fatalf("stored client: %+v %v", c, err)
		}
		listed, _, _ := s.Store.ListClients(context.Background(), identity.ClientFilter{Registered: true})
		if len(listed) != 1 || listed[0].ID != id {
			t.Errorf("registered filter lists %d clients", len(listed))
		}

		uri := s.URL + "/oauth2/register/" + id
		if got := jsonRequest(t, http.MethodGet, uri, nil, rat); got.Status != http.StatusOK || got.Str("client_name") != "Claude Desktop" {
			t.Fatalf("read: %d %s", got.Status, got.Body)
		}
		for _, bad := range []string{"", "pst_rat_wrong"} {
			got := jsonRequest(t, http.MethodGet, uri, nil, bad)
			if got.Status != http.StatusUnauthorized || got.Str("error") != "invalid_token" ||
				!strings.HasPrefix(got.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("read with %q: %d %s %q", bad, got.Status, got.Body, got.Header.Get("WWW-Authenticate"))
			}
		}
		// Another client's token does not open this one, and an unknown id answers the same.
		if got := jsonRequest(t, http.MethodGet, s.URL+"/oauth2/register/nosuch", nil, rat); got.Status != http.StatusUnauthorized {
			t.Errorf("unknown client: %d", got.Status)
		}

		upd := jsonRequest(t, http.MethodPut, uri, map[string]any{"client_id": id, "client_name": "Claude",
			"redirect_uris": []string{mcpCallback, "http://127.0.0.1:33419/callback"}, "token_endpoint_auth_method": "none",
			"grant_types": []string{"authorization_code"}, "scope": "read:pets"}, rat)
		if upd.Status != http.StatusOK || upd.Str("client_name") != "Claude" || upd.Str("scope") != "read:pets" {
			t.Fatalf("update: %d %s", upd.Status, upd.Body)
		}
		if got := jsonRequest(t, http.MethodPut, uri, map[string]any{"client_id": id, "redirect_uris": []string{mcpCallback},
			"token_endpoint_auth_method": "client_secret_basic"}, rat); got.Status != http.StatusBadRequest || got.Str("error") != "invalid_client_metadata" {
			t.Errorf("switching to a secret: %d %s", got.Status, got.Body)
		}
		if got := jsonRequest(t, http.MethodPut, uri, map[string]any{"client_id": "other", "redirect_uris": []string{mcpCallback},
			"token_endpoint_auth_method": "none"}, rat); got.Status != http.StatusBadRequest {
			t.Errorf("update naming another client_id: %d %s", got.Status, got.Body)
		}
		c, _ = s.Store.ClientByID(context.Background(), id)
		if c.Name != "Claude" || len(c.RedirectURIs) != 2 || strings.Join(c.Scopes, " ") != "read:pets" {
			t.Errorf("after update: %+v", c)
		}

		if got := jsonRequest(t, http.MethodDelete, uri, nil, "pst_rat_wrong"); got.Status != http.StatusUnauthorized {
			t.Errorf("delete with a wrong token: %d", got.Status)
		}
		if got := jsonRequest(t, http.MethodDelete, uri, nil, rat); got.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", got.Status, got.Body)
		}
		if _, err := s.Store.ClientByID(context.Background(), id); !identity.IsNotFound(err) {
			t.Errorf("client still there: %v", err)
		}
		if got := jsonRequest(t, http.MethodGet, uri, nil, rat); got.Status != http.StatusUnauthorized {
			t.Errorf("read after delete: %d", got.Status)
		}

		// Confidential: the secret is shown once and authenticates.
		conf := register(t, s, map[string]any{"client_name": "Server app", "redirect_uris": []string{"https://app.example/cb"},
			"token_endpoint_auth_method": "client_secret_post"}, "")
		secret := conf.Str("client_secret")
		if conf.Status != http.StatusCreated || !strings.HasPrefix(secret, identity.PrefixClientSecret) ||
			conf.JSON["client_secret_expires_at"] != float64(0) || conf.Str("token_endpoint_auth_method") != "client_secret_post" {
			t.Fatalf("confidential registration: %d %s", conf.Status, conf.Body)
		}
		tok := servertest.PostForm(t, nil, s.URL+"/oauth2/token", servertest.Client{},
			url.Values{"grant_type": {"authorization_code"}, "code": {"pst_ac_bogus.x"}, "redirect_uri": {"https://app.example/cb"},
				"client_id": {conf.Str("client_id")}, "client_secret": {secret}, "code_verifier": {strings.Repeat("v", 43)}})
		if tok.Str("error") != "invalid_grant" {
			t.Errorf("the registered secret did not authenticate: %d %s", tok.Status, tok.Body)
		}
		read := jsonRequest(t, http.MethodGet, s.URL+"/oauth2/register/"+conf.Str("client_id"), nil, conf.Str("registration_access_token"))
		if read.Status != http.StatusOK || read.Str("client_secret") != "" || read.Str("registration_access_token") != "" {
			t.Errorf("a read must not reveal credentials: %s", read.Body)
		}
	})
}

// TestRegistrationPolicies: off has no endpoint (404) and no
// registration_endpoint in the metadata; the default follows the mode;
// token admits only a valid initial access token — not a missing, wrong,
// expired, used-up or revoked one — and a refused registration creates
// nothing.
func TestRegistrationPolicies(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		t.Run("off", func(t *testing.T) {
			s, _ := openRegistration(t, "", func(c *config.Config) { c.Registration = "off" })
			if _, ok := metadataOf(t, s)["registration_endpoint"]; ok {
				t.Error("registration_endpoint advertised while off")
			}
			if res := register(t, s, map[string]any{"redirect_uris": []string{mcpCallback}}, ""); res.Status != http.StatusNotFound {
				t.Errorf("POST with registration off: %d %s", res.Status, res.Body)
			}
		})
		t.Run("defaults", func(t *testing.T) {
			dev := config.Default()
			dev.Dev = true
			prod := config.Default()
			if dev.RegistrationPolicy() != "open" || prod.RegistrationPolicy() != "off" {
				t.Errorf("defaults: dev %q, production %q", dev.RegistrationPolicy(), prod.RegistrationPolicy())
			}
			prod.Registration = "token"
			if prod.RegistrationPolicy() != "token" {
				t.Error("a set policy is not kept")
			}
		})
		t.Run("token", func(t *testing.T) {
			s, clk := openRegistration(t, dbURL, func(c *config.Config) { c.Registration = "token" })
			ctx := context.Background()
			svc := &manage.Service{Users: s.Store, Clients: s.Store, Grants: s.Store, APIKeys: s.Store, Registrations: s.Store, Audit: s.Store, Now: clk.Now}
			md := map[string]any{"client_name": "Agent", "redirect_uris": []string{mcpCallback}, "token_endpoint_auth_method": "none"}
			before := countClients(t, s)
			for _, bad := range []string{"", "pst_rit_unknown"} {
				if res := register(t, s, md, bad); res.Status != http.StatusUnauthorized || res.Str("error") != "invalid_token" {
					t.Errorf("token %q: %d %s", bad, res.Status, res.Body)
				}
			}
			once, onceTok, err := svc.CreateRegistrationToken(ctx, manage.CLI, 0, 1)
			if err != nil || once.Prefix == "" || bytes.Contains(once.Hash, []byte(onceTok)) {
				t.Fatal(err)
			}
			// Bad metadata does not spend the token.
			if res := register(t, s, map[string]any{"redirect_uris": []string{"http://evil.example/cb"}}, onceTok); res.Status != http.StatusBadRequest {
				t.Errorf("bad metadata with a token: %d", res.Status)
			}
			if res := register(t, s, md, onceTok); res.Status != http.StatusCreated {
				t.Fatalf("valid token: %d %s", res.Status, res.Body)
			}
			if res := register(t, s, md, onceTok); res.Status != http.StatusUnauthorized {
				t.Errorf("used-up token: %d %s", res.Status, res.Body)
			}
			_, dayTok, _ := svc.CreateRegistrationToken(ctx, manage.CLI, 24*time.Hour, 0)
			if res := register(t, s, md, dayTok); res.Status != http.StatusCreated {
				t.Errorf("unexpired token: %d", res.Status)
			}
			clk.Advance(25 * time.Hour)
			if res := register(t, s, md, dayTok); res.Status != http.StatusUnauthorized {
				t.Errorf("expired token: %d", res.Status)
			}
			rev, revTok, _ := svc.CreateRegistrationToken(ctx, manage.CLI, 0, 0)
			if err := svc.RevokeRegistrationToken(ctx, manage.CLI, rev.ID); err != nil {
				t.Fatal(err)
			}
			if res := register(t, s, md, revTok); res.Status != http.StatusUnauthorized {
				t.Errorf("revoked token: %d", res.Status)
			}
			if got := countClients(t, s); got != before+2 {
				t.Errorf("clients: %d, want %d (only the two good registrations)", got, before+2)
			}
			list, _ := svc.ListRegistrationTokens(ctx)
			if len(list) != 3 || list[2].Uses != 1 {
				t.Errorf("token list: %d tokens", len(list))
			}
		})
	})
}

// TestRegistrationBadMetadata: every refused registration answers 400 with
// the RFC 7591 §3.2.2 code and a description, and stores nothing.
func TestRegistrationBadMetadata(t *testing.T) {
	s, _ := openRegistration(t, "", func(c *config.Config) { c.Registration = "open"; c.RegistrationRateLimit = 0 })
	before := countClients(t, s)
	ok := func(m map[string]any) map[string]any {
		out := map[string]any{"client_name": "X", "redirect_uris": []string{mcpCallback}, "token_endpoint_auth_method": "none"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name string
		body any
		code string
	}{
		{"http on a public host", ok(map[string]any{"redirect_uris": []string{"http://app.example/cb"}}), "invalid_redirect_uri"},
		{"fragment", ok(map[string]any{"redirect_uris": []string{"https://app.example/cb#x"}}), "invalid_redirect_uri"},
		{"wildcard", ok(map[string]any{"redirect_uris": []string{"https://*.example/cb"}}), "invalid_redirect_uri"},
		{"no redirect URIs", ok(map[string]any{"redirect_uris": []string{}}), "invalid_client_metadata"},
		{"private_key_jwt", ok(map[string]any{"token_endpoint_auth_method": "private_key_jwt"}), "invalid_client_metadata"},
		{"jwks_uri", ok(map[string]any{"jwks_uri": "https://app.example/jwks"}), "invalid_client_metadata"},
		{"client_credentials", ok(map[string]any{"grant_types": []string{"client_credentials"}}), "invalid_client_metadata"},
		{"implicit", ok(map[string]any{"response_types": []string{"token"}}), "invalid_client_metadata"},
		{"admin scope", ok(map[string]any{"scope": "read:pets admin"}), "invalid_client_metadata"},
		{"unknown scope", ok(map[string]any{"scope": "everything"}), "invalid_client_metadata"},
		{"http logo", ok(map[string]any{"logo_uri": "http://app.example/logo.png"}), "invalid_client_metadata"},
		{"refresh without code", ok(map[string]any{"grant_types": []string{"refresh_token"}}), "invalid_client_metadata"},
		{"wrong type", `{"redirect_uris":"https://app.example/cb"}`, "invalid_client_metadata"},
		{"not JSON", `redirect_uris=x`, "invalid_client_metadata"},
		{"id token alg none", ok(map[string]any{"id_token_signed_response_alg": "none"}), "invalid_client_metadata"},
		{"post-logout URI with fragment", ok(map[string]any{"post_logout_redirect_uris": []string{"https://app.example/bye#x"}}), "invalid_client_metadata"},
		{"backchannel logout", ok(map[string]any{"backchannel_logout_uri": "https://app.example/bcl"}), "invalid_client_metadata"},
	}
	for _, c := range cases {
		res := register(t, s, c.body, "")
		if res.Status != http.StatusBadRequest || res.Str("error") != c.code || res.Str("error_description") == "" {
			t.Errorf("%s: %d %s, want 400 %s", c.name, res.Status, res.Body, c.code)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/oauth2/register", strings.NewReader("client_name=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res := servertest.Do(t, nil, req); res.Status != http.StatusBadRequest || res.Str("error") != "invalid_client_metadata" {
		t.Errorf("form body: %d %s", res.Status, res.Body)
	}
	if got := countClients(t, s); got != before {
		t.Errorf("refused registrations stored %d clients", got-before)
	}
}

// TestRegistrationRateLimitPerAddress: an address gets its hourly budget
// of registrations (good or bad) and then 429 with Retry-After; another
// address is not affected.
func TestRegistrationRateLimitPerAddress(t *testing.T) {
	s, _ := openRegistration(t, "", func(c *config.Config) {
		c.Registration = "open"
		c.RegistrationRateLimit = 3
		c.TrustedProxies = config.StringList{"127.0.0.1/32"}
	})
	md := map[string]any{"client_name": "Bot", "redirect_uris": []string{mcpCallback}, "token_endpoint_auth_method": "none"}
	for i := range 3 {
		body := any(md)
		if i == 1 {
			body = map[string]any{"redirect_uris": []string{"http://bad.example/"}} // failures count too
		}
		if res := register(t, s, body, "", "X-Forwarded-For", "203.0.113.7"); res.Status == http.StatusTooManyRequests {
			t.Fatalf("attempt %d refused early", i+1)
		}
	}
	res := register(t, s, md, "", "X-Forwarded-For", "203.0.113.7")
	if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("4th registration from one address: %d %s", res.Status, res.Body)
	}
	if res := register(t, s, md, "", "X-Forwarded-For", "198.51.100.9"); res.Status != http.StatusCreated {
		t.Errorf("another address: %d %s", res.Status, res.Body)
	}
}

// TestRegisteredClientCleanupAndDisable: a registered client that got a
// token stays past the unused ttl measured from registration, one that
// never got one is removed after it (operator clients never are); an
// admin-disabled registered client can no longer start a flow.
func TestRegisteredClientCleanupAndDisable(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		s, clk := openRegistration(t, dbURL, func(c *config.Config) { c.Registration = "open" })
		ctx := context.Background()
		u := s.MustUser(t, "dora@example.com", "correct horse battery staple")
		op := s.MustClient(t, identity.Client{Name: "Operator app", RedirectURIs: []string{"https://op.example/cb"}, GrantTypes: []string{"authorization_code"}})
		md := map[string]any{"client_name": "Assistant", "redirect_uris": []string{mcpCallback}, "token_endpoint_auth_method": "none",
			"grant_types": []string{"authorization_code", "refresh_token"}}
		used := register(t, s, md, "").Str("client_id")
		unused := register(t, s, md, "").Str("client_id")

		b := s.Browser(t)
		clk.Advance(20 * 24 * time.Hour)
		tok := authorizeAndRedeem(t, s, b, u, used, mcpCallback, "read:pets", nil)
		if tok.Str("access_token") == "" || tok.Str("refresh_token") == "" {
			t.Fatalf("token for the registered client (refresh_token without offline_access expected): %s", tok.Body)
		}
		if c, _ := s.Store.ClientByID(ctx, used); c.LastUsedAt == nil {
			t.Fatal("issuing a token did not record the client's use")
		}
		clk.Advance(15 * 24 * time.Hour) // 35 days after registration, 15 after the token
		n, err := s.Store.DeleteUnusedRegisteredClients(ctx, clk.Now().Add(-30*24*time.Hour), 100)
		if err != nil || n != 1 {
			t.Fatalf("cleanup removed %d (%v), want 1", n, err)
		}
		if _, err := s.Store.ClientByID(ctx, unused); !identity.IsNotFound(err) {
			t.Errorf("the unused registration survived: %v", err)
		}
		for _, id := range []string{used, op.ID} {
			if _, err := s.Store.ClientByID(ctx, id); err != nil {
				t.Errorf("%s removed: %v", id, err)
			}
		}

		svc := &manage.Service{Users: s.Store, Clients: s.Store, Grants: s.Store, APIKeys: s.Store, Audit: s.Store}
		if _, err := svc.SetClientDisabled(ctx, manage.CLI, used, true); err != nil {
			t.Fatal(err)
		}
		p := b.Get(authURL(s, used, mcpCallback, oauth2.GenerateVerifier(), "read:pets"))
		if p.Status < 400 || strings.Contains(p.Location, "code=") {
			t.Errorf("a disabled registered client started a flow: %d %s", p.Status, p.Location)
		}
		rt := servertest.PostForm(t, nil, s.URL+"/oauth2/token", servertest.Client{ID: used},
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.Str("refresh_token")}})
		if rt.Status == http.StatusOK {
			t.Errorf("a disabled registered client refreshed: %s", rt.Body)
		}
	})
}

func authURL(s *servertest.Server, clientID, redirect, verifier, scope string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {"state-0123456789"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	return s.URL + "/oauth2/auth?" + q.Encode()
}

// authorizeAndRedeem signs u in (when asked), consents (to consentScopes,
// nil: all ticked; checkConsent sees the page) and redeems the code as a
// public client.
func authorizeAndRedeem(t *testing.T, s *servertest.Server, b *webtest.Browser, u servertest.User, clientID, redirect, scope string,
	checkConsent func(webtest.Page)) servertest.Response {
	t.Helper()
	v := oauth2.GenerateVerifier()
	p := b.Get(authURL(s, clientID, redirect, v, scope))
	if strings.Contains(p.Body, `action="/login"`) {
		p = b.Submit(p, "/login", url.Values{"email": {u.Email}, "password": {u.Password}})
	}
	if strings.Contains(p.Body, `name="decision"`) {
		if checkConsent != nil {
			checkConsent(p)
		}
		form := p.Hidden()
		form.Set("decision", "allow")
		for _, m := range regexp.MustCompile(`name="scope" value="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
			form.Add("scope", html.UnescapeString(m[1]))
		}
		p = b.Post("/oauth2/consent", form)
	}
	loc, err := url.Parse(p.Location)
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("no code: %d %s %.300s", p.Status, p.Location, p.Body)
	}
	return servertest.PostForm(t, nil, s.URL+"/oauth2/token", servertest.Client{ID: clientID}, url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {v}})
}

// TestMetadataDocumentClient: a client whose client_id is the https URL of
// its metadata document signs a user in through the real pages without
// any registration: the consent page shows the document's host and says
// the app is not verified, and "Stay connected" since the document asks
// for refresh_token; the code redeems to an access and a refresh token
// (no offline_access asked), the refresh works; the metadata advertises
// client_id_metadata_document_supported; a document whose client_id is
// not its URL is refused and stores nothing; the document is fetched once
// within its max-age.
func TestMetadataDocumentClient(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		var fetches atomic.Int64
		var docs *httptest.Server
		docs = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fetches.Add(1)
			id := docs.URL + r.URL.Path
			if r.URL.Path == "/mismatch.json" {
				id = "https://someone-else.example/client.json"
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "max-age=3600")
			_ = json.NewEncoder(w).Encode(map[string]any{"client_id": id, "client_name": "Pet Agent",
				"redirect_uris": []string{mcpCallback}, "grant_types": []string{"authorization_code", "refresh_token"},
				"token_endpoint_auth_method": "none"})
		}))
		t.Cleanup(docs.Close)
		fetcher := &clientmeta.Fetcher{Dev: true, RootCAs: docs.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, ClientMetadata: fetcher})
		if metadataOf(t, s)["client_id_metadata_document_supported"] != true {
			t.Error("client_id_metadata_document_supported not advertised")
		}
		u := s.MustUser(t, "erin@example.com", "correct horse battery staple")
		b := s.Browser(t)
		id := docs.URL + "/agent.json"
		host := strings.TrimPrefix(docs.URL, "https://")
		tok := authorizeAndRedeem(t, s, b, u, id, mcpCallback, "read:pets", func(p webtest.Page) {
			for _, want := range []string{"<strong>" + host + "</strong>", "not verified by PetStore", id, "Stay connected", "Pet Agent"} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("consent page lacks %q", want)
				}
			}
		})
		if tok.Str("access_token") == "" || tok.Str("refresh_token") == "" {
			t.Fatalf("token: %d %s", tok.Status, tok.Body)
		}
		ref := servertest.PostForm(t, nil, s.URL+"/oauth2/token", servertest.Client{ID: id},
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.Str("refresh_token")}})
		if ref.Status != http.StatusOK || ref.Str("refresh_token") == "" {
			t.Fatalf("refresh: %d %s", ref.Status, ref.Body)
		}
		c, err := s.Store.ClientByID(context.Background(), id)
		if err != nil || c.Registration != identity.RegistrationMetadataDocument || !c.Public {
			t.Fatalf("stored document client: %+v %v", c, err)
		}
		if n := fetches.Load(); n != 1 {
			t.Errorf("document fetched %d times within its max-age, want 1", n)
		}

		bad := docs.URL + "/mismatch.json"
		p := b.Get(authURL(s, bad, mcpCallback, oauth2.GenerateVerifier(), "read:pets"))
		if strings.Contains(p.Location, "code=") || strings.Contains(p.Body, `name="decision"`) || p.Status < 400 {
			t.Errorf("a document naming another client_id was accepted: %d %s", p.Status, p.Location)
		}
		if _, err := s.Store.ClientByID(context.Background(), bad); !identity.IsNotFound(err) {
			t.Errorf("the refused document left a client: %v", err)
		}
		// A redirect URI the document does not list is refused (exact match).
		p = b.Get(authURL(s, id, "http://127.0.0.1:33418/other", oauth2.GenerateVerifier(), "read:pets"))
		if strings.Contains(p.Location, "code=") || strings.HasPrefix(p.Location, "http://127.0.0.1:33418/other") {
			t.Errorf("unlisted redirect URI accepted: %d %s", p.Status, p.Location)
		}
	})
}

// TestRegisteredClientConsentPage: a dynamically registered client's
// consent page names the host its code goes to (not the client_uri it
// claims), says it is not verified and, with the refresh_token grant,
// shows "Stay connected"; an operator client's page shows neither.
func TestRegisteredClientConsentPage(t *testing.T) {
	s, _ := openRegistration(t, "", func(c *config.Config) { c.Registration = "open" })
	u := s.MustUser(t, "finn@example.com", "correct horse battery staple")
	reg := register(t, s, map[string]any{"client_name": "Helper", "redirect_uris": []string{mcpCallback}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code", "refresh_token"}, "client_uri": "https://helper.example"}, "")
	b := s.Browser(t)
	authorizeAndRedeem(t, s, b, u, reg.Str("client_id"), mcpCallback, "read:pets", func(p webtest.Page) {
		for _, want := range []string{"<strong>127.0.0.1:33418</strong>", "not verified by PetStore", "Stay connected"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("consent page lacks %q", want)
			}
		}
		if strings.Contains(p.Body, "helper.example") {
			t.Error("the consent page shows the claimed client_uri as the host")
		}
	})
	op := s.MustClient(t, identity.Client{Name: "Operator app", Public: true, RedirectURIs: []string{mcpCallback},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: []string{"read:pets", "offline_access"}})
	tok := authorizeAndRedeem(t, s, b, u, op.ID, mcpCallback, "read:pets", func(p webtest.Page) {
		if strings.Contains(p.Body, "not verified") || strings.Contains(p.Body, "Stay connected") {
			t.Error("an operator client is shown as unverified or staying connected")
		}
	})
	if tok.Str("refresh_token") != "" {
		t.Error("an operator client got a refresh token without offline_access")
	}
}

// TestControlCharactersNeverReachTheStore: a NUL byte or invalid UTF-8 in a
// client id or name — which PostgreSQL refuses with an error that would
// read as an outage (503) — is a clear client error at every endpoint that
// takes one, on both databases, and stores nothing.
func TestControlCharactersNeverReachTheStore(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		s, _ := openRegistration(t, dbURL, func(c *config.Config) { c.Registration = "open"; c.RegistrationRateLimit = 0 })
		before := countClients(t, s)
		for _, name := range []string{"a\x00b", "PetStore\u202Egpj.exe"} {
			res := register(t, s, map[string]any{"client_name": name, "redirect_uris": []string{mcpCallback}, "token_endpoint_auth_method": "none"}, "")
			if res.Status != http.StatusBadRequest || res.Str("error") != "invalid_client_metadata" {
				t.Errorf("client_name %q: %d %s", name, res.Status, res.Body)
			}
		}
		for _, id := range []string{"a\x00b", "a\xffb"} {
			for _, path := range []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke", "/oauth2/par", "/oauth2/device/auth"} {
				form := url.Values{"grant_type": {"client_credentials"}, "token": {"x"}, "response_type": {"code"}}
				res := servertest.PostForm(t, nil, s.URL+path, servertest.Client{ID: id, Secret: "x"}, form)
				if res.Status != http.StatusUnauthorized || res.Str("error") != "invalid_client" {
					t.Errorf("%s with client id %q: %d %s", path, id, res.Status, res.Body)
				}
			}
			res := jsonRequest(t, http.MethodGet, s.URL+"/oauth2/register/"+url.PathEscape(id), nil, "pst_rat_x")
			if res.Status != http.StatusUnauthorized {
				t.Errorf("RFC 7592 read of %q: %d %s", id, res.Status, res.Body)
			}
		}
		if got := countClients(t, s); got != before {
			t.Errorf("%d clients stored", got-before)
		}
	})
}

// TestRegistrationOpenIDConnectMetadata: a self-registered client may name
// its ID token algorithm and post-logout redirect URIs (OpenID Connect
// Dynamic Client Registration §2, RP-Initiated Logout §3.1); both are
// stored and echoed.
func TestRegistrationOpenIDConnectMetadata(t *testing.T) {
	s, _ := openRegistration(t, "", func(c *config.Config) { c.Registration = "open"; c.RegistrationRateLimit = 0 })
	res := register(t, s, map[string]any{"client_name": "RP", "redirect_uris": []string{mcpCallback}, "token_endpoint_auth_method": "none",
		"id_token_signed_response_alg": "ES256", "post_logout_redirect_uris": []string{"http://127.0.0.1:9/bye"}}, "")
	if res.Status != http.StatusCreated || res.Str("id_token_signed_response_alg") != "ES256" || !strings.Contains(string(res.Body), `"post_logout_redirect_uris":["http://127.0.0.1:9/bye"]`) {
		t.Fatalf("register: %d %s", res.Status, res.Body)
	}
	c, err := s.Store.ClientByID(context.Background(), res.Str("client_id"))
	if err != nil || c.IDTokenSignedResponseAlg != "ES256" || len(c.PostLogoutRedirectURIs) != 1 {
		t.Fatalf("stored: %+v %v", c, err)
	}
}
