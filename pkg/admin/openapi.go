package admin

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3.0 document of the JSON API. docs/admin-openapi.json
// is a copy for readers of the repository; a test keeps the two, and the
// document and the router, equal.
//
//go:embed openapi.json
var OpenAPI []byte

// handleOpenAPI serves GET /admin/api/v1/openapi.json.
func (h *Handler) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(OpenAPI)
}
