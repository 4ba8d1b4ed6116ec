package provider

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/config"
)

// withDefaultLimits switches on the shipped default budgets.
func withDefaultLimits(f *fixture) {
	rl := config.Default().RateLimits
	f.p.cfg.RateLimitPerIP, f.p.cfg.RateLimitPerClient = rl.PerIP, rl.PerClient
	f.p.cfg.RateLimitFailedAuthPerIP, f.p.cfg.RateLimitFailedAuthPerClient = rl.FailedAuthPerIP, rl.FailedAuthPerClient
}

// from sends a protocol request as if from addr, through the same router
// the server mounts.
func (f *fixture) from(addr, path, id, secret string, form url.Values) *httptest.ResponseRecorder {
	f.t.Helper()
	r := mux.NewRouter()
	f.p.Mount(r)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = net.JoinHostPort(addr, "40000")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

// assert429 checks the RFC 6749-shaped refusal with a usable Retry-After.
func assert429(t *testing.T, w *httptest.ResponseRecorder, what string) {
	t.Helper()
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("%s: %d %s, want 429", what, w.Code, w.Body)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("%s: Retry-After %q", what, w.Header().Get("Retry-After"))
	}
	var body map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"] == "" {
		t.Fatalf("%s: body is not an RFC 6749 error: %s", what, w.Body)
	}
}

// TestFailedClientAuthenticationsLimitedPerAddress: with the default
// settings, 100 failed client authentications per minute from one address
// are answered (401) and the 101st is refused with 429 + Retry-After, on
// every protocol endpoint; other addresses are not affected.
func TestFailedClientAuthenticationsLimitedPerAddress(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		withDefaultLimits(f)
		paths := []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"}
		for i := range 100 {
			// A different client id each time: password spraying across
			// clients, so only the per-address count applies.
			w := f.from("203.0.113.7", paths[i%3], fmt.Sprintf("guess-%d", i), "wrong", url.Values{"grant_type": {"client_credentials"}, "token": {"x"}})
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d %s, want 401", i+1, w.Code, w.Body)
			}
		}
		for _, p := range paths {
			assert429(t, f.from("203.0.113.7", p, "guess-101", "wrong", url.Values{"grant_type": {"client_credentials"}, "token": {"x"}}), "101st failure on "+p)
		}
		if w := f.from("203.0.113.8", "/oauth2/token", f.rsID, f.rsSecret, url.Values{"grant_type": {"client_credentials"}}); w.Code != http.StatusOK {
			t.Fatalf("a client on another address: %d %s", w.Code, w.Body)
		}
	})
}

// TestWrongSecretsDoNotLockOutTheOwner: knowing a client id is not enough
// to spend the client's budgets. Wrong secrets from several addresses are
// counted against those addresses and the id; the real client with the
// right secret keeps working from its own address, and its own budget
// (lowered here to show it) is spent only by its own requests.
func TestWrongSecretsDoNotLockOutTheOwner(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		withDefaultLimits(f)
		f.p.cfg.RateLimitPerClient = 40
		attackers := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"}
		refused := 0
		for _, a := range attackers {
			for range 30 { // 150 guesses in all: three times the per-id failure budget
				for _, p := range []string{"/oauth2/introspect", "/oauth2/token"} {
					switch w := f.from(a, p, f.rsID, "wrong", url.Values{"token": {"x"}, "grant_type": {"client_credentials"}}); w.Code {
					case http.StatusUnauthorized:
					case http.StatusTooManyRequests:
						refused++
					default:
						t.Fatalf("guess: %d %s", w.Code, w.Body)
					}
				}
			}
		}
		if refused == 0 {
			t.Fatal("300 wrong secrets for one client id were never slowed down")
		}
		// The owner, from its own address: every request of its budget
		// succeeds, on both endpoints the attackers hammered.
		for i := range 40 {
			if w := f.from("192.0.2.10", "/oauth2/introspect", f.rsID, f.rsSecret, url.Values{"token": {"pst_at_x"}}); w.Code != http.StatusOK {
				t.Fatalf("owner's introspection %d during the attack: %d %s", i+1, w.Code, w.Body)
			}
		}
		if w := f.from("192.0.2.10", "/oauth2/token", f.rsID, f.rsSecret, url.Values{"grant_type": {"client_credentials"}}); w.Code != http.StatusOK {
			t.Fatalf("owner's token request during the attack: %d %s", w.Code, w.Body)
		}
		// Its own budget is its own: the 41st introspection is refused.
		assert429(t, f.from("192.0.2.10", "/oauth2/introspect", f.rsID, f.rsSecret, url.Values{"token": {"pst_at_x"}}), "owner over its own budget")
		// An attacking address gets no further guesses for the id.
		assert429(t, f.from(attackers[0], "/oauth2/token", f.rsID, "wrong-again", url.Values{"grant_type": {"client_credentials"}}), "attacker after the id's failure budget")
	})
}

