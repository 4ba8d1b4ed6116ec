package petstore

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

// Protected Resource Metadata (RFC 9728).
//
// One identifier for the whole API: its public URL. The authorization
// server knows each resource server by one identifier (RFC 8707 resource,
// the token's aud), so /v1/pets and /mcp share it, and both documents —
// /.well-known/oauth-protected-resource and the path-suffixed one RFC 9728
// §3.1 derives for <public>/mcp — name it as "resource". A client that
// validates strictly per §3.3 against <public>/mcp falls back, as the MCP
// authorization spec (2025-06-18, "Protected Resource Metadata Discovery")
// and its Go SDK do, to the root document, whose resource is the public URL
// it then sends as the resource parameter; every 401 therefore names the
// root document (WellKnownPRM) in resource_metadata.

// WellKnownPRM is the path of the API's RFC 9728 metadata document.
const WellKnownPRM = "/.well-known/oauth-protected-resource"

// ResourceName is the human name in the metadata (RFC 9728 §2).
const ResourceName = "PetStore API"

// ResourceMetadata is the RFC 9728 §2 document.
type ResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name"`
}

// MetadataURL is the URL of the metadata document for the API at publicURL.
func MetadataURL(publicURL string) string { return strings.TrimRight(publicURL, "/") + WellKnownPRM }

// NewResourceMetadata is the document of the API at publicURL whose tokens
// come from issuer.
func NewResourceMetadata(publicURL, issuer string) ResourceMetadata {
	return ResourceMetadata{
		Resource:               strings.TrimRight(publicURL, "/"),
		AuthorizationServers:   []string{issuer},
		ScopesSupported:        []string{ScopeRead, ScopeWrite},
		BearerMethodsSupported: []string{"header"}, // RFC 6750 §2.1 only; never the query
		ResourceName:           ResourceName,
	}
}

// mountMetadata serves the document at both paths, to anyone (it is public:
// RFC 9728 §3), cacheable for an hour.
func mountMetadata(r *mux.Router, doc ResourceMetadata) {
	serve := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		WriteJSON(w, http.StatusOK, doc)
	}
	r.HandleFunc(WellKnownPRM, serve).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(WellKnownPRM+MCPPath, serve).Methods(http.MethodGet, http.MethodHead)
}
