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
	"sync"
	"time"

	"github.com/felixge/httpsnoop"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
)

type ctxKey int

const requestKey ctxKey = 0

// requestLog is what Middleware puts in the context: the request id and
// the logger tagged with it, made on first use — most requests log
// nothing but their access line.
type requestLog struct {
	id   string
	base *slog.Logger
	once sync.Once
	l    *slog.Logger
}

// RequestID returns the id of the request in ctx ("" outside Middleware).
func RequestID(ctx context.Context) string {
	if rl, ok := ctx.Value(requestKey).(*requestLog); ok {
		return rl.id
	}
	return ""
}

// Logger returns the request-scoped logger, tagged with the request id.
func Logger(ctx context.Context) *slog.Logger {
	if rl, ok := ctx.Value(requestKey).(*requestLog); ok {
		rl.once.Do(func() { rl.l = rl.base.With("request_id", rl.id) })
		return rl.l
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
			rl := &requestLog{id: id, base: base}
			r = r.WithContext(context.WithValue(r.Context(), requestKey, rl))
			rw, rec := Record(w)
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					Logger(r.Context()).Error("panic", "panic", p, "path", r.URL.Path, "stack", string(debug.Stack()))
					if rec.Status == 0 {
						Error(rw, CodeInternal, "Internal error.")
					}
				}
				status := rec.Status
				if status == 0 {
					status = http.StatusOK
				}
				if !base.Enabled(r.Context(), slog.LevelInfo) {
					return
				}
				base.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", id),
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", status),
					slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
					slog.Int64("bytes", rec.Bytes), slog.String("client", clientaddr.Of(r)))
			}()
			next.ServeHTTP(rw, r)
		})
	}
}
