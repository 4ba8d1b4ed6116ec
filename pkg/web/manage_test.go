package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// TestAccountGoesThroughManage: the account page applies pkg/manage's
// API-key rules — the same error text as the CLI, an optional name — and
// its acts are audited as the same types as from the CLI or the admin
// console, with via=account.
func TestAccountGoesThroughManage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	token := b.Get("/account").CSRF(t)
	const sameText = "The key name has more than 64 characters."
	p := b.Post("/account/keys", url.Values{"csrf_token": {token}, "name": {strings.Repeat("é", 65)}, "env": {"test"},
		"scope": {"read:pets"}, "expiry": {"30"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, sameText) {
		t.Fatalf("HTTP %d; want 400 saying %q", p.Status, sameText)
	}
	p = b.Post("/account/keys", url.Values{"csrf_token": {token}, "env": {"test"}, "scope": {"read:pets"}, "expiry": {"30"}})
	if p.Status != http.StatusCreated || len(e.keys.keys) != 1 || e.keys.keys[0].Name != "" {
		t.Fatalf("a key without a name: HTTP %d, keys %+v", p.Status, e.keys.keys)
	}
	if !strings.Contains(b.Get("/account").Body, e.keys.keys[0].Prefix+"…") {
		t.Error("an unnamed key is not listed by its prefix")
	}
	if p := b.Post("/account/grants/grt_404/revoke", url.Values{"csrf_token": {token}}); p.Status != http.StatusNotFound {
		t.Fatalf("revoke unknown grant: HTTP %d", p.Status)
	}
	e.audit.mu.Lock()
	defer e.audit.mu.Unlock()
	var got []string
	for _, ev := range e.audit.events {
		if ev.Details["via"] == identity.ChannelAccount {
			if ev.ActorID != "usr_alice" || ev.IP == "" {
				t.Errorf("%s: actor %q ip %q", ev.Type, ev.ActorID, ev.IP)
			}
			got = append(got, ev.Type+"/"+ev.Outcome)
		}
	}
	want := "apikey.created/failure apikey.created/success grant.revoked/failure"
	if strings.Join(got, " ") != want {
		t.Errorf("account events %v, want %s", got, want)
	}
}
