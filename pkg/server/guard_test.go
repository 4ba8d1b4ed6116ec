package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDBGuard(t *testing.T) {
	var pingErr error // the handlers run synchronously: no locking needed
	g := &dbGuard{ping: func(context.Context) error { return pingErr }}
	failing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "store: boom", http.StatusInternalServerError)
	})
	serve := func(path string, h http.Handler) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		g.middleware(h).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	refused := fmt.Errorf("dial tcp 127.0.0.1:5432: connect: connection refused")
	slow := fmt.Errorf("ping: %w", context.DeadlineExceeded)

	t.Run("a 500 while the database answers stays a 500", func(t *testing.T) {
		if rec := serve("/oauth2/token", failing); rec.Code != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500 (a bug must not hide behind Retry-After)", rec.Code)
		}
	})
	t.Run("a 500 while the database does not answer becomes a 503", func(t *testing.T) {
		pingErr = refused
		rec := serve("/oauth2/token", failing)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("status %d Retry-After %q, want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
		}
		if body := rec.Body.String(); strings.Contains(body, "boom") {
			t.Fatalf("the handler's body leaked into the 503: %s", body)
		}
	})
	t.Run("while down, database routes are refused before the handler runs", func(t *testing.T) {
		g.observe(refused)
		if rec := serve("/oauth2/introspect", ok); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503", rec.Code)
		}
		for _, path := range []string{"/healthz", "/metrics", "/.well-known/jwks.json"} {
			if rec := serve(path, ok); rec.Code != http.StatusNoContent {
				t.Fatalf("%s while the database is down: %d, want it served", path, rec.Code)
			}
		}
	})
	t.Run("recovery is noticed at the next ping", func(t *testing.T) {
		pingErr = nil
		g.observe(nil)
		if rec := serve("/oauth2/introspect", ok); rec.Code != http.StatusNoContent {
			t.Fatalf("status %d after recovery, want the handler's 204", rec.Code)
		}
	})
	t.Run("slow pings under load do not shed traffic at once", func(t *testing.T) {
		for i := 1; i < slowPingsDown; i++ {
			g.observe(slow)
			if rec := serve("/oauth2/token", ok); rec.Code != http.StatusNoContent {
				t.Fatalf("after %d slow pings: %d, want requests still served", i, rec.Code)
			}
		}
		g.observe(slow)
		if rec := serve("/oauth2/token", ok); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("after %d slow pings in a row: %d, want 503", slowPingsDown, rec.Code)
		}
		g.observe(nil)
	})
}
