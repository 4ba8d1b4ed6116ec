package securitytest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

// stateRows is the database as far as a protocol request may change it:
// every row but the audit log and its SQLite id counter (a refused request
// is worth an audit record; it is not state a credential depends on).
func (e *env) stateRows() []byte {
	e.t.Helper()
	return storetest.Rows(e.t, e.srv.Store.DB(), e.dbURL, "audit_events", "sqlite_sequence")
}

// rowDiff names the rows that differ between two stateRows.
func rowDiff(before, after []byte) string {
	set := func(b []byte) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			m[l] = true
		}
		return m
	}
	table := regexp.MustCompile(`^([a-z_]+): `)
	bs, as := set(before), set(after)
	var out []string
	for l := range bs {
		if m := table.FindStringSubmatch(l); m != nil && !as[l] {
			out = append(out, "- "+m[1])
		}
	}
	for l := range as {
		if m := table.FindStringSubmatch(l); m != nil && !bs[l] {
			out = append(out, "+ "+m[1])
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// creds are the credentials the sweep presents, all of client "web"
// (alice's), each family kept apart so that one case cannot spoil another.
type creds struct {
	code, verifier         string // not redeemed
	usedCode, usedVerifier string // redeemed once, into access/refresh
	access, refresh        string // live
	rotated, successor     string // rotated just now (within the grace window)
	rotated2               string // another rotated family, for the owner's revocation
	revokedAccess          string
	revokedRefresh         string
	lateRotated            string // rotated, presented after the window by its owner
	jwtAccess              string // of the jwtapp client
}

const sweepScope = "read:pets write:pets offline_access"

func (e *env) sweepCreds() *creds {
	e.t.Helper()
	b := e.aliceBrowser()
	c := &creds{}
	c.usedCode, c.usedVerifier = e.code(b, e.web, sweepScope)
	r := e.redeem(e.web, c.usedCode, c.usedVerifier)
	if r.status != http.StatusOK {
		e.t.Fatalf("redeem: %d %s", r.status, r.body)
	}
	c.access, c.refresh = r.str("access_token"), r.str("refresh_token")
	rotate := func() (old, next string) {
		tk := e.login(b, e.web, sweepScope)
		r := e.refresh(e.web, tk.refresh)
		if r.status != http.StatusOK {
			e.t.Fatalf("refresh: %d %s", r.status, r.body)
		}
		return tk.refresh, r.str("refresh_token")
	}
	c.rotated, c.successor = rotate()
	c.rotated2, _ = rotate()
	c.lateRotated, _ = rotate()
	tk := e.login(b, e.web, sweepScope)
	c.revokedAccess, c.revokedRefresh = tk.access, tk.refresh
	if r := e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.refresh}}); r.status != http.StatusOK {
		e.t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	c.jwtAccess = e.login(b, e.jwt, sweepScope).access
	c.code, c.verifier = e.code(b, e.web, sweepScope) // last: it lives only seconds here
	return c
}

// raw sends body to path as a form, with an optional Authorization header.
func (e *env) raw(path, authorization, body string) response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.as.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return e.do(req)
}

func basic(c client) string {
	req, _ := http.NewRequest(http.MethodPost, "/", nil)
	req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	return req.Header.Get("Authorization")
}

// sweepCase is one request of the endpoint × case table.
type sweepCase struct {
	endpoint, kind, name string
	send                 func(e *env, c *creds) response
	status               int
	error                string // "" for a success
	// changes: the request may change state (the owner acting on its own
	// credential); every other case must leave every row as it was.
	changes bool
	check   func(e *env, c *creds, r response) // optional further assertions
}

