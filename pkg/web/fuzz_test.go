package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
)

// fuzzEnv is one server with a web and a native (loopback) client, alice
// signed in (her session cookies) and a remembered grant of read:pets, so that fuzzed requests reach the login
// redirect, the consent page and code issuance alike.
type fuzzEnv struct {
	*env
	cookies []*http.Cookie
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := newEnv(f)
	addNativeClient(e)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	u, _ := url.Parse(e.srv.URL)
	if _, err := e.grants.UpsertGrant(context.Background(), "usr_alice", testClient, []string{"read:pets"}, true); err != nil {
		f.Fatal(err)
	}
	return &fuzzEnv{env: e, cookies: b.Jar().Cookies(u)}
}

// serve runs one request through the router in process.
func (e *fuzzEnv) serve(req *http.Request, signedIn bool) *httptest.ResponseRecorder {
	if signedIn {
		for _, c := range e.cookies {
			req.AddCookie(c)
		}
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	return rec
}

// sameSite reports whether a browser following Location loc stays on this
// server: after the WHATWG URL parser strips tabs and newlines and reads
// '\' as '/', loc must be a path that is not scheme-relative.
func sameSite(loc string) bool {
	n := strings.Trim(loc, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	n = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(n)
	u, err := url.Parse(n)
	return err == nil && strings.HasPrefix(n, "/") && !strings.HasPrefix(n, "//") && u.Scheme == "" && u.Host == ""
}

// FuzzAuthorizeRequest sends arbitrary authorization requests (query, form
// body, signed in or not) to /oauth2/auth: never a 5xx, never a Location
// other than the login page or the registered redirect URI, never a
// fragment or token in it, never an injected script.
// Seeds: testdata/fuzz/FuzzAuthorizeRequest (RD-01..RD-12, RD-16, WB-14).
func FuzzAuthorizeRequest(f *testing.F) {
	e := newFuzzEnv(f)
	f.Add(strings.TrimPrefix(authPathFor("read:pets"), "/oauth2/auth?"), "", false, true)
	f.Fuzz(func(t *testing.T, query, body string, post, signedIn bool) {
		method, target := http.MethodGet, "/oauth2/auth"
		if post {
			method = http.MethodPost
		}
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.URL.RawQuery, req.RequestURI = query, target+"?"+query
		if post {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := e.serve(req, signedIn)
		if rec.Code >= 500 {
			t.Fatalf("HTTP %d for query %q body %q:\n%s", rec.Code, query, body, rec.Body)
		}
		if loc := rec.Header().Get("Location"); loc != "" {
			checkAuthorizeLocation(t, loc)
			checkStateEchoed(t, query, body, post, loc)
		}
		page := rec.Body.String()
		if n := strings.Count(page, "<script") - strings.Count(page, `<script src="/static/`); n != 0 {
			t.Fatalf("the answer to query %q body %q carries an injected script:\n%s", query, body, page)
		}
		for _, payload := range []string{"<script", "onerror=", "javascript:"} {
			if (strings.Contains(query, payload) || strings.Contains(body, payload)) && strings.Contains(page, payload) {
				t.Fatalf("%q reflected unescaped:\n%s", payload, page)
			}
		}
	})
}

// ourPage reports whether p is a page a sign-in may lead back to.
func ourPage(p string) bool {
	for _, prefix := range []string{"/account", "/admin"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return p == authPath
}

func checkAuthorizeLocation(t *testing.T, loc string) {
	t.Helper()
	if strings.HasPrefix(loc, "/login?return_to=") {
		if !sameSite(loc) {
			t.Fatalf("login redirect %q leaves the site", loc)
		}
		return
	}
	u, err := url.Parse(loc)
	if err != nil || u.User != nil {
		t.Fatalf("Location %q is not a URL without user info", loc)
	}
	noPort := u.Scheme + "://" + u.Hostname() + u.EscapedPath()
	if u.Scheme+"://"+u.Host+u.EscapedPath() != testRedirect && (noPort != nativeRedirect || strings.Trim(u.Port(), "0123456789") != "") {
		t.Fatalf("Location %q is neither the login page nor a registered redirect URI", loc)
	}
	if strings.Contains(loc, "#") || strings.Contains(loc, "access_token") {
		t.Fatalf("Location %q carries a fragment or a token", loc)
	}
	if q := u.Query(); q.Get("iss") != testIssuer {
		t.Fatalf("Location %q lacks iss=%s (RFC 9207)", loc, testIssuer)
	}
}

// checkStateEchoed: a redirect to the client carries the state as sent,
// and none at all when none was sent (RFC 6749 §4.1.2).
func checkStateEchoed(t *testing.T, query, body string, post bool, loc string) {
	t.Helper()
	if strings.HasPrefix(loc, "/") {
		return // the sign-in page
	}
	sent, err := url.ParseQuery(query)
	if post {
		b, errB := url.ParseQuery(body)
		for k, v := range b {
			sent[k] = append(sent[k], v...)
		}
		err = errors.Join(err, errB)
	}
	u, errL := url.Parse(loc)
	if err != nil || errL != nil {
		return
	}
	got := u.Query()
	switch {
	case !sent.Has("state") && got.Has("state"):
		t.Fatalf("no state sent, but %q carries one", loc)
	case sent.Has("state") && sent.Get("state") != "" && got.Get("state") != sent.Get("state"):
		t.Fatalf("state %q came back as %q in %q", sent.Get("state"), got.Get("state"), loc)
	}
}

// FuzzReturnTo: the return_to of the login page is only ever one of our
// pages (account, admin console or an authorization request), both in
// validReturnTo and in the redirect a signed-in visitor of /login gets.
// Seeds: testdata/fuzz/FuzzReturnTo (WB-06 vectors).
func FuzzReturnTo(f *testing.F) {
	e := newFuzzEnv(f)
	f.Add("//evil.example")
	f.Fuzz(func(t *testing.T, returnTo string) {
		if validReturnTo(returnTo) {
			u, err := url.Parse(returnTo)
			if err != nil || !sameSite(returnTo) || !ourPage(u.Path) || path.Clean(u.Path) != strings.TrimSuffix(u.Path, "/") && u.Path != "/admin/" {
				t.Fatalf("validReturnTo accepted %q", returnTo)
			}
		}
		req := httptest.NewRequest(http.MethodGet, "/login?return_to="+url.QueryEscape(returnTo), nil)
		rec := e.serve(req, true)
		if rec.Code >= 500 {
			t.Fatalf("HTTP %d for return_to %q", rec.Code, returnTo)
		}
		if loc := rec.Header().Get("Location"); rec.Code/100 == 3 && !sameSite(loc) {
			t.Fatalf("return_to %q redirected off-site to %q", returnTo, loc)
		}
	})
}
