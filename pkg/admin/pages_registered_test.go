package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// TestRegisteredClientsOnThePage: the console marks self-registered
// clients "unverified", lists only them with filter=registered, and
// disabling one there stops it (the token endpoint no longer knows it).
func TestRegisteredClientsOnThePage(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	e.mustClient("shop")
	reg := &identity.Client{ID: "agent-x1", Name: "Agent X", Public: true, RedirectURIs: []string{"http://127.0.0.1:9/cb"},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"read:pets"}, TokenFormat: "opaque",
		Registration: identity.RegistrationDynamic}
	if err := e.st.CreateClient(ctx, reg); err != nil {
		t.Fatal(err)
	}
	b := e.browser(e.admin)
	all := b.Get("/admin/clients").Want(t, http.StatusOK)
	if !strings.Contains(all.Body, "shop") || !strings.Contains(all.Body, "unverified") {
		t.Fatalf("all clients page:\n%s", all.Body)
	}
	only := b.Get("/admin/clients?filter=registered").Want(t, http.StatusOK)
	if strings.Contains(only.Body, `href="/admin/clients/shop"`) || !strings.Contains(only.Body, `href="/admin/clients/agent-x1"`) {
		t.Errorf("registered filter:\n%s", only.Body)
	}
	confirm := b.Get("/admin/clients/agent-x1/disable").Want(t, http.StatusOK)
	b.Post("/admin/clients/agent-x1/disable", url.Values{"csrf_token": {confirm.CSRF(t)}}).Want(t, http.StatusSeeOther)
	if _, err := e.st.GetClient(ctx, "agent-x1"); err != fosite.ErrNotFound {
		t.Errorf("a disabled registered client still loads: %v", err)
	}
}
