package httpx

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// MaxBodyBytes bounds every request body (1 MiB).
const MaxBodyBytes = 1 << 20

// StatusOf maps an error to its HTTP status through the one code→status map
// (httpkit.StatusOf); errors without an identity code are 500.
func StatusOf(err error) int {
	return httpkit.StatusOf(identity.ErrorCode(err))
}

// JSON writes v with the given status. Responses are never cached.
func JSON(w http.ResponseWriter, status int, v any) { httpkit.JSON(w, status, v) }

// Error writes err in the JSON APIs' one shape, {"error": code,
// "error_description": message} (httpkit.Error); internal errors are logged
// with the request id and shown generically.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	if StatusOf(err) >= 500 {
		Logger(r.Context()).Error("request failed", "err", err)
	}
	httpkit.Error(w, identity.ErrorCode(err), identity.ErrorMessage(err))
}

// RequestID returns the id of the request in ctx.
func RequestID(ctx context.Context) string { return httpkit.RequestID(ctx) }

// Logger returns the request-scoped logger, tagged with the request id.
func Logger(ctx context.Context) *slog.Logger { return httpkit.Logger(ctx) }

// Middleware is httpkit.Middleware (request id, access log, recovery) plus
// the authorization server's cap on request bodies.
func Middleware(base *slog.Logger) func(http.Handler) http.Handler {
	logged := httpkit.Middleware(base)
	return func(next http.Handler) http.Handler {
		return logged(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
			}
			next.ServeHTTP(w, r)
		}))
	}
}

// SecurityHeaders sets the headers every response of the authorization
// server carries; HTML pages add their own CSP on top. HSTS goes on answers
// to requests that came over HTTPS, directly or through a trusted proxy.
func SecurityHeaders() func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			if h.Get("Content-Security-Policy") == "" {
				h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			}
			if clientaddr.Scheme(r) == "https" {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}
