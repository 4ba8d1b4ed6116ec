package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/bearer/bearertest"
	"github.com/petstore-auth/petstore-auth/pkg/logtest"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "api.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestShippedConfigLoads(t *testing.T) {
	c, err := loadConfig("../../config/petstore-api.yaml", true, env(map[string]string{
		"PETSTORE_API_CLIENT_ID": "petstore-api", "PETSTORE_API_CLIENT_SECRET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	want.Dev = true // the shipped file is for a laptop; production turns it off
	want.ClientID, want.ClientSecret = "petstore-api", "s"
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("shipped config %+v differs from the defaults %+v", c, want)
	}
}

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		env     map[string]string
		check   func(config) bool
		wantErr []string
	}{
		{
			name: "file values",
			file: "client_id: api\nclient_secret: s\nmode: live\ncache_ttl: 10s\nissuer: https://auth.example/\n" +
				"tls:\n  cert_file: c.pem\n  key_file: k.pem\n",
			check: func(c config) bool {
				return c.Mode == "live" && c.CacheTTL == 10*time.Second && c.Issuer == "https://auth.example" &&
					!c.Dev && c.TLS == tlsFiles{CertFile: "c.pem", KeyFile: "k.pem"}
			},
		},
		{
			name: "environment wins",
			file: "client_id: api\nclient_secret: s\nlisten: 127.0.0.1:1\n",
			env: map[string]string{"PETSTORE_API_LISTEN": "0.0.0.0:9000", "PETSTORE_API_CLIENT_SECRET": "from-env",
				"PETSTORE_AUTH_ISSUER": "https://a.example", "PETSTORE_API_MODE": "live",
				"PETSTORE_API_DATABASE_URL": "postgres://u@h/db", "PETSTORE_API_CLIENT_ID": "env-id",
				"PETSTORE_API_TLS_CERT_FILE": "/tls/c.pem", "PETSTORE_API_TLS_KEY_FILE": "/tls/k.pem"},
			check: func(c config) bool {
				return c.Listen == "0.0.0.0:9000" && c.ClientSecret == "from-env" && c.Issuer == "https://a.example" &&
					c.Mode == "live" && c.DatabaseURL == "postgres://u@h/db" && c.ClientID == "env-id" &&
					c.TLS == tlsFiles{CertFile: "/tls/c.pem", KeyFile: "/tls/k.pem"}
			},
		},
		{
			name: "comments only means defaults",
			file: "# nothing\n",
			env:  map[string]string{"PETSTORE_API_CLIENT_ID": "a", "PETSTORE_API_CLIENT_SECRET": "b", "PETSTORE_API_DEV": "true"},
			check: func(c config) bool {
				return c.Listen == "127.0.0.1:8081" && c.Mode == "test" && c.Dev
			},
		},
		{
			name: "abuse limits and metrics listener",
			file: "client_id: a\nclient_secret: b\ndev: true\nmetrics_listen: 127.0.0.1:9999\n",
			env:  map[string]string{"PETSTORE_API_RATE_LIMIT_FAILED_PER_IP": "7"},
			check: func(c config) bool {
				return c.FailedPerIPPerMinute == 7 && c.MetricsListen == "127.0.0.1:9999" &&
					defaults().FailedPerIPPerMinute == 100 && defaults().MetricsListen == "127.0.0.1:9465"
			},
		},
		{
			name:  "metrics listener switched off by an empty variable",
			file:  "client_id: a\nclient_secret: b\ndev: true\n",
			env:   map[string]string{"PETSTORE_API_METRICS_LISTEN": ""},
			check: func(c config) bool { return c.MetricsListen == "" },
		},
		{
			name:    "bad abuse limits and metrics listener",
			file:    "client_id: a\nclient_secret: b\ndev: true\nmetrics_listen: 127.0.0.1:8081\nfailed_credentials_per_ip_per_minute: -1\n",
			env:     map[string]string{"PETSTORE_API_RATE_LIMIT_FAILED_PER_IP": "many"},
			wantErr: []string{"metrics_listen:", "PETSTORE_API_RATE_LIMIT_FAILED_PER_IP"},
		},
		{
			name: "trusted proxies: list in the file, comma string in the environment",
			file: "client_id: a\nclient_secret: b\ntrusted_proxies: [10.0.0.0/8]\n",
			env:  map[string]string{"PETSTORE_API_TRUSTED_PROXIES": "127.0.0.1, ::1", "PETSTORE_AUTH_ISSUER": "https://auth.example"},
			check: func(c config) bool {
				// No TLS files: the trusted proxy terminates TLS.
				p := c.trusted()
				return len(p) == 2 && p[0].String() == "127.0.0.1/32" && p[1].String() == "::1/128"
			},
		},
		{
			name:    "bad trusted proxies, every one named",
			file:    "client_id: a\nclient_secret: b\ndev: true\ntrusted_proxies: 10.0.0.0/33, proxy.local\n",
			wantErr: []string{"trusted_proxies:", `"10.0.0.0/33"`, `"proxy.local"`},
		},
		{
			name:    "unknown key",
			file:    "client_id: a\nclient_secret: b\ncache_tll: 5s\n",
			wantErr: []string{"cache_tll"},
		},
		{
			name: "every problem at once",
			file: "listen: nope\ndatabase_url: mysql://x\nissuer: ftp://x\nmode: prod\ncache_ttl: 5m\nrevocation_poll_interval: 10ms\npublic_url: 'ftp://x#y'\n",
			wantErr: []string{"listen:", "database_url:", "issuer:", "client_id:", "client_secret:", "mode:",
				"cache_ttl:", "revocation_poll_interval:", "public_url:"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(writeFile(t, tc.file), true, env(tc.env))
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
	t.Run("missing default file is fine, missing explicit file is not", func(t *testing.T) {
		e := env(map[string]string{"PETSTORE_API_CLIENT_ID": "a", "PETSTORE_API_CLIENT_SECRET": "b", "PETSTORE_API_DEV": "1"})
		if _, err := loadConfig(filepath.Join(t.TempDir(), "none.yaml"), false, e); err != nil {
			t.Fatal(err)
		}
		if _, err := loadConfig(filepath.Join(t.TempDir(), "none.yaml"), true, e); err == nil {
			t.Fatal("missing explicit file accepted")
		}
	})
}

func TestConfigLogValueHidesSecrets(t *testing.T) {
	c := defaults()
	c.ClientSecret = "topsecret"
	c.DatabaseURL = "postgres://user:dbpass@host/db"
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "config", c)
	if strings.Contains(buf.String(), "topsecret") || strings.Contains(buf.String(), "dbpass") {
		t.Fatalf("secret in log: %s", buf.String())
	}
}

// TestServe runs the real server on a loopback port with a fake
// authorization server, then shuts it down gracefully.
func TestServe(t *testing.T) {
	as := bearertest.NewServer(t, nil)
	cfg := defaults()
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "api.db")
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret = as.URL, bearertest.ClientID, bearertest.ClientSecret
	var logs logtest.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
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
	base := "http://" + ln.Addr().String()

	jwt := as.JWT(as.Claims("read:pets write:pets"))
	key := as.APIKey("test", "read:pets")
	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"create with JWT", "POST", "/v1/pets", jwt, `{"name":"Rex","species":"dog","age":2}`, 201},
		{"list with JWT", "GET", "/v1/pets", jwt, "", 200},
		{"list with API key", "GET", "/v1/pets", key, "", 200},
		{"no credentials", "GET", "/v1/pets", "", "", 401},
		{"unknown route", "GET", "/v2/nothing", jwt, "", 404},
		{"wrong method", "PUT", "/v1/pets", jwt, "", 405},
		{"healthz", "GET", "/healthz", "", "", 200},
		{"readyz", "GET", "/readyz", "", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); tc.want != 201 && ct != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, `"path":"/v1/pets"`) {
		t.Fatalf("no access log: %s", out)
	}
	for _, secret := range []string{jwt, key, bearertest.ClientSecret} {
		if strings.Contains(out, secret) {
			t.Fatalf("a credential is in the logs")
		}
	}
}
