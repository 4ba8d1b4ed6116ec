package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/admin"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// pageEnv is env with the console mounted on a real HTTP server, the
// repository's templates and a test-only sign-in route.
type pageEnv struct {
	*env
	srv *httptest.Server
}

func newPageEnv(t *testing.T) *pageEnv {
	t.Helper()
	e := newEnv(t)
	kit, err := ui.New(ui.Config{FS: webtest.Files(), Secret: []byte(strings.Repeat("s", 32)), Insecure: true,
		Required: admin.Templates})
	if err != nil {
		t.Fatal(err)
	}
	e.h.UI = kit
	e.router = mux.NewRouter()
	e.h.Mount(e.router)
	e.router.PathPrefix("/static/").Handler(kit.Static())
	// Signing in is pkg/web's job; here the session is simply issued.
	e.router.Handle("/test/signin/{id}", kit.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := e.st.UserByID(r.Context(), mux.Vars(r)["id"])
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		if err := kit.SignIn(w, r, u.ID, u.Email, identity.SessionVersion(u), false); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})))
	pe := &pageEnv{env: e, srv: httptest.NewServer(e.router)}
	t.Cleanup(pe.srv.Close)
	return pe
}

// browser is a cookie-keeping client that does not follow redirects,
// signed in as signedInAs unless it is nil.
func (e *pageEnv) browser(signedInAs *identity.User) *webtest.Browser {
	e.t.Helper()
	b := webtest.NewBrowser(e.t, e.srv.URL, webtest.BrowserOptions{})
	if signedInAs != nil {
		b.Get("/test/signin/" + signedInAs.ID)
	}
	return b
}

func TestConsoleNeedsAnAdminSession(t *testing.T) {
	e := newPageEnv(t)
	p := e.browser(nil).Get("/admin/grants?user=x").Want(t, http.StatusSeeOther)
	if p.Location != "/login?return_to="+url.QueryEscape("/admin/grants?user=x") {
		t.Errorf("signed out: redirect to %q", p.Location)
	}
	p = e.browser(e.user).Get("/admin").Want(t, http.StatusForbidden)
	if !strings.Contains(p.Body, "Admins only") || strings.Contains(p.Body, "Dashboard") {
		t.Errorf("non-admin page:\n%s", p.Body)
	}
	admin := e.browser(e.admin)
	admin.Get("/admin").Want(t, http.StatusOK)

	// Disabling the admin (or any change to the account) ends the session
	// at the next request.
	e.admin.Disabled = true
	if err := e.st.UpdateUser(context.Background(), e.admin); err != nil {
		t.Fatal(err)
	}
	if p := admin.Get("/admin"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
		t.Errorf("disabled admin: status %d location %q; want a redirect to login", p.Status, p.Location)
	}
}

