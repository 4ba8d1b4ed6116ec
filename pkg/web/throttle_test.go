package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
)

// forEachThrottle runs f with the in-process throttle, and with the Redis
// one (shared between replicas) when PETSTORE_TEST_REDIS_ADDR is set.
func forEachThrottle(t *testing.T, f func(t *testing.T, e *env)) {
	t.Run("memory", func(t *testing.T) { f(t, newEnv(t)) })
	addr := os.Getenv("PETSTORE_TEST_REDIS_ADDR")
	if addr == "" {
		return
	}
	t.Run("redis", func(t *testing.T) {
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { c.Close() })
		if err := c.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("PETSTORE_TEST_REDIS_ADDR set but Redis unreachable: %v", err)
		}
		e := newEnv(t)
		e.h.Throttle = &ratelimit.Redis{Client: c, Prefix: "test:web:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"}
		f(t, e)
	})
}

// signIn posts the login form from client address ip with one anonymous
// session (like a script would) and returns the answer.
type signIn func(ip, email, pw string) *httptest.ResponseRecorder

func (e *env) signIn(t *testing.T) signIn {
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://auth.example/login", nil))
	cookie := rec.Result().Cookies()[0]
	token := page{Body: rec.Body.String()}.CSRF(t)
	return func(ip, email, pw string) *httptest.ResponseRecorder {
		form := url.Values{"email": {email}, "password": {pw}, "csrf_token": {token}}
		req := httptest.NewRequest(http.MethodPost, "https://auth.example/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = ip + ":40000"
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		e.router.ServeHTTP(rec, req)
		return rec
	}
}

// throttled checks a 429 says when to try again, on the page and in
// Retry-After.
func throttled(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("%s: HTTP %d, want 429", what, rec.Code)
	}
	if n, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || n < 1 {
		t.Fatalf("%s: Retry-After %q", what, rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), "Try again in ") {
		t.Fatalf("%s: the page does not say when to try again", what)
	}
}

// WB-07: 100 parallel wrong passwords for one account from one address are
// all counted: exactly the free failures reach the password check, the rest
// get 429. The right password from that address then waits too; from
// another address the owner signs in (WB-08: no lockout from everywhere).
func TestLoginThrottleCountsParallelFailures(t *testing.T) {
	forEachThrottle(t, func(t *testing.T, e *env) {
		attempt := e.signIn(t)
		const n = 100
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				rec := attempt("198.51.100.1", "alice@example.com", "guess-"+strconv.Itoa(i))
				statuses[i] = rec.Code
				if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			})
		}
		wg.Wait()
		counts := map[int]int{}
		for _, s := range statuses {
			counts[s]++
		}
		free := LoginPerAccountAddress.Free
		if counts[http.StatusUnauthorized] != free || counts[http.StatusTooManyRequests] != n-free {
			t.Fatalf("statuses %v; want %d×401 and %d×429", counts, free, n-free)
		}
		if got := e.audit.count("login.failure", "rate_limited"); got != n-free {
			t.Fatalf("%d rate_limited events, want %d", got, n-free)
		}
		// Issue 12 §7: a slowed sign-in to an existing account names the
		// account, not a digest of what was typed.
		e.audit.mu.Lock()
		for _, ev := range e.audit.events {
			if ev.Details["reason"] == "rate_limited" && (ev.UserID == "" || ev.Details["email_hmac"] != "") {
				t.Errorf("throttled sign-in of alice recorded user %q, digest %q", ev.UserID, ev.Details["email_hmac"])
			}
		}
		e.audit.mu.Unlock()
		rec := attempt("198.51.100.1", "alice@example.com", alicePass)
		throttled(t, rec, "right password from the guessing address")
		// The page and Retry-After name the same wait, at most the first
		// delay.
		secs, _ := strconv.Atoi(rec.Header().Get("Retry-After"))
		if secs > int(LoginPerAccountAddress.Base.Seconds()) || !strings.Contains(rec.Body.String(), "Try again in "+waitText(time.Duration(secs)*time.Second)+".") {
			t.Fatalf("Retry-After %d and the message disagree, or exceed the first delay:\n%s", secs, rec.Body.String())
		}
		if rec := attempt("198.51.100.2", "alice@example.com", alicePass); rec.Code != http.StatusSeeOther {
			t.Fatalf("owner from another address: HTTP %d, want 303", rec.Code)
		}
	})
}

