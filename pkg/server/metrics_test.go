package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/tlstest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// TestMetricsNotOnThePublicListenerInProduction: in production /metrics is
// served on metrics_listen only, which serves nothing else; the public
// listener answers 404 for it.
func TestMetricsNotOnThePublicListenerInProduction(t *testing.T) {
	certFile, keyFile, pool := tlstest.Cert(t)
	cfg := productionConfig(t)
	cfg.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile}
	s, err := Open(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler), Web: webtest.Files()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- s.Serve(ctx, func(a string) { addr <- a }) }()
	t.Cleanup(func() {
		cancel()
		<-done
		s.Close()
	})
	public := <-addr
	c := tlstest.Client(pool)
	defer c.CloseIdleConnections()
	get := func(c *http.Client, url string) (int, string) {
		t.Helper()
		res, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, body := get(c, "https://"+public+"/metrics"); st != http.StatusNotFound || strings.Contains(body, "go_goroutines") {
		t.Fatalf("public /metrics in production: %d %.100s", st, body)
	}
	if st, _ := get(c, "https://"+public+"/healthz"); st != http.StatusOK {
		t.Fatalf("public /healthz: %d", st)
	}
	// A known path with another method is 405 in the JSON error shape.
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequest(http.MethodPut, "https://"+public+path, nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(b), `"error":"method_not_allowed"`) {
			t.Errorf("PUT %s: %d %s, want 405 method_not_allowed", path, res.StatusCode, b)
		}
	}
	m := s.MetricsAddr()
	if m == "" {
		t.Fatal("no metrics listener")
	}
	if st, body := get(http.DefaultClient, "http://"+m+"/metrics"); st != http.StatusOK || !strings.Contains(body, "petstore_auth_http_requests_total") {
		t.Fatalf("metrics listener: %d %.200s", st, body)
	}
	for _, p := range []string{"/healthz", "/oauth2/token", "/admin", "/"} {
		if st, _ := get(http.DefaultClient, "http://"+m+p); st != http.StatusNotFound && st != http.StatusMethodNotAllowed {
			t.Fatalf("metrics listener serves %s: %d", p, st)
		}
	}
}

// TestMetricsOnTheMainListenerInDevelopment keeps `make run` and the local
// scripts working: development mode also serves /metrics publicly.
func TestMetricsOnTheMainListenerInDevelopment(t *testing.T) {
	cfg := productionConfig(t)
	cfg.Dev, cfg.Issuer = true, "http://127.0.0.1:8080"
	s, err := Open(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler), Web: webtest.Files()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "go_goroutines") {
		t.Fatalf("dev /metrics: %d", rec.Code)
	}
}

// TestPprofOnlyWhenSwitchedOn: the metrics listener serves the runtime
// profiles only with pprof set (PETSTORE_PPROF); by default they are 404.
func TestPprofOnlyWhenSwitchedOn(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	for _, on := range []bool{false, true} {
		srv := httptest.NewServer(httpkit.MetricsServer(metrics, on).Handler)
		for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap"} {
			res, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if want := map[bool]int{false: http.StatusNotFound, true: http.StatusOK}[on]; res.StatusCode != want {
				t.Errorf("pprof=%v GET %s: %d, want %d", on, p, res.StatusCode, want)
			}
		}
		srv.Close()
	}
	if cfg := config.Default(); cfg.Pprof {
		t.Error("pprof is on by default")
	}
}