// TestProtocolErrorSweep is the sweep of issue 12: every error path of
// /oauth2/token, /oauth2/revoke and /oauth2/introspect, for an unknown
// client, a wrong secret, a client presenting another client's
// credential, expired, revoked, rotated (within and after the grace
// window) and malformed input. Each answers the RFC status and error code,
// never a 5xx, and changes no row of the database unless the client that
// owns the credential authenticated and acted on it.
func TestProtocolErrorSweep(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		c := e.sweepCreds()
		unknown := client{ID: "nobody", Secret: "not-a-registered-client-secret"}
		wrong := client{ID: e.web.ID, Secret: "wrong-secret-of-the-web-client"}
		tok := func(cl client, form url.Values) func(*env, *creds) response {
			return func(e *env, _ *creds) response { return e.token(cl, form) }
		}
		refreshForm := func(rt string) url.Values { return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}} }
		codeForm := func(code, v string) url.Values {
			return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {webCallback}, "code_verifier": {v}}
		}
		post := func(path string, cl client, form url.Values) func(*env, *creds) response {
			return func(e *env, _ *creds) response { return e.post(path, cl, form) }
		}
		huge := "token=" + strings.Repeat("a", 2<<20)
		const tokenEP, revokeEP, introEP = "/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"
		stillActive := func(what func(*creds) string) func(*env, *creds, response) {
			return func(e *env, c *creds, _ response) { e.wantActive("after the request", what(c)) }
		}
		inactive := func(e *env, _ *creds, r response) {
			if len(r.json) != 1 || r.json["active"] != false {
				e.t.Errorf("introspection %s, want exactly {\"active\":false}", r.body)
			}
		}
		phase1 := []sweepCase{
			// /oauth2/token
			{tokenEP, "unknown client", "refresh", tok(unknown, refreshForm(c.refresh)), 401, "invalid_client", false, stillActive(func(c *creds) string { return c.refresh })},
			{tokenEP, "unknown client", "code", tok(unknown, codeForm(c.code, c.verifier)), 401, "invalid_client", false, nil},
			{tokenEP, "wrong secret", "live code", tok(wrong, codeForm(c.code, c.verifier)), 401, "invalid_client", false, nil},
			{tokenEP, "wrong secret", "used code", tok(wrong, codeForm(c.usedCode, c.usedVerifier)), 401, "invalid_client", false, stillActive(func(c *creds) string { return c.access })},
			{tokenEP, "wrong secret", "refresh", tok(wrong, refreshForm(c.refresh)), 401, "invalid_client", false, nil},
			{tokenEP, "wrong secret", "rotated refresh", tok(wrong, refreshForm(c.rotated)), 401, "invalid_client", false, nil},
			{tokenEP, "someone else's", "live code", tok(e.other, codeForm(c.code, c.verifier)), 400, "invalid_grant", false, nil},
			{tokenEP, "someone else's", "used code", tok(e.other, codeForm(c.usedCode, c.usedVerifier)), 400, "invalid_grant", false, stillActive(func(c *creds) string { return c.access })},
			{tokenEP, "someone else's", "refresh", tok(e.other, refreshForm(c.refresh)), 400, "invalid_grant", false, stillActive(func(c *creds) string { return c.refresh })},
			{tokenEP, "someone else's", "access token as refresh", tok(e.other, refreshForm(c.access)), 400, "invalid_grant", false, nil},
			{tokenEP, "someone else's", "rotated refresh (in window)", tok(e.other, refreshForm(c.rotated)), 400, "invalid_grant", false, stillActive(func(c *creds) string { return c.successor })},
			{tokenEP, "someone else's", "public client with a confidential client's code", tok(e.spa, codeForm(c.code, c.verifier)), 400, "invalid_grant", false, nil},
			{tokenEP, "revoked", "own revoked refresh", tok(e.web, refreshForm(c.revokedRefresh)), 400, "invalid_grant", true, nil}, // fosite treats it as reuse: deletes the row
			{tokenEP, "rotated in window", "own, same request", tok(e.web, refreshForm(c.rotated)), 200, "", false, func(e *env, c *creds, r response) {
				if r.str("refresh_token") != c.successor {
					e.t.Errorf("replay within the window: another successor")
				}
			}},
			{tokenEP, "rotated in window", "own, another scope", tok(e.web, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.rotated}, "scope": {"read:pets"}}), 400, "invalid_grant", false, stillActive(func(c *creds) string { return c.successor })},
			{tokenEP, "scope", "own refresh, scope not granted", tok(e.web, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.refresh}, "scope": {"read:pets admin"}}), 400, "invalid_scope", false, stillActive(func(c *creds) string { return c.refresh })},
			{tokenEP, "malformed", "bad base64 in Basic", func(e *env, c *creds) response {
				return e.raw(tokenEP, "Basic !!!not-base64", refreshForm(c.refresh).Encode())
			}, 401, "invalid_client", false, nil},
			{tokenEP, "malformed", "bad form encoding", func(e *env, c *creds) response {
				return e.raw(tokenEP, basic(e.web), "grant_type=refresh_token&refresh_token=%zz")
			}, 400, "invalid_request", false, nil},
			{tokenEP, "malformed", "huge body", func(e *env, c *creds) response { return e.raw(tokenEP, basic(e.web), huge) }, 413, "invalid_request", false, nil},
			{tokenEP, "malformed", "duplicate refresh_token", func(e *env, c *creds) response {
				return e.raw(tokenEP, basic(e.web), "grant_type=refresh_token&refresh_token="+c.refresh+"&refresh_token="+c.refresh)
			}, 400, "invalid_request", false, stillActive(func(c *creds) string { return c.refresh })},
			{tokenEP, "malformed", "duplicate code", func(e *env, c *creds) response {
				f := codeForm(c.code, c.verifier)
				f.Add("code", c.code)
				return e.raw(tokenEP, basic(e.web), f.Encode())
			}, 400, "invalid_request", false, nil},

			// /oauth2/revoke
			{revokeEP, "unknown client", "access", post(revokeEP, unknown, url.Values{"token": {c.access}}), 401, "invalid_client", false, stillActive(func(c *creds) string { return c.access })},
			{revokeEP, "wrong secret", "refresh", post(revokeEP, wrong, url.Values{"token": {c.refresh}}), 401, "invalid_client", false, stillActive(func(c *creds) string { return c.refresh })},
			{revokeEP, "someone else's", "access", post(revokeEP, e.other, url.Values{"token": {c.access}}), 400, "unauthorized_client", false, stillActive(func(c *creds) string { return c.access })},
			{revokeEP, "someone else's", "refresh", post(revokeEP, e.other, url.Values{"token": {c.refresh}}), 400, "unauthorized_client", false, stillActive(func(c *creds) string { return c.refresh })},
			{revokeEP, "someone else's", "refresh, hint access_token", post(revokeEP, e.other, url.Values{"token": {c.refresh}, "token_type_hint": {"access_token"}}), 400, "unauthorized_client", false, nil},
			{revokeEP, "someone else's", "JWT access token", post(revokeEP, e.web, url.Values{"token": {c.jwtAccess}}), 400, "unauthorized_client", false, stillActive(func(c *creds) string { return c.jwtAccess })},
			{revokeEP, "someone else's", "rotated refresh (in window)", post(revokeEP, e.other, url.Values{"token": {c.rotated}}), 400, "unauthorized_client", false, stillActive(func(c *creds) string { return c.successor })},
			{revokeEP, "someone else's", "a code", post(revokeEP, e.other, url.Values{"token": {c.code}}), 200, "", false, nil},
			{revokeEP, "unknown token", "garbage", post(revokeEP, e.web, url.Values{"token": {"pst_rt_garbage.garbage"}}), 200, "", false, nil},
			{revokeEP, "revoked", "own revoked refresh", post(revokeEP, e.web, url.Values{"token": {c.revokedRefresh}}), 200, "", false, nil},
			{revokeEP, "malformed", "bad base64 in Basic", func(e *env, c *creds) response {
				return e.raw(revokeEP, "Basic !!!not-base64", url.Values{"token": {c.access}}.Encode())
			}, 401, "invalid_client", false, nil},
			{revokeEP, "malformed", "bad form encoding", func(e *env, c *creds) response { return e.raw(revokeEP, basic(e.web), "token=%zz") }, 400, "invalid_request", false, nil},
			{revokeEP, "malformed", "huge body", func(e *env, c *creds) response { return e.raw(revokeEP, basic(e.web), huge) }, 413, "invalid_request", false, nil},
			{revokeEP, "malformed", "duplicate token", func(e *env, c *creds) response {
				return e.raw(revokeEP, basic(e.web), "token="+c.access+"&token="+c.access)
			}, 400, "invalid_request", false, stillActive(func(c *creds) string { return c.access })},
			{revokeEP, "rotated in window", "own (ends the chain)", post(revokeEP, e.web, url.Values{"token": {c.rotated2}}), 200, "", true, nil},

			// /oauth2/introspect
			{introEP, "unknown client", "access", post(introEP, unknown, url.Values{"token": {c.access}}), 401, "invalid_client", false, nil},
			{introEP, "wrong secret", "access", post(introEP, client{ID: e.rsc.ID, Secret: "wrong-secret-of-the-rs-client"}, url.Values{"token": {c.access}}), 401, "invalid_client", false, nil},
			{introEP, "someone else's", "access, by its own non-RS client", post(introEP, e.web, url.Values{"token": {c.access}}), 403, "unauthorized_client", false, nil},
			{introEP, "rotated in window", "refresh", post(introEP, e.rsc, url.Values{"token": {c.rotated}, "token_type_hint": {"refresh_token"}}), 200, "", false, inactive},
			{introEP, "revoked", "access", post(introEP, e.rsc, url.Values{"token": {c.revokedAccess}}), 200, "", false, inactive},
			{introEP, "revoked", "refresh", post(introEP, e.rsc, url.Values{"token": {c.revokedRefresh}, "token_type_hint": {"refresh_token"}}), 200, "", false, inactive},
			{introEP, "unknown token", "a code", post(introEP, e.rsc, url.Values{"token": {c.code}}), 200, "", false, inactive},
			{introEP, "malformed", "bad base64 in Basic", func(e *env, c *creds) response {
				return e.raw(introEP, "Basic !!!not-base64", url.Values{"token": {c.access}}.Encode())
			}, 401, "invalid_client", false, nil},
			{introEP, "malformed", "bad form encoding", func(e *env, c *creds) response { return e.raw(introEP, basic(e.rsc), "token=%zz") }, 400, "invalid_request", false, nil},
			{introEP, "malformed", "huge body", func(e *env, c *creds) response { return e.raw(introEP, basic(e.rsc), huge) }, 413, "invalid_request", false, nil},
			{introEP, "malformed", "duplicate token", func(e *env, c *creds) response {
				return e.raw(introEP, basic(e.rsc), "token="+c.access+"&token="+c.access)
			}, 400, "invalid_request", false, nil},
		}
		grace := time.Duration(e.cfg.Tokens.RefreshGraceWindow) + time.Second
		phase2 := []sweepCase{ // after the grace window
			{tokenEP, "rotated after window", "wrong secret", tok(wrong, refreshForm(c.rotated)), 401, "invalid_client", false, stillActive(func(c *creds) string { return c.successor })},
			{tokenEP, "rotated after window", "someone else's", tok(e.other, refreshForm(c.rotated)), 400, "invalid_grant", false, stillActive(func(c *creds) string { return c.successor })},
			{revokeEP, "rotated after window", "someone else's", post(revokeEP, e.other, url.Values{"token": {c.rotated}}), 400, "unauthorized_client", false, stillActive(func(c *creds) string { return c.successor })},
			{introEP, "rotated after window", "refresh", post(introEP, e.rsc, url.Values{"token": {c.rotated}, "token_type_hint": {"refresh_token"}}), 200, "", false, inactive},
			{tokenEP, "rotated after window", "own: reuse revokes the family", tok(e.web, refreshForm(c.lateRotated)), 400, "invalid_grant", true, nil},
		}
		phase3 := []sweepCase{ // the codes have expired
			{tokenEP, "expired", "someone else's code", tok(e.other, codeForm(c.code, c.verifier)), 400, "invalid_grant", false, nil},
			{tokenEP, "expired", "wrong secret, code", tok(wrong, codeForm(c.code, c.verifier)), 401, "invalid_client", false, nil},
			{tokenEP, "expired", "own code (burnt, PK-05)", tok(e.web, codeForm(c.code, c.verifier)), 400, "invalid_grant", true, nil},
		}
		phase4 := []sweepCase{ // past the refresh tokens' absolute lifetime
			{tokenEP, "expired", "someone else's refresh", tok(e.other, refreshForm(c.refresh)), 400, "invalid_grant", false, nil},
			{tokenEP, "expired", "own refresh", tok(e.web, refreshForm(c.refresh)), 400, "invalid_grant", false, nil},
			{revokeEP, "expired", "someone else's refresh", post(revokeEP, e.other, url.Values{"token": {c.refresh}}), 400, "unauthorized_client", false, nil},
		}
		var table strings.Builder
		run := func(cases []sweepCase) {
			for _, tc := range cases {
				before := e.stateRows()
				r := tc.send(e, c)
				after := e.stateRows()
				changed := !bytes.Equal(before, after)
				fmt.Fprintf(&table, "| %s | %s | %s | %d %s | %v |\n", tc.endpoint, tc.kind, tc.name, r.status, r.str("error"), changed)
				what := tc.endpoint + " " + tc.kind + ": " + tc.name
				if r.status >= 500 {
					t.Errorf("%s: %d %s", what, r.status, r.body)
				}
				if r.status != tc.status || r.str("error") != tc.error {
					t.Errorf("%s: %d %s, want %d %q", what, r.status, r.body, tc.status, tc.error)
				}
				if changed && !tc.changes {
					t.Errorf("%s: the request changed the database: %s", what, rowDiff(before, after))
				}
				if tc.check != nil {
					tc.check(e, c, r)
				}
			}
		}
		run(phase1)
		e.clock.Advance(grace)
		run(phase2)
		time.Sleep(time.Duration(e.cfg.Tokens.AuthorizeCodeLifespan) + 100*time.Millisecond) // fosite reads the wall clock for codes
		run(phase3)
		e.clock.Advance(time.Duration(e.cfg.Tokens.RefreshTokenAbsoluteLifespan))
		run(phase4)
		// PETSTORE_SWEEP_TABLE=DIR writes the answers as a Markdown table
		// (endpoint, case, status and error, state changed) for the issue.
		if dir := os.Getenv("PETSTORE_SWEEP_TABLE"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "sweep-"+e.db+".md"), []byte(table.String()), 0o644)
		}
	}, func(c *config.Config) { c.Tokens.AuthorizeCodeLifespan = config.Duration(3 * time.Second) })
}

