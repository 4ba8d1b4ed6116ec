package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestAuthorizeResource: the resource parameter (RFC 8707) of an
// authorization request goes with the code as its audience, the default
// resource when none is named; a malformed, unknown or scope-refusing one
// is answered invalid_target at the client's redirect URI, before sign-in.
func TestAuthorizeResource(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for name, resource := range map[string]string{
		"unknown":  "https://elsewhere.example",
		"fragment": testResource + "#x",
		"relative": "/v1/pets",
	} {
		t.Run(name, func(t *testing.T) {
			q := redirectParams(t, b.Get(authPathFor("read:pets", "resource", resource)))
			if q.Get("error") != "invalid_target" || q.Get("state") != testState || q.Get("iss") != testIssuer || q.Get("code") != "" {
				t.Fatalf("redirect %v, want error=invalid_target with state and iss", q)
			}
		})
	}
	t.Run("unregistered redirect: error page, no redirect", func(t *testing.T) {
		p := b.Get(authPathFor("read:pets", "resource", "https://elsewhere.example", "redirect_uri", "https://evil.example/cb"))
		if p.Status != http.StatusBadRequest || p.Location != "" {
			t.Fatalf("HTTP %d to %q; want the error page", p.Status, p.Location)
		}
	})

	e.mustLogin(b, "alice@example.com")
	audienceOf := func(path string) []string {
		t.Helper()
		q := redirectParams(t, e.consent(b, b.Get(path), "allow", []string{"read:pets"}, false))
		code := q.Get("code")
		if code == "" {
			t.Fatalf("no code: %v", q)
		}
		c, err := e.fosite.GetAuthorizeCodeSession(context.Background(), code[strings.LastIndex(code, ".")+1:], nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.GetRequestedAudience()
	}
	if aud := audienceOf(authPathFor("read:pets", "resource", testResource)); !slices.Equal(aud, []string{testResource}) {
		t.Errorf("named resource: code audience %v", aud)
	}
	if aud := audienceOf(authPathFor("read:pets")); !slices.Equal(aud, []string{testResource}) {
		t.Errorf("no resource: code audience %v, want the default", aud)
	}
	// Repeating the same resource is allowed (RFC 8707 §2) and counted once.
	twice := authPathFor("read:pets") + "&" + url.Values{"resource": {testResource, testResource}}.Encode()
	if aud := audienceOf(twice); !slices.Equal(aud, []string{testResource}) {
		t.Errorf("resource twice: code audience %v", aud)
	}
}
