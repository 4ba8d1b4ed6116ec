package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/petstore-auth/petstore-auth/pkg/clientmeta"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// consentingUser is the AuthorizationCodeFetcher of the SDK's OAuth
// handler: a user in a browser on our real pages. It signs in when asked,
// consents to the scopes in allow (unticking the rest) and returns what
// the callback would receive. It records every authorization URL.
type consentingUser struct {
	t     *testing.T
	s     *servertest.Server
	b     *webtest.Browser
	u     servertest.User
	allow []string

	mu    sync.Mutex
	urls  []string
	pages []string
}

func (c *consentingUser) fetch(_ context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	c.mu.Lock()
	c.urls = append(c.urls, args.URL)
	c.mu.Unlock()
	p := c.b.Get(args.URL)
	if strings.Contains(p.Body, `action="/login"`) {
		p = c.b.Submit(p, "/login", url.Values{"email": {c.u.Email}, "password": {c.u.Password}})
	}
	if !strings.Contains(p.Body, `name="decision"`) {
		return nil, errors.New("no consent page: " + p.URL + " " + p.Location)
	}
	c.mu.Lock()
	c.pages = append(c.pages, p.Body)
	c.mu.Unlock()
	form := p.Hidden()
	form.Set("decision", "allow")
	for _, m := range regexp.MustCompile(`name="scope" value="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		if s := html.UnescapeString(m[1]); slices.Contains(c.allow, s) {
			form.Add("scope", s)
		}
	}
	p = c.b.Post("/oauth2/consent", form)
	loc, err := url.Parse(p.Location)
	if err != nil || loc.Query().Get("code") == "" {
		return nil, errors.New("no code in the redirect: " + p.Location)
	}
	q := loc.Query()
	return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
}

// TestMCPClientConnectsWithRegistration is the end-to-end test:
// an MCP client made with the Go SDK's client side (its OAuth handler) is
// told at /mcp (401) where the protected-resource metadata is, reads it,
// reads the authorization server's metadata, registers — once by Dynamic
// Client Registration, once with a client ID metadata document served by
// the test — sends the user through our real sign-in and consent pages,
// redeems the code with `resource`, and calls list_pets and add_pet. After
// a read-only consent, add_pet is refused: the SDK sees 403
// insufficient_scope, asks again for write:pets (step-up), the user again
// allows reading only, and the call fails.
func TestMCPClientConnectsWithRegistration(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		var docs *httptest.Server
		docs = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"client_id": docs.URL + r.URL.Path, "client_name": "Doc Assistant",
				"redirect_uris": []string{mcpCallback}, "grant_types": []string{"authorization_code", "refresh_token"},
				"token_endpoint_auth_method": "none"})
		}))
		t.Cleanup(docs.Close)
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, ClientMetadata: &clientmeta.Fetcher{
			Dev: true, RootCAs: docs.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}})
		rs := s.MustClient(t, identity.Client{Name: "PetStore API", GrantTypes: []string{"client_credentials"}, CanIntrospect: true})
		api := s.StartAPI(t, rs)
		u := s.MustUser(t, "gina@example.com", "correct horse battery staple")

		// What the SDK does first, step by step: 401 → PRM → AS metadata.
		res, err := http.Post(api.URL+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		ch, err := oauthex.ParseWWWAuthenticate(res.Header.Values("WWW-Authenticate"))
		if res.StatusCode != http.StatusUnauthorized || err != nil || len(ch) == 0 || ch[0].Params["resource_metadata"] == "" {
			t.Fatalf("401 at /mcp: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		prm, err := oauthex.GetProtectedResourceMetadata(context.Background(), ch[0].Params["resource_metadata"], api.URL, nil)
		if err != nil || len(prm.AuthorizationServers) != 1 {
			t.Fatalf("PRM: %+v %v", prm, err)
		}
		asm, err := oauthex.GetAuthServerMeta(context.Background(), prm.AuthorizationServers[0]+"/.well-known/oauth-authorization-server", prm.AuthorizationServers[0], http.DefaultClient)
		if err != nil || asm.RegistrationEndpoint != s.URL+"/oauth2/register" || !asm.ClientIDMetadataDocumentSupported {
			t.Fatalf("AS metadata: %+v %v", asm, err)
		}
		t.Logf("401 WWW-Authenticate: %s; PRM resource %s, authorization_servers %v, scopes %v",
			res.Header.Get("WWW-Authenticate"), prm.Resource, prm.AuthorizationServers, prm.ScopesSupported)

		connect := func(t *testing.T, user *consentingUser, cfg *auth.AuthorizationCodeHandlerConfig) *mcp.ClientSession {
			t.Helper()
			cfg.AuthorizationCodeFetcher, cfg.RedirectURL = user.fetch, mcpCallback
			h, err := auth.NewAuthorizationCodeHandler(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := mcp.NewClient(&mcp.Implementation{Name: "assistant", Version: "1.0.0"}, nil)
			sess, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: api.URL + "/mcp", OAuthHandler: h}, nil)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			t.Cleanup(func() { sess.Close() })
			ts, _ := h.TokenSource(context.Background())
			if tok, err := ts.Token(); err != nil || tok.RefreshToken == "" {
				t.Errorf("the assistant got no refresh token: %v", err)
			}
			return sess
		}
		dcr := func() *auth.AuthorizationCodeHandlerConfig {
			return &auth.AuthorizationCodeHandlerConfig{DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
				Metadata: &oauthex.ClientRegistrationMetadata{ClientName: "DCR Assistant", RedirectURIs: []string{mcpCallback},
					TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code", "refresh_token"}}}}
		}
		cimd := func() *auth.AuthorizationCodeHandlerConfig {
			return &auth.AuthorizationCodeHandlerConfig{ClientIDMetadataDocumentConfig: &auth.ClientIDMetadataDocumentConfig{URL: docs.URL + "/assistant.json"}}
		}
		for _, reg := range []struct {
			name string
			cfg  func() *auth.AuthorizationCodeHandlerConfig
		}{{"dcr", dcr}, {"metadata-document", cimd}} {
			t.Run(reg.name, func(t *testing.T) {
				user := &consentingUser{t: t, s: s, b: s.Browser(t), u: u, allow: []string{"read:pets", "write:pets"}}
				sess := connect(t, user, reg.cfg())
				if len(user.urls) != 1 || !strings.Contains(user.urls[0], "resource="+url.QueryEscape(prm.Resource)) {
					t.Errorf("authorization requests: %v", user.urls)
				}
				if !strings.Contains(user.pages[0], "not verified by PetStore") || !strings.Contains(user.pages[0], "Stay connected") {
					t.Error("the consent page does not mark the assistant as unverified or staying connected")
				}
				r, err := sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_pet",
					Arguments: map[string]any{"name": "Rex " + reg.name, "species": "dog", "age": 3}})
				if err != nil || r.IsError {
					t.Fatalf("add_pet: %v %+v", err, r)
				}
				r, err = sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_pets"})
				if err != nil || r.IsError || !strings.Contains(r.Content[0].(*mcp.TextContent).Text, "Rex "+reg.name) {
					t.Fatalf("list_pets: %v %+v", err, r)
				}
			})
		}

		t.Run("read-only consent", func(t *testing.T) {
			reader := &consentingUser{t: t, s: s, b: s.Browser(t), u: u, allow: []string{"read:pets"}}
			sess := connect(t, reader, dcr())
			if r, err := sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_pets"}); err != nil || r.IsError {
				t.Fatalf("list_pets with read:pets: %v %+v", err, r)
			}
			_, err := sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_pet",
				Arguments: map[string]any{"name": "Sneaky", "species": "cat", "age": 1}})
			if err == nil || !strings.Contains(err.Error(), "403") && !strings.Contains(strings.ToLower(err.Error()), "forbidden") {
				t.Fatalf("add_pet after a read-only consent: %v", err)
			}
			t.Logf("add_pet after a read-only consent: %v", err)
			if len(reader.urls) != 2 || !strings.Contains(reader.urls[1], "write%3Apets") {
				t.Errorf("the SDK did not step up to write:pets after the 403: %v", reader.urls)
			}
		})
	})
}