// scopeSet is a scope string as a sorted set, to compare answers.
func scopeSet(s string) string {
	f := strings.Fields(s)
	sort.Strings(f)
	return strings.Join(f, " ")
}

// TestRefreshNarrowsScope (issue 12, item 1; RFC 6749 §6): the scope of a
// refresh request narrows the new access token, for opaque and JWT
// clients alike; a scope not granted is invalid_scope and rotates
// nothing; the new refresh token keeps the full scope; a replay within the
// grace window must ask the same scope.
func TestRefreshNarrowsScope(t *testing.T) {
	t.Parallel()
	shared(t, func(outer *env) {
		for _, cl := range []client{outer.web, outer.jwt} {
			outer.t.(*testing.T).Run(cl.ID, func(t *testing.T) {
				e := sharedEnv(t, outer.world)
				tk := e.login(e.aliceBrowser(), cl, sweepScope)
				// Not granted: refused, and the refresh token still works.
				for _, bad := range []string{"read:pets admin", "read:pets nonsense", "read:pets read:pets"} {
					r := e.token(cl, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}, "scope": {bad}})
					wantTokenError(t, "refresh asking "+bad, r, http.StatusBadRequest, "invalid_scope")
				}
				e.wantActive("refresh token after an invalid_scope", tk.refresh)

				r := e.token(cl, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}, "scope": {"read:pets offline_access"}})
				if r.status != http.StatusOK || scopeSet(r.str("scope")) != "offline_access read:pets" || r.str("refresh_token") == "" {
					t.Fatalf("narrowing refresh: %d %s", r.status, r.body)
				}
				narrow, next := r.str("access_token"), r.str("refresh_token")
				if got := e.introspect(narrow)["scope"]; scopeSet(fmt.Sprint(got)) != "offline_access read:pets" {
					t.Errorf("introspection of the narrowed token: scope %v", got)
				}
				if cl.ID == e.jwt.ID { // what a resource server verifying locally reads
					parts := strings.Split(narrow, ".")
					var claims struct {
						Scope string `json:"scope"`
					}
					if len(parts) != 3 {
						t.Fatalf("not a JWT: %.20s", narrow)
					}
					payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
					if err := json.Unmarshal(payload, &claims); err != nil || scopeSet(claims.Scope) != "offline_access read:pets" {
						t.Errorf("JWT scope claim %q (%v)", claims.Scope, err)
					}
				}
				if a := e.api(http.MethodPost, "/v1/pets", narrow, `{"name":"Rex","species":"dog"}`); a.status != http.StatusForbidden {
					t.Errorf("narrowed token wrote a pet: %d %s", a.status, a.body)
				}
				// Within the grace window the old token answers the same pair
				// for the same scope, and nothing for another.
				again := e.token(cl, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.refresh}, "scope": {"offline_access read:pets"}})
				if again.status != http.StatusOK || again.str("refresh_token") != next {
					t.Errorf("replay with the same scope: %d %s", again.status, again.body)
				}
				wantTokenError(t, "replay with the full scope", e.refresh(cl, tk.refresh), http.StatusBadRequest, "invalid_grant")
				e.wantActive("successor after a refused replay", next)

				// The new refresh token keeps the grant's full scope.
				r = e.refresh(cl, next)
				if r.status != http.StatusOK || scopeSet(r.str("scope")) != scopeSet(sweepScope) {
					t.Fatalf("refresh without scope after narrowing: %d %s", r.status, r.body)
				}
				if got := e.introspect(r.str("access_token"))["scope"]; scopeSet(fmt.Sprint(got)) != scopeSet(sweepScope) {
					t.Errorf("introspection after widening again: scope %v", got)
				}
				// Narrowed without offline_access: still a refresh token (the grant has it).
				r = e.token(cl, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}, "scope": {"write:pets"}})
				if r.status != http.StatusOK || r.str("scope") != "write:pets" || r.str("refresh_token") == "" {
					t.Fatalf("refresh narrowed to write:pets: %d %s", r.status, r.body)
				}
				r = e.token(cl, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}, "scope": {"read:pets write:pets"}})
				if r.status != http.StatusOK || scopeSet(r.str("scope")) != "read:pets write:pets" {
					t.Fatalf("refresh asking the wider set again: %d %s", r.status, r.body)
				}
			})
		}
	})
}

