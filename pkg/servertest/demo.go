package servertest

import (
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/demo"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// Demo is petstore-demo ("MyApp") registered at the server as a
// confidential client.
type Demo struct {
	URL    string
	Client Client
}

// StartDemo registers MyApp as a client with the redirect URI
// {its URL}/callback, the way the README's `client create` does, and
// starts it against the server and api, rendering from the embedded web
// files.
func (s *Server) StartDemo(tb testing.TB, api *API) *Demo {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := demo.Default()
	cfg.Listen, cfg.PublicURL, cfg.Issuer, cfg.APIURL, cfg.MetricsListen = ln.Addr().String(), base, s.Config.Issuer, api.URL, ""
	c := s.MustClient(tb, identity.Client{Name: "MyApp", RedirectURIs: []string{cfg.RedirectURL()},
		PostLogoutRedirectURIs: []string{cfg.PostLogoutRedirectURL()},
		GrantTypes:             []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken}, Scopes: cfg.Scopes})
	cfg.ClientID, cfg.ClientSecret = c.ID, c.Secret
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("demo configuration: %v", err)
	}
	pages, err := demo.LoadPages(webtest.Files())
	if err != nil {
		tb.Fatal(err)
	}
	static, err := fs.Sub(webtest.Files(), "static/demo")
	if err != nil {
		tb.Fatal(err)
	}
	r := mux.NewRouter()
	(&demo.Handler{Config: cfg, Pages: pages, Static: static, Logger: s.Logger, Now: s.Now}).Mount(r)
	ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: r}}
	ts.Start()
	s.cleanup(ts.Close)
	return &Demo{URL: base, Client: c}
}
