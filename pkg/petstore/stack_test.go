package petstore_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
)

// bearerTransport adds a bearer token to every request.
type bearerTransport string

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// TestMCPWithTheAuthorizationServer: against the real authorization server
// (SQLite and PostgreSQL), a 401 at /mcp leads to the API's metadata, which
// the SDK's own RFC 9728 validation accepts and which names the server; a
// client_credentials token requested for the API's URL (RFC 8707
// resource) works at /mcp through the SDK client, JWT and opaque alike.
func TestMCPWithTheAuthorizationServer(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL})
		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		api := s.StartAPI(t, rs)
		if api.URL != s.APIURL {
			t.Fatalf("API at %s, resource %s", api.URL, s.APIURL)
		}

		res, err := http.Post(api.URL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		ch, err := oauthex.ParseWWWAuthenticate(res.Header.Values("WWW-Authenticate"))
		if res.StatusCode != http.StatusUnauthorized || err != nil || len(ch) != 1 || ch[0].Params["resource_metadata"] == "" {
			t.Fatalf("401 at /mcp: %d %q %v", res.StatusCode, res.Header.Get("WWW-Authenticate"), err)
		}
		prm, err := oauthex.GetProtectedResourceMetadata(context.Background(), ch[0].Params["resource_metadata"], api.URL, nil)
		if err != nil || len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != s.URL {
			t.Fatalf("metadata: %+v %v", prm, err)
		}

		for _, format := range []string{identity.TokenFormatOpaque, identity.TokenFormatJWT} {
			t.Run(format, func(t *testing.T) {
				svc := s.MustClient(t, identity.Client{Name: "Assistant " + format, GrantTypes: []string{"client_credentials"},
					Scopes: []string{"read:pets", "write:pets"}, TokenFormat: format})
				tok := servertest.PostForm(t, http.DefaultClient, s.URL+"/oauth2/token", svc, url.Values{"grant_type": {"client_credentials"},
					"scope": {"read:pets write:pets"}, "resource": {prm.Resource}})
				if tok.Status != 200 {
					t.Fatalf("token: %d %s", tok.Status, tok.Body)
				}
				c := mcp.NewClient(&mcp.Implementation{Name: "assistant", Version: "1.0.0"}, nil)
				sess, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: api.URL + "/mcp",
					HTTPClient: &http.Client{Transport: bearerTransport(tok.Str("access_token"))}}, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer sess.Close()
				r, err := sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_pet",
					Arguments: map[string]any{"name": "Biscuit", "species": "dog", "age": 4}})
				if err != nil || r.IsError {
					t.Fatalf("add_pet: %v %+v", err, r)
				}
				r, err = sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_pets"})
				if err != nil || r.IsError || !strings.Contains(r.Content[0].(*mcp.TextContent).Text, "Biscuit") {
					t.Fatalf("list_pets: %v %+v", err, r)
				}
			})
		}
	})
}