// TestEveryConsolePageRenders walks the router and opens every console
// page (lists, details, confirmations) as an admin.
func TestEveryConsolePageRenders(t *testing.T) {
	e := newPageEnv(t)
	ctx := context.Background()
	e.mustClient("shop")
	g := e.mustGrant(e.user.ID, "shop")
	key := &identity.APIKey{OwnerID: e.user.ID, Name: "ci", Env: identity.EnvTest, Prefix: "sk_test_pg01", Hash: []byte("pg"), Scopes: []string{"read:pets"}}
	if err := e.st.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	_ = e.st.RecordAudit(ctx, &identity.AuditEvent{Type: "login.failure", Outcome: "failure", UserID: e.user.ID,
		Details: map[string]string{"reason": "bad_password"}})
	b := e.browser(e.admin)
	ids := map[string]string{"clients": "shop", "users": e.user.ID, "grants": g.ID, "api-keys": key.ID}
	var paths []string
	_ = e.router.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, _ := rt.GetPathTemplate()
		methods, _ := rt.GetMethods()
		if !strings.HasPrefix(tpl, "/admin") || strings.HasPrefix(tpl, admin.APIPrefix) || tpl == "/admin/" || len(methods) == 0 || methods[0] != "GET" {
			return nil
		}
		section := strings.Split(strings.TrimPrefix(tpl, "/admin/"), "/")[0]
		paths = append(paths, strings.ReplaceAll(tpl, "{id}", ids[section]))
		return nil
	})
	paths = append(paths, "/admin/grants/revoke?user_id="+e.user.ID, "/admin/audit?outcome=failure&user=pat@example.com",
		"/admin/grants?user=pat@example.com&client=shop&all=on", "/admin/users?q=pat")
	if len(paths) < 14 {
		t.Fatalf("walked only %d pages: %v", len(paths), paths)
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			p := b.Get(path)
			if path == "/admin/grants/revoke" {
				p.Want(t, http.StatusBadRequest) // needs a user or a client
				return
			}
			p.Want(t, http.StatusOK)
			for _, want := range []string{"Admin console", `href="/static/admin.css?v=`, "aria-current=\"page\""} {
				if !strings.Contains(p.Body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
	// Filters show what they found.
	if p := b.Get("/admin/audit?type=login.failure"); !strings.Contains(p.Body, "bad_password") || !strings.Contains(p.Body, "pat@example.com") {
		t.Error("the audit page does not show the filtered event with its user")
	}
	if p := b.Get("/admin/grants?user=pat@example.com"); !strings.Contains(p.Body, "/admin/grants/"+g.ID+"/revoke") {
		t.Error("the grants page does not offer to revoke the user's grant")
	}
	if p := b.Get("/admin/grants?user=nobody@example.com"); !strings.Contains(p.Body, "No user nobody@example.com") {
		t.Error("an unknown user in the filter is not reported")
	}
}

// TestRevokeGrantFromThePage: the list links to a confirmation; only its
// POST with the session's CSRF token revokes, and the effect is the API's:
// grant revoked, refresh and access tokens dead, one audit event.
func TestRevokeGrantFromThePage(t *testing.T) {
	e := newPageEnv(t)
	e.mustClient("shop")
	g := e.mustGrant(e.user.ID, "shop")
	e.mustTokens(g, "page")
	b := e.browser(e.admin)

	confirm := b.Get("/admin/grants/"+g.ID+"/revoke?back="+url.QueryEscape("/admin/users/"+e.user.ID)).Want(t, http.StatusOK)
	if !strings.Contains(confirm.Body, "Revoke the access pat@example.com gave to shop?") {
		t.Errorf("confirmation page:\n%s", confirm.Body)
	}
	if got, _ := e.st.GrantByID(context.Background(), g.ID); got.RevokedAt != nil {
		t.Fatal("showing the confirmation revoked the grant")
	}
	token := confirm.CSRF(t)
	before := len(e.audit())

	for name, form := range map[string]url.Values{
		"no token":    {},
		"wrong token": {"csrf_token": {"forged"}},
		"other token": {"csrf_token": {e.browser(e.admin).Get("/admin").CSRF(t)}},
	} {
		t.Run(name, func(t *testing.T) {
			b.Post("/admin/grants/"+g.ID+"/revoke", form).Want(t, http.StatusForbidden)
		})
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/grants/"+g.ID+"/revoke", strings.NewReader("csrf_token="+url.QueryEscape(token)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	b.Do(req).Want(t, http.StatusForbidden)
	if got, _ := e.st.GrantByID(context.Background(), g.ID); got.RevokedAt != nil {
		t.Fatal("a refused POST revoked the grant")
	}

	p := b.Post("/admin/grants/"+g.ID+"/revoke", url.Values{"csrf_token": {token}, "back": {"/admin/users/" + e.user.ID}}).Want(t, http.StatusSeeOther)
	if p.Location != "/admin/users/"+e.user.ID+"?done=grant_revoked" {
		t.Errorf("redirect to %q", p.Location)
	}
	e.assertRevoked(g, "page")
	events := e.audit()[before:]
	if len(events) != 1 || events[0].Type != "grant.revoked" || events[0].ActorID != e.admin.ID ||
		events[0].UserID != e.user.ID || events[0].ClientID != "shop" || events[0].Details["via"] != "console" {
		t.Errorf("audit after page revoke: %+v", events)
	}
	if p := b.Get(p.Location); !strings.Contains(p.Body, "The grant was revoked") {
		t.Error("no notice after revoking")
	}
	// An open redirect through "back" is refused.
	g2 := e.mustGrant(e.admin.ID, "shop")
	p = b.Post("/admin/grants/"+g2.ID+"/revoke", url.Values{"csrf_token": {token}, "back": {"//evil.example/admin"}}).Want(t, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location, "/admin/grants?") {
		t.Errorf("back=//evil.example: redirect to %q", p.Location)
	}
}

func TestRevokeAllGrantsOfAUserFromThePage(t *testing.T) {
	e := newPageEnv(t)
	e.mustClient("shop")
	e.mustClient("vet")
	g1, g2 := e.mustGrant(e.user.ID, "shop"), e.mustGrant(e.user.ID, "vet")
	kept := e.mustGrant(e.admin.ID, "shop")
	e.mustTokens(g1, "1")
	e.mustTokens(g2, "2")
	b := e.browser(e.admin)
	confirm := b.Get("/admin/grants/revoke?user_id="+e.user.ID).Want(t, http.StatusOK)
	if !strings.Contains(confirm.Body, "Revoke 2 active grants of pat@example.com?") {
		t.Errorf("confirmation:\n%s", confirm.Body)
	}
	b.Post("/admin/grants/revoke", url.Values{"csrf_token": {confirm.CSRF(t)}, "user_id": {e.user.ID}}).Want(t, http.StatusSeeOther)
	e.assertRevoked(g1, "1")
	e.assertRevoked(g2, "2")
	if g, _ := e.st.GrantByID(context.Background(), kept.ID); g.RevokedAt != nil {
		t.Error("another user's grant was revoked")
	}
}

func TestCreateClientPage(t *testing.T) {
	e := newPageEnv(t)
	b := e.browser(e.admin)
	token := b.Get("/admin/clients").Want(t, http.StatusOK).CSRF(t)

	p := b.Post("/admin/clients", url.Values{"csrf_token": {token}, "name": {"Evil"}, "id": {"evil"}, "kind": {"web"},
		"redirect_uris": {"javascript:alert(document.cookie)"}, "scopes": {"read:pets"}, "token_format": {"opaque"}}).Want(t, http.StatusBadRequest)
	if !strings.Contains(p.Body, "redirect URI") || !strings.Contains(p.Body, `value="Evil"`) {
		t.Errorf("the form is not shown again with the problem and the input:\n%.3000s", p.Body)
	}
	if _, err := e.st.ClientByID(context.Background(), "evil"); !identity.IsNotFound(err) {
		t.Error("a client with a javascript: redirect URI was stored")
	}

	p = b.Post("/admin/clients", url.Values{"csrf_token": {token}, "name": {"Vet Portal"}, "id": {"vet-portal"}, "kind": {"web"},
		"redirect_uris": {"https://vet.example/cb\r\nhttps://vet.example/cb2"}, "scopes": {"read:pets", "offline_access"},
		"token_format": {"jwt"}}).Want(t, http.StatusCreated)
	secret := regexp.MustCompile(`pst_cs_[A-Za-z0-9_-]{43}`).FindString(p.Body)
	if secret == "" || !strings.Contains(p.Body, "will not be shown again") {
		t.Fatalf("the secret is not shown once:\n%.3000s", p.Body)
	}
	c, err := e.st.ClientByID(context.Background(), "vet-portal")
	if err != nil || len(c.RedirectURIs) != 2 || c.TokenFormat != "jwt" {
		t.Fatalf("stored client %+v, %v", c, err)
	}
	if again := b.Get("/admin/clients/vet-portal").Want(t, http.StatusOK); strings.Contains(again.Body, secret) {
		t.Error("the client page shows the secret again")
	}
}

func TestDisableUserFromThePage(t *testing.T) {
	e := newPageEnv(t)
	e.mustClient("shop")
	g := e.mustGrant(e.user.ID, "shop")
	e.mustTokens(g, "u")
	victim := e.browser(e.user)
	victim.Get("/test/signin/" + e.user.ID)
	b := e.browser(e.admin)
	confirm := b.Get("/admin/users/"+e.user.ID+"/disable").Want(t, http.StatusOK)
	if !strings.Contains(confirm.Body, "1 connected app loses access") {
		t.Errorf("confirmation:\n%s", confirm.Body)
	}
	b.Post("/admin/users/"+e.user.ID+"/disable", url.Values{"csrf_token": {confirm.CSRF(t)}}).Want(t, http.StatusSeeOther)
	e.assertRevoked(g, "u")
	if u, _ := e.st.UserByID(context.Background(), e.user.ID); !u.Disabled {
		t.Error("user not disabled")
	}
	// Their own session is over too: the page they hold redirects to login.
	if p := victim.Get("/admin"); p.Status != http.StatusSeeOther {
		t.Errorf("disabled user's session still answers %d", p.Status)
	}
	// An admin cannot disable their own account from the console either.
	self := b.Get("/admin/users/"+e.admin.ID).Want(t, http.StatusOK)
	if strings.Contains(self.Body, "/admin/users/"+e.admin.ID+"/disable") {
		t.Error("the console offers to disable your own account")
	}
	b.Post("/admin/users/"+e.admin.ID+"/disable", url.Values{"csrf_token": {self.CSRF(t)}}).Want(t, http.StatusBadRequest)
}

func TestResetPasswordPageNeverEchoesThePassword(t *testing.T) {
	e := newPageEnv(t)
	b := e.browser(e.admin)
	token := b.Get("/admin/users/" + e.user.ID).CSRF(t)
	p := b.Post("/admin/users/"+e.user.ID+"/password", url.Values{"csrf_token": {token},
		"password": {"new secret words"}, "password_confirm": {"new secret wordz"}}).Want(t, http.StatusBadRequest)
	if !strings.Contains(p.Body, "The two passwords differ") || strings.Contains(p.Body, "new secret") {
		t.Errorf("mismatch page:\n%.2000s", p.Body)
	}
	b.Post("/admin/users/"+e.user.ID+"/password", url.Values{"csrf_token": {token},
		"password": {"new secret words"}, "password_confirm": {"new secret words"}}).Want(t, http.StatusSeeOther)
	if strings.Contains(e.logs.String(), "new secret words") || strings.Contains(e.dumpAuditTable(), "new secret words") {
		t.Error("the new password reached the log or the audit table")
	}
}

// TestClientOriginsOnThePage: the console form sets a public client's
// allowed origins and shows them again on the client's page.
func TestClientOriginsOnThePage(t *testing.T) {
	e := newPageEnv(t)
	b := e.browser(e.admin)
	token := b.Get("/admin/clients").Want(t, http.StatusOK).CSRF(t)
	p := b.Post("/admin/clients", url.Values{"csrf_token": {token}, "name": {"Bad SPA"}, "id": {"bad-spa"}, "kind": {"native"},
		"redirect_uris": {"https://spa.example/cb"}, "allowed_origins": {"https://static.example/path"}, "scopes": {"read:pets"},
		"token_format": {"opaque"}}).Want(t, http.StatusBadRequest)
	if !strings.Contains(p.Body, "without path") || !strings.Contains(p.Body, "https://static.example/path") {
		t.Errorf("the form is not shown again with the problem and the input:\n%.3000s", p.Body)
	}
	b.Post("/admin/clients", url.Values{"csrf_token": {token}, "name": {"SPA"}, "id": {"spa"}, "kind": {"native"},
		"redirect_uris": {"https://spa.example/cb"}, "allowed_origins": {"https://static.example\r\nhttp://127.0.0.1:5173"}, "scopes": {"read:pets"},
		"token_format": {"opaque"}}).Want(t, http.StatusCreated)
	c, err := e.st.ClientByID(context.Background(), "spa")
	if err != nil || strings.Join(c.AllowedOrigins, " ") != "https://static.example http://127.0.0.1:5173" {
		t.Fatalf("stored client %+v, %v", c, err)
	}
	page := b.Get("/admin/clients/spa").Want(t, http.StatusOK)
	if !strings.Contains(page.Body, `name="allowed_origins"`) || !strings.Contains(page.Body, "http://127.0.0.1:5173") {
		t.Errorf("client page does not show the allowed origins:\n%.3000s", page.Body)
	}
	token = page.CSRF(t)
	b.Post("/admin/clients/spa", url.Values{"csrf_token": {token}, "name": {"SPA"}, "redirect_uris": {"https://spa.example/cb"},
		"allowed_origins": {""}, "scopes": {"read:pets"}, "token_format": {"opaque"}}).Want(t, http.StatusSeeOther)
	if c, _ := e.st.ClientByID(context.Background(), "spa"); len(c.AllowedOrigins) != 0 {
		t.Errorf("clearing the field left %v", c.AllowedOrigins)
	}
}

// WB-16 in the console: creating an account or resetting a password to the
// account's own email is refused with the policy's message.
func TestConsoleRefusesPasswordEqualToEmail(t *testing.T) {
	e := newPageEnv(t)
	b := e.browser(e.admin)
	token := b.Get("/admin/users").CSRF(t)
	p := b.Post("/admin/users", url.Values{"csrf_token": {token}, "email": {"console.person@example.com"},
		"password": {"Console.Person@example.com"}, "password_confirm": {"Console.Person@example.com"}}).Want(t, http.StatusBadRequest)
	if !strings.Contains(p.Body, "must not be the email address") {
		t.Errorf("create page:\n%.2000s", p.Body)
	}
	if _, err := e.st.UserByEmail(context.Background(), "console.person@example.com"); err == nil {
		t.Fatal("the refused account was created")
	}
	token = b.Get("/admin/users/" + e.user.ID).CSRF(t)
	p = b.Post("/admin/users/"+e.user.ID+"/password", url.Values{"csrf_token": {token},
		"password": {strings.ToUpper(e.user.Email)}, "password_confirm": {strings.ToUpper(e.user.Email)}}).Want(t, http.StatusBadRequest)
	if !strings.Contains(p.Body, "must not be the email address") {
		t.Errorf("reset page:\n%.2000s", p.Body)
	}
	if u, _ := e.st.UserByID(context.Background(), e.user.ID); password.Verify(u.PasswordHash, strings.ToUpper(e.user.Email)) {
		t.Error("the refused reset changed the password")
	}
}

// TestProfileFromThePage: the console shows a user's display name and
// verified-email flag and edits them through the operator service (bad
// input changes nothing); the users list shows the name.
func TestProfileFromThePage(t *testing.T) {
	e := newPageEnv(t)
	b := e.browser(e.admin)
	token := b.Get("/admin/users/" + e.user.ID).CSRF(t)
	b.Post("/admin/users/"+e.user.ID+"/profile", url.Values{"csrf_token": {token},
		"name": {"Alice \u202Eevil"}, "email_verified": {"on"}}).Want(t, http.StatusBadRequest)
	if u, _ := e.st.UserByID(context.Background(), e.user.ID); u.Name != "" || u.EmailVerified {
		t.Fatalf("a refused edit changed the user: %+v", u)
	}
	b.Post("/admin/users/"+e.user.ID+"/profile", url.Values{"csrf_token": {token},
		"name": {"Alice Liddell"}, "email_verified": {"on"}}).Want(t, http.StatusSeeOther)
	if u, _ := e.st.UserByID(context.Background(), e.user.ID); u.Name != "Alice Liddell" || !u.EmailVerified {
		t.Fatalf("after the edit: %+v", u)
	}
	if p := b.Get("/admin/users/"+e.user.ID).Want(t, http.StatusOK); !strings.Contains(p.Body, "Alice Liddell") || !strings.Contains(p.Body, "email verified") {
		t.Errorf("user page does not show the profile:\n%.2000s", p.Body)
	}
	if p := b.Get("/admin/users").Want(t, http.StatusOK); !strings.Contains(p.Body, "Alice Liddell") {
		t.Error("users list does not show the name")
	}
	// The admin's own profile: this browser stays signed in.
	self := b.Get("/admin/users/" + e.admin.ID).CSRF(t)
	b.Post("/admin/users/"+e.admin.ID+"/profile", url.Values{"csrf_token": {self}, "name": {"Ada"}}).Want(t, http.StatusSeeOther)
	b.Get("/admin").Want(t, http.StatusOK)
}
