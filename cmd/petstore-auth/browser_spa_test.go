package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
)

// spaPage is a single-page app's callback: it finishes the code exchange
// with fetch() from its own origin, as a browser app must, and shows the
// token response, or the error fetch() raised.
var spaPage = template.Must(template.New("spa").Parse(`<!doctype html><title>SPA</title>
<pre id="out"></pre><pre id="jwks"></pre><pre id="auth"></pre>
<script>
const out = (id, s) => { document.getElementById(id).textContent = s; };
const code = new URLSearchParams(location.search).get("code") || "no-code";
fetch({{.Issuer}} + "/.well-known/jwks.json").then(r => r.json())
  .then(j => out("jwks", "keys: " + j.keys.length), e => out("jwks", "error: " + e.name));
fetch({{.Issuer}} + "/oauth2/auth?client_id=" + {{.ClientID}}).then(r => out("auth", "status: " + r.status), e => out("auth", "error: " + e.name));
fetch({{.Issuer}} + "/oauth2/token", {
  method: "POST",
  headers: {"Content-Type": "application/x-www-form-urlencoded"},
  body: new URLSearchParams({grant_type: "authorization_code", client_id: {{.ClientID}}, code: code,
    redirect_uri: {{.RedirectURI}}, code_verifier: {{.Verifier}}}),
}).then(r => r.text()).then(t => out("out", t), e => out("out", "error: " + e.name + ": " + e.message));
</script>`))

type spaParams struct{ Issuer, ClientID, RedirectURI, Verifier string }

// spaServer serves spaPage at /cb on its own origin (its own port).
func spaServer(t *testing.T, params func() spaParams) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := spaPage.Execute(w, params()); err != nil {
			t.Error(err)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// TestBrowserSPAExchangesCodeWithFetch: a public client's page signs the
// user in through the real login and consent pages, then exchanges the code
// with fetch() from its redirect URI's origin and reads the tokens. The same
// fetch from another origin fails with a TypeError (no CORS headers), the
// public JWKS is readable from anywhere, and /oauth2/auth never answers
// cross-origin (RFC 9700 §2.6).
func TestBrowserSPAExchangesCodeWithFetch(t *testing.T) {
	ctx := chrome(t)
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	var p spaParams
	spa := spaServer(t, func() spaParams { return p })
	evil := spaServer(t, func() spaParams { return p })
	c := createClient(t, "--name", "Pet SPA", "--public", "--redirect-uri", spa.URL+"/cb", "--scope", "read:pets offline_access")
	if out, err := cli(t, "correct horse battery\n", "user", "create", "--email", "alice@example.com", "--password-stdin"); err != nil {
		t.Fatal(out, err)
	}
	_, ts := startServer(t)
	v := oauth2.GenerateVerifier()
	p = spaParams{Issuer: ts.URL, ClientID: c.ClientID, RedirectURI: spa.URL + "/cb", Verifier: v}
	conf := &oauth2.Config{ClientID: c.ClientID, RedirectURL: spa.URL + "/cb",
		Endpoint: oauth2.Endpoint{AuthURL: ts.URL + "/oauth2/auth", TokenURL: ts.URL + "/oauth2/token"}}
	authURL := conf.AuthCodeURL("spa-state-12345", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets offline_access"))

	var tokenText, jwksText, authText string
	err := chromedp.Do(ctx,
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "alice@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)),
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#out`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("out").textContent !== "" && document.getElementById("jwks").textContent !== "" && document.getElementById("auth").textContent !== ""`),
	)
	if err != nil {
		t.Fatal(err)
	}
	tokenText, jwksText, authText = text(t, ctx, "#out"), text(t, ctx, "#jwks"), text(t, ctx, "#auth")
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
	}
	if err := json.Unmarshal([]byte(tokenText), &tok); err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("the page on the client's origin could not read the token response: %q", tokenText)
	}
	if !strings.HasPrefix(jwksText, "keys: ") || jwksText == "keys: 0" {
		t.Errorf("JWKS from the client's origin: %q", jwksText)
	}
	if !strings.HasPrefix(authText, "error: TypeError") {
		t.Errorf("/oauth2/auth answered a cross-origin fetch: %q", authText)
	}

	// The same page on an origin the client never registered: the server
	// answers without CORS headers, so fetch() rejects and the page learns
	// nothing; the public JWKS stays readable (the network works).
	err = chromedp.Do(ctx,
		chromedp.Navigate(evil.URL+"/cb?code=stolen-or-not"),
		chromedp.Poll[chromedp.Void](`document.getElementById("out").textContent !== "" && document.getElementById("jwks").textContent !== ""`),
	)
	if err != nil {
		t.Fatal(err)
	}
	tokenText, jwksText = text(t, ctx, "#out"), text(t, ctx, "#jwks")
	if !strings.HasPrefix(tokenText, "error: TypeError") {
		t.Errorf("a page on another origin read the token endpoint's answer: %q", tokenText)
	}
	if !strings.HasPrefix(jwksText, "keys: ") {
		t.Errorf("JWKS from another origin: %q", jwksText)
	}

	// /oauth2/auth has no CORS headers for any origin, preflight or not.
	for _, method := range []string{http.MethodGet, http.MethodOptions} {
		req, _ := http.NewRequest(method, ts.URL+"/oauth2/auth?"+url.Values{"client_id": {c.ClientID}}.Encode(), nil)
		req.Header.Set("Origin", spa.URL)
		req.Header.Set("Access-Control-Request-Method", "GET")
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for k := range res.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s /oauth2/auth from %s: %s: %s", method, spa.URL, k, res.Header.Get(k))
			}
		}
	}
	// The preflight a fetch() with a DPoP or Authorization header sends.
	req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/oauth2/token", nil)
	req.Header.Set("Origin", spa.URL)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,dpop")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := fmt.Sprint(res.StatusCode, " ", res.Header.Get("Access-Control-Allow-Origin")); got != "204 "+spa.URL {
		t.Errorf("preflight from the client's origin: %s", got)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
