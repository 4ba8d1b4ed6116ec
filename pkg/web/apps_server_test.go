package web_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// clock is a test clock the server reads; Add moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	secretRE   = regexp.MustCompile(`id="client-secret"[^>]*>(pst_cs_[A-Za-z0-9_-]+)<`)
	clientIDRE = regexp.MustCompile(`id="client-id"[^>]*>([^<]+)<`)
)

// appsEnv is a real petstore-auth with alice and bob signed in.
type appsEnv struct {
	t          *testing.T
	srv        *servertest.Server
	clk        *clock
	alice, bob servertest.User
	ab, bb     *webtest.Browser // alice's and bob's browsers
}

func newAppsEnv(t *testing.T, dbURL string) *appsEnv {
	clk := &clock{t: time.Now().UTC()}
	e := &appsEnv{t: t, clk: clk, srv: servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Now: clk.Now})}
	e.alice = e.srv.MustUser(t, "alice@example.com", "correct horse battery")
	e.bob = e.srv.MustUser(t, "bob@example.com", "correct horse battery")
	e.ab, e.bb = e.signIn(e.alice), e.signIn(e.bob)
	return e
}

func (e *appsEnv) signIn(u servertest.User) *webtest.Browser {
	b := e.srv.Browser(e.t)
	p := b.Get("/login?return_to=/account/apps")
	p = b.Submit(p, "/login", url.Values{"email": {u.Email}, "password": {u.Password}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Your apps") {
		e.t.Fatalf("sign-in of %s: HTTP %d at %s", u.Email, p.Status, p.URL)
	}
	return b
}

// post submits a form of the page at path (its CSRF token) with fields.
func post(t *testing.T, b *webtest.Browser, path string, fields url.Values) webtest.Page {
	t.Helper()
	form := url.Values{"csrf_token": {b.Get("/account").CSRF(t)}}
	for k, v := range fields {
		form[k] = v
	}
	return b.Post(path, form)
}

// register registers an app as b's user and returns its id and secret.
func (e *appsEnv) register(b *webtest.Browser, name, redirect string) (id, secret string) {
	e.t.Helper()
	p := post(e.t, b, "/account/apps", url.Values{"name": {name}, "kind": {"web"}, "redirect_uris": {redirect}})
	if p.Status != http.StatusCreated {
		e.t.Fatalf("register %s: HTTP %d: %.400s", name, p.Status, p.Body)
	}
	if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		e.t.Errorf("the page showing the secret may be cached: Cache-Control %q", cc)
	}
	m, n := clientIDRE.FindStringSubmatch(p.Body), secretRE.FindStringSubmatch(p.Body)
	if m == nil || n == nil {
		e.t.Fatalf("no client id or secret on the page: %.600s", p.Body)
	}
	return html.UnescapeString(m[1]), n[1]
}

// authenticates reports whether the token revocation endpoint (RFC 7009
// §2.1: it authenticates the client) accepts id with secret.
func (e *appsEnv) authenticates(id, secret string) bool {
	e.t.Helper()
	r := servertest.PostForm(e.t, nil, e.srv.URL+"/oauth2/revoke", servertest.Client{ID: id, Secret: secret},
		url.Values{"token": {"not-a-token"}})
	switch r.Status {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	}
	e.t.Fatalf("revoke as %s: HTTP %d %s", id, r.Status, r.Body)
	return false
}

