package petstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
)

// MCPPath is the Model Context Protocol endpoint (Streamable HTTP transport,
// MCP 2025-06-18), served by the official Go SDK in stateless mode: no
// session state on the server, so any replica answers any request.
const MCPPath = "/mcp"

// toolScopes is the scope each tool needs; a tools/call without it is
// refused with HTTP 403 insufficient_scope before the SDK sees it.
var toolScopes = map[string]string{
	"list_pets":  ScopeRead,
	"get_pet":    ScopeRead,
	"add_pet":    ScopeWrite,
	"delete_pet": ScopeWrite,
}

// ScopeRefuser writes the 403 insufficient_scope answer (with the resource
// metadata); *bearer.Verifier is one.
type ScopeRefuser interface {
	WriteInsufficientScope(w http.ResponseWriter, scope string)
}

// mcpHandler is /mcp: the credential check of every route (Require, which
// answers 401 with resource_metadata), the per-tool scope check, then the
// SDK's handler with the principal handed over as its TokenInfo.
func (h *Handler) mcpHandler() http.Handler {
	srv := mcp.NewServer(&mcp.Implementation{Name: "petstore", Title: "PetStore", Version: "1.0.0"}, nil)
	srv.AddReceivingMiddleware(toolScopeGuard)
	h.addTools(srv)
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	return h.Verifier.Require()(h.requireToolScope(sdkBearer(auth.RequireBearerToken(principalTokenInfo, nil)(streamable))))
}

// sdkBearer shows the SDK's RequireBearerToken, which reads only the Bearer
// scheme, a DPoP credential (RFC 9449 §7.1) as Bearer: Require has already
// checked it with its proof, and the SDK takes the principal from
// principalTokenInfo, not from the header.
func sdkBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Authorization"); len(v) > 5 && strings.EqualFold(v[:5], "DPoP ") {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+v[5:])
		}
		next.ServeHTTP(w, r)
	})
}

// principalTokenInfo hands the principal Require established to the SDK
// (the only way into a tool's request). Require has decided validity with
// the verifier's clock; the SDK checks the expiry again against time.Now
// and refuses a zero one, so a credential without expiry (an API key) is
// given the next minute, longer than this one request needs.
func principalTokenInfo(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	p := bearer.FromContext(ctx)
	if p == nil {
		return nil, auth.ErrInvalidToken
	}
	exp := p.Expiry
	if now := time.Now(); !exp.After(now) {
		exp = now.Add(time.Minute)
	}
	return &auth.TokenInfo{UserID: p.Subject, Scopes: p.Scopes, Expiration: exp,
		Extra: map[string]any{"principal": p}}, nil
}

// errToolScope is the JSON-RPC error of a tools/call that reached the SDK
// without its scope (toolScopeGuard).
var errToolScope = errors.New("insufficient scope for this tool")

// toolScopeGuard is the authoritative scope check, on the request as the
// SDK decoded it: requireToolScope's HTTP 403 is for clients to step up,
// and a body it reads differently from the SDK (duplicate or case-variant
// keys) must still never run a tool without its scope.
func toolScopeGuard(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if call, ok := req.(*mcp.CallToolRequest); ok && method == "tools/call" {
			need, known := toolScopes[call.Params.Name]
			p := principalFromExtra(call.Extra)
			if p == nil || (known && !p.HasScope(need)) {
				return nil, errToolScope
			}
		}
		return next(ctx, method, req)
	}
}

// jsonrpcCall is the part of a JSON-RPC request the scope check reads.
type jsonrpcCall struct {
	Method string `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// requireToolScope reads the JSON-RPC body (one message, or a batch from
// older clients) and answers 403 insufficient_scope when a tools/call
// names a tool whose scope the principal lacks, so that the client gets
// an HTTP challenge it can step up on rather than a tool error. A body it
// cannot read goes on to the SDK, which answers the JSON-RPC error.
func (h *Handler) requireToolScope(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			WriteError(w, httpkit.CodeTooLarge, "The request body is larger than 64 KiB")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var calls []jsonrpcCall
		if err := json.Unmarshal(body, &calls); err != nil {
			var one jsonrpcCall
			_ = json.Unmarshal(body, &one)
			calls = []jsonrpcCall{one}
		}
		p := bearer.FromContext(r.Context())
		for _, c := range calls {
			need, ok := toolScopes[c.Params.Name]
			if c.Method == "tools/call" && ok && !p.HasScope(need) {
				if ref, ok := h.Verifier.(ScopeRefuser); ok {
					ref.WriteInsufficientScope(w, need)
				} else {
					w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+need+`"`)
					WriteError(w, httpkit.CodeForbidden, "Insufficient scope: this call needs "+need)
				}
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Tool inputs; the SDK derives each tool's input schema from these.
type (
	listPetsIn struct {
		Limit int    `json:"limit,omitempty" jsonschema:"how many pets to return, 1 to 100 (default 20)"`
		After string `json:"after,omitempty" jsonschema:"return the pets after this pet id (the last id of the previous page)"`
	}
	petIDIn struct {
		ID string `json:"id" jsonschema:"the pet's id, as list_pets returns it"`
	}
	addPetIn struct {
		Name    string `json:"name" jsonschema:"the pet's name"`
		Species string `json:"species" jsonschema:"dog, cat, bird, fish, rabbit or other"`
		Age     int    `json:"age" jsonschema:"age in years, 0 to 100"`
	}
)

