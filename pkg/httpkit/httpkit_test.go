package httpkit_test

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestErrorBodiesGolden pins the one JSON error shape for every code
// (testdata/golden/<code>.json; go test -update rewrites them) and the
// status each code maps to.
func TestErrorBodiesGolden(t *testing.T) {
	for code, status := range map[string]int{
		httpkit.CodeInvalid: 400, httpkit.CodeUnauthorized: 401, httpkit.CodeForbidden: 403,
		httpkit.CodeNotFound: 404, httpkit.CodeMethodNotAllowed: 405, httpkit.CodeConflict: 409,
		httpkit.CodeTooLarge: 413, httpkit.CodeUnsupportedMedia: 415, httpkit.CodeRateLimited: 429,
		httpkit.CodeInternal: 500, httpkit.CodeNotImplemented: 501, httpkit.CodeUnavailable: 503,
	} {
		t.Run(code, func(t *testing.T) {
			rec := httptest.NewRecorder()
			httpkit.Error(rec, code, "What went wrong, for the caller.")
			if rec.Code != status {
				t.Fatalf("status %d, want %d", rec.Code, status)
			}
			if rec.Header().Get("Cache-Control") != "no-store" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("headers %v", rec.Header())
			}
			if code == httpkit.CodeRateLimited && rec.Header().Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			path := filepath.Join("testdata", "golden", code+".json")
			if *update {
				_ = os.MkdirAll(filepath.Dir(path), 0o755)
				_ = os.WriteFile(path, rec.Body.Bytes(), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update once)", err)
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Fatalf("body %s, want %s", rec.Body, want)
			}
		})
	}
	if got := httpkit.StatusOf("no_such_code"); got != 500 {
		t.Fatalf("unknown code: %d, want 500", got)
	}
}

// TestMiddleware: a panic becomes a 500 in the one shape, the request id is
// kept when well-formed and replaced when not, and the access log carries
// the status the handler wrote but never the query string.
func TestMiddleware(t *testing.T) {
	var logs bytes.Buffer
	h := httpkit.Middleware(slog.New(slog.NewJSONHandler(&logs, nil)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpkit.RequestID(r.Context()) == "" {
			t.Error("no request id in the context")
		}
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
		}
	}))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/panic", nil))
	if rec.Code != 500 || rec.Body.String() != `{"error":"internal","error_description":"Internal error."}`+"\n" {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body)
	}

	req := httptest.NewRequest(http.MethodGet, "/teapot?code=secret-code", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusTeapot || rec.Header().Get("X-Request-ID") != "abc-123" {
		t.Fatalf("got %d, X-Request-ID %q", rec.Code, rec.Header().Get("X-Request-ID"))
	}
	if !strings.Contains(logs.String(), `"status":418`) || !strings.Contains(logs.String(), `"request_id":"abc-123"`) {
		t.Fatalf("access log lacks the status or request id:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "secret-code") {
		t.Fatal("the access log holds the query string")
	}

	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Request-ID", "bad id\n")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if id := rec.Header().Get("X-Request-ID"); id == "" || strings.ContainsAny(id, " \n") {
		t.Fatalf("malformed X-Request-ID passed through as %q", id)
	}
}

// TestServe: Serve answers until the context ends, then returns nil after
// draining.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpkit.Serve(ctx, srv, ln, httpkit.TLSFiles{}, 5*time.Second) }()
	res, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 {
		t.Fatalf("status %d", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after shutdown: %v, want nil", err)
	}
}
