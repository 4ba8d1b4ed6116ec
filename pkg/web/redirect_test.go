package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

const (
	nativeClient   = "native-app"
	nativeRedirect = "http://127.0.0.1/cb"
)

// addNativeClient registers a public native client with a loopback
// redirect URI (RFC 8252).
func addNativeClient(e *env) {
	e.fosite.Clients[nativeClient] = &fosite.DefaultClient{
		ID: nativeClient, RedirectURIs: []string{nativeRedirect}, ResponseTypes: []string{"code"},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"read:pets"}, Public: true,
	}
	e.h.Clients.(*fakeClients).clients[nativeClient] = &identity.Client{ID: nativeClient, Name: "Native", RedirectURIs: []string{nativeRedirect}}
}

// RD-01, RD-03: a loopback redirect URI may change its port and nothing
// else; fosite alone would also take an encoded path, user info or https
// registration downgraded to http.
func TestAuthorizeLoopbackRedirect(t *testing.T) {
	e := newEnv(t)
	addNativeClient(e)
	b := e.browser()
	for _, tc := range []struct {
		name, redirect string
		ok             bool
	}{
		{"registered", nativeRedirect, true},
		{"other port", "http://127.0.0.1:5555/cb", true},
		{"encoded path", "http://127.0.0.1:5555/%63b", false},
		{"user info", "http://u@127.0.0.1:5555/cb", false},
		{"other path", "http://127.0.0.1:5555/other", false},
		{"other loopback address", "http://127.0.0.2:5555/cb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.Get(authPathFor("read:pets", "client_id", nativeClient, "redirect_uri", tc.redirect))
			if !tc.ok {
				if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "has not registered") {
					t.Fatalf("HTTP %d, Location %q; want the error page without a redirect", p.Status, p.Location)
				}
				return
			}
			// Signed out: the request is good, so the user is sent to sign in.
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?") {
				t.Fatalf("HTTP %d, Location %q; want the login page", p.Status, p.Location)
			}
		})
	}
	t.Run("error redirect keeps the port", func(t *testing.T) {
		p := b.Get(authPathFor("read:pets", "client_id", nativeClient, "redirect_uri", "http://127.0.0.1:5555/cb", "response_type", "token"))
		u, err := url.Parse(p.Location)
		if p.Status != http.StatusSeeOther || err != nil || u.Host != "127.0.0.1:5555" || u.Query().Get("error") != "unsupported_response_type" {
			t.Fatalf("HTTP %d, Location %q", p.Status, p.Location)
		}
	})
}
