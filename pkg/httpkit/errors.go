package httpkit

import (
	"encoding/json"
	"net/http"
)

// The error codes of the JSON APIs (admin API, PetStore API). The first
// nine are the identity error codes of the authorization server, spelt the
// same; the rest name failures only HTTP has.
const (
	CodeInvalid          = "invalid"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeConflict         = "conflict"
	CodeRateLimited      = "rate_limited"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
	CodeNotImplemented   = "not_implemented"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTooLarge         = "too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
)

// statusOf is the one code→status map: JSON error bodies and the HTML error
// page both take their status from it.
var statusOf = map[string]int{
	CodeInvalid:          http.StatusBadRequest,
	CodeUnauthorized:     http.StatusUnauthorized,
	CodeForbidden:        http.StatusForbidden,
	CodeNotFound:         http.StatusNotFound,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeConflict:         http.StatusConflict,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeUnsupportedMedia: http.StatusUnsupportedMediaType,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeInternal:         http.StatusInternalServerError,
	CodeNotImplemented:   http.StatusNotImplemented,
	CodeUnavailable:      http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status of an error code; unknown codes are 500.
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the one JSON error shape of the JSON APIs. The field names
// follow RFC 6749 §5.2 so that one client-side parser reads both these and
// the OAuth endpoints' errors; the codes are this package's, not OAuth's.
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// JSON writes v with status. Responses are never cached (they carry
// per-caller data) nor sniffed as another type.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error writes {"error": code, "error_description": description} with the
// status of code. A 429 without a Retry-After header gets 60 seconds
// (RFC 6585 §4); other headers (WWW-Authenticate, Retry-After) are the
// caller's to set first.
func Error(w http.ResponseWriter, code, description string) {
	status := StatusOf(code)
	if status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "60")
	}
	JSON(w, status, ErrorBody{Error: code, Description: description})
}
