package securitytest

import (
	"bytes"
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/config"
)

func TestTK01_TokenEndpointPostOnly(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(m, e.as.URL+"/oauth2/token?grant_type=client_credentials", nil)
		req.SetBasicAuth(e.svc.ID, e.svc.Secret)
		r := e.do(req)
		if (r.status != http.StatusMethodNotAllowed && r.status != http.StatusBadRequest) || r.str("access_token") != "" {
			t.Errorf("%s /oauth2/token: %d %s", m, r.status, r.body)
		}
	}
}

// The client id and secret are form-urlencoded before base64 (RFC 6749
// §2.3.1): the server decodes them, so an encoded id works and a raw '%'
// sequence is not taken literally.
func TestTK02_BasicAuthEncoding(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	send := func(id, secret string) response {
		req, _ := http.NewRequest(http.MethodPost, e.as.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials&scope=read%3Apets"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
		return e.do(req)
	}
	if r := send("%73%76%63", url.QueryEscape(e.svc.Secret)); r.status != http.StatusOK {
		t.Fatalf("percent-encoded client id: %d %s", r.status, r.body)
	}
	if r := send("s%vc", e.svc.Secret); r.status != http.StatusUnauthorized && r.status != http.StatusBadRequest {
		t.Fatalf("malformed encoding: %d %s", r.status, r.body)
	}
}

func TestTK03_ClientAuthenticationFailure(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	form := url.Values{"grant_type": {"client_credentials"}}
	unknown := e.token(client{ID: "nobody", Secret: "pst_cs_guess"}, form)
	wrong := e.token(client{ID: e.svc.ID, Secret: "pst_cs_guess"}, form)
	for name, r := range map[string]response{"unknown client": unknown, "wrong secret": wrong} {
		wantTokenError(t, name, r, http.StatusUnauthorized, "invalid_client")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: WWW-Authenticate %q", name, r.header.Get("WWW-Authenticate"))
		}
	}
	if !bytes.Equal(unknown.body, wrong.body) {
		t.Errorf("the bodies tell an unknown client from a wrong secret:\n%s\n%s", unknown.body, wrong.body)
	}
}

func TestTK04_NoCredentialsInURLs(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	req, _ := http.NewRequest(http.MethodPost, e.as.URL+"/oauth2/token?client_id=svc&client_secret="+url.QueryEscape(e.svc.Secret),
		strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := e.do(req); r.status == http.StatusOK || r.str("access_token") != "" {
		t.Errorf("client_secret in the query: %d %s", r.status, r.body)
	}
	at := e.clientCredentials(e.svc, "read:pets")
	if r := e.api(http.MethodGet, "/v1/pets?access_token="+url.QueryEscape(at), "", ""); r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
		t.Errorf("access_token in the query at the API: %d", r.status)
	}
}

func TestTK05_TokenResponseHeadersAndFields(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	for name, r := range map[string]response{
		"client_credentials": e.token(e.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}}),
		"authorization_code": e.login(e.aliceBrowser(), e.web, "read:pets offline_access").resp,
	} {
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
		h := r.header
		if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Cache-Control %q Pragma %q Content-Type %q", name, h.Get("Cache-Control"), h.Get("Pragma"), h.Get("Content-Type"))
		}
		if !strings.EqualFold(r.str("token_type"), "bearer") {
			t.Errorf("%s: token_type %q", name, r.str("token_type"))
		}
		in, _ := r.json["expires_in"].(float64)
		exp, _ := e.introspect(r.str("access_token"))["exp"].(float64)
		if want := float64(e.clock.Now().Unix()) + in; in <= 0 || in > 900 || math.Abs(exp-want) > 5 {
			t.Errorf("%s: expires_in %v does not match exp %v", name, in, exp)
		}
	}
}

var opaqueRe = regexp.MustCompile(`^pst_(at|rt)_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$`)

func TestTK06_TokenEntropyAndCharset(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	seen := map[string]bool{}
	check := func(tok string) {
		t.Helper()
		m := opaqueRe.FindStringSubmatch(tok)
		if m == nil {
			t.Fatalf("token %.12s… is not pst_xx_<key>.<signature> in RFC 6749 A.12 characters", tok)
		}
		if len(m[2]) < 43 {
			t.Fatalf("token key of %d characters carries less than 256 bits", len(m[2]))
		}
		if seen[m[2]] {
			t.Fatal("two tokens share their random part")
		}
		seen[m[2]] = true
	}
	for range 100 {
		check(e.clientCredentials(e.svc, "read:pets"))
	}
	tk := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
	rt := tk.refresh
	for range 50 {
		r := e.refresh(e.web, rt)
		if r.status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		check(r.str("access_token"))
		rt = r.str("refresh_token")
		check(rt)
	}
}

// Every world is dumped when its test ends (and the shared ones after the
// whole suite); this case makes sure every kind of secret passed through.
func TestTK07_NothingSensitiveAtRest(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		tk := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		e.refresh(e.web, tk.refresh)
		// client_secret_post
		f := url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}, "client_id": {e.svc.ID}, "client_secret": {e.svc.Secret}}
		if r := e.post("/oauth2/token", client{}, f); r.status != http.StatusOK {
			t.Fatalf("client_secret_post: %d %s", r.status, r.body)
		}
		key, _ := e.newAPIKey("test", "read:pets")
		if r := e.api(http.MethodGet, "/v1/pets", key, ""); r.status != http.StatusOK {
			t.Fatalf("API key: %d", r.status)
		}
		kinds := map[string]bool{}
		e.mu.Lock()
		for _, what := range e.secrets {
			kinds[strings.Fields(what)[0]] = true
		}
		e.mu.Unlock()
		for _, k := range []string{"client", "password", "authorization", "access_token", "refresh_token", "API"} {
			if !kinds[k] {
				t.Fatalf("no %s secret went through the test: %v", k, kinds)
			}
		}
		checkNoSecretsAtRest(t, e.world)
	})
}