// TestIntrospectionNotThrottledPerAddress: an authenticated resource server
// introspecting from one address is not held to the per-address budget,
// only to its own (120,000/min by default). With the address budget
// lowered to 100/min, 2,000 introspections in a row all succeed.
func TestIntrospectionNotThrottledPerAddress(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		withDefaultLimits(f)
		f.p.cfg.RateLimitPerIP = 100 // the address budget is not what limits an authenticated client
		tok := f.from("192.0.2.20", "/oauth2/token", f.rsID, f.rsSecret, url.Values{"grant_type": {"client_credentials"}})
		var m map[string]any
		json.Unmarshal(tok.Body.Bytes(), &m)
		at := str(m, "access_token")
		if at == "" {
			t.Fatalf("client_credentials: %d %s", tok.Code, tok.Body)
		}
		var refused, inactive int
		for range 2000 {
			w := f.from("192.0.2.20", "/oauth2/introspect", f.rsID, f.rsSecret, url.Values{"token": {at}})
			switch {
			case w.Code == http.StatusTooManyRequests:
				refused++
			case w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"active":true`):
				inactive++
			}
		}
		if refused != 0 || inactive != 0 {
			t.Fatalf("2,000 introspections from one address: %d refused, %d not active", refused, inactive)
		}
	})
}

// TestUnauthenticatedRequestsStillLimitedPerAddress: requests that
// authenticate no confidential client (here a public client id that does
// not exist and malformed forms) stay under the per-address budget.
func TestUnauthenticatedRequestsStillLimitedPerAddress(t *testing.T) {
	f := newFixture(t, "sqlite://"+t.TempDir()+"/p.db", "opaque")
	withDefaultLimits(f)
	f.p.cfg.RateLimitPerIP = 5
	for i := range 5 {
		if w := f.from("203.0.113.9", "/oauth2/token", "", "", url.Values{}); w.Code != http.StatusBadRequest {
			t.Fatalf("malformed request %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	assert429(t, f.from("203.0.113.9", "/oauth2/token", "", "", url.Values{}), "6th unauthenticated request")
	if w := f.from("203.0.113.9", "/oauth2/introspect", f.rsID, f.rsSecret, url.Values{"token": {"x"}}); w.Code != http.StatusOK {
		t.Fatalf("the budget is per endpoint: introspection %d", w.Code)
	}
}

// TestClientIDFailureLimitWithoutAddressLimit: the per-id failure limit
// works on its own, with the per-address failure limit off.
func TestClientIDFailureLimitWithoutAddressLimit(t *testing.T) {
	f := newFixture(t, "sqlite://"+t.TempDir()+"/p.db", "opaque")
	f.p.cfg.RateLimitFailedAuthPerClient = 3
	for i := range 3 {
		if w := f.from("198.51.100.9", "/oauth2/token", f.rsID, "wrong", url.Values{"grant_type": {"client_credentials"}}); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	assert429(t, f.from("198.51.100.9", "/oauth2/token", f.rsID, "wrong", url.Values{"grant_type": {"client_credentials"}}), "4th failure for the id")
	if w := f.from("192.0.2.30", "/oauth2/token", f.rsID, f.rsSecret, url.Values{"grant_type": {"client_credentials"}}); w.Code != http.StatusOK {
		t.Fatalf("owner from a clean address: %d %s", w.Code, w.Body)
	}
}

// TestOwnerSharingAnAttackersAddress: the resource server sits behind the
// same NAT or proxy address as someone sending wrong secrets — for its own
// client id and for others — until that address is over every failure
// budget. The right secret from that very address still succeeds; the
// wrong ones get 429.
func TestOwnerSharingAnAttackersAddress(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db string) {
		f := newFixture(t, db, "opaque")
		withDefaultLimits(f)
		shared := "2001:db8:7:7::1"
		for i := range 120 {
			id := f.rsID
			if i%2 == 1 {
				id = fmt.Sprintf("other-%d", i)
			}
			f.from(shared, "/oauth2/token", id, "wrong", url.Values{"grant_type": {"client_credentials"}})
		}
		assert429(t, f.from(shared, "/oauth2/token", f.rsID, "wrong", url.Values{"grant_type": {"client_credentials"}}), "wrong secret over the budgets")
		// Another address in the same IPv6 /64 is the same subscriber.
		assert429(t, f.from("2001:db8:7:7::2", "/oauth2/token", "other-x", "wrong", url.Values{"grant_type": {"client_credentials"}}), "a neighbour in the /64")
		for _, p := range []string{"/oauth2/introspect", "/oauth2/token"} {
			if w := f.from(shared, p, f.rsID, f.rsSecret, url.Values{"token": {"pst_at_x"}, "grant_type": {"client_credentials"}}); w.Code != http.StatusOK {
				t.Fatalf("owner from the shared address on %s: %d %s", p, w.Code, w.Body)
			}
		}
	})
}
