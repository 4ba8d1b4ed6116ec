package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestAPIAndConsoleGoThroughManage: the admin API and the console apply
// pkg/manage's rules — the same error text as the CLI and the account
// page, the same default grant types — and record the same audit types
// with their own channel in via.
func TestAPIAndConsoleGoThroughManage(t *testing.T) {
	e := newPageEnv(t)
	const samePassword = "The password must not be the email address."

	res := e.do("POST", api+"/users", credClient, map[string]any{"email": "bob@example.com", "password": "BOB@example.com"}).want(t, 400)
	if res.json["error_description"] != samePassword {
		t.Errorf("API: %v, want %q", res.json, samePassword)
	}
	b := e.browser(e.admin)
	token := b.Get("/admin/users").Want(t, http.StatusOK).CSRF(t)
	p := b.Post("/admin/users", url.Values{"csrf_token": {token}, "email": {"bob@example.com"}, "password": {"BOB@example.com"}}).Want(t, 400)
	if !strings.Contains(p.Body, samePassword) {
		t.Errorf("console does not say %q", samePassword)
	}

	// manage.DefaultGrantTypes: refresh_token only with offline_access.
	res = e.do("POST", api+"/clients", credClient, map[string]any{"id": "from-api", "name": "From API",
		"redirect_uris": []string{"https://api.example/cb"}, "scopes": []string{"read:pets"}}).want(t, 201)
	if g, _ := res.json["grant_types"].([]any); len(g) != 1 || g[0] != "authorization_code" {
		t.Errorf("API grant types %v", res.json["grant_types"])
	}
	token = b.Get("/admin/clients").Want(t, http.StatusOK).CSRF(t)
	b.Post("/admin/clients", url.Values{"csrf_token": {token}, "name": {"From console"}, "id": {"from-console"}, "kind": {"web"},
		"redirect_uris": {"https://console.example/cb"}, "scopes": {"read:pets"}, "token_format": {"opaque"}}).Want(t, http.StatusCreated)
	b.Post("/admin/clients", url.Values{"csrf_token": {token}, "name": {"Offline"}, "id": {"offline"}, "kind": {"native"},
		"redirect_uris": {"http://127.0.0.1/cb"}, "scopes": {"read:pets", "offline_access"}, "token_format": {"opaque"}}).Want(t, http.StatusCreated)
	for id, want := range map[string][]string{"from-console": {"authorization_code"}, "offline": {"authorization_code", "refresh_token"}} {
		c, err := e.st.ClientByID(context.Background(), id)
		if err != nil || !slices.Equal(c.GrantTypes, want) {
			t.Errorf("console client %s: %v %v, want %v", id, c, err, want)
		}
	}

	var got []string
	for _, ev := range e.audit() {
		got = append(got, ev.Type+"/"+ev.Outcome+"/"+ev.Details["via"])
	}
	want := []string{"user.created/failure/admin_api", "user.created/failure/console", "client.created/success/admin_api",
		"client.created/success/console", "client.created/success/console"}
	if !slices.Equal(got, want) {
		t.Errorf("audit %v, want %v", got, want)
	}
}
