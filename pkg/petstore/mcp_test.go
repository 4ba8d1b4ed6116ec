package petstore

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
	"github.com/petstore-auth/petstore-auth/pkg/dpop/dpoptest"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
)

// fullAPI is the API as petstore-api assembles it (NewServer: limits,
// metadata, /mcp), at a public URL known before it starts, behind a real
// Verifier talking to a fake authorization server.
type fullAPI struct {
	url   string
	as    *bearertest.Server
	store *Store
}

func newFullAPI(t *testing.T, store *Store) *fullAPI {
	return newLimitedAPI(t, store, DefaultRateLimitPerMinute)
}

// newLimitedAPI is newFullAPI with perMinute requests per credential.
func newLimitedAPI(t *testing.T, store *Store, perMinute int) *fullAPI {
	t.Helper()
	as := bearertest.NewServer(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	v := &bearer.Verifier{Issuer: as.URL, ClientID: bearertest.ClientID, ClientSecret: bearertest.ClientSecret,
		Audience: public, Mode: "test", Logger: slog.New(slog.DiscardHandler)}
	srv := NewServer(ServerConfig{RateLimitPerMinute: perMinute, FailedPerIPPerMinute: DefaultFailedPerIPPerMinute,
		PublicURL: public, Issuer: as.URL},
		Deps{Store: store, Verifier: v, Limiter: &ratelimit.Memory{}, Logger: slog.New(slog.DiscardHandler)})
	ts := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv.Handler}}
	ts.Start()
	t.Cleanup(ts.Close)
	return &fullAPI{url: public, as: as, store: store}
}

// token is an opaque token of subject for this API with scope.
func (a *fullAPI) token(subject, scope, aud string) string {
	tok := bearertest.Opaque(subject + " " + scope + " " + aud)
	a.as.SetAnswer(tok, map[string]any{"scope": scope, "client_id": "assistant", "sub": subject,
		"exp": time.Now().Add(time.Hour).Unix(), "aud": []string{aud},
		"token_type": "access_token", "token_use": "access_token"})
	return tok
}

// TestProtectedResourceMetadata: both RFC 9728 documents have exactly the
// members the issue names, with the API's one identifier as resource.
func TestProtectedResourceMetadata(t *testing.T) {
	a := newFullAPI(t, openSQLiteStore(t))
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		res, err := http.Get(a.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var got map[string]any
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || json.Unmarshal(b, &got) != nil {
			t.Fatalf("%s: %d %q %s", path, res.StatusCode, res.Header.Get("Content-Type"), b)
		}
		want := map[string]any{
			"resource":                 a.url,
			"authorization_servers":    []any{a.as.URL},
			"scopes_supported":         []any{"read:pets", "write:pets"},
			"bearer_methods_supported": []any{"header"},
			"resource_name":            "PetStore API",
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s:\n got %s\nwant %s", path, gotJSON, wantJSON)
		}
	}
}

