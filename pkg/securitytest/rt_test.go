package securitytest

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

var grantRevokeRe = regexp.MustCompile(`action="(/account/grants/[^"]+/revoke)"`)

// pastGrace moves the clock beyond the refresh grace window (10 s).
func (e *env) pastGrace() {
	e.clock.Advance(time.Duration(e.cfg.Tokens.RefreshGraceWindow) + time.Second)
}

func (e *env) mustRefresh(c client, rt string) tokens {
	e.t.Helper()
	r := e.refresh(c, rt)
	if r.status != http.StatusOK {
		e.t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	return tokens{access: r.str("access_token"), refresh: r.str("refresh_token"), resp: r}
}

func TestRT01_Rotation(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		t1 := e.mustRefresh(e.web, t0.refresh)
		if t1.refresh == t0.refresh || t1.access == t0.access || t1.refresh == "" {
			t.Fatal("refresh did not return a new pair")
		}
		e.wantActive("new access token", t1.access)
		e.wantInactive("previous refresh token", t0.refresh)
		e.pastGrace()
		wantTokenError(t, "previous refresh token after the grace window", e.refresh(e.web, t0.refresh), http.StatusBadRequest, "invalid_grant")
	})
}

func TestRT02_ReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		t1 := e.mustRefresh(e.web, t0.refresh)
		t2 := e.mustRefresh(e.web, t1.refresh)
		e.pastGrace()
		wantTokenError(t, "replay of RT0", e.refresh(e.web, t0.refresh), http.StatusBadRequest, "invalid_grant")
		for what, tok := range map[string]string{"RT2": t2.refresh, "AT2": t2.access, "AT1": t1.access, "AT0": t0.access} {
			e.wantInactive(what+" after reuse", tok)
		}
		if r := e.api(http.MethodGet, "/v1/pets", t2.access, ""); r.status != http.StatusUnauthorized {
			t.Errorf("the API accepts AT2 after reuse: %d", r.status)
		}
		wantTokenError(t, "refresh with RT2 after reuse", e.refresh(e.web, t2.refresh), http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(e.logs.String(), "token.reuse_detected") {
			t.Error("no audit event for the reuse")
		}
	})
}

func TestRT03_ClientBinding(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		wantTokenError(t, "refresh by another client", e.refresh(e.other, t0.refresh), http.StatusBadRequest, "invalid_grant")
		wantTokenError(t, "refresh without client authentication", e.token(client{}, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t0.refresh}}),
			http.StatusUnauthorized, "invalid_client")
		e.mustRefresh(e.web, t0.refresh) // the owner still can
	})
}

func TestRT04_ScopeBinding(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		r := e.token(e.web, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t0.refresh}, "scope": {"read:pets write:pets offline_access"}})
		if r.status == http.StatusOK && strings.Contains(r.str("scope"), "write:pets") {
			t.Fatalf("refresh widened the scope: %s", r.str("scope"))
		}
		if r.status == http.StatusOK {
			if s := e.introspect(r.str("access_token"))["scope"]; strings.Contains(s.(string), "write") {
				t.Fatalf("the new access token has scope %v", s)
			}
		}
		// The admin takes a scope away from the client: its refresh fails.
		id := "rt04-" + e.db
		c := e.createClient(identity.Client{ID: id, RedirectURIs: []string{webCallback}, GrantTypes: []string{"authorization_code", "refresh_token"},
			Scopes: []string{"read:pets", "write:pets", "offline_access"}})
		tk := e.login(e.aliceBrowser(), c, "read:pets write:pets offline_access")
		if r := e.adminAPI(http.MethodPatch, "/clients/"+id, map[string]any{"scopes": []string{"read:pets", "offline_access"}}); r.status != http.StatusOK {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		time.Sleep(3100 * time.Millisecond) // the token endpoint caches clients for 3 s (wall clock in a shared world)
		if r := e.refresh(c, tk.refresh); r.status == http.StatusOK {
			t.Errorf("refresh with a scope the client no longer has: %s", r.body)
		}
	})
}

func TestRT05_Lifetimes(t *testing.T) {
	t.Parallel()
	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		// fosite checks the idle expiry against the wall clock.
		fresh(t, func(e *env) {
			t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
			time.Sleep(2500 * time.Millisecond)
			wantTokenError(t, "refresh after the idle lifetime", e.refresh(e.web, t0.refresh), http.StatusBadRequest, "invalid_grant")
		}, func(c *config.Config) { c.Tokens.RefreshTokenIdleLifespan = config.Duration(2 * time.Second) })
	})
	t.Run("absolute", func(t *testing.T) {
		t.Parallel()
		fresh(t, func(e *env) {
			t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
			e.clock.Advance(50 * time.Minute)
			t1 := e.mustRefresh(e.web, t0.refresh) // used within its idle lifetime
			e.clock.Advance(11 * time.Minute)
			wantTokenError(t, "refresh after the absolute lifetime", e.refresh(e.web, t1.refresh), http.StatusBadRequest, "invalid_grant")
		}, func(c *config.Config) {
			c.Tokens.RefreshTokenIdleLifespan = config.Duration(55 * time.Minute)
			c.Tokens.RefreshTokenAbsoluteLifespan = config.Duration(time.Hour)
		})
	})
}

