package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
)

// dbGuard turns a database outage into fast 503s with Retry-After: while
// the database is down, requests that need it are refused before they queue
// on a dead connection pool, and a 5xx written while the database does not
// answer becomes a 503 (the client should retry, not report a bug).
// Liveness, metrics and the key set stay served.
//
// A refused or broken connection marks the database down at once. A ping
// that merely times out may only mean that the pool is busy, so it takes
// slowPingsDown of them in a row: one slow second under load must not turn
// into a second of refusing everything.
type dbGuard struct {
	ping func(context.Context) error
	down atomic.Bool
	slow int // consecutive timed-out pings; only run touches it
}

const slowPingsDown = 5

// run pings every interval until ctx ends, so that recovery is noticed
// within one interval without a restart.
func (g *dbGuard) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		g.observe(g.probe(ctx))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// observe records the result of one periodic ping.
func (g *dbGuard) observe(err error) {
	switch {
	case err == nil:
		g.slow = 0
		g.down.Store(false)
	case errors.Is(err, context.DeadlineExceeded):
		g.slow++
		g.down.Store(g.slow >= slowPingsDown)
	default:
		g.slow = 0
		g.down.Store(true)
	}
}

// probe pings once, within a second.
func (g *dbGuard) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	return g.ping(ctx)
}

// needsDatabase is false for the routes served from memory.
func needsDatabase(r *http.Request) bool {
	p := r.URL.Path
	return p != "/healthz" && p != "/readyz" && p != "/metrics" &&
		!strings.HasPrefix(p, "/.well-known/") && !strings.HasPrefix(p, "/static/")
}

const outageRetryAfter = 2 // seconds

func (g *dbGuard) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !needsDatabase(r) {
			next.ServeHTTP(w, r)
			return
		}
		if g.down.Load() {
			httpx.Unavailable(w, outageRetryAfter, "The database is unavailable; retry after the time in Retry-After.")
			return
		}
		gw := &guardWriter{ResponseWriter: w, g: g, ctx: r.Context()}
		next.ServeHTTP(gw, r)
	})
}

// guardWriter replaces a 5xx answer by a 503 when the database does not
// answer a ping, and drops the handler's body in that case.
type guardWriter struct {
	http.ResponseWriter
	g        *dbGuard
	ctx      context.Context
	decided  bool
	replaced bool
}

func (w *guardWriter) WriteHeader(code int) {
	if w.decided {
		return
	}
	w.decided = true
	if code >= 500 && code != http.StatusServiceUnavailable {
		if err := w.g.probe(w.ctx); err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				w.g.down.Store(true)
			}
			w.replaced = true
		}
	}
	if w.replaced {
		httpx.Unavailable(w.ResponseWriter, outageRetryAfter, "The database is unavailable; retry after the time in Retry-After.")
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *guardWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *guardWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
