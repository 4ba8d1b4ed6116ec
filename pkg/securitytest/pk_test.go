package securitytest

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// wantTokenError asserts an RFC 6749 §5.2 error and that no token came back.
func wantTokenError(t testing.TB, what string, r response, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code || r.str("access_token") != "" {
		t.Errorf("%s: %d %s, want %d %s", what, r.status, r.body, status, code)
	}
}

func TestPK01_CodeReuseRevokesTokens(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		for _, wait := range []time.Duration{0, time.Second, 30 * time.Second} {
			code, v := e.code(e.aliceBrowser(), e.web, "read:pets offline_access")
			first := e.redeem(e.web, code, v)
			if first.status != http.StatusOK {
				t.Fatalf("first redemption: %d %s", first.status, first.body)
			}
			at, rt := first.str("access_token"), first.str("refresh_token")
			if r := e.api(http.MethodGet, "/v1/pets", at, ""); r.status != http.StatusOK {
				t.Fatalf("the first token does not work at the API: %d", r.status)
			}
			e.clock.Advance(wait)
			wantTokenError(t, "second redemption after "+wait.String(), e.redeem(e.web, code, v), http.StatusBadRequest, "invalid_grant")
			e.wantInactive("access token of the first redemption", at)
			e.wantInactive("refresh token of the first redemption", rt)
			wantTokenError(t, "refresh after reuse", e.refresh(e.web, rt), http.StatusBadRequest, "invalid_grant")
			e.clock.Advance(bearer.DefaultCacheTTL + time.Second) // the API may cache a positive answer that long
			if r := e.api(http.MethodGet, "/v1/pets", at, ""); r.status != http.StatusUnauthorized {
				t.Errorf("the API still accepts the access token of a reused code: %d", r.status)
			}
		}
	})
}

// fosite checks a code's expiry against the wall clock, not the injected
// one: the test shortens the lifetime to 1 s and waits it out.
func TestPK02_CodeLifetime(t *testing.T) {
	t.Parallel()
	if d := config.Default().Tokens.AuthorizeCodeLifespan; time.Duration(d) != time.Minute {
		t.Fatalf("default code lifetime %s, want 60 s", d)
	}
	fresh(t, func(e *env) {
		b := e.aliceBrowser()
		code, v := e.code(b, e.web, "read:pets")
		time.Sleep(2100 * time.Millisecond)
		wantTokenError(t, "code redeemed after its lifetime", e.redeem(e.web, code, v), http.StatusBadRequest, "invalid_grant")
		code, v = e.code(b, e.web, "read:pets")
		if r := e.redeem(e.web, code, v); r.status != http.StatusOK {
			t.Fatalf("code redeemed at once: %d %s", r.status, r.body)
		}
	}, func(c *config.Config) { c.Tokens.AuthorizeCodeLifespan = config.Duration(time.Second) })
}

func TestPK03_CodeBinding(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		b := e.aliceBrowser()
		code, v := e.code(b, e.web, "read:pets")
		wantTokenError(t, "redeemed by another client", e.redeem(e.other, code, v), http.StatusBadRequest, "invalid_grant")
		code, v = e.code(b, e.web, "read:pets")
		wantTokenError(t, "no client authentication", e.token(client{}, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {webCallback}, "code_verifier": {v}}), http.StatusUnauthorized, "invalid_client")
		wantTokenError(t, "client_id without secret", e.token(client{}, url.Values{"grant_type": {"authorization_code"}, "client_id": {"web"}, "code": {code},
			"redirect_uri": {webCallback}, "code_verifier": {v}}), http.StatusUnauthorized, "invalid_client")
		code, v = e.code(b, e.web, "read:pets")
		wantTokenError(t, "different redirect_uri", e.token(e.web, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {"https://app.example/other"}, "code_verifier": {v}}), http.StatusBadRequest, "invalid_grant")
		code, v = e.code(b, e.web, "read:pets")
		wantTokenError(t, "redirect_uri omitted", e.token(e.web, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"code_verifier": {v}}), http.StatusBadRequest, "invalid_grant")
	})
}