// Policy (B), a grace window: parallel refreshes within it get the same
// successor pair; a replay after it revokes the family.
func TestRT06_ConcurrentRefreshGraceWindow(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		const n = 8
		var wg sync.WaitGroup
		start := make(chan struct{})
		res := make([]response, n)
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); <-start; res[i] = e.refresh(e.web, t0.refresh) }()
		}
		close(start)
		wg.Wait()
		for i, r := range res {
			if r.status != http.StatusOK {
				t.Fatalf("parallel refresh %d: %d %s", i, r.status, r.body)
			}
			if r.str("refresh_token") != res[0].str("refresh_token") || r.str("access_token") != res[0].str("access_token") {
				t.Fatal("parallel refreshes produced two token chains")
			}
		}
		t1 := tokens{access: res[0].str("access_token"), refresh: res[0].str("refresh_token")}
		e.wantActive("the one successor", t1.access)
		e.wantInactive("the previous access token", t0.access)
		t2 := e.mustRefresh(e.web, t1.refresh)
		e.pastGrace()
		wantTokenError(t, "replay after the grace window", e.refresh(e.web, t0.refresh), http.StatusBadRequest, "invalid_grant")
		e.wantInactive("newest refresh token after the replay", t2.refresh)
		e.wantInactive("newest access token after the replay", t2.access)
	})
}

func TestRT07_FamilyRevocationTriggers(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		b := e.aliceBrowser()
		// Revoking an old refresh token of the chain.
		t0 := e.login(b, e.web, "read:pets offline_access")
		t1 := e.mustRefresh(e.web, t0.refresh)
		e.pastGrace()
		if r := e.post("/oauth2/revoke", e.web, url.Values{"token": {t0.refresh}}); r.status != http.StatusOK {
			t.Fatalf("revoke: %d", r.status)
		}
		e.wantInactive("successor after revoking the old refresh token", t1.refresh)
		e.wantInactive("access token after revoking the old refresh token", t1.access)
		// Withdrawing consent on the account page.
		t2 := e.login(b, e.web, "read:pets offline_access")
		acct := b.Get(e.as.URL + "/account")
		m := grantRevokeRe.FindStringSubmatch(acct.Body)
		if m == nil {
			t.Fatal("no revoke button on the account page")
		}
		if p := b.Post(m[1], webtest.Hidden(acct.Body)); p.Status >= 400 {
			t.Fatalf("revoke on the account page: %d", p.Status)
		}
		e.wantInactive("refresh token after consent withdrawal", t2.refresh)
		e.wantInactive("access token after consent withdrawal", t2.access)
		// A password change.
		t3 := e.login(b, e.other, "read:pets offline_access")
		if r := e.adminAPI(http.MethodPost, "/users/"+e.alice.ID+"/password", map[string]string{"password": "a brand new passphrase 42"}); r.status >= 300 {
			t.Fatalf("password reset: %d %s", r.status, r.body)
		}
		e.remember("a brand new passphrase 42", "new password")
		e.wantInactive("refresh token after a password change", t3.refresh)
		e.wantInactive("access token after a password change", t3.access)
	})
}

func TestRT08_IssuanceRules(t *testing.T) {
	t.Parallel()
	shared(t, func(e *env) {
		if r := e.login(e.aliceBrowser(), e.web, "read:pets").resp; r.str("refresh_token") != "" {
			t.Error("a refresh token without offline_access")
		}
		if r := e.token(e.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}}); r.str("refresh_token") != "" {
			t.Error("client_credentials returned a refresh token")
		}
		id := "rt08-" + e.db
		c := e.createClient(identity.Client{ID: id, RedirectURIs: []string{webCallback}, GrantTypes: []string{"authorization_code"},
			Scopes: []string{"read:pets", "offline_access"}})
		if r := e.login(e.aliceBrowser(), c, "read:pets offline_access").resp; r.str("refresh_token") != "" {
			t.Error("a client without the refresh_token grant got a refresh token")
		}
	})
}

func TestRT09_StateSurvivesRestart(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		e.mustRefresh(e.web, t0.refresh)
		revoked := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
		e.post("/oauth2/revoke", e.web, url.Values{"token": {revoked.refresh}})
		e.pastGrace()
		// A second process on the same database: nothing held in memory.
		s2 := servertest.MustOpen(t, servertest.Options{Config: &e.cfg, Now: e.clock.Now})
		e2 := &env{world: &world{}, t: t}
		*e2.world = world{as: s2.HTTP, cfg: e.cfg, clock: e.clock, secrets: map[string]string{}, web: e.web, rsc: e.rsc}
		wantTokenError(t, "rotated refresh token after restart", e2.refresh(e.web, t0.refresh), http.StatusBadRequest, "invalid_grant")
		wantTokenError(t, "revoked refresh token after restart", e2.refresh(e.web, revoked.refresh), http.StatusBadRequest, "invalid_grant")
	})
}
