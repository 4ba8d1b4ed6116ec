package securitytest

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
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
			p := b.signIn(b.get(e.as.URL+"/login"), user{Email: s, Password: "whatever-password-1"})
			if p.status != http.StatusUnauthorized {
				t.Fatalf("sign-in as %q: HTTP %d, want 401", s, p.status)
			}
		}
		b := e.browser()
		if p := b.signIn(b.get(e.as.URL+"/login"), user{Email: e.bob.Email, Password: "Wrong-Password-For-Bob"}); p.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: HTTP %d", p.status)
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