func TestPK04_PKCEMandatoryS256Only(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	b := e.aliceBrowser()
	v := oauth2.GenerateVerifier()
	challenge := oauth2.S256ChallengeFromVerifier(v)
	for _, tc := range []struct {
		name   string
		params url.Values
	}{
		{"no challenge", url.Values{"code_challenge": nil, "code_challenge_method": nil}},
		{"plain", url.Values{"code_challenge": {v}, "code_challenge_method": {"plain"}}},
		{"no method (plain by default)", url.Values{"code_challenge_method": nil}},
		{"unknown method", url.Values{"code_challenge_method": {"S512"}}},
		{"42-character challenge", url.Values{"code_challenge": {challenge[:42]}}},
		{"129-character challenge", url.Values{"code_challenge": {strings.Repeat("a", 129)}}},
		{"challenge with bad characters", url.Values{"code_challenge": {challenge[:42] + "+"}}},
	} {
		tc.params.Set("scope", "read:pets")
		p := b.Get(e.authURL(e.web, webCallback, v, tc.params))
		if isConsentPage(p) {
			p = e.consent(b, p, "allow")
		}
		u, _ := url.Parse(p.Location)
		if p.Location == "" || u.Query().Get("error") != "invalid_request" || u.Query().Has("code") {
			t.Errorf("%s: %d %q, want an invalid_request redirect", tc.name, p.Status, p.Location)
		}
	}
	md := e.anon(e.as.URL + "/.well-known/oauth-authorization-server")
	if m, _ := md.json["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
		t.Errorf("metadata code_challenge_methods_supported: %v", md.json["code_challenge_methods_supported"])
	}
}

func TestPK05_PKCEDowngradeAndBurn(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		b := e.aliceBrowser()
		redeem := func(code string, verifier *string) response {
			f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {webCallback}}
			if verifier != nil {
				f.Set("code_verifier", *verifier)
			}
			return e.token(e.web, f)
		}
		wrong := oauth2.GenerateVerifier()
		// (a) A code is never issued without a challenge (TestPK04), so a
		// verifier cannot be smuggled into a flow that had none.
		// (b) Challenge at /auth, no verifier at /token.
		code, v := e.code(b, e.web, "read:pets")
		if r := redeem(code, nil); r.status != http.StatusBadRequest || r.str("access_token") != "" {
			t.Errorf("(b) no verifier: %d %s", r.status, r.body)
		}
		// (c) Wrong verifier; (e) the code is then dead even with the right one.
		code, v = e.code(b, e.web, "read:pets")
		wantTokenError(t, "(c) wrong verifier", redeem(code, &wrong), http.StatusBadRequest, "invalid_grant")
		wantTokenError(t, "(e) right verifier after a wrong one", redeem(code, &v), http.StatusBadRequest, "invalid_grant")
		// (d) Wrong verifier, then none (fosite's "burn then omit").
		code, _ = e.code(b, e.web, "read:pets")
		wantTokenError(t, "(d) wrong verifier", redeem(code, &wrong), http.StatusBadRequest, "invalid_grant")
		if r := redeem(code, nil); r.status != http.StatusBadRequest || r.str("access_token") != "" {
			t.Errorf("(d) no verifier after a wrong one: %d %s", r.status, r.body)
		}
	})
}

func TestPK06_VerifierSyntax(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	b := e.aliceBrowser()
	for _, tc := range []struct{ name, verifier string }{
		{"42 characters", strings.Repeat("a", 42)},
		{"129 characters", strings.Repeat("a", 129)},
		{"outside the alphabet", strings.Repeat("a", 42) + "+"},
	} {
		// The challenge is the S256 of the bad verifier, so only its syntax
		// can make the exchange fail.
		q := e.authorize(b, e.web, e.alice, tc.verifier, url.Values{"scope": {"read:pets"}})
		if q.Get("code") == "" {
			t.Fatalf("%s: no code: %v", tc.name, q)
		}
		wantTokenError(t, tc.name, e.redeem(e.web, q.Get("code"), tc.verifier), http.StatusBadRequest, "invalid_grant")
	}
}

var codeRe = regexp.MustCompile(`^pst_ac_([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$`)

