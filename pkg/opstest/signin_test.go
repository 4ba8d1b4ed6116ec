package opstest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// TestSignInBehindProxy: issue 11 §2 against the real server on SQLite and
// PostgreSQL, behind a trusted proxy (the test plays it: peer 127.0.0.1,
// X-Forwarded-For as nginx's $proxy_add_x_forwarded_for writes it), and
// with two replicas sharing the throttle through Redis when
// PETSTORE_TEST_REDIS_ADDR is set.
//
//   - 51 users signing in from one address all succeed;
//   - 10 wrong passwords for one account from address A: A is throttled
//     (429, Retry-After, "Try again in …"), also when it puts another address
//     into X-Forwarded-For itself, while the owner signs in from address B.
func TestSignInBehindProxy(t *testing.T) {
	for _, db := range []struct {
		name string
		url  func(*testing.T) string
	}{{"sqlite", sqliteURL}, {"postgres", postgresURL}} {
		t.Run(db.name, func(t *testing.T) {
			cfg := baseConfig(t, db.url(t))
			cfg.TrustedProxies = []string{"127.0.0.1/32"}
			replicas := []replica{openReplica(t, cfg)}
			if os.Getenv("PETSTORE_TEST_REDIS_ADDR") != "" {
				cfg.RedisURL = "redis://" + redisAddr(t) + "/0"
				replicas = []replica{openReplica(t, cfg), openReplica(t, cfg)}
			}
			// Random emails and addresses: Redis keeps counts between runs.
			run := strings.ToLower(rand.Text()[:8])
			// (rand.Text is base32 with A–Z: strconv cannot parse it, which
			// once made every run use 10.0.0.x and pile up counts in Redis.)
			n := mrand.IntN(250 * 250)
			office := fmt.Sprintf("10.%d.%d.1", n%250, n/250)
			attacker := fmt.Sprintf("10.%d.%d.2", n%250, n/250)
			owner := fmt.Sprintf("10.%d.%d.3", n%250, n/250)

			hash, err := password.Hash(userPass)
			if err != nil {
				t.Fatal(err)
			}
			emails := make([]string, 51)
			for i := range emails {
				emails[i] = fmt.Sprintf("user%d-%s@example.com", i, run)
				if err := replicas[0].Store.CreateUser(context.Background(), &identity.User{Email: emails[i], PasswordHash: hash}); err != nil {
					t.Fatal(err)
				}
			}
			signIn := func(i int, email, pw, xff string) *http.Response {
				t.Helper()
				base := replicas[i%len(replicas)].URL
				jar, _ := cookiejar.New(nil)
				c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				do := func(req *http.Request) *http.Response {
					req.Header.Set("X-Forwarded-For", xff)
					req.Header.Set("X-Forwarded-Proto", "https")
					res, err := c.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { res.Body.Close() })
					return res
				}
				req, _ := http.NewRequest(http.MethodGet, base+"/login", nil)
				res := do(req)
				form := webtest.Hidden(readAll(res))
				form.Set("email", email)
				form.Set("password", pw)
				req, _ = http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", base)
				return do(req)
			}

			for i, email := range emails {
				if res := signIn(i, email, userPass, office); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("user %d of 51 from one address: HTTP %d, want 303", i+1, res.StatusCode)
				}
			}

			victim := emails[0]
			codes := map[int]int{}
			for i := range 10 {
				// The attacker's own X-Forwarded-For entry is left of the one
				// the proxy appends: never used.
				xff := attacker
				if i%2 == 1 {
					xff = fmt.Sprintf("192.0.2.%d, %s", i, attacker)
				}
				res := signIn(i, victim, "wrong password "+strconv.Itoa(i), xff)
				codes[res.StatusCode]++
				if res.StatusCode == http.StatusTooManyRequests {
					if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 {
						t.Fatalf("429 with Retry-After %q", res.Header.Get("Retry-After"))
					}
					if body := readAll(res); !strings.Contains(body, "Try again in ") {
						t.Fatal("429 page does not say when to try again")
					}
				}
			}
			if codes[http.StatusUnauthorized] != 5 || codes[http.StatusTooManyRequests] != 5 {
				t.Fatalf("10 wrong passwords from one address: %v, want 5×401 then 5×429", codes)
			}
			if res := signIn(1, victim, userPass, owner); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("owner from another address: HTTP %d, want 303", res.StatusCode)
			}
		})
	}
}

func readAll(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