// The account ceiling: after many failures from many addresses, an address
// with failures waits after its first, but an address without failures
// still signs in with the right password.
func TestLoginThrottleAccountCeiling(t *testing.T) {
	forEachThrottle(t, func(t *testing.T, e *env) {
		attempt := e.signIn(t)
		for i := range LoginAccountCeiling + 5 {
			if rec := attempt("203.0.113."+strconv.Itoa(i+1), "alice@example.com", "wrong"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d from a fresh address: HTTP %d", i, rec.Code)
			}
		}
		// A fresh address after the ceiling: one failure, then it waits.
		if rec := attempt("192.0.2.50", "alice@example.com", "wrong"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("first failure from a fresh address: HTTP %d", rec.Code)
		}
		throttled(t, attempt("192.0.2.50", "alice@example.com", "wrong again"), "second failure over the ceiling")
		// The owner, from an address without failures: signed in.
		if rec := attempt("192.0.2.99", "alice@example.com", alicePass); rec.Code != http.StatusSeeOther {
			t.Fatalf("owner over the ceiling: HTTP %d, want 303", rec.Code)
		}
		// That success ended the run of failures: fresh addresses get their
		// free failures again.
		for i := range LoginPerAccountAddress.Free {
			if rec := attempt("192.0.2.51", "alice@example.com", "wrong"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d after the owner signed in: HTTP %d", i, rec.Code)
			}
		}
	})
}

// Issue 11: 51 users signing in from one address (an office NAT, a proxy)
// all succeed; successful sign-ins never count.
func TestLoginSuccessesNeverCount(t *testing.T) {
	forEachThrottle(t, func(t *testing.T, e *env) {
		n := LoginPerAddress.Free + 1
		for i := range n {
			id := "usr_" + strconv.Itoa(i)
			e.users.users[id] = &identity.User{ID: id, Email: "user" + strconv.Itoa(i) + "@example.com", PasswordHash: aliceHash, UpdatedAt: time.Now()}
		}
		attempt := e.signIn(t)
		for round := range 2 {
			for i := range n {
				if rec := attempt("198.51.100.7", "user"+strconv.Itoa(i)+"@example.com", alicePass); rec.Code != http.StatusSeeOther {
					t.Fatalf("round %d, user %d of %d from one address: HTTP %d, want 303", round, i+1, n, rec.Code)
				}
			}
		}
	})
}

// Password spraying: one wrong password over many accounts from one
// address is throttled, for every account (even unknown ones) from that
// address; another address is not affected.
func TestLoginThrottleSpraying(t *testing.T) {
	forEachThrottle(t, func(t *testing.T, e *env) {
		attempt := e.signIn(t)
		for i := range LoginPerAddress.Free {
			if rec := attempt("198.51.100.9", "victim"+strconv.Itoa(i)+"@example.com", "Summer2026!"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("spray %d: HTTP %d, want 401", i, rec.Code)
			}
		}
		throttled(t, attempt("198.51.100.9", "someone-else@example.com", "Summer2026!"), "spraying past the free failures")
		throttled(t, attempt("198.51.100.9", "alice@example.com", alicePass), "any account from the spraying address")
		if rec := attempt("198.51.100.10", "alice@example.com", alicePass); rec.Code != http.StatusSeeOther {
			t.Fatalf("another address: HTTP %d, want 303", rec.Code)
		}
	})
}

func TestWaitText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1 second", 1500 * time.Millisecond: "2 seconds", 15 * time.Second: "15 seconds",
		time.Minute: "1 minute", 61 * time.Second: "2 minutes", time.Hour: "60 minutes",
	} {
		if got := waitText(d); got != want {
			t.Errorf("waitText(%v) = %q, want %q", d, got, want)
		}
	}
}