func TestPK08_CodeEntropy(t *testing.T) {
	t.Parallel()
	e := sharedSQLite(t)
	b := e.aliceBrowser()
	// A client of its own: other tests must not replace the remembered grant.
	c := e.createClient(identity.Client{ID: "pk08", RedirectURIs: []string{webCallback}, GrantTypes: []string{"authorization_code"}, Scopes: []string{"read:pets"}})
	// Remember consent once so the rest are plain redirects.
	p := b.Get(e.authURL(c, webCallback, oauth2.GenerateVerifier(), url.Values{"scope": {"read:pets"}}))
	if isConsentPage(p) {
		form := webtest.Hidden(p.Body)
		form.Set("decision", "allow")
		form.Set("scope", "read:pets")
		form.Set("remember", "on")
		p = b.Post("/oauth2/consent", form)
	}
	seen := map[string]bool{}
	const n = 100
	for i := 0; i < n; i++ {
		q := e.redirectQuery(b.Get(e.authURL(c, webCallback, oauth2.GenerateVerifier(), url.Values{"scope": {"read:pets"}})))
		m := codeRe.FindStringSubmatch(q.Get("code"))
		if m == nil {
			t.Fatalf("code %q does not have the pst_ac_<key>.<signature> form with RFC 6749 A.11 characters", q.Get("code"))
		}
		if len(m[1]) < 43 { // 32 random bytes in base64url: 256 bits
			t.Fatalf("code key of %d characters carries less than 256 bits", len(m[1]))
		}
		if seen[m[1]] {
			t.Fatal("two codes share their random part")
		}
		seen[m[1]] = true
	}
}

// Our policy is stricter than "exactly one winner": a failed redemption
// burns the code and revokes whatever it issued (PK-05 (e), RFC 6749
// §4.1.2), so under a parallel replay at most one request gets tokens and
// those tokens are dead by the time the race is over. Never two token sets.
func TestPK09_ParallelCodeRedemption(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		for round := 0; round < 5; round++ {
			code, v := e.code(e.aliceBrowser(), e.web, "read:pets offline_access")
			const n = 20
			var wg sync.WaitGroup
			start := make(chan struct{})
			results := make([]response, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i] = e.redeem(e.web, code, v)
				}()
			}
			close(start)
			wg.Wait()
			var won []response
			for _, r := range results {
				switch {
				case r.status == http.StatusOK:
					won = append(won, r)
				case r.status != http.StatusBadRequest || r.str("error") != "invalid_grant":
					t.Errorf("round %d: a losing redemption answered %d %s, want 400 invalid_grant", round, r.status, r.body)
				}
			}
			if len(won) > 1 {
				t.Fatalf("round %d: %d of %d parallel redemptions got tokens, want at most 1", round, len(won), n)
			}
			for _, r := range won {
				e.wantInactive("access token of a replayed code", r.str("access_token"))
				e.wantInactive("refresh token of a replayed code", r.str("refresh_token"))
			}
			wantTokenError(t, "redemption after the race", e.redeem(e.web, code, v), http.StatusBadRequest, "invalid_grant")
		}
	})
}

func TestPK10_NoCodeLeakage(t *testing.T) {
	t.Parallel()
	e := freshSQLite(t)
	b := e.browser()
	v := oauth2.GenerateVerifier()
	p := b.Get(e.authURL(e.web, webCallback, v, url.Values{"scope": {"read:pets offline_access"}}))
	pages := []page{p}
	p = e.signIn(b, p, e.alice)
	pages = append(pages, p)
	p = e.consent(b, p, "allow")
	q := e.redirectQuery(p)
	pages = append(pages, b.Get(e.authURL(e.web, "https://evil.example/cb", v, nil)))
	for _, pg := range pages {
		if pg.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", pg.URL, pg.Header.Get("Referrer-Policy"))
		}
		if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(pg.Body); m != "" {
			t.Errorf("%s loads a third-party resource: %s", pg.URL, m)
		}
	}
	r := e.redeem(e.web, q.Get("code"), v)
	rt := r.str("refresh_token")
	e.refresh(e.web, rt)
	e.refresh(e.web, rt) // reuse, logged as an event
	e.redeem(e.web, q.Get("code"), v)
	e.post("/oauth2/introspect", e.rsc, url.Values{"token": {r.str("access_token")}})
	e.post("/oauth2/revoke", e.web, url.Values{"token": {rt}})
	b2 := e.browser()
	e.signIn(b2, b2.Get(e.as.URL+"/login"), user{Email: e.alice.Email, Password: "wrong " + e.alice.Password})
	logs := e.logs.String()
	if len(logs) < 200 {
		t.Fatal("the server logged nothing; the check would be vacuous")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for secret, what := range e.secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain the %s", what)
		}
	}
	if strings.Contains(logs, e.alice.Password) {
		t.Error("the logs contain a password")
	}
}
