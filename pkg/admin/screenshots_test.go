package admin_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// TestScreenshots regenerates docs/screenshots/admin-*.png from a seeded
// console in headless Chromium. It runs only when asked:
//
//	PETSTORE_SCREENSHOTS=1 go test ./pkg/admin -run TestScreenshots
func TestScreenshots(t *testing.T) {
	if os.Getenv("PETSTORE_SCREENSHOTS") == "" {
		t.Skip("PETSTORE_SCREENSHOTS not set")
	}
	e := newPageEnv(t)
	e.now = time.Now().UTC()
	grant := seedConsole(t, e)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(1440, 900))
	if p := os.Getenv("CHROMIUM"); p != "" {
		opts = append(opts, chromedp.ExecPath(p))
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+"/test/signin/"+e.admin.ID)); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shots := []struct{ name, path string }{
		{"dashboard", "/admin"},
		{"clients", "/admin/clients"},
		{"client", "/admin/clients/myapp"},
		{"users", "/admin/users"},
		{"user", "/admin/users/" + e.user.ID},
		{"grants", "/admin/grants"},
		{"grant-revoke-confirm", "/admin/grants/" + grant.ID + "/revoke"},
		{"apikeys", "/admin/api-keys"},
		{"audit", "/admin/audit"},
	}
	for _, s := range shots {
		err := chromedp.Do(ctx, chromedp.Navigate(e.srv.URL+s.path), chromedp.WaitVisible(".admin-main"))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "admin-"+s.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// seedConsole fills the store with a believable small deployment and
// returns one of the user's grants.
func seedConsole(t *testing.T, e *pageEnv) *identity.Grant {
	ctx := context.Background()
	type client struct {
		id, name string
		uris     []string
		grants   []string
		scopes   []string
		public   bool
	}
	code := []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken}
	for _, c := range []client{
		{"myapp", "MyApp", []string{"https://myapp.example/callback"}, code, []string{"read:pets", "write:pets", "offline_access"}, false},
		{"petstore-cli", "PetStore CLI", []string{"http://127.0.0.1/callback"}, code, []string{"read:pets", "offline_access"}, true},
		{"vet-portal", "Vet Portal", []string{"https://vets.example/oauth/cb"}, code, []string{"read:pets"}, false},
		{"petstore-api", "PetStore API (resource server)", nil, []string{identity.GrantClientCredentials}, nil, false},
		{"ops-console", "Ops automation", nil, []string{identity.GrantClientCredentials}, []string{"admin"}, false},
	} {
		cl := &identity.Client{ID: c.id, Name: c.name, RedirectURIs: c.uris, GrantTypes: c.grants, Scopes: c.scopes,
			Public: c.public, TokenFormat: identity.TokenFormatOpaque, CanIntrospect: c.id == "petstore-api"}
		if err := e.st.CreateClient(ctx, cl); err != nil {
			t.Fatal(err)
		}
	}
	users := []*identity.User{e.user, e.admin}
	for _, email := range []string{"maria.lopez@example.com", "sam.okafor@example.com", "lee.chen@example.com"} {
		users = append(users, e.mustUser(email, "correct horse battery", false))
	}
	var first *identity.Grant
	for i, u := range users {
		for j, c := range []string{"myapp", "vet-portal", "petstore-cli"} {
			if (i+j)%2 == 1 {
				continue
			}
			g, err := e.st.UpsertGrant(ctx, u.ID, c, []string{"read:pets", "offline_access"}, true)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil && u.ID == e.user.ID {
				first = g
			}
		}
	}
	for i, u := range users[:3] {
		k := &identity.APIKey{OwnerID: u.ID, Name: []string{"Nightly sync", "CI pipeline", "Backup script"}[i],
			Env: []string{identity.EnvLive, identity.EnvTest, identity.EnvLive}[i], Prefix: fmt.Sprintf("sk_live_Q%dx7Lm", i),
			Hash: []byte{byte(i), 1}, Scopes: []string{"read:pets"}}
		if err := e.st.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	events := []identity.AuditEvent{
		{Type: "login.success", Outcome: "success", ActorID: e.user.ID, UserID: e.user.ID, IP: "203.0.113.7"},
		{Type: "consent.granted", Outcome: "success", ActorID: e.user.ID, UserID: e.user.ID, ClientID: "myapp", IP: "203.0.113.7",
			Details: map[string]string{"scopes": "read:pets offline_access"}},
		{Type: "token.issued", Outcome: "success", ActorID: "myapp", UserID: e.user.ID, ClientID: "myapp",
			Details: map[string]string{"grant_type": "authorization_code"}},
		{Type: "login.failure", Outcome: "failure", UserID: users[3].ID, IP: "198.51.100.23",
			Details: map[string]string{"reason": "bad_password", "email": users[3].Email}},
		{Type: "login.failure", Outcome: "failure", IP: "198.51.100.23", Details: map[string]string{"reason": "unknown_user", "email": "admin@example.com"}},
		{Type: "introspection.denied", Outcome: "failure", ActorID: "vet-portal", ClientID: "vet-portal",
			Details: map[string]string{"reason": "not_a_resource_server"}},
		{Type: "admin.client.created", Outcome: "success", ActorID: e.admin.ID, ClientID: "vet-portal", IP: "192.0.2.10",
			Details: map[string]string{"via": "page", "name": "Vet Portal"}},
		{Type: "token.reuse_detected", Outcome: "failure", ActorID: "petstore-cli", UserID: users[2].ID, ClientID: "petstore-cli",
			Details: map[string]string{"family_revoked": "true"}},
	}
	for i := range events {
		events[i].Time = now.Add(time.Duration(i-len(events)) * 7 * time.Minute)
		if err := e.st.RecordAudit(ctx, &events[i]); err != nil {
			t.Fatal(err)
		}
	}
	return first
}
