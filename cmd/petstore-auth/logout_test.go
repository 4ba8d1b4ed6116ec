package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const appSignedOut = "https://app.example/signed-out"

// rpReceiver is a relying party's backchannel_logout_uri.
type rpReceiver struct {
	mu     sync.Mutex
	tokens []string
	srv    *httptest.Server
}

func newRPReceiver(t *testing.T) *rpReceiver {
	r := &rpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_ = req.ParseForm()
		r.mu.Lock()
		r.tokens = append(r.tokens, req.PostForm.Get("logout_token"))
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait returns the tokens once n have arrived; the worker runs in the
// background, so this polls (a deadline, not a timing assertion).
func (r *rpReceiver) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		got := append([]string(nil), r.tokens...)
		r.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("the receiver got %d logout tokens, want %d", len(got), n)
			}
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logoutClaims verifies a logout token's signature with go-oidc against the
// server's JWKS and returns its claims.
func logoutClaims(t *testing.T, base, token string) map[string]any {
	t.Helper()
	payload, err := oidc.NewRemoteKeySet(context.Background(), base+"/.well-known/jwks.json").VerifySignature(context.Background(), token)
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// An operator revokes a user's grants with the CLI (another process in
// real life: it only writes the outbox); the running server delivers a
// logout token to the client's backchannel_logout_uri, and audits it.
func TestBackchannelLogoutAfterGrantRevoke(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			rp := newRPReceiver(t)
			e := newFlowEnv(t, db, "--backchannel-logout-uri", rp.srv.URL+"/bc")
			b := newBrowser(t, e.ts.URL)
			v := oauth2.GenerateVerifier()
			p := e.signIn(t, b, b.Get(e.conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets"))))
			q := callback(t, e.consent(t, b, p, "allow", false, "read:pets"))
			if _, err := e.conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(v)); err != nil {
				t.Fatal(err)
			}
			if out, err := cli(t, "", "grant", "revoke", "--user", "alice@example.com"); err != nil {
				t.Fatal(out, err)
			}
			c := logoutClaims(t, e.ts.URL, rp.wait(t, 1)[0])
			alice, err := e.server.Store.UserByEmail(context.Background(), "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			events, _ := c["events"].(map[string]any)
			if aud, _ := c["aud"].([]any); c["sub"] != alice.ID || len(aud) != 1 || aud[0] != e.client.ClientID ||
				events["http://schemas.openid.net/event/backchannel-logout"] == nil || c["nonce"] != nil {
				t.Fatalf("logout token claims: %v", c)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				_, n, err := e.server.Store.ListAudit(context.Background(), identity.AuditFilter{Type: identity.EventBackchannelLogoutDelivered})
				if err == nil && n == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no %s audit event (%d, %v)", identity.EventBackchannelLogoutDelivered, n, err)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// RP-Initiated Logout without a hint over real HTTP: the confirmation
// page, then the registered URI with state, and the session is over on the
// server (a copy of the cookie is dead). A URI that is not registered is
// never followed.
func TestEndSessionConfirmedEndsServerSession(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			e := newFlowEnv(t, db, "--post-logout-redirect-uri", appSignedOut)
			b := newBrowser(t, e.ts.URL)
			e.signIn(t, b, b.Get(e.ts.URL+"/login"))
			u, _ := url.Parse(e.ts.URL)
			thief := newBrowser(t, e.ts.URL)
			thief.Jar().SetCookies(u, b.Jar().Cookies(u))

			bad := b.Get(e.ts.URL + "/oauth2/logout?" + url.Values{"client_id": {e.client.ClientID},
				"post_logout_redirect_uri": {appSignedOut + "/"}}.Encode())
			if bad.Status != http.StatusBadRequest || bad.Location != "" {
				t.Fatalf("unregistered URI: HTTP %d to %q", bad.Status, bad.Location)
			}
			p := b.Get(e.ts.URL + "/oauth2/logout?" + url.Values{"client_id": {e.client.ClientID},
				"post_logout_redirect_uri": {appSignedOut}, "state": {"rp-state"}}.Encode())
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "Sign out of PetStore?") || !strings.Contains(p.Body, "MyApp &lt;b&gt;") {
				t.Fatalf("confirmation page: HTTP %d\n%.1500s", p.Status, p.Body)
			}
			done := b.Post(e.ts.URL+"/oauth2/logout/confirm", webtest.Hidden(p.Body))
			if done.Location != appSignedOut+"?state=rp-state" {
				t.Fatalf("after confirming: HTTP %d to %q", done.Status, done.Location)
			}
			if acct := thief.Get(e.ts.URL + "/account"); strings.Contains(acct.Body, "alice@example.com") {
				t.Fatal("a copy of the session cookie still works after end_session")
			}
		})
	}
}

// The CLI registers and changes a client's logout settings, and refuses
// bad ones with the rule of identity.Client.Validate.
func TestCLIClientLogoutSettings(t *testing.T) {
	setEnv(t, "sqlite://"+t.TempDir()+"/a.db")
	c := createClient(t, "--name", "RP", "--redirect-uri", appCallback, "--post-logout-redirect-uri", appSignedOut,
		"--post-logout-redirect-uri", "https://app.example/bye", "--backchannel-logout-uri", "https://app.example/bc")
	show := func() map[string]any {
		t.Helper()
		out, err := cli(t, "", "client", "show", c.ClientID, "-o", "json")
		if err != nil {
			t.Fatal(out, err)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(out, err)
		}
		return v
	}
	v := show()
	if uris, _ := v["post_logout_redirect_uris"].([]any); len(uris) != 2 || uris[0] != appSignedOut || v["backchannel_logout_uri"] != "https://app.example/bc" {
		t.Fatalf("after create: %v", v)
	}
	if out, err := cli(t, "", "client", "update", c.ClientID, "--post-logout-redirect-uri", "https://app.example/new",
		"--backchannel-logout-session-required"); err != nil {
		t.Fatal(out, err)
	}
	v = show()
	if uris, _ := v["post_logout_redirect_uris"].([]any); len(uris) != 1 || uris[0] != "https://app.example/new" ||
		v["backchannel_logout_session_required"] != true || v["backchannel_logout_uri"] != "https://app.example/bc" {
		t.Fatalf("after update: %v", v)
	}
	for _, bad := range [][]string{{"--post-logout-redirect-uri", "https://app.example/x#frag"}, {"--backchannel-logout-uri", "http://app.example/bc"}} {
		if out, err := cli(t, "", append([]string{"client", "update", c.ClientID}, bad...)...); err == nil || !strings.Contains(err.Error()+out, "URI") {
			t.Errorf("update %v: %v %s", bad, err, out)
		}
	}
}
