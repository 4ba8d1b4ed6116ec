package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// TestCLIGoesThroughManage: the CLI applies pkg/manage's rules — the same
// texts as the admin API, the console and the account page (their own
// tests check the same strings) — records one audit event per act with
// via=cli, and prints manage's views with the CLI's alias keys.
func TestCLIGoesThroughManage(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "auth.db")
	setEnv(t, db)
	for _, tt := range []struct {
		name, stdin string
		args        []string
		text        string
	}{
		{"password is the email", "Bob@example.com\n", []string{"user", "create", "--email", "bob@example.com", "--password-stdin"},
			"The password must not be the email address."},
		{"key name too long", "", []string{"apikey", "create", "--owner", "alice@example.com", "--scope", "read:pets", "--name", strings.Repeat("é", 65)},
			"The key name has more than 64 characters."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.args[0] == "apikey" {
				if out, err := cli(t, "a long enough passphrase\n", "user", "create", "--email", "alice@example.com", "--password-stdin"); err != nil {
					t.Fatal(out, err)
				}
			}
			_, err := cli(t, tt.stdin, tt.args...)
			if err == nil || friendly(err) != tt.text || exitCode(err) != 2 {
				t.Fatalf("error %v (exit %d), want %q (exit 2)", err, exitCode(err), tt.text)
			}
		})
	}

	out, err := cli(t, "", "client", "create", "--name", "Web", "--id", "web", "--redirect-uri", "https://web.example/cb", "--scope", "read:pets", "-o", "json")
	if err != nil {
		t.Fatal(out, err)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	// manage.DefaultGrantTypes: no refresh_token without offline_access.
	if g, _ := c["grant_types"].([]any); len(g) != 1 || g[0] != "authorization_code" {
		t.Errorf("grant_types %v, want [authorization_code]", c["grant_types"])
	}
	// The admin API's keys, and the CLI's older ones as aliases.
	for _, k := range []string{"id", "client_id", "can_introspect", "introspect", "audience", "cors_origins", "updated_at", "client_secret"} {
		if _, ok := c[k]; !ok {
			t.Errorf("client create -o json lacks %q: %s", k, out)
		}
	}
	if c["id"] != "web" || c["client_id"] != "web" {
		t.Errorf("id %v, client_id %v", c["id"], c["client_id"])
	}
	if out, err := cli(t, "", "client", "delete", "web"); err != nil {
		t.Fatal(out, err)
	}

	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, _, err := st.ListAudit(context.Background(), identity.AuditFilter{Page: identity.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.Details["via"] != identity.ChannelCLI || e.ActorID != "cli" {
			t.Errorf("%s: via %q actor %q, want cli", e.Type, e.Details["via"], e.ActorID)
		}
		got = append(got, e.Type+"/"+e.Outcome)
	}
	slices.Reverse(got) // oldest first
	want := []string{"user.created/failure", "user.created/success", "apikey.created/failure", "client.created/success", "client.deleted/success"}
	if !slices.Equal(got, want) {
		t.Errorf("audit events %v, want %v", got, want)
	}
}

// TestCLIUserAndClientLifecycle: the commands that reach the remaining
// actions of pkg/manage — set a password (policy for the account's
// email), disable and enable a user, rotate a secret, disable a client.
func TestCLIUserAndClientLifecycle(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "auth.db")
	setEnv(t, db)
	if out, err := cli(t, "a long enough passphrase\n", "user", "create", "--email", "pat@example.com", "--password-stdin"); err != nil {
		t.Fatal(out, err)
	}
	if _, err := cli(t, "pat@example.com\n", "user", "set-password", "PAT@example.com", "--password-stdin"); err == nil ||
		friendly(err) != "The password must not be the email address." {
		t.Fatalf("set-password to the email: %v", err)
	}
	if out, err := cli(t, "another long passphrase\n", "user", "set-password", "pat@example.com", "--password-stdin"); err != nil {
		t.Fatal(out, err)
	}
	// An unknown email stops at the lookup, before any action (no event).
	if _, err := cli(t, "", "user", "disable", "nobody@example.com"); exitCode(err) != 3 {
		t.Fatalf("disable unknown user: %v", err)
	}
	out, err := cli(t, "", "user", "disable", "pat@example.com", "-o", "json")
	if err != nil || !strings.Contains(out, `"disabled": true`) {
		t.Fatal(out, err)
	}
	if _, err := cli(t, "", "apikey", "create", "--owner", "pat@example.com", "--scope", "read:pets"); err == nil || !strings.Contains(friendly(err), "disabled") {
		t.Fatalf("a key for a disabled user: %v", err)
	}
	if out, err := cli(t, "", "user", "enable", "pat@example.com"); err != nil || !strings.Contains(out, "enabled pat@example.com") {
		t.Fatal(out, err)
	}

	svc := createClient(t, "--name", "Svc", "--id", "svc", "--scope", "read:pets")
	out, err = cli(t, "", "client", "rotate-secret", "svc", "-o", "json")
	var rotated created
	if err != nil || json.Unmarshal([]byte(out), &rotated) != nil || rotated.ClientSecret == "" || rotated.ClientSecret == svc.ClientSecret {
		t.Fatalf("rotate-secret: %s %v", out, err)
	}
	if out, err := cli(t, "", "client", "disable", "svc"); err != nil || !strings.Contains(out, "disabled client svc") {
		t.Fatal(out, err)
	}
	if _, err := cli(t, "", "client", "create", "--name", "Pub", "--id", "pub", "--public", "--redirect-uri", "https://p.example/cb"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "", "client", "rotate-secret", "pub"); err == nil || friendly(err) != "A public client has no secret." {
		t.Fatalf("rotate a public client: %v", err)
	}

	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, _ := st.UserByEmail(context.Background(), "pat@example.com")
	c, _ := st.ClientByID(context.Background(), "svc")
	if u.Disabled || !c.Disabled {
		t.Fatalf("user disabled %v, client disabled %v", u.Disabled, c.Disabled)
	}
	for typ, want := range map[string]int{"user.password_reset": 2, "user.disabled": 1, "user.enabled": 1, "client.secret_rotated": 2, "client.disabled": 1} {
		_, n, err := st.ListAudit(context.Background(), identity.AuditFilter{Type: typ})
		if err != nil || n != want {
			t.Errorf("%s: %d events, want %d (%v)", typ, n, want, err)
		}
	}
}
