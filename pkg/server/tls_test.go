package server

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/tlstest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// productionConfig is a production configuration (dev off) on a migrated
// SQLite database, listening on a free loopback port.
func productionConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Dev = false
	cfg.Issuer = "https://auth.example"
	cfg.Resources = []config.Resource{{Identifier: "https://api.example"}}
	cfg.Listen = "127.0.0.1:0"
	cfg.MetricsListen = "127.0.0.1:0"
	cfg.Secret = strings.Repeat("s", 32)
	cfg.DataDir = t.TempDir()
	cfg.DatabaseURL = "sqlite://" + filepath.Join(cfg.DataDir, "auth.db")
	st, err := store.Open(context.Background(), cfg.DatabaseURL, store.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	return cfg
}

// serveTLS opens and serves cfg until the test ends and returns the bound
// address.
func serveTLS(t *testing.T, cfg config.Config) string {
	t.Helper()
	s, err := Open(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler), Web: webtest.Files()})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- s.Serve(ctx, func(a string) { addr <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		s.Close()
	})
	select {
	case a := <-addr:
		return a
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	return ""
}

// TestServeTLS: petstore-auth in production mode serves HTTPS only with
// TLS 1.2+ and forward-secret AEAD suites, and sends HSTS.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := tlstest.Cert(t)
	cfg := productionConfig(t)
	cfg.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile}
	addr := serveTLS(t, cfg)

	t.Run("handshakes", func(t *testing.T) { tlstest.CheckPolicy(t, addr, certFile, keyFile, pool) })

	t.Run("healthz over HTTPS with HSTS", func(t *testing.T) {
		c := tlstest.Client(pool)
		defer c.CloseIdleConnections()
		resp, err := c.Get("https://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
			t.Fatalf("Strict-Transport-Security %q", hsts)
		}
	})

	t.Run("plain HTTP is not served", func(t *testing.T) {
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("plain HTTP answered 200 on the TLS port")
			}
		}
	})
}

// TestOpenRefusesInsecureProduction: in production mode the server does not
// start without TLS or with a plain-http issuer; development mode may use
// plain HTTP on loopback only.
func TestOpenRefusesInsecureProduction(t *testing.T) {
	certFile, keyFile, _ := tlstest.Cert(t)
	for _, tc := range []struct {
		name    string
		change  func(*config.Config)
		wantErr string
	}{
		{"no TLS", func(c *config.Config) { c.TLS = config.TLS{} }, "tls:"},
		{"only a certificate", func(c *config.Config) { c.TLS.KeyFile = "" }, "tls:"},
		{"http issuer", func(c *config.Config) { c.Issuer = "http://auth.example" }, "issuer:"},
		{"dev with http on a public host", func(c *config.Config) {
			c.Dev, c.TLS, c.Issuer = true, config.TLS{}, "http://auth.example"
		}, "issuer:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := productionConfig(t)
			cfg.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile}
			tc.change(&cfg)
			s, err := Open(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler), Web: webtest.Files()})
			if err == nil {
				s.Close()
				t.Fatal("server opened")
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
	t.Run("dev on loopback over plain HTTP", func(t *testing.T) {
		cfg := productionConfig(t)
		cfg.Dev, cfg.Issuer = true, "http://127.0.0.1:8080"
		s, err := Open(context.Background(), cfg, Options{Logger: slog.New(slog.DiscardHandler), Web: webtest.Files()})
		if err != nil {
			t.Fatalf("development mode refused: %v", err)
		}
		s.Close()
	})
}
