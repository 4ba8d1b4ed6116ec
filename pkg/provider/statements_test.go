package provider

import (
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// TestStatementsPerGrant pins how many SQL statements each endpoint sends,
// with the client cache cold, as upper bounds: a change that adds a round
// trip fails here. BEGIN/COMMIT are not counted, SAVEPOINT/RELEASE are;
// audit inserts count (the fixture records audit events in the store). Each
// client row is read once per request, however many stored requests
// (code, PKCE, tokens) name it.
//
// Before issue 13's re-cut, measured the same way: code 14 (clients read 4
// times), code replay 14 (3), refresh 12 (2), client_credentials 3,
// introspection 3, revoke 12 (3). Before issue 17 (flat rotation
// transaction, UPDATE … RETURNING, grant touch memo): code replay 7,
// refresh 13 (2 of them savepoints), revoke 10. A revocation now also
// queues its security event (one INSERT … SELECT over the streams), so code
// replay and revoke each carry one statement more than that work saved.
//
// It runs on both databases: on PostgreSQL each statement is a round trip
// (refresh: 9, plus BEGIN and COMMIT).
func TestStatementsPerGrant(t *testing.T) {
	eachDatabase(t, testStatementsPerGrant)
}

func testStatementsPerGrant(t *testing.T, dbURL string) {
	f := newFixture(t, dbURL, "opaque")
	n := f.st.CountStatements()
	defer n.Stop()
	// measure runs send with a cold client cache and returns what it cost.
	measure := func(name string, max, clients int, send func()) {
		t.Helper()
		f.advance(store.DefaultClientCacheTTL + time.Second)
		n.Reset()
		send()
		got, byTable := n.Total(), n.ByTable()
		t.Logf("%s: %d statements %v", name, got, byTable)
		if got > max {
			t.Errorf("%s: %d statements, want at most %d (%v)", name, got, max, byTable)
		}
		if byTable["clients"] > clients {
			t.Errorf("%s: %d client reads, want one per client involved (%d)", name, byTable["clients"], clients)
		}
	}
	v := oauth2.GenerateVerifier()
	code := f.authorize(v, "read:pets", "offline_access")
	var tokens map[string]any
	// 10 before the exchange read its code's row once (store.WithCodeMemo).
	measure("authorization_code", 8, 1, func() {
		var status int
		if status, tokens = f.exchange(code, v); status != 200 {
			t.Fatalf("exchange: %d %v", status, tokens)
		}
	})
	measure("authorization_code replay", 7, 1, func() {
		if status, body := f.exchange(code, v); status != 400 {
			t.Fatalf("replay: %d %v", status, body)
		}
	})
	v = oauth2.GenerateVerifier()
	_, tokens = f.exchange(f.authorize(v, "read:pets", "offline_access"), v)
	measure("refresh_token", 9, 1, func() {
		var status int
		if status, tokens = f.refresh(str(tokens, "refresh_token")); status != 200 {
			t.Fatalf("refresh: %d %v", status, tokens)
		}
	})
	measure("client_credentials", 3, 1, func() {
		res, body := f.post("/oauth2/token", f.rsID, f.rsSecret, url.Values{"grant_type": {"client_credentials"}})
		if res.StatusCode != 200 {
			t.Fatalf("client_credentials: %d %s", res.StatusCode, body)
		}
	})
	// The resource server's row and the token's client's row.
	measure("introspection", 3, 2, func() {
		if !f.active(str(tokens, "access_token")) {
			t.Fatal("introspection: the fresh access token is inactive")
		}
	})
	measure("revoke", 9, 1, func() {
		res, body := f.post("/oauth2/revoke", "web", f.secret, url.Values{"token": {str(tokens, "refresh_token")}})
		if res.StatusCode != 200 {
			t.Fatalf("revoke: %d %s", res.StatusCode, body)
		}
	})
}
