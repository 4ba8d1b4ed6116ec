package web_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// On the real server (provider's ID tokens, fosite's OpenID Connect
// validator, the store), SQLite and PostgreSQL: the ID token's auth_time is
// the sign-in; prompt=login and max_age=1 two seconds later (the server's
// clock, no sleeping) yield a later auth_time; max_age=10000 keeps it;
// prompt=none gives the same sub and sid silently; id_token_hint of the
// signed-in user works with prompt=none.
func TestOIDCPromptsOnTheServer(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		c := &clock{t: time.Now().UTC().Add(-time.Hour).Truncate(time.Second)}
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Now: c.Now})
		u := s.MustUser(t, "alice@example.com", "correct horse battery staple")
		const cb = "https://rp.example/cb"
		cl := s.MustClient(t, identity.Client{Name: "RP", RedirectURIs: []string{cb},
			Scopes: []string{"openid", "profile", "email"}, GrantTypes: []string{"authorization_code"}})
		b := s.Browser(t)
		signIn(t, b, u.Email, u.Password, chromeLinux)
		verifier := oauth2.GenerateVerifier()
		auth := func(extra ...string) string {
			q := url.Values{"response_type": {"code"}, "client_id": {cl.ID}, "redirect_uri": {cb}, "scope": {"openid profile"},
				"state": {"st-123456"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
			for i := 0; i+1 < len(extra); i += 2 {
				q.Set(extra[i], extra[i+1])
			}
			return "/oauth2/auth?" + q.Encode()
		}
		idToken := func(p webtest.Page) (map[string]any, string) {
			t.Helper()
			loc, err := url.Parse(p.Location)
			if err != nil || p.Status != http.StatusSeeOther || loc.Query().Get("code") == "" {
				t.Fatalf("want a code: HTTP %d to %q at %s", p.Status, p.Location, p.URL)
			}
			r := servertest.PostForm(t, nil, s.URL+"/oauth2/token", cl, url.Values{"grant_type": {"authorization_code"},
				"code": {loc.Query().Get("code")}, "redirect_uri": {cb}, "code_verifier": {verifier}})
			raw := r.Str("id_token")
			parts := strings.Split(raw, ".")
			if len(parts) != 3 {
				t.Fatalf("no ID token: %v", r.JSON)
			}
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var claims map[string]any
			if err := json.Unmarshal(payload, &claims); err != nil {
				t.Fatal(err)
			}
			return claims, raw
		}
		consent := b.Get(auth())
		form := webtest.Hidden(consent.Body)
		form.Set("decision", "allow")
		form["scope"] = []string{"openid", "profile"}
		form.Set("remember", "on")
		first, hint := idToken(b.Post("/oauth2/consent", form))
		if first["sub"] != u.ID || first["auth_time"] != float64(c.Now().Unix()) || first["sid"] == nil {
			t.Fatalf("first ID token %v; want sub %s, auth_time %d, sid", first, u.ID, c.Now().Unix())
		}
		c.Add(2 * time.Second)
		if got, _ := idToken(b.Get(auth("prompt", "none", "id_token_hint", hint, "max_age", "10000"))); got["sub"] != u.ID ||
			got["auth_time"] != first["auth_time"] || got["sid"] != first["sid"] {
			t.Fatalf("prompt=none with hint and max_age=10000: %v; want the same sub, auth_time and sid as %v", got, first)
		}
		for _, extra := range [][]string{{"prompt", "login"}, {"max_age", "1"}} {
			p := b.Get(auth(extra...))
			if !strings.Contains(p.URL, "/login") {
				t.Fatalf("%v: at %s, want the sign-in page", extra, p.URL)
			}
			p = b.Post("/login", url.Values{"email": {u.Email}, "password": {u.Password}, "csrf_token": {p.CSRF(t)},
				"return_to": {webtest.Hidden(p.Body).Get("return_to")}})
			got, _ := idToken(p)
			if got["auth_time"].(float64) <= first["auth_time"].(float64) || got["sub"] != u.ID {
				t.Fatalf("%v: ID token %v; want a later auth_time than %v", extra, got, first["auth_time"])
			}
			c.Add(2 * time.Second)
		}
	})
}
