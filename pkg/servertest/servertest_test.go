package servertest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// TestHarness starts the three programs on each database and walks what a
// test needs of them: a seeded user signs in through the browser, a
// seeded service calls the API with a token, MyApp connects and lists
// the pets.
func TestHarness(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL})
		if s.Dialect() != map[bool]string{true: "postgres", false: "sqlite"}[strings.HasPrefix(dbURL, "postgres")] {
			t.Fatalf("Dialect %q for %s", s.Dialect(), dbURL)
		}
		alice := s.MustUser(t, "alice@example.com", "correct horse battery staple")

		b := s.Browser(t)
		p := b.Submit(b.Get("/login"), "/login", url.Values{"email": {alice.Email}, "password": {alice.Password}})
		if p.Status != http.StatusOK || p.Path() != "/account" || !strings.Contains(p.Body, alice.Email) {
			t.Fatalf("sign-in: %d at %s", p.Status, p.URL)
		}

		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{identity.GrantClientCredentials}, CanIntrospect: true})
		svc := s.MustClient(t, identity.Client{Name: "sync", GrantTypes: []string{identity.GrantClientCredentials}, Scopes: []string{identity.ScopeReadPets}})
		api := s.StartAPI(t, rs)
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials&scope=read:pets"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(svc.ID, svc.Secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(res.Body).Decode(&tok)
		res.Body.Close()
		key, _ := s.MustAPIKey(t, alice.ID, identity.EnvTest, "script", identity.ScopeReadPets)
		for what, cred := range map[string]string{"token": tok.AccessToken, "API key": key} {
			req, _ = http.NewRequest(http.MethodGet, api.URL+"/v1/pets", nil)
			req.Header.Set("Authorization", "Bearer "+cred)
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("GET /v1/pets with the %s: %d", what, res.StatusCode)
			}
		}

		app := s.StartDemo(t, api)
		ua := webtest.NewBrowser(t, app.URL, webtest.BrowserOptions{Jar: b.Jar(), SameOrigin: true,
			Follow: func(u *url.URL) bool { return u.Hostname() == "127.0.0.1" }})
		p = ua.Get("/connect")
		if !strings.Contains(p.Body, `name="decision"`) {
			t.Fatalf("connect: want the consent page, got %d at %s", p.Status, p.URL)
		}
		consent := p.Hidden()
		consent.Set("decision", "allow")
		for _, sc := range []string{"openid", "profile", "email", "read:pets", "write:pets", "offline_access"} {
			consent.Add("scope", sc)
		}
		req, _ = http.NewRequest(http.MethodPost, s.URL+"/oauth2/consent", strings.NewReader(consent.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", s.URL)
		p = ua.Do(req)
		if p.Status != http.StatusOK || !strings.HasPrefix(p.URL, app.URL) || !strings.Contains(p.Body, "/disconnect") {
			t.Fatalf("back at MyApp: %d at %s:\n%.500s", p.Status, p.URL, p.Body)
		}
		if !strings.Contains(s.Logs.String(), "level=") {
			t.Error("the server logged nothing")
		}
	})
}
