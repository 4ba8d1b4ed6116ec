package admin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
)

// TestConsoleShowsAppOwners: the clients list and a client's page name
// the user who registered an app on the developer page, and "Operator"
// for clients made by an operator.
func TestConsoleShowsAppOwners(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	svc := &manage.Service{Users: e.st, Clients: e.st, Grants: e.st, APIKeys: e.st, Audit: e.st}
	app, _, err := svc.CreateApp(ctx, manage.Actor{ID: e.user.ID, Kind: manage.ActorUser, Channel: identity.ChannelAccount},
		e.user.ID, manage.AppInput{Name: "Pat's Diary", RedirectURIs: []string{"https://diary.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateClient(ctx, manage.CLI, manage.ClientInput{ID: "ops-made", Name: "Ops Made",
		RedirectURIs: []string{"https://ops.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	b := e.browser(e.admin)
	list := b.Get("/admin/clients").Want(t, http.StatusOK).Body
	ownerLink := `<a href="/admin/users/` + e.user.ID + `">` + e.user.Email + `</a>`
	if !strings.Contains(list, ownerLink) || !strings.Contains(list, "Operator") {
		t.Errorf("the clients list does not show the owner and the operator's client:\n%.4000s", list)
	}
	if page := b.Get("/admin/clients/"+app.ID).Want(t, http.StatusOK).Body; !strings.Contains(page, ownerLink) {
		t.Errorf("the client page does not name the owner")
	}
	if page := b.Get("/admin/clients/ops-made").Want(t, http.StatusOK).Body; strings.Contains(page, "developer page") {
		t.Errorf("an operator's client is shown as a developer's")
	}
}

// TestConsoleRotateWithGrace: the console's rotation asks for a grace
// period and stores the old secret's hash until then.
func TestConsoleRotateWithGrace(t *testing.T) {
	e := newPageEnv(t)
	res := e.do("POST", api+"/clients", credClient, map[string]any{"id": "svc", "name": "Svc"}).want(t, 201)
	old := res.json["client_secret"].(string)
	b := e.browser(e.admin)
	confirm := b.Get("/admin/clients/svc/rotate-secret").Want(t, http.StatusOK)
	if !strings.Contains(confirm.Body, `<select id="choice-grace" name="grace">`) {
		t.Fatalf("the confirmation offers no grace period:\n%.3000s", confirm.Body)
	}
	b.Post("/admin/clients/svc/rotate-secret", url.Values{"csrf_token": {confirm.CSRF(t)}, "grace": {"24h"}}).Want(t, http.StatusOK)
	c, _ := e.st.ClientByID(context.Background(), "svc")
	if c.PreviousSecretExpiresAt == nil || !c.PreviousSecretExpiresAt.Equal(e.now.Add(24*time.Hour)) || !bytes.Equal(c.PreviousSecretHash, hashOf(old)) {
		t.Fatalf("after a rotation with a day's grace: previous hash kept %v, until %v", bytes.Equal(c.PreviousSecretHash, hashOf(old)), c.PreviousSecretExpiresAt)
	}
	b.Post("/admin/clients/svc/rotate-secret", url.Values{"csrf_token": {confirm.CSRF(t)}, "grace": {"720h"}}).Want(t, http.StatusBadRequest)
}

// TestAPIRotateWithGrace: POST /clients/{id}/rotate-secret takes an
// optional {"grace"}: up to 168h; more, or no duration, is 400 and changes
// nothing; no body rotates without grace, as before.
func TestAPIRotateWithGrace(t *testing.T) {
	e := newEnv(t)
	e.do("POST", api+"/clients", credClient, map[string]any{"id": "svc", "name": "Svc"}).want(t, 201)
	res := e.do("POST", api+"/clients/svc/rotate-secret", credClient, map[string]any{"grace": "168h"}).want(t, 200)
	if res.json["rotation_grace_until"] != e.now.Add(168*time.Hour).Format(time.RFC3339) {
		t.Errorf("rotation_grace_until = %v", res.json["rotation_grace_until"])
	}
	before, _ := e.st.ClientByID(context.Background(), "svc")
	for _, g := range []string{"169h", "soon", "-1h"} {
		e.do("POST", api+"/clients/svc/rotate-secret", credClient, map[string]any{"grace": g}).want(t, 400)
	}
	if after, _ := e.st.ClientByID(context.Background(), "svc"); !bytes.Equal(after.SecretHash, before.SecretHash) {
		t.Fatal("a refused rotation changed the secret")
	}
	e.do("POST", api+"/clients/svc/rotate-secret", credClient, nil).want(t, 200)
	if c, _ := e.st.ClientByID(context.Background(), "svc"); c.PreviousSecretHash != nil || c.PreviousSecretExpiresAt != nil {
		t.Error("a rotation without grace kept the previous secret")
	}
}

func hashOf(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
