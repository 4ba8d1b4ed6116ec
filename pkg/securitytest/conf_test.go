package securitytest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// A failed sign-in never records what was typed into the email field:
// people type passwords there. The audit table and the log lines carry the
// account id when the email matches an account, otherwise a keyed digest.
func TestFailedSignInAuditKeepsNoTypedText(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		typed := []string{
			"Hunter2-Typed-Into-Email!", // a password in the email field
			"nobody-here@example.org",   // an unknown address
		}
		for _, s := range typed {
			b := e.browser()
			p := e.signIn(b, b.Get(e.as.URL+"/login"), user{Email: s, Password: "whatever-password-1"})
			if p.Status != http.StatusUnauthorized {
				t.Fatalf("sign-in as %q: HTTP %d, want 401", s, p.Status)
			}
		}
		b := e.browser()
		if p := e.signIn(b, b.Get(e.as.URL+"/login"), user{Email: e.bob.Email, Password: "Wrong-Password-For-Bob"}); p.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: HTTP %d", p.Status)
		}
		ctx := context.Background()
		events, _, err := e.srv.Audit.ListAudit(ctx, identity.AuditFilter{Type: "login.failure"})
		if err != nil {
			t.Fatal(err)
		}
		var digests, bobs int
		for _, ev := range events {
			switch {
			case ev.UserID == e.bob.ID:
				bobs++
				if _, ok := ev.Details["email_hmac"]; ok {
					t.Errorf("known account: a digest recorded besides the id: %v", ev.Details)
				}
			case strings.HasPrefix(ev.Details["email_hmac"], "hmac-sha256:"):
				digests++
			}
		}
		if digests != 2 || bobs != 1 {
			t.Fatalf("login.failure events: %d with a digest, %d with bob's id; want 2 and 1", digests, bobs)
		}
		dump := storetest.Dump(t, e.srv.Store.DB(), e.dbURL)
		logs := e.logs.String()
		for _, s := range append(typed, strings.ToLower(typed[0]), "whatever-password-1", "Wrong-Password-For-Bob") {
			if bytes.Contains(dump, []byte(s)) {
				t.Errorf("the database holds the typed text %q", s)
			}
			if strings.Contains(logs, s) {
				t.Errorf("the logs hold the typed text %q", s)
			}
		}
		if !strings.Contains(logs, "detail.email_hmac=hmac-sha256:") {
			t.Errorf("the audit log lines lack the digest:\n%s", logs)
		}
	})
}

// Consenting again with fewer scopes narrows the grant's one scope set: the
// tokens issued under the broader set stop working at once, for opaque and
// JWT access tokens, and the account page, introspection, the token
// endpoint and the API agree.
func TestNarrowedConsentRevokesBroaderTokens(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		for _, c := range []client{e.web, e.jwt} {
			b := e.aliceBrowser()
			broad := e.login(b, c, "read:pets write:pets offline_access")
			if got := broad.resp.str("scope"); !strings.Contains(got, "write:pets") || broad.refresh == "" {
				t.Fatalf("%s: first connection granted %q", c.ID, got)
			}
			if acct := b.Get(e.as.URL + "/account"); !strings.Contains(acct.Body, ">Manage your pets</li>") {
				t.Fatalf("%s: the account page does not show the write permission before narrowing", c.ID)
			}

			// Connect again, unticking "Manage your pets".
			v := oauth2.GenerateVerifier()
			p := b.Get(e.authURL(c, callbackOf(c), v, url.Values{"scope": {"read:pets write:pets offline_access"}, "prompt": {"consent"}}))
			q := e.redirectQuery(e.consent(b, p, "allow", "read:pets", "offline_access"))
			r := e.redeem(c, q.Get("code"), v)
			if r.status != http.StatusOK || strings.Contains(r.str("scope"), "write:pets") {
				t.Fatalf("%s: narrowed code: %d %s", c.ID, r.status, r.body)
			}
			narrow := tokens{access: r.str("access_token"), refresh: r.str("refresh_token"), resp: r}

			if acct := b.Get(e.as.URL + "/account"); strings.Contains(acct.Body, ">Manage your pets</li>") || !strings.Contains(acct.Body, ">View your pets</li>") {
				t.Errorf("%s: the account page does not show read-only access after narrowing", c.ID)
			}
			e.wantInactive(c.ID+": access token of the broader consent", broad.access)
			e.wantInactive(c.ID+": refresh token of the broader consent", broad.refresh)
			if r := e.refresh(c, broad.refresh); r.status == http.StatusOK {
				if strings.Contains(r.str("scope"), "write:pets") {
					t.Fatalf("%s: the old refresh token still yields write:pets: %s", c.ID, r.body)
				}
				t.Errorf("%s: the old refresh token still refreshes: %s", c.ID, r.body)
			}
			if c.ID == e.jwt.ID {
				// The API learns revoked JWT ids from the list it polls; a
				// list older than RevocationMaxAge is refreshed first.
				e.clock.Advance(e.ver.RevocationMaxAge + time.Second)
			}
			if r := e.api(http.MethodPost, "/v1/pets", broad.access, `{"name":"Rex","species":"dog","age":2}`); r.status != http.StatusUnauthorized {
				t.Errorf("%s: the API accepted the broader access token: %d %s", c.ID, r.status, r.body)
			}
			if r := e.api(http.MethodGet, "/v1/pets", narrow.access, ""); r.status != http.StatusOK {
				t.Errorf("%s: the narrowed access token cannot read: %d", c.ID, r.status)
			}
			if r := e.api(http.MethodPost, "/v1/pets", narrow.access, `{"name":"Rex","species":"dog","age":2}`); r.status != http.StatusForbidden {
				t.Errorf("%s: the narrowed access token can write: %d", c.ID, r.status)
			}
			if in := e.introspect(narrow.access); in["active"] != true || strings.Contains(fmt.Sprint(in["scope"]), "write:pets") {
				t.Errorf("%s: introspection of the narrowed token: %v", c.ID, in)
			}
			if t2 := e.mustRefresh(c, narrow.refresh); strings.Contains(t2.resp.str("scope"), "write:pets") {
				t.Errorf("%s: the narrowed refresh token yields %q", c.ID, t2.resp.str("scope"))
			}
		}
	})
}