// TestDeveloperAppsSecretRotation: a user registers an app, its secret
// is shown once, and authenticates the app; after a rotation with a
// 24-hour grace period both secrets work until the grace ends, then only
// the new one. A grace beyond 7 days is refused and changes nothing.
func TestDeveloperAppsSecretRotation(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		e := newAppsEnv(t, dbURL)
		if p := e.ab.Get("/account"); !strings.Contains(p.Body, `href="/account/apps"`) {
			t.Error("the account page does not link to the developer page")
		}
		id, old := e.register(e.ab, "Pet Diary", "https://diary.example/cb")
		for _, path := range []string{"/account/apps", "/account/apps/" + id} {
			if p := e.ab.Get(path); p.Status != http.StatusOK || strings.Contains(p.Body, old) || !strings.Contains(p.Body, "Pet Diary") {
				t.Fatalf("%s: HTTP %d, lists the app %v, shows the secret again %v", path, p.Status,
					strings.Contains(p.Body, "Pet Diary"), strings.Contains(p.Body, old))
			}
		}
		if !e.authenticates(id, old) {
			t.Fatal("the secret shown does not authenticate the app")
		}

		if p := post(t, e.ab, "/account/apps/"+id+"/rotate", url.Values{"grace": {"720h"}}); p.Status != http.StatusBadRequest {
			t.Fatalf("a 30-day grace: HTTP %d", p.Status)
		}
		if !e.authenticates(id, old) {
			t.Fatal("a refused rotation changed the secret")
		}

		p := post(t, e.ab, "/account/apps/"+id+"/rotate", url.Values{"grace": {"24h"}})
		m := secretRE.FindStringSubmatch(p.Body)
		if p.Status != http.StatusOK || m == nil {
			t.Fatalf("rotate: HTTP %d: %.400s", p.Status, p.Body)
		}
		fresh := m[1]
		if !strings.Contains(p.Body, "previous secret keeps working until") {
			t.Error("the new-secret page does not say until when the old one works")
		}
		if !e.authenticates(id, fresh) || !e.authenticates(id, old) {
			t.Fatal("during the grace period both secrets must authenticate the app")
		}
		dump := storetest.Dump(t, e.srv.Store.DB(), dbURL)
		for _, secret := range []string{old, fresh, strings.TrimPrefix(old, identity.PrefixClientSecret), strings.TrimPrefix(fresh, identity.PrefixClientSecret)} {
			if bytes.Contains(dump, []byte(secret)) {
				t.Fatal("a client secret is stored in plain form")
			}
		}
		e.clk.Add(24*time.Hour - time.Second)
		if !e.authenticates(id, old) {
			t.Fatal("the old secret stopped before its grace period ended")
		}
		e.clk.Add(2 * time.Second)
		e.ab = e.signIn(e.alice) // the day ended the sign-in session
		if e.authenticates(id, old) {
			t.Fatal("the old secret still works after its grace period")
		}
		if !e.authenticates(id, fresh) {
			t.Fatal("the new secret does not work after the grace period")
		}

		// Without grace the replaced secret stops at once.
		p = post(t, e.ab, "/account/apps/"+id+"/rotate", url.Values{"grace": {"0"}})
		m = secretRE.FindStringSubmatch(p.Body)
		if p.Status != http.StatusOK || m == nil {
			t.Fatalf("rotate without grace: HTTP %d %s", p.Status, p.Body)
		}
		if e.authenticates(id, fresh) || !e.authenticates(id, m[1]) {
			t.Fatal("a rotation without grace must stop the old secret at once")
		}
		e.wantAudit(id, identity.EventClientCreated, identity.EventClientSecretRotated, identity.EventClientSecretRotated, identity.EventClientSecretRotated)
	})
}

// wantAudit checks the audit events about client id recorded through the
// account page, oldest first.
func (e *appsEnv) wantAudit(id string, want ...string) {
	e.t.Helper()
	evs, _, err := e.srv.Audit.ListAudit(context.Background(), identity.AuditFilter{ClientID: id, Page: identity.Page{Limit: 50}})
	if err != nil {
		e.t.Fatal(err)
	}
	var got []string
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Details[identity.DetailChannel] == identity.ChannelAccount && evs[i].ActorID == e.alice.ID {
			got = append(got, evs[i].Type)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		e.t.Errorf("audit events via account for %s: %v, want %v", id, got, want)
	}
}

// TestDeveloperAppsOwnerOnly: another user cannot see, edit, rotate or
// delete an app: every path is 404, like an app that does not exist, and
// the app is unchanged.
func TestDeveloperAppsOwnerOnly(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		e := newAppsEnv(t, dbURL)
		id, secret := e.register(e.ab, "Pet Diary", "https://diary.example/cb")
		for _, path := range []string{"/account/apps/" + id, "/account/apps/" + id + "/rotate", "/account/apps/" + id + "/delete"} {
			if p := e.bb.Get(path); p.Status != http.StatusNotFound || strings.Contains(p.Body, "Pet Diary") {
				t.Errorf("bob GET %s: HTTP %d", path, p.Status)
			}
		}
		for path, form := range map[string]url.Values{
			"/account/apps/" + id:             {"name": {"Mine now"}, "redirect_uris": {"https://evil.example/cb"}},
			"/account/apps/" + id + "/rotate": {"grace": {"0"}},
			"/account/apps/" + id + "/delete": {},
		} {
			if p := post(t, e.bb, path, form); p.Status != http.StatusNotFound {
				t.Errorf("bob POST %s: HTTP %d", path, p.Status)
			}
		}
		if p := e.bb.Get("/account/apps"); strings.Contains(p.Body, "Pet Diary") || strings.Contains(p.Body, id) {
			t.Error("bob's list shows alice's app")
		}
		c, err := e.srv.Store.ClientByID(context.Background(), id)
		if err != nil || c.Name != "Pet Diary" || strings.Join(c.RedirectURIs, " ") != "https://diary.example/cb" || !e.authenticates(id, secret) {
			t.Fatalf("the app changed: %+v, %v", c, err)
		}
		// An operator's client is nobody's app either.
		op := e.srv.MustClient(t, identity.Client{Name: "Operator app", RedirectURIs: []string{"https://op.example/cb"},
			GrantTypes: []string{identity.GrantAuthorizationCode}, Scopes: []string{identity.ScopeReadPets}})
		if p := e.ab.Get("/account/apps/" + op.ID); p.Status != http.StatusNotFound {
			t.Errorf("an operator's client on the developer page: HTTP %d", p.Status)
		}
	})
}