// Test401sNameTheMetadata: every 401 from /v1/pets and /mcp carries
// resource_metadata; a token for another resource is refused with the
// audience named in WWW-Authenticate.
func Test401sNameTheMetadata(t *testing.T) {
	a := newFullAPI(t, openSQLiteStore(t))
	rm := `resource_metadata="` + a.url + `/.well-known/oauth-protected-resource"`
	other := a.token("alice", "read:pets write:pets", "https://photos.example")
	for _, tc := range []struct {
		name, method, path, token, wantErr string
	}{
		{"no token, pets", "GET", "/v1/pets", "", ""},
		{"no token, mcp", "POST", "/mcp", "", ""},
		{"unknown token, mcp", "POST", "/mcp", bearertest.Opaque("nobody"), `error="invalid_token"`},
		{"other audience, pets", "GET", "/v1/pets", other, `error_description="The access token's audience does not include this API"`},
		{"other audience, mcp", "POST", "/mcp", other, `error_description="The access token's audience does not include this API"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, a.url+tc.path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			ch := res.Header.Get("WWW-Authenticate")
			if res.StatusCode != 401 || !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, rm) || !strings.Contains(ch, tc.wantErr) {
				t.Errorf("%d %q, want 401 with %s and %s", res.StatusCode, ch, rm, tc.wantErr)
			}
		})
	}
}

// recorder is an HTTP client transport that adds a bearer credential and
// remembers the last answer's status and challenge.
type recorder struct {
	token string
	// dpop, when set, sends the token with the DPoP scheme and a proof
	// for each request (RFC 9449 §7.1).
	dpop *dpoptest.Key
	mu   sync.Mutex
	last *http.Response
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	switch {
	case r.dpop != nil:
		req.Header.Set("Authorization", "DPoP "+r.token)
		req.Header.Set("DPoP", r.dpop.Proof(req.Method, req.URL.String(), dpoptest.Opts{AccessToken: r.token}))
	case r.token != "":
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && req.Method == http.MethodPost {
		r.mu.Lock()
		r.last = res
		r.mu.Unlock()
	}
	return res, err
}

func (r *recorder) lastAnswer() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		return 0, ""
	}
	return r.last.StatusCode, r.last.Header.Get("WWW-Authenticate")
}

func connect(t *testing.T, a *fullAPI, credential string) (*mcp.ClientSession, *recorder) {
	t.Helper()
	rec := &recorder{token: credential}
	c := mcp.NewClient(&mcp.Implementation{Name: "petstore-test", Version: "1.0.0"}, nil)
	sess, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: a.url + "/mcp",
		HTTPClient: &http.Client{Transport: rec}}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess, rec
}

// TestMCPWithDPoP: a DPoP-bound token with a proof per request works at
// /mcp as at /v1/pets (the SDK reads only the Bearer scheme).
func TestMCPWithDPoP(t *testing.T) {
	a := newFullAPI(t, openSQLiteStore(t))
	k := dpoptest.NewKey()
	tok := bearertest.Opaque("dpop alice")
	a.as.SetAnswer(tok, map[string]any{"scope": "read:pets write:pets", "client_id": "assistant", "sub": "alice",
		"exp": time.Now().Add(time.Hour).Unix(), "aud": []string{a.url}, "cnf": map[string]any{"jkt": k.JKT()},
		"token_type": "access_token", "token_use": "access_token"})
	rec := &recorder{token: tok, dpop: k}
	c := mcp.NewClient(&mcp.Implementation{Name: "petstore-test", Version: "1.0.0"}, nil)
	sess, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: a.url + "/mcp",
		HTTPClient: &http.Client{Transport: rec}}, nil)
	if err != nil {
		t.Fatalf("connect with DPoP: %v", err)
	}
	defer sess.Close()
	if text, isErr := callText(t, sess, "add_pet", map[string]any{"name": "Dot", "species": "cat", "age": 2}); isErr {
		t.Fatalf("add_pet with DPoP: %s", text)
	}
	// The same token as Bearer is refused: it is bound to k.
	rec.dpop = nil
	if _, err := sess.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_pets"}); err == nil {
		t.Fatal("a DPoP-bound token sent as Bearer was accepted at /mcp")
	}
}

func callText(t *testing.T, sess *mcp.ClientSession, name string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := sess.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var sb strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			sb.WriteString(tc.Text)
		}
	}
	return sb.String(), res.IsError
}

// TestMCP: an MCP client made with the SDK's client side lists the four
// tools with their input schemas and manages pets with a read+write token
// (the same store /v1/pets serves); add_pet with a read-only token is an
// HTTP 403 insufficient_scope naming write:pets and the metadata; an API
// key works too.
func TestMCP(t *testing.T) {
	a := newFullAPI(t, openSQLiteStore(t))
	sess, _ := connect(t, a, a.token("alice", "read:pets write:pets", a.url))

	tools, err := sess.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string][]string{}
	for _, tool := range tools.Tools {
		b, _ := json.Marshal(tool.InputSchema)
		var s struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		_ = json.Unmarshal(b, &s)
		if s.Type != "object" {
			t.Errorf("%s: input schema %s", tool.Name, b)
		}
		schemas[tool.Name] = s.Required
	}
	for name, required := range map[string]string{"list_pets": "", "get_pet": "id", "add_pet": "age name species", "delete_pet": "id"} {
		got, ok := schemas[name]
		slices.Sort(got)
		if !ok || strings.Join(got, " ") != required {
			t.Errorf("tool %s: present %v, required %v, want %q", name, ok, got, required)
		}
	}

	text, isErr := callText(t, sess, "add_pet", map[string]any{"name": "Biscuit", "species": "dog", "age": 4})
	var pet Pet
	if isErr || json.Unmarshal([]byte(text), &pet) != nil || pet.Name != "Biscuit" || pet.ID == "" {
		t.Fatalf("add_pet: %v %s", isErr, text)
	}
	if p, err := a.store.Get(context.Background(), "alice", pet.ID); err != nil || p.Name != "Biscuit" {
		t.Fatalf("the pet is not in the API's store: %v %v", p, err)
	}
	if text, isErr := callText(t, sess, "list_pets", nil); isErr || !strings.Contains(text, pet.ID) {
		t.Errorf("list_pets: %v %s", isErr, text)
	}
	if text, isErr := callText(t, sess, "get_pet", map[string]any{"id": pet.ID}); isErr || !strings.Contains(text, "Biscuit") {
		t.Errorf("get_pet: %v %s", isErr, text)
	}
	if text, isErr := callText(t, sess, "add_pet", map[string]any{"name": "X", "species": "dragon", "age": 4}); !isErr {
		t.Errorf("add_pet with a bad species: %s, want a tool error", text)
	}
	if text, isErr := callText(t, sess, "delete_pet", map[string]any{"id": pet.ID}); isErr {
		t.Errorf("delete_pet: %s", text)
	}
	if text, isErr := callText(t, sess, "get_pet", map[string]any{"id": pet.ID}); !isErr || text != "Pet not found" {
		t.Errorf("get_pet after delete: %v %s", isErr, text)
	}

	t.Run("read-only token: add_pet is HTTP 403", func(t *testing.T) {
		ro, rec := connect(t, a, a.token("alice", "read:pets", a.url))
		if _, isErr := callText(t, ro, "list_pets", nil); isErr {
			t.Fatal("list_pets with read:pets failed")
		}
		_, err := ro.CallTool(context.Background(), &mcp.CallToolParams{Name: "add_pet", Arguments: map[string]any{"name": "Rex", "species": "dog", "age": 1}})
		status, ch := rec.lastAnswer()
		want := `Bearer realm="petstore", error="insufficient_scope", scope="write:pets", resource_metadata="` + a.url + `/.well-known/oauth-protected-resource"`
		if err == nil || status != http.StatusForbidden || ch != want {
			t.Errorf("add_pet read-only: err %v, HTTP %d %q; want 403 %q", err, status, ch, want)
		}
	})
	t.Run("API key", func(t *testing.T) {
		key := a.as.APIKey(apikey.EnvTest, "read:pets")
		ks, _ := connect(t, a, key)
		if text, isErr := callText(t, ks, "list_pets", nil); isErr || !strings.Contains(text, `"pets"`) {
			t.Errorf("list_pets with an API key: %v %s", isErr, text)
		}
	})
}

// TestMCPScopeCheckCannotBeSplit: a tools/call body that a lenient JSON
// reader and the SDK could read differently (a case-variant or duplicated
// "name") never runs a write tool with a read-only token: either the HTTP
// check or the SDK-side guard refuses it, and the store is unchanged.
func TestMCPScopeCheckCannotBeSplit(t *testing.T) {
	a := newFullAPI(t, openSQLiteStore(t))
	ro := a.token("mallory", "read:pets", a.url)
	for name, body := range map[string]string{
		"case variant": `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_pet","Name":"list_pets","arguments":{"name":"Rex","species":"dog","age":1}}}`,
		"duplicate":    `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_pet","name":"list_pets","arguments":{"name":"Rex","species":"dog","age":1}}}`,
		"duplicate 2":  `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_pets","name":"add_pet","arguments":{"name":"Rex","species":"dog","age":1}}}`,
		"plain":        `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"add_pet","arguments":{"name":"Rex","species":"dog","age":1}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, a.url+"/mcp", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", "Bearer "+ro)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			pets, _, err := a.store.List(context.Background(), "mallory", Page{Limit: 10})
			if err != nil || len(pets) != 0 {
				t.Fatalf("a write tool ran with a read-only token (HTTP %d %s): %v %v", res.StatusCode, b, pets, err)
			}
		})
	}
}

// TestMCPRateLimited: /mcp counts against the same per-credential limit as
// /v1/pets (one budget for both).
func TestMCPRateLimited(t *testing.T) {
	a := newLimitedAPI(t, openSQLiteStore(t), 3)
	tok := a.token("alice", "read:pets", a.url)
	do := func(method, path, body string) int {
		req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_pets","arguments":{}}}`
	for i, path := range []string{"/v1/pets", "/mcp", "/v1/pets"} {
		method, body := http.MethodGet, ""
		if path == "/mcp" {
			method, body = http.MethodPost, list
		}
		if got := do(method, path, body); got != http.StatusOK {
			t.Fatalf("request %d to %s: HTTP %d, want 200 within the budget", i+1, path, got)
		}
	}
	if got := do(http.MethodPost, "/mcp", list); got != http.StatusTooManyRequests {
		t.Fatalf("fourth request (to /mcp): HTTP %d, want 429", got)
	}
}
