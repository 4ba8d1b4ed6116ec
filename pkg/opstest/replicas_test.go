package opstest

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// TestReplicasBehaveAsOne runs two replicas on one PostgreSQL schema: what
// one replica issued or recorded, the other honours at once.
func TestReplicasBehaveAsOne(t *testing.T) {
	cfg := baseConfig(t, postgresURL(t))
	a := openReplica(t, cfg)
	b := openReplica(t, cfg)
	f := seed(t, a)

	t.Run("login session made at one is valid at the other", func(t *testing.T) {
		br := newBrowser(t)
		u, _ := authURL(a.URL, f.web, "read:pets")
		p := br.Get(u)
		if !strings.Contains(p.Path(), "/login") {
			t.Fatalf("expected the login page at A, got %d %s", p.Status, p.Path())
		}
		form := webtest.Hidden(p.Body)
		form.Set("email", userEmail)
		form.Set("password", userPass)
		p = br.Post(a.URL+"/login", form, "Origin", a.URL)
		if !strings.Contains(p.Body, `name="decision"`) {
			t.Fatalf("expected the consent page after signing in at A: %d %s", p.Status, p.Path())
		}
		acct := br.Get(b.URL + "/account")
		if acct.Status != http.StatusOK || acct.Path() != "/account" || !strings.Contains(acct.Body, userEmail) {
			t.Fatalf("B does not know the session made at A: %d at %s", acct.Status, acct.Path())
		}
	})

	t.Run("code issued by one is redeemed at the other", func(t *testing.T) {
		br := newBrowser(t)
		u, verifier := authURL(a.URL, f.web, "read:pets offline_access")
		p := br.Get(u)
		form := webtest.Hidden(p.Body)
		form.Set("email", userEmail)
		form.Set("password", userPass)
		p = br.Post(a.URL+"/login", form, "Origin", a.URL)
		form = webtest.Hidden(p.Body)
		form.Set("decision", "allow")
		form["scope"] = []string{"read:pets", "offline_access"}
		form.Set("remember", "on")
		p = br.Post(a.URL+"/oauth2/consent", form, "Origin", a.URL)
		code := codeFrom(t, p)

		st, m, body := redeem(t, b.URL, f.web, code, verifier)
		if st != http.StatusOK || m["access_token"] == nil || m["refresh_token"] == nil {
			t.Fatalf("redeeming A's code at B: %d %s", st, body)
		}
		if st, _, _ := redeem(t, a.URL, f.web, code, verifier); st != http.StatusBadRequest {
			t.Fatalf("the same code redeemed again at A: %d, want 400", st)
		}
		if active(t, b.URL, f.rs, m["access_token"].(string)) {
			t.Fatal("a second redemption must revoke what the first issued, on every replica")
		}

		// Consent remembered through A skips the page at B, with A's session.
		u, verifier = authURL(b.URL, f.web, "read:pets offline_access")
		code = codeFrom(t, br.Get(u))
		st, m, body = redeem(t, a.URL, f.web, code, verifier)
		if st != http.StatusOK {
			t.Fatalf("redeeming B's code at A: %d %s", st, body)
		}
		// A refresh token issued at A rotates at B; the old one is then
		// spent at A too (outside the grace window it would be reuse).
		st, m2, body := post(t, nil, b.URL+"/oauth2/token", f.web, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)}})
		if st != http.StatusOK || m2["refresh_token"] == m["refresh_token"] {
			t.Fatalf("refresh at B: %d %s", st, body)
		}
		if !active(t, a.URL, f.rs, m2["access_token"].(string)) {
			t.Fatal("the access token rotated at B is inactive at A")
		}
	})

	t.Run("token revoked at one is inactive at the other at once", func(t *testing.T) {
		tok := clientCredentials(t, a.URL, f.svc)
		if !active(t, b.URL, f.rs, tok) {
			t.Fatal("A's token is not active at B")
		}
		st, _, body := post(t, nil, b.URL+"/oauth2/revoke", f.svc, url.Values{"token": {tok}})
		if st != http.StatusOK {
			t.Fatalf("revoke at B: %d %s", st, body)
		}
		if active(t, a.URL, f.rs, tok) {
			t.Fatal("a token revoked at B is still active at A")
		}
	})
}

// redisAddr returns PETSTORE_TEST_REDIS_ADDR, skipping when unset and
// failing when set but unreachable.
func redisAddr(t *testing.T) string {
	addr := os.Getenv("PETSTORE_TEST_REDIS_ADDR")
	if addr == "" {
		t.Skip("PETSTORE_TEST_REDIS_ADDR not set")
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PETSTORE_TEST_REDIS_ADDR=%s is set but Redis is unreachable: %v", addr, err)
	}
	return addr
}

// TestRateLimitsSharedThroughRedis: with Redis configured, a client's
// requests count against one limit whichever replica serves them. (The
// replicas share a SQLite file here so that this test needs Redis only.)
func TestRateLimitsSharedThroughRedis(t *testing.T) {
	addr := redisAddr(t)
	cfg := baseConfig(t, sqliteURL(t))
	cfg.RedisURL = "redis://" + addr + "/0"
	cfg.RateLimits.PerClient = 4
	a := openReplica(t, cfg)
	b := openReplica(t, cfg)
	f := seed(t, a) // client ids are random: no count left over from an earlier run

	form := url.Values{"grant_type": {"client_credentials"}}
	for i, r := range []replica{a, b, a, b} {
		if st, _, body := post(t, nil, r.URL+"/oauth2/token", f.svc, form); st != http.StatusOK {
			t.Fatalf("request %d within the shared limit: %d %s", i+1, st, body)
		}
	}
	for _, r := range []replica{a, b} {
		req, _ := http.NewRequest(http.MethodPost, r.URL+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(f.svc.id), url.QueryEscape(f.svc.secret))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("5th request (2 + 2 spread over two replicas before it): %d, want 429", res.StatusCode)
		}
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Fatalf("Retry-After %q", res.Header.Get("Retry-After"))
		}
	}
	// In-process counting (no Redis) would have let each replica allow 4.
	cfg.RedisURL = ""
	c := openReplica(t, cfg)
	if st, _, _ := post(t, nil, c.URL+"/oauth2/token", f.svc, form); st != http.StatusOK {
		t.Fatalf("a replica without Redis counts on its own: %d, want 200", st)
	}
}
