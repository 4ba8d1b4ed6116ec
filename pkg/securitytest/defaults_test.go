package securitytest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/config"
)

// The "Secure defaults" table of docs/security.md: the default values and
// the bounds it states are what the configuration has and enforces (the
// production rules are MD-05's pkg/config tests).
func TestSecureDefaultsTable(t *testing.T) {
	d := config.Default()
	tk := d.Tokens
	for name, tc := range map[string]struct{ got, want time.Duration }{
		"codes live 60 s":           {time.Duration(tk.AuthorizeCodeLifespan), 60 * time.Second},
		"access tokens live 15 min": {time.Duration(tk.AccessTokenLifespan), 15 * time.Minute},
		"refresh idle 30 days":      {time.Duration(tk.RefreshTokenIdleLifespan), 30 * 24 * time.Hour},
		"refresh absolute 90 days":  {time.Duration(tk.RefreshTokenAbsoluteLifespan), 90 * 24 * time.Hour},
		"grace window 10 s":         {time.Duration(tk.RefreshGraceWindow), 10 * time.Second},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: default is %v", name, tc.got)
		}
	}
	// The default audience is the development API's URL (RFC 8707), not
	// the former "petstore-api" string.
	if d := config.Default(); len(d.Resources) != 1 || d.Resources[0].Identifier != "http://127.0.0.1:8081" || d.Tokens.JWTAudience != "" {
		t.Errorf("default resources %+v, jwt_audience %q", d.Resources, d.Tokens.JWTAudience)
	}
	valid := func(f func(*config.Config)) bool {
		c := config.Default()
		c.Dev = true
		f(&c)
		return c.Validate() == nil
	}
	for name, tc := range map[string]struct {
		set  func(*config.Config)
		want bool
	}{
		"code lifespan 10 min": {func(c *config.Config) { c.Tokens.AuthorizeCodeLifespan = config.Duration(10 * time.Minute) }, true},
		"code lifespan 11 min": {func(c *config.Config) { c.Tokens.AuthorizeCodeLifespan = config.Duration(11 * time.Minute) }, false},
		"grace window 1 min":   {func(c *config.Config) { c.Tokens.RefreshGraceWindow = config.Duration(time.Minute) }, true},
		"grace window 61 s":    {func(c *config.Config) { c.Tokens.RefreshGraceWindow = config.Duration(61 * time.Second) }, false},
		"grace window 0":       {func(c *config.Config) { c.Tokens.RefreshGraceWindow = 0 }, true},
	} {
		if got := valid(tc.set); got != tc.want {
			t.Errorf("%s: valid = %v, want %v", name, got, tc.want)
		}
	}
}

// "0 = strict rotation": without a grace window, presenting a rotated
// refresh token again at once is reuse and ends the family.
func TestStrictRotationWithoutGraceWindow(t *testing.T) {
	t.Parallel()
	e := freshSQLite(t, func(c *config.Config) { c.Tokens.RefreshGraceWindow = 0 })
	t0 := e.login(e.aliceBrowser(), e.web, "read:pets offline_access")
	t1 := e.mustRefresh(e.web, t0.refresh)
	wantTokenError(t, "immediate replay of RT0", e.refresh(e.web, t0.refresh), http.StatusBadRequest, "invalid_grant")
	e.wantInactive("RT1 after the replay", t1.refresh)
	e.wantInactive("AT1 after the replay", t1.access)
}

// "logs: no secrets, no query strings": request lines name the path only,
// so what arrives in a query (state, return_to, codes at a client's
// callback) never reaches the log.
func TestLogsCarryNoQueryStrings(t *testing.T) {
	t.Parallel()
	e := freshSQLite(t)
	marker := "q-marker-7f3a9c"
	b := e.browser()
	b.Get(e.authURL(e.web, webCallback, "unused-verifier-0123456789-0123456789-0123", url.Values{"state": {marker + "-state"}}))
	b.Get(e.as.URL + "/login?return_to=" + url.QueryEscape("/oauth2/auth?x="+marker+"-return"))
	b.Get(e.as.URL + "/nowhere?token=" + marker + "-token")
	logs := e.logs.String()
	if !strings.Contains(logs, "/oauth2/auth") {
		t.Fatalf("the request log lacks the path; the check would be vacuous:\n%s", logs)
	}
	if strings.Contains(logs, marker) {
		t.Errorf("a query string reached the logs:\n%s", logs)
	}
}

// WB-11: a password change ends the user's browser sessions at their next
// request, and so does disabling the account, even within the second the
// account was created or signed in.
func TestSessionEndsOnPasswordChangeOrDisable(t *testing.T) {
	t.Parallel()
	fresh(t, func(e *env) {
		for _, change := range []struct {
			name string
			path string
			body any
		}{
			{"password change", "/users/" + e.alice.ID + "/password", map[string]string{"password": "another fine passphrase 7"}},
			{"disable", "/users/" + e.alice.ID + "/disable", nil},
		} {
			b := e.browser()
			if p := e.signIn(b, b.Get(e.as.URL+"/login"), e.alice); !strings.Contains(p.URL, "/account") {
				t.Fatalf("%s: sign-in landed at %s", change.name, p.URL)
			}
			if r := e.adminAPI(http.MethodPost, change.path, change.body); r.status >= 300 {
				t.Fatalf("%s: %d %s", change.name, r.status, r.body)
			}
			if p := b.Get(e.as.URL + "/account"); !isLoginPage(p) {
				t.Errorf("%s: the old session still opens the account page (%d at %s)", change.name, p.Status, p.URL)
			}
			if change.name == "password change" {
				e.remember("another fine passphrase 7", "new password")
				e.alice.Password = "another fine passphrase 7"
			}
		}
	})
}