func TestTK08_DuplicateTokenParameters(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	req, _ := http.NewRequest(http.MethodPost, e.as.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials&grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.svc.ID, e.svc.Secret)
	wantTokenError(t, "grant_type twice", e.do(req), http.StatusBadRequest, "invalid_request")
}

// Our choice: a confidential client may authenticate with
// client_secret_basic or client_secret_post (both carry the same 256-bit
// server-generated secret, both are in the metadata); a public client can
// never authenticate with a secret nor use client_credentials.
func TestTK09_AuthMethodRules(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	post := url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}, "client_id": {e.svc.ID}, "client_secret": {e.svc.Secret}}
	if r := e.post("/oauth2/token", client{}, post); r.status != http.StatusOK {
		t.Errorf("client_secret_post: %d %s", r.status, r.body)
	}
	both := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.svc.ID}, "client_secret": {e.svc.Secret}}
	req, _ := http.NewRequest(http.MethodPost, e.as.URL+"/oauth2/token", strings.NewReader(both.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.svc.ID, e.svc.Secret)
	if r := e.do(req); r.status == http.StatusOK {
		t.Errorf("two authentication methods at once were accepted")
	}
	if r := e.token(e.spa, url.Values{"grant_type": {"client_credentials"}}); r.status == http.StatusOK {
		t.Errorf("a public client used client_credentials")
	}
	if r := e.token(client{ID: e.spa.ID, Secret: "pst_cs_anything"}, url.Values{"grant_type": {"client_credentials"}}); r.status == http.StatusOK {
		t.Errorf("a public client with a made-up secret: %d %s", r.status, r.body)
	}
	if r := e.token(client{ID: e.svc.ID}, url.Values{"grant_type": {"client_credentials"}}); r.status != http.StatusUnauthorized {
		t.Errorf("a confidential client without its secret: %d %s", r.status, r.body)
	}
}

func TestTK10_DisabledOrDeletedPrincipals(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		b := e.aliceBrowser()
		web := e.login(b, e.web, "read:pets offline_access")
		other := e.login(b, e.other, "read:pets offline_access")
		if r := e.adminAPI(http.MethodPost, "/clients/web/disable", nil); r.status != http.StatusOK {
			t.Fatalf("disable client: %d %s", r.status, r.body)
		}
		e.clock.Advance(5 * time.Second) // past the token endpoint's client cache
		wantTokenError(t, "refresh by a disabled client", e.refresh(e.web, web.refresh), http.StatusUnauthorized, "invalid_client")
		e.wantInactive("access token of a disabled client", web.access)
		if r := e.adminAPI(http.MethodDelete, "/clients/other", nil); r.status != http.StatusNoContent && r.status != http.StatusOK {
			t.Fatalf("delete client: %d %s", r.status, r.body)
		}
		e.clock.Advance(5 * time.Second)
		wantTokenError(t, "refresh by a deleted client", e.refresh(e.other, other.refresh), http.StatusUnauthorized, "invalid_client")
		e.wantInactive("access token of a deleted client", other.access)

		jwt := e.login(b, e.jwt, "read:pets offline_access")
		if r := e.adminAPI(http.MethodPost, "/users/"+e.alice.ID+"/disable", nil); r.status != http.StatusOK {
			t.Fatalf("disable user: %d %s", r.status, r.body)
		}
		wantTokenError(t, "refresh for a disabled user", e.refresh(e.jwt, jwt.refresh), http.StatusBadRequest, "invalid_grant")
		e.wantInactive("access token of a disabled user", jwt.access)
		b2 := e.browser()
		p := e.signIn(b2, b2.Get(e.as.URL+"/login"), e.alice)
		if p.Status != http.StatusUnauthorized || !isLoginPage(p) {
			t.Errorf("a disabled user signed in: %d %s", p.Status, p.URL)
		}
	})
}

func TestTK12_ClientSecretBruteForce(t *testing.T) {
	t.Parallel()
	// Wrong secrets are counted per client id (and per address); the
	// client's own budget is not theirs to spend.
	e := freshSQLite(t, func(c *config.Config) { c.RateLimits.FailedAuthPerClient = 20 })
	limited := 0
	for range 40 {
		r := e.token(client{ID: e.svc.ID, Secret: "pst_cs_guess"}, url.Values{"grant_type": {"client_credentials"}})
		if r.status == http.StatusTooManyRequests {
			limited++
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited != 20 {
		t.Fatalf("%d of 40 guesses were throttled, want 20 (limit 20 per minute)", limited)
	}
	// The owner is never locked out (issue 11 §4): the right secret passes
	// even from the guessing address, while guesses stay refused.
	if r := e.token(e.svc, url.Values{"grant_type": {"client_credentials"}}); r.status != http.StatusOK {
		t.Fatalf("the right secret from the guessing address inside the throttled window: %d %s", r.status, r.body)
	}
	if r := e.token(client{ID: e.svc.ID, Secret: "pst_cs_guess"}, url.Values{"grant_type": {"client_credentials"}}); r.status != http.StatusTooManyRequests {
		t.Fatalf("a guess inside the throttled window: %d", r.status)
	}
	e.clock.Advance(61 * time.Second)
	if r := e.token(client{ID: e.svc.ID, Secret: "pst_cs_guess"}, url.Values{"grant_type": {"client_credentials"}}); r.status != http.StatusUnauthorized {
		t.Fatalf("a guess after the window: %d %s", r.status, r.body)
	}
}