// RD-18 through the real server: prompt=login makes a signed-in user sign
// in again before a code; prompt=none never shows a page; parameters we
// do not support are refused at the redirect URI with iss and state.
func TestRD18_PromptAndRefusedParameters(t *testing.T) {
	t.Parallel()
	e := freshSQLite(t)
	b := e.browser()
	v := oauth2.GenerateVerifier()
	// Signed in, consent remembered.
	p := e.signIn(b, b.Get(e.authURL(e.web, webCallback, v, url.Values{"scope": {"read:pets"}})), e.alice)
	if !isConsentPage(p) {
		t.Fatalf("expected the consent page, got %d at %s", p.Status, p.URL)
	}
	form := webtest.Hidden(p.Body)
	form.Set("decision", "allow")
	form.Set("scope", "read:pets")
	form.Set("remember", "on")
	if q := e.redirectQuery(b.Post("/oauth2/consent", form)); q.Get("code") == "" {
		t.Fatalf("first connection: %v", q)
	}
	if q := e.redirectQuery(b.Get(e.authURL(e.web, webCallback, v, url.Values{"scope": {"read:pets"}, "prompt": {"none"}}))); q.Get("code") == "" {
		t.Fatalf("prompt=none with a session and consent: %v", q)
	}
	p = b.Get(e.authURL(e.web, webCallback, v, url.Values{"scope": {"read:pets"}, "prompt": {"login"}}))
	if !isLoginPage(p) {
		t.Fatalf("prompt=login while signed in: %d at %s, want the sign-in page", p.Status, p.URL)
	}
	q := e.redirectQuery(e.signIn(b, p, e.alice))
	if q.Get("code") == "" || q.Get("iss") != e.cfg.Issuer {
		t.Fatalf("after signing in again: %v", q)
	}
	for _, tc := range []struct {
		params  url.Values
		wantErr string
	}{
		{url.Values{"prompt": {"none login"}}, "invalid_request"},
		{url.Values{"prompt": {"none select_account"}}, "invalid_request"},
		{url.Values{"registration": {"{}"}}, "registration_not_supported"},
		{url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}}, "request_not_supported"},
		// Only our own PAR request_uri is taken (pkg/web par_test.go); any
		// other is not supported.
		{url.Values{"request_uri": {"https://app.example/request.jwt"}}, "request_uri_not_supported"},
		{url.Values{"max_age": {"-1"}}, "invalid_request"},
	} {
		tc.params.Set("scope", "read:pets")
		e.wantErrorRedirect(fmt.Sprint(tc.params), asResponse(b.Get(e.authURL(e.web, webCallback, v, tc.params))), tc.wantErr, "state-0123456789")
	}
	// max_age=0 asks for a fresh sign-in like prompt=login; select_account
	// shows the signed-in account (OIDC Core §3.1.2.1).
	if p := b.Get(e.authURL(e.web, webCallback, v, url.Values{"scope": {"read:pets"}, "max_age": {"0"}})); !isLoginPage(p) {
		t.Fatalf("max_age=0: %d at %s, want the sign-in page", p.Status, p.URL)
	}
	if p := b.Get(e.authURL(e.web, webCallback, v, url.Values{"scope": {"read:pets"}, "prompt": {"select_account"}})); p.Status != 200 || !strings.Contains(p.Body, "Continue as") {
		t.Fatalf("prompt=select_account: %d at %s, want the account choice", p.Status, p.URL)
	}
	anon := e.browser()
	e.wantErrorRedirect("prompt=none signed out", asResponse(anon.Get(e.authURL(e.web, webCallback, v, url.Values{"prompt": {"none"}}))), "login_required", "state-0123456789")
}

// asResponse is a page seen as the response that produced it.
func asResponse(p page) response {
	return response{status: p.Status, header: p.Header, body: []byte(p.Body)}
}
