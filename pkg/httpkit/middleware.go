package httpkit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/felixge/httpsnoop"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// RequestID returns the id of the request in ctx ("" outside Middleware).
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

// Recorded is what Record saw a handler write.
type Recorded struct {
	Status int // 0 until the handler wrote a header or body
	Bytes  int64
}

// Record wraps w so that the status and body size are known after the
// handler ran. httpsnoop keeps the optional interfaces of w (Flusher,
// Hijacker, ReaderFrom…) exactly as w has them.
func Record(w http.ResponseWriter) (http.ResponseWriter, *Recorded) {
	rec := &Recorded{}
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
			return func(code int) {
				if rec.Status == 0 {
					rec.Status = code
				}
				next(code)
			}
		},
		Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
			return func(b []byte) (int, error) {
				if rec.Status == 0 {
					rec.Status = http.StatusOK
				}
				n, err := next(b)
				rec.Bytes += int64(n)
				return n, err
			}
		},
		ReadFrom: func(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
			return func(src io.Reader) (int64, error) {
				if rec.Status == 0 {
					rec.Status = http.StatusOK
				}
				n, err := next(src)
				rec.Bytes += n
				return n, err
			}
		},
	}), rec
}

// Middleware assigns a request id (keeping a well-formed X-Request-ID, so
// one id follows a call through both servers), puts a logger tagged with it
// in the context, recovers panics into a 500 "internal" answer without a
// stack trace, and logs one line per request: method, path without query
// (queries carry codes and state), status, duration, client address — never
// headers, where credentials are.
func Middleware(base *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get("X-Request-ID")
			if !validRequestID.MatchString(id) {
				id = newRequestID()
			}
			w.Header().Set("X-Request-ID", id)
			log := base.With("request_id", id)
			r = r.WithContext(context.WithValue(context.WithValue(r.Context(), requestIDKey, id), loggerKey, log))
			rw, rec := Record(w)
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.Error("panic", "panic", p, "path", r.URL.Path, "stack", string(debug.Stack()))
					if rec.Status == 0 {
						Error(rw, CodeInternal, "Internal error.")
					}
				}
				status := rec.Status
				if status == 0 {
					status = http.StatusOK
				}
				log.Info("request", "method", r.Method, "path", r.URL.Path, "status", status,
					"duration_ms", float64(time.Since(start).Microseconds())/1000, "bytes", rec.Bytes, "client", clientaddr.Of(r))
			}()
			next.ServeHTTP(rw, r)
		})
	}
}
