package httpx

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// MaxBodyBytes bounds every request body (1 MiB).
const MaxBodyBytes = 1 << 20

var statusOf = map[string]int{
	identity.ECONFLICT:       http.StatusConflict,
	identity.EINTERNAL:       http.StatusInternalServerError,
	identity.EINVALID:        http.StatusBadRequest,
	identity.ENOTFOUND:       http.StatusNotFound,
	identity.EUNAUTHORIZED:   http.StatusUnauthorized,
	identity.EFORBIDDEN:      http.StatusForbidden,
	identity.ERATELIMITED:    http.StatusTooManyRequests,
	identity.EUNAVAILABLE:    http.StatusServiceUnavailable,
	identity.ENOTIMPLEMENTED: http.StatusNotImplemented,
}

// StatusOf maps an error to its HTTP status.
func StatusOf(err error) int {
	if s, ok := statusOf[identity.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// JSON writes v with the given status. Responses are never cached.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Error writes err as {"error": code, "error_description": message}; internal
// errors are logged with the request id and shown generically.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	if status >= 500 {
		Logger(r.Context()).Error("request failed", "err", err)
	}
	if status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "60")
	}
	JSON(w, status, map[string]string{"error": identity.ErrorCode(err), "error_description": identity.ErrorMessage(err)})
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// RequestID returns the id of the request in ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Logger returns the request-scoped logger, tagged with the request id.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Observe is called once per request by Middleware with the route template,
// the status and the duration (the metrics hook).
type Observe func(r *http.Request, status int, d time.Duration)

// Middleware assigns a request id (accepting a well-formed X-Request-ID),
// logs one line per request — method, path without query (queries carry
// codes and state), status, duration — recovers panics into a 500, and caps
// the request body.
func Middleware(base *slog.Logger, observe Observe) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get("X-Request-ID")
			if !validRequestID.MatchString(id) {
				id = newRequestID()
			}
			w.Header().Set("X-Request-ID", id)
			log := base.With("request_id", id)
			ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), loggerKey, log)
			r = r.WithContext(ctx)
			if r.Body != nil {
				r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
			}
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.Error("panic", "panic", p, "stack", string(debug.Stack()))
					if sw.status == 0 {
						JSON(sw, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "Internal error."})
					}
				}
				d := time.Since(start)
				if observe != nil {
					observe(r, sw.status, d)
				}
				log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
					"duration_ms", float64(d.Microseconds())/1000, "bytes", sw.bytes, "client", clientaddr.Of(r))
			}()
			next.ServeHTTP(sw, r)
		})
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