// TestDeveloperAppsBadInput: refused input is shown next to its field,
// the form keeps what was typed, and nothing is saved.
func TestDeveloperAppsBadInput(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		e := newAppsEnv(t, dbURL)
		for _, tc := range []struct{ name, kind, uris, origins, field, says string }{
			{"Pet Diary", "web", "http://diary.example/cb", "", "app-redirect-uris-error", "may use http only on a loopback address"},
			{"Pet Diary", "web", "https://diary.example/cb#x", "", "app-redirect-uris-error", "must not have a fragment"},
			{"Pet Diary", "web", "diary.example/cb", "", "app-redirect-uris-error", "must be an absolute URL"},
			{"Pet Diary", "web", "", "", "app-redirect-uris-error", "authorization_code needs at least one redirect URI"},
			{"", "web", "https://diary.example/cb", "", "app-name-error", "name must be 1-100 characters"},
			{"Pet Diary", "public", "https://diary.example/cb", "https://diary.example/app", "app-origins-error", "must be an origin"},
			{"Pet Diary", "web", "https://diary.example/cb", "https://diary.example", "app-origins-error", "allowed origins are for public clients only"},
		} {
			p := post(t, e.ab, "/account/apps", url.Values{"name": {tc.name}, "kind": {tc.kind}, "redirect_uris": {tc.uris},
				"allowed_origins": {tc.origins}})
			errText := regexp.MustCompile(`id="` + tc.field + `"[^>]*>(.*?)</(p|ul)>`).FindStringSubmatch(p.Body)
			if p.Status != http.StatusBadRequest || errText == nil || !strings.Contains(html.UnescapeString(errText[1]), tc.says) {
				t.Errorf("%q %q: HTTP %d, %s = %v; want 400 saying %q", tc.name, tc.uris, p.Status, tc.field, errText, tc.says)
			}
			if tc.uris != "" && !strings.Contains(p.Body, ">"+html.EscapeString(tc.uris)+"</textarea>") {
				t.Errorf("%q: the form lost the redirect URIs typed", tc.uris)
			}
		}
		// Without the session's CSRF token the form is refused too.
		if p := e.ab.Post("/account/apps", url.Values{"name": {"Pet Diary"}, "kind": {"web"}, "redirect_uris": {"https://diary.example/cb"}}); p.Status != http.StatusForbidden {
			t.Errorf("register without a CSRF token: HTTP %d", p.Status)
		}
		if _, n, err := e.srv.Store.ListClients(context.Background(), identity.ClientFilter{OwnerID: e.alice.ID}); err != nil || n != 0 {
			t.Fatalf("refused registrations saved %d apps (%v)", n, err)
		}
		// An edit with a bad redirect URI changes nothing either.
		id, _ := e.register(e.ab, "Pet Diary", "https://diary.example/cb")
		p := post(t, e.ab, "/account/apps/"+id, url.Values{"name": {"Renamed"}, "redirect_uris": {"https://diary.example/cb#frag"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="app-redirect-uris-error"`) || !strings.Contains(p.Body, `value="Renamed"`) {
			t.Fatalf("bad edit: HTTP %d", p.Status)
		}
		if c, _ := e.srv.Store.ClientByID(context.Background(), id); c.Name != "Pet Diary" {
			t.Fatalf("a refused edit saved the name %q", c.Name)
		}
		if p := post(t, e.ab, "/account/apps/"+id, url.Values{"name": {"Renamed"}, "redirect_uris": {"https://diary.example/cb2"}}); p.Status != http.StatusOK ||
			!strings.Contains(p.Body, "Your app was saved.") {
			t.Fatalf("good edit: HTTP %d", p.Status)
		}
	})
}

// TestDeveloperAppsLimit: a user may own MaxAppsPerUser apps; the next is
// refused with the limit named, and the page says it. Other users are not
// affected.
func TestDeveloperAppsLimit(t *testing.T) {
	e := newAppsEnv(t, servertest.SQLiteURL(t))
	for i := range 20 {
		e.register(e.ab, "App "+string(rune('A'+i)), "https://diary.example/cb")
	}
	p := post(t, e.ab, "/account/apps", url.Values{"name": {"One too many"}, "kind": {"web"}, "redirect_uris": {"https://diary.example/cb"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "You already have 20 apps") {
		t.Fatalf("the 21st app: HTTP %d", p.Status)
	}
	if list := e.ab.Get("/account/apps"); !strings.Contains(list.Body, "reached the limit of 20 apps") || strings.Contains(list.Body, `href="/account/apps/new"`) {
		t.Error("the full list does not say the limit or still offers to register")
	}
	e.register(e.bb, "Bob's app", "https://bob.example/cb")
}

// TestDeveloperAppsDeleteRevokes: an app users connected shows the count;
// deleting it (after the confirmation page) ends its grants and tokens.
func TestDeveloperAppsDeleteRevokes(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		e := newAppsEnv(t, dbURL)
		id, secret := e.register(e.ab, "Pet Diary", "https://diary.example/cb")
		rs := e.srv.MustClient(t, identity.Client{Name: "API", GrantTypes: []string{identity.GrantClientCredentials}, CanIntrospect: true})

		// Bob connects the app: sign-in session, consent, code, tokens.
		v := oauth2.GenerateVerifier()
		q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {"https://diary.example/cb"},
			"scope": {"read:pets offline_access"}, "state": {"state-0123456789"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"}}
		p := e.bb.Get("/oauth2/auth?" + q.Encode())
		form := p.Hidden()
		form.Set("decision", "allow")
		form["scope"] = []string{"read:pets", "offline_access"}
		p = e.bb.Post("/oauth2/consent", form)
		loc, _ := url.Parse(p.Location)
		code := loc.Query().Get("code")
		if code == "" {
			t.Fatalf("no code: HTTP %d %s", p.Status, p.Location)
		}
		tok := servertest.PostForm(t, nil, e.srv.URL+"/oauth2/token", servertest.Client{ID: id, Secret: secret}, url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://diary.example/cb"}, "code_verifier": {v}})
		if tok.Status != http.StatusOK || tok.Str("refresh_token") == "" {
			t.Fatalf("code exchange: %d %s", tok.Status, tok.Body)
		}
		if p := e.ab.Get("/account/apps/" + id); !strings.Contains(p.Body, "1 user connected") {
			t.Error("the app's page does not count the connected user")
		}
		confirm := e.ab.Get("/account/apps/" + id + "/delete")
		if confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, "The 1 user who connected it is") {
			t.Fatalf("delete confirmation: HTTP %d", confirm.Status)
		}
		if c, _ := e.srv.Store.ClientByID(context.Background(), id); c == nil {
			t.Fatal("the confirmation page deleted the app")
		}
		p = e.ab.Submit(confirm, "/account/apps/"+id+"/delete", nil)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "App deleted.") || strings.Contains(p.Body, "Pet Diary") {
			t.Fatalf("delete: HTTP %d at %s", p.Status, p.URL)
		}
		in := servertest.PostForm(t, nil, e.srv.URL+"/oauth2/introspect", rs, url.Values{"token": {tok.Str("access_token")}})
		if in.Status != http.StatusOK || in.JSON["active"] != false {
			t.Errorf("the deleted app's access token: %d %s", in.Status, in.Body)
		}
		if e.authenticates(id, secret) {
			t.Error("the deleted app still authenticates")
		}
		if p := e.bb.Get("/account"); strings.Contains(p.Body, "Pet Diary") {
			t.Error("bob's connected apps still list the deleted app")
		}
		e.wantAudit(id, identity.EventClientCreated, identity.EventClientDeleted)
	})
}

// TestDeveloperAppsResubmitCreatesOnce: the register form sent twice (a
// reload of the page showing the secret re-posts it) makes one app; the
// second answer goes to that app's page, which shows no secret.
func TestDeveloperAppsResubmitCreatesOnce(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		e := newAppsEnv(t, dbURL)
		b := e.signIn(e.alice)
		formID := regexp.MustCompile(`name="form_id" value="([^"]+)"`).FindStringSubmatch(b.Get("/account/apps/new").Body)
		if formID == nil {
			t.Fatal("the register form has no form_id")
		}
		fields := url.Values{"form_id": {formID[1]}, "name": {"Pet Diary"}, "kind": {"web"}, "redirect_uris": {"https://diary.example/cb"}}
		first := post(t, b, "/account/apps", fields)
		if first.Status != http.StatusCreated || secretRE.FindStringSubmatch(first.Body) == nil {
			t.Fatalf("first submit: HTTP %d", first.Status)
		}
		// The browser follows the redirect to the app's page: no secret there.
		again := post(t, b, "/account/apps", fields)
		if again.Status != http.StatusOK || secretRE.FindStringSubmatch(again.Body) != nil || !strings.Contains(again.Body, "registered already") {
			t.Fatalf("second submit: HTTP %d, secret shown or no notice: %.2000s", again.Status, again.Body)
		}
		ids := map[string]bool{}
		for _, m := range regexp.MustCompile(`pet-diary-[a-z0-9]+`).FindAllString(b.Get("/account/apps").Body, -1) {
			ids[m] = true
		}
		if len(ids) != 1 {
			t.Fatalf("apps %v after two submits, want one", ids)
		}
	})
}
