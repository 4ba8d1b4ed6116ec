package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
)

// newAPIWithMetrics builds the API's handler against a fake authorization
// server; its metrics are served by a second test server (the URL returned).
func newAPIWithMetrics(t *testing.T, mutate func(*config)) (*bearertest.Server, *httptest.Server, string) {
	t.Helper()
	as := bearertest.NewServer(t, nil)
	cfg := defaults()
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "api.db")
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret = as.URL, bearertest.ClientID, bearertest.ClientSecret
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.cleanup)
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	msrv := httptest.NewServer(httpkit.MetricsServer(a.metrics, false).Handler)
	t.Cleanup(msrv.Close)
	return as, srv, msrv.URL + "/metrics"
}

func get(t *testing.T, url, token string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestRateLimitPerCredential(t *testing.T) {
	as, srv, metricsURL := newAPIWithMetrics(t, func(c *config) { c.RateLimitPerMinute = 3 })
	a := as.AccessToken(bearertest.Opaque("a"), "read:pets")
	b := as.APIKey("test", "read:pets")
	for i := range 3 {
		if res, body := get(t, srv.URL+"/v1/pets", a); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the limit: %d %s", i+1, res.StatusCode, body)
		}
	}
	res, _ := get(t, srv.URL+"/v1/pets", a)
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("4th request with the same credential: %d, want 429", res.StatusCode)
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q, want 1-60 seconds", res.Header.Get("Retry-After"))
	}
	if res, _ := get(t, srv.URL+"/v1/pets", b); res.StatusCode != http.StatusOK {
		t.Fatalf("another credential is limited too: %d", res.StatusCode)
	}
	if res, _ := get(t, srv.URL+"/healthz", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("liveness is rate limited: %d", res.StatusCode)
	}
	_, metrics := get(t, metricsURL, "")
	if !strings.Contains(metrics, "petstore_api_rate_limited_total 1") {
		t.Fatalf("the refusal is not counted:\n%s", grep(metrics, "rate_limited"))
	}
}

func TestMetrics(t *testing.T) {
	as, srv, metricsURL := newAPIWithMetrics(t, nil)
	tok := as.AccessToken(bearertest.Opaque("m"), "read:pets")
	for range 3 {
		get(t, srv.URL+"/v1/pets", tok)
	}
	get(t, srv.URL+"/v1/pets", "")
	get(t, srv.URL+"/v1/pets/abc-123", tok) // one series per route, not per id
	if res, _ := get(t, srv.URL+"/metrics", ""); res.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the public listener outside development mode: %d, want 404", res.StatusCode)
	}
	res, body := get(t, metricsURL, "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", res.StatusCode)
	}
	for _, want := range []string{
		`petstore_api_http_requests_total{method="GET",route="/v1/pets",status="200"} 3`,
		`petstore_api_http_requests_total{method="GET",route="/v1/pets",status="401"} 1`,
		`petstore_api_http_requests_total{method="GET",route="/v1/pets/{id}",status="404"} 1`,
		`petstore_api_http_request_duration_seconds_count{method="GET",route="/v1/pets"} 4`,
		"petstore_api_introspection_cache_misses_total 1",
		"petstore_api_introspection_cache_hits_total 3",
		"petstore_api_introspections_total 1",
		"petstore_api_db_open_connections",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s\n%s", want, grep(body, "petstore_api_"))
		}
	}
	if strings.Contains(body, tok) {
		t.Fatal("a token is in the metrics")
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPprofOnlyWhenSwitchedOn: the metrics listener serves the runtime
// profiles only with pprof set (PETSTORE_API_PPROF); by default they are 404.
func TestPprofOnlyWhenSwitchedOn(t *testing.T) {
	env := map[string]string{"PETSTORE_API_CLIENT_ID": "a", "PETSTORE_API_CLIENT_SECRET": "b", "PETSTORE_API_DEV": "true"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if cfg, err := loadConfig("/nonexistent", false, lookup); err != nil || cfg.Pprof {
		t.Fatalf("default config: pprof=%v err=%v, want off", cfg.Pprof, err)
	}
	env["PETSTORE_API_PPROF"] = "true"
	if cfg, err := loadConfig("/nonexistent", false, lookup); err != nil || !cfg.Pprof {
		t.Fatalf("PETSTORE_API_PPROF=true: pprof=%v err=%v, want on", cfg.Pprof, err)
	}
	env["PETSTORE_API_PPROF"] = "yes please"
	if _, err := loadConfig("/nonexistent", false, lookup); err == nil {
		t.Error("PETSTORE_API_PPROF=yes please: no error")
	}
	for _, on := range []bool{false, true} {
		srv := httptest.NewServer(httpkit.MetricsServer(http.NotFoundHandler(), on).Handler)
		for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap"} {
			res, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if want := map[bool]int{false: 404, true: 200}[on]; res.StatusCode != want {
				t.Errorf("pprof=%v GET %s: %d, want %d", on, p, res.StatusCode, want)
			}
		}
		srv.Close()
	}
}