// TestRevocationAnswers (issue 12, items 2 and 10; RFC 7009 §2.1, §2.2):
// another client's token is refused with unauthorized_client and stays
// active; a wrong token_type_hint still revokes; unknown tokens are a
// success; every success is `{}` as JSON, not cached.
func TestRevocationAnswers(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		b := e.aliceBrowser()
		tk := e.login(b, e.web, sweepScope)
		for _, tc := range []struct{ what, token, hint string }{
			{"access token", tk.access, ""}, {"refresh token", tk.refresh, ""},
			{"refresh token, hint refresh_token", tk.refresh, "refresh_token"}, {"access token, hint access_token", tk.access, "access_token"},
		} {
			form := url.Values{"token": {tc.token}}
			if tc.hint != "" {
				form.Set("token_type_hint", tc.hint)
			}
			wantTokenError(t, "other client revoking web's "+tc.what, e.post("/oauth2/revoke", e.other, form), http.StatusBadRequest, "unauthorized_client")
			e.wantActive("web's "+tc.what+" after another client's revocation", tc.token)
		}
		wantOK := func(what string, r response) {
			t.Helper()
			if r.status != http.StatusOK || string(bytes.TrimSpace(r.body)) != "{}" ||
				!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d %q Content-Type=%q Cache-Control=%q, want 200 {} as JSON, no-store", what, r.status, r.body,
					r.header.Get("Content-Type"), r.header.Get("Cache-Control"))
			}
		}
		wantOK("unknown token", e.post("/oauth2/revoke", e.web, url.Values{"token": {"pst_at_unknown.unknown"}}))
		wantOK("unknown token, unknown hint", e.post("/oauth2/revoke", e.web, url.Values{"token": {"x"}, "token_type_hint": {"id_token"}}))
		// The hint is only a hint (§2.1): a wrong one still revokes.
		wantOK("access token with hint refresh_token", e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.access}, "token_type_hint": {"refresh_token"}}))
		e.wantInactive("access token revoked with a wrong hint", tk.access)
		tk = e.login(b, e.web, sweepScope)
		wantOK("refresh token with hint access_token", e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.refresh}, "token_type_hint": {"access_token"}}))
		e.wantInactive("refresh token revoked with a wrong hint", tk.refresh)
		e.wantInactive("its access token", tk.access)
		tk = e.login(b, e.web, sweepScope)
		wantOK("refresh token with an unknown hint", e.post("/oauth2/revoke", e.web, url.Values{"token": {tk.refresh}, "token_type_hint": {"id_token"}}))
		e.wantInactive("refresh token revoked with an unknown hint", tk.refresh)
	})
}

