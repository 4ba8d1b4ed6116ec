package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// TestClientListShowsOwnerAndRotateGrace: `client list` names the owner
// of an app registered on the developer page (owner email, owner_id in
// JSON; "operator" otherwise), and `client rotate-secret --grace` keeps the
// old secret for that long, refusing more than 7 days.
func TestClientListShowsOwnerAndRotateGrace(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "auth.db")
	setEnv(t, db)
	if out, err := cli(t, "correct horse battery\n", "user", "create", "--email", "dev@example.com", "--password-stdin"); err != nil {
		t.Fatal(out, err)
	}
	ops := createClient(t, "--name", "Ops", "--redirect-uri", "https://ops.example/cb")
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByEmail(context.Background(), "dev@example.com")
	if err != nil {
		t.Fatal(err)
	}
	svc := &manage.Service{Users: st, Clients: st, Grants: st, APIKeys: st, Audit: st}
	app, _, err := svc.CreateApp(context.Background(), manage.Actor{ID: u.ID, Kind: manage.ActorUser, Channel: identity.ChannelAccount},
		u.ID, manage.AppInput{Name: "Dev App", RedirectURIs: []string{"https://dev.example/cb"}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	out, err := cli(t, "", "client", "list", "-o", "json")
	if err != nil {
		t.Fatal(out, err)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err, out)
	}
	owners := map[string]string{}
	for _, c := range list {
		owners[c["id"].(string)] = c["owner"].(string) + "|" + c["owner_id"].(string)
	}
	if owners[app.ID] != "dev@example.com|"+u.ID || owners[ops.ClientID] != "|" {
		t.Errorf("owners in client list -o json: %v", owners)
	}
	if out, _ := cli(t, "", "client", "list"); !strings.Contains(out, "dev@example.com") || !strings.Contains(out, "operator") {
		t.Errorf("client list does not show the owners:\n%s", out)
	}

	if out, err := cli(t, "", "client", "rotate-secret", ops.ClientID, "--grace", "200h"); err == nil || !strings.Contains(err.Error(), "between 0 and 7 days") {
		t.Errorf("--grace 200h: %v %s", err, out)
	}
	out, err = cli(t, "", "client", "rotate-secret", ops.ClientID, "--grace", "24h", "-o", "json")
	if err != nil {
		t.Fatal(out, err)
	}
	var rotated map[string]any
	_ = json.Unmarshal([]byte(out), &rotated)
	if rotated["rotation_grace_until"] == nil || rotated["client_secret"] == "" {
		t.Errorf("rotate-secret --grace 24h: %s", out)
	}
}
