package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIRegistrationTokens: registration-token create prints the token
// once (pst_rit_…), list shows its prefix and uses but never the token,
// revoke marks it revoked; client list --registered lists no operator
// client.
func TestCLIRegistrationTokens(t *testing.T) {
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	out, err := cli(t, "", "registration-token", "create", "--expires", "2h", "--uses", "3", "--output", "json")
	if err != nil {
		t.Fatal(out, err)
	}
	var created struct {
		Token, ID string
		MaxUses   int `json:"max_uses"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || !strings.HasPrefix(created.Token, "pst_rit_") || created.MaxUses != 3 {
		t.Fatalf("create: %s (%v)", out, err)
	}
	out, _ = cli(t, "", "registration-token", "list")
	if !strings.Contains(out, created.ID) || strings.Contains(out, created.Token) || !strings.Contains(out, "0/3") {
		t.Errorf("list:\n%s", out)
	}
	if out, err := cli(t, "", "registration-token", "revoke", created.ID); err != nil {
		t.Fatal(out, err)
	}
	out, _ = cli(t, "", "registration-token", "list", "--output", "json")
	if !strings.Contains(out, `"revoked_at"`) {
		t.Errorf("revoked token not marked:\n%s", out)
	}
	if out, err := cli(t, "", "registration-token", "revoke", "rit_nosuch"); err == nil {
		t.Errorf("revoking an unknown token succeeded: %s", out)
	}
	if out, err := cli(t, "", "client", "create", "--name", "Op", "--id", "op", "--public", "--redirect-uri", "https://op.example/cb"); err != nil {
		t.Fatal(out, err)
	}
	out, _ = cli(t, "", "client", "list", "--registered", "--output", "json")
	if strings.Contains(out, `"op"`) {
		t.Errorf("--registered lists an operator client:\n%s", out)
	}
}