// TestRD03_LoopbackRuleByClientKind: RFC 8252 §7.3's any-port loopback rule
// is for public (native) clients; a confidential client's loopback URI
// matches exactly, port included, at the authorization endpoint and at
// the token endpoint alike.
func TestRD03_LoopbackRuleByClientKind(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		v := oauth2.GenerateVerifier()
		read := url.Values{"scope": {"read:pets"}}
		const reg = "http://127.0.0.1:8000/cb"
		code := []string{identity.GrantAuthorizationCode}
		conf := e.createClient(identity.Client{ID: "rd03k-conf-" + e.db, RedirectURIs: []string{reg}, GrantTypes: code, Scopes: []string{identity.ScopeReadPets}})
		pub := e.createClient(identity.Client{ID: "rd03k-pub-" + e.db, Public: true, RedirectURIs: []string{reg}, GrantTypes: code, Scopes: []string{identity.ScopeReadPets}})
		wantSignIn(t, "confidential, registered port", e.anon(e.authURL(conf, reg, v, read)))
		wantErrorPage(t, "confidential, other port", e.anon(e.authURL(conf, "http://127.0.0.1:9000/cb", v, read)))
		wantErrorPage(t, "confidential, no port", e.anon(e.authURL(conf, "http://127.0.0.1/cb", v, read)))
		wantSignIn(t, "public, registered port", e.anon(e.authURL(pub, reg, v, read)))
		wantSignIn(t, "public, other port", e.anon(e.authURL(pub, "http://127.0.0.1:9000/cb", v, read)))

		// Token endpoint: a code issued without redirect_uri (the one
		// registered URI applies) redeemed with another port.
		b := e.aliceBrowser()
		redeemAt := func(c client, uri string) response {
			p := b.Get(e.authURL(c, "", v, url.Values{"scope": {"read:pets"}, "redirect_uri": nil}))
			if isConsentPage(p) {
				p = e.consent(b, p, "allow")
			}
			q := e.redirectQuery(p)
			if q.Get("code") == "" {
				t.Fatalf("%s: no code: %v", c.ID, q)
			}
			return e.token(c, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {uri}, "code_verifier": {v}})
		}
		wantTokenError(t, "confidential redeems with another port", redeemAt(conf, "http://127.0.0.1:9000/cb"), http.StatusBadRequest, "invalid_grant")
		if r := redeemAt(conf, reg); r.status != http.StatusOK {
			t.Errorf("confidential redeems with its registered URI: %d %s", r.status, r.body)
		}
		if r := redeemAt(pub, "http://127.0.0.1:9000/cb"); r.status != http.StatusOK {
			t.Errorf("public redeems with another loopback port: %d %s", r.status, r.body)
		}
	})
}
