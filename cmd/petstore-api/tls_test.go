package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
	"github.com/petstore-auth/petstore-auth/pkg/tlstest"
)

// In production (dev off) the API does not start without TLS, or with a
// plain-http issuer on another host; development mode only warns.
func TestTransportRules(t *testing.T) {
	base := map[string]string{"PETSTORE_API_CLIENT_ID": "a", "PETSTORE_API_CLIENT_SECRET": "b"}
	withTLS := "tls:\n  cert_file: c.pem\n  key_file: k.pem\n"
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		wantErr    string // "" = valid
		warnings   int
	}{
		{"production without TLS", "issuer: https://auth.example\n", nil, "tls: production needs", 0},
		{"production with half a TLS pair", "issuer: https://auth.example\ntls:\n  cert_file: c.pem\n", nil, "tls: both", 0},
		{"production with an http issuer elsewhere", "issuer: http://auth.example\n" + withTLS, nil, "issuer:", 0},
		{"production with https", "issuer: https://auth.example\n" + withTLS, nil, "", 0},
		{"production with an http issuer on this machine", "issuer: http://127.0.0.1:8080\n" + withTLS, nil, "", 0},
		{"production with TLS from the environment", "issuer: https://auth.example\n",
			map[string]string{"PETSTORE_API_TLS_CERT_FILE": "c.pem", "PETSTORE_API_TLS_KEY_FILE": "k.pem"}, "", 0},
		{"dev on loopback", "dev: true\n", nil, "", 0},
		{"dev exposed, with an http issuer elsewhere", "dev: true\nlisten: 0.0.0.0:8081\nissuer: http://auth:8080\n", nil, "", 2},
		{"dev switched off by the environment", "dev: true\n", map[string]string{"PETSTORE_API_DEV": "false"}, "tls: production needs", 0},
		{"dev not a boolean", "dev: true\n", map[string]string{"PETSTORE_API_DEV": "maybe"}, "PETSTORE_API_DEV", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range base {
				e[k] = v
			}
			for k, v := range tc.env {
				e[k] = v
			}
			c, err := loadConfig(writeFile(t, tc.file), true, env(e))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if w := c.plainHTTPWarnings(); len(w) != tc.warnings {
					t.Fatalf("warnings %q, want %d", w, tc.warnings)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
	t.Run("run refuses to start", func(t *testing.T) {
		path := writeFile(t, "issuer: https://auth.example\nclient_id: a\nclient_secret: b\n")
		err := run(context.Background(), []string{"--config", path}, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "tls:") {
			t.Fatalf("run: %v, want a refusal for missing TLS", err)
		}
	})
}

// TestServeTLS: in production mode the API serves HTTPS with the same TLS
// policy as petstore-auth, and HSTS.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := tlstest.Cert(t)
	as := bearertest.NewServer(t, nil)
	cfg := defaults()
	cfg.TLS = tlsFiles{CertFile: certFile, KeyFile: keyFile}
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "api.db")
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret = as.URL, bearertest.ClientID, bearertest.ClientSecret
	cfg.PublicURL = bearertest.Audience // the fake issues tokens for this identifier
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := build(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.cleanup()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, a.handler, log, cfg) }()
	addr := ln.Addr().String()

	t.Run("handshakes", func(t *testing.T) { tlstest.CheckPolicy(t, addr, certFile, keyFile, pool) })
	c := tlstest.Client(pool)
	defer c.CloseIdleConnections()
	for _, tc := range []struct{ name, path, token string }{
		{"healthz", "/healthz", ""},
		{"pets with a JWT", "/v1/pets", as.JWT(as.Claims("read:pets"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "https://"+addr+tc.path, nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := c.Do(req)
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
	}
	t.Run("plain HTTP is not served", func(t *testing.T) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("plain HTTP answered 200 on the TLS port")
			}
		}
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