// principalOf is the caller (principalTokenInfo put it there).
func principalOf(req *mcp.CallToolRequest) *bearer.Principal { return principalFromExtra(req.Extra) }

func principalFromExtra(extra *mcp.RequestExtra) *bearer.Principal {
	if extra == nil || extra.TokenInfo == nil {
		return nil
	}
	p, _ := extra.TokenInfo.Extra["principal"].(*bearer.Principal)
	return p
}

// errNoPrincipal cannot happen behind requireToolScope; it keeps a tool from
// ever running for nobody.
var errNoPrincipal = errors.New("no authenticated caller")

func (h *Handler) addTools(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "list_pets", Title: "List pets", Description: "Lists the caller's pets, oldest first. Needs read:pets."},
		h.toolList)
	mcp.AddTool(s, &mcp.Tool{Name: "get_pet", Title: "Get a pet", Description: "Returns one of the caller's pets by id. Needs read:pets."},
		h.toolGet)
	mcp.AddTool(s, &mcp.Tool{Name: "add_pet", Title: "Add a pet", Description: "Adds a pet to the caller's account. Needs write:pets."},
		h.toolAdd)
	mcp.AddTool(s, &mcp.Tool{Name: "delete_pet", Title: "Delete a pet", Description: "Removes one of the caller's pets by id. Needs write:pets."},
		h.toolDelete)
}

func (h *Handler) toolList(ctx context.Context, req *mcp.CallToolRequest, in listPetsIn) (*mcp.CallToolResult, any, error) {
	p := principalOf(req)
	if p == nil {
		return nil, nil, errNoPrincipal
	}
	page := Page{Limit: in.Limit, After: in.After}
	if page.Limit == 0 {
		page.Limit = DefaultLimit
	}
	if page.Limit < 1 || page.Limit > MaxLimit || (page.After != "" && !validID(page.After)) {
		return toolError("limit must be 1 to 100 and after a pet id"), nil, nil
	}
	pets, more, err := h.Store.List(ctx, p.Subject, page)
	if err != nil {
		return h.toolInternal(ctx, "list pets", err)
	}
	if pets == nil {
		pets = []*Pet{}
	}
	return toolJSON(map[string]any{"pets": pets, "more": more})
}

func (h *Handler) toolGet(ctx context.Context, req *mcp.CallToolRequest, in petIDIn) (*mcp.CallToolResult, any, error) {
	p := principalOf(req)
	if p == nil {
		return nil, nil, errNoPrincipal
	}
	if !validID(in.ID) {
		return toolError("Pet not found"), nil, nil
	}
	pet, err := h.Store.Get(ctx, p.Subject, in.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return toolError("Pet not found"), nil, nil
	case err != nil:
		return h.toolInternal(ctx, "get pet", err)
	}
	return toolJSON(pet)
}

func (h *Handler) toolAdd(ctx context.Context, req *mcp.CallToolRequest, in addPetIn) (*mcp.CallToolResult, any, error) {
	p := principalOf(req)
	if p == nil {
		return nil, nil, errNoPrincipal
	}
	pet := &Pet{Owner: p.Subject, Name: in.Name, Species: in.Species, Age: in.Age}
	err := h.Store.Create(ctx, pet)
	var invalid *ValidationError
	switch {
	case errors.As(err, &invalid):
		return toolError(invalid.Error()), nil, nil
	case err != nil:
		return h.toolInternal(ctx, "create pet", err)
	}
	return toolJSON(pet)
}

func (h *Handler) toolDelete(ctx context.Context, req *mcp.CallToolRequest, in petIDIn) (*mcp.CallToolResult, any, error) {
	p := principalOf(req)
	if p == nil {
		return nil, nil, errNoPrincipal
	}
	if !validID(in.ID) {
		return toolError("Pet not found"), nil, nil
	}
	err := h.Store.Delete(ctx, p.Subject, in.ID)
	switch {
	case errors.Is(err, ErrNotFound):
		return toolError("Pet not found"), nil, nil
	case err != nil:
		return h.toolInternal(ctx, "delete pet", err)
	}
	return toolJSON(map[string]any{"deleted": in.ID})
}

// toolJSON is a successful result: v as JSON text.
func toolJSON(v any) (*mcp.CallToolResult, any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, err
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}}, nil, nil
}

// toolError is a tool-level failure the model can read (MCP: isError).
func toolError(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}

// toolInternal logs a storage failure and tells the caller without detail.
func (h *Handler) toolInternal(ctx context.Context, what string, err error) (*mcp.CallToolResult, any, error) {
	h.logger().ErrorContext(ctx, "mcp tool failed", "op", what, "err", err)
	return toolError("Internal error"), nil, nil
}
