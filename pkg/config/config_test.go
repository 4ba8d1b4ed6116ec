package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.yaml")
	os.WriteFile(path, []byte("dev: true\nissuer: http://127.0.0.1:9000\ntokens:\n  access_token_lifespan: 5m\n"), 0o600)
	cfg, err := Load(path, false, envMap(map[string]string{"PETSTORE_LISTEN": "127.0.0.1:9000", "PETSTORE_REFRESH_GRACE_WINDOW": "3s"}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Dev || cfg.Issuer != "http://127.0.0.1:9000" || cfg.Listen != "127.0.0.1:9000" {
		t.Fatalf("file/env not applied: %+v", cfg)
	}
	if cfg.Tokens.AccessTokenLifespan.String() != "5m0s" || cfg.Tokens.RefreshGraceWindow.String() != "3s" {
		t.Fatalf("durations: %v %v", cfg.Tokens.AccessTokenLifespan, cfg.Tokens.RefreshGraceWindow)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid dev config refused: %v", err)
	}
}

func TestLoadRefusesUnknownKeysAndBadEnv(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.yaml")
	os.WriteFile(path, []byte("isuer: typo\n"), 0o600)
	if _, err := Load(path, false, envMap(nil)); err == nil || !strings.Contains(err.Error(), "isuer") {
		t.Fatalf("unknown key not reported: %v", err)
	}
	if _, err := Load("", true, envMap(map[string]string{"PETSTORE_DEV": "maybe", "PETSTORE_ACCESS_TOKEN_LIFESPAN": "soon"})); err == nil ||
		!strings.Contains(err.Error(), "PETSTORE_DEV") || !strings.Contains(err.Error(), "PETSTORE_ACCESS_TOKEN_LIFESPAN") {
		t.Fatalf("bad env values not both reported: %v", err)
	}
}

func TestValidateReportsEverythingAtOnce(t *testing.T) {
	cfg := Default()
	cfg.Issuer = "http://auth.example.com/"
	cfg.Listen = "nonsense"
	cfg.DatabaseURL = "mysql://x"
	cfg.Secret = "short"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid production config accepted")
	}
	for _, want := range []string{"issuer", "listen", "database_url", "secret", "tls"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
}

func TestProductionNeedsHTTPSAndTLS(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"http issuer in production", func(c *Config) { c.Issuer = "http://127.0.0.1:8080" }, "production needs https"},
		{"no tls in production", func(c *Config) { c.TLS = TLS{} }, "production needs tls"},
		{"http non-loopback in dev", func(c *Config) { c.Dev = true; c.Issuer = "http://auth.example.com" }, "loopback only"},
		{"ok production", func(c *Config) {}, ""},
		{"development resource in production", func(c *Config) { c.Resources = []Resource{{Identifier: DefaultResource}} }, "in production name each API by its public https URL"},
		{"TLS at a trusted proxy", func(c *Config) { c.TLS, c.TrustedProxies = TLS{}, StringList{"10.0.0.0/8"} }, ""},
		{"trusted proxy does not make an http issuer fine", func(c *Config) {
			c.TLS, c.TrustedProxies, c.Issuer = TLS{}, StringList{"10.0.0.0/8"}, "http://auth.example.com"
		}, "production needs https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Issuer = "https://auth.example.com"
			c.Secret = strings.Repeat("s", 32)
			c.TLS = TLS{CertFile: "c.pem", KeyFile: "k.pem"}
			c.Resources = []Resource{{Identifier: "https://api.example.com"}}
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestDevSecretIsGeneratedOnceAndKept(t *testing.T) {
	c := Default()
	c.Dev = true
	c.DataDir = t.TempDir()
	a, err := c.SecretBytes()
	if err != nil || len(a) < 32 {
		t.Fatalf("secret %q, %v", a, err)
	}
	b, _ := c.SecretBytes()
	if string(a) != string(b) {
		t.Fatal("second start got a different secret: sessions would break on restart")
	}
	fi, _ := os.Stat(filepath.Join(c.DataDir, "secret"))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v", fi.Mode().Perm())
	}
}

func TestRateLimitAndMetricsSettings(t *testing.T) {
	cfg, err := Load("", true, envMap(map[string]string{
		"PETSTORE_DEV": "true", "PETSTORE_RATE_LIMIT_FAILED_AUTH_PER_IP": "7",
		"PETSTORE_RATE_LIMIT_FAILED_AUTH_PER_CLIENT": "3", "PETSTORE_METRICS_LISTEN": "127.0.0.1:0",
		"PETSTORE_PPROF": "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RateLimits.FailedAuthPerIP != 7 || cfg.RateLimits.FailedAuthPerClient != 3 || cfg.MetricsListen != "127.0.0.1:0" || !cfg.Pprof {
		t.Fatalf("env not applied: %+v %q", cfg.RateLimits, cfg.MetricsListen)
	}
	if d := Default(); d.RateLimits.FailedAuthPerIP != 100 || d.RateLimits.PerClient < 60000 || d.MetricsListen != "127.0.0.1:9464" || d.Pprof {
		t.Fatalf("defaults: %+v %q", d.RateLimits, d.MetricsListen)
	}
	if _, err := Load("", true, envMap(map[string]string{"PETSTORE_RATE_LIMIT_FAILED_AUTH_PER_IP": "-1"})); err == nil {
		t.Fatal("negative limit accepted")
	}
	cfg.RateLimits.FailedAuthPerClient = -1
	cfg.MetricsListen = cfg.Listen
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "rate_limits") || !strings.Contains(err.Error(), "metrics_listen") {
		t.Fatalf("bad rate limit / metrics_listen not reported: %v", err)
	}
	cfg.MetricsListen = "nonsense"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "metrics_listen") {
		t.Fatalf("metrics_listen without port accepted: %v", err)
	}
}

// TestShippedConfigIsTheDefaults: config/petstore-auth.yaml documents the
// defaults; it must load and say the same (dev aside).
func TestShippedConfigIsTheDefaults(t *testing.T) {
	cfg, err := Load("../../config/petstore-auth.yaml", false, envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	if cfg.RateLimits != d.RateLimits || cfg.MetricsListen != d.MetricsListen || cfg.Listen != d.Listen || cfg.Pprof != d.Pprof {
		t.Fatalf("shipped %+v %q, defaults %+v %q", cfg.RateLimits, cfg.MetricsListen, d.RateLimits, d.MetricsListen)
	}
}

func TestTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		want       []string
		wantErr    string
	}{
		{"YAML list", "trusted_proxies: [127.0.0.1/32, '10.0.0.0/8']\n", nil, []string{"127.0.0.1/32", "10.0.0.0/8"}, ""},
		{"comma string", "trusted_proxies: 127.0.0.1, ::1\n", nil, []string{"127.0.0.1/32", "::1/128"}, ""},
		{"environment wins", "trusted_proxies: [10.0.0.0/8]\n", map[string]string{"PETSTORE_TRUSTED_PROXIES": "192.0.2.0/24,"}, []string{"192.0.2.0/24"}, ""},
		{"every bad entry reported", "trusted_proxies: [10.0.0.0/33, proxy.local, 127.0.0.1]\n", nil, nil, `"10.0.0.0/33", "proxy.local"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte("issuer: https://auth.example\nresources: [{identifier: https://api.example}]\nsecret: "+strings.Repeat("s", 32)+"\n"+tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path, false, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), "trusted_proxies") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			// No TLS files: a trusted proxy terminating TLS is enough in production.
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			var got []string
			for _, p := range c.TrustedProxyPrefixes() {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRegistrationSettings: the policy defaults to open in development and
// off in production; PETSTORE_REGISTRATION and the limits are read from the
// environment; bad values are reported.
func TestRegistrationSettings(t *testing.T) {
	cfg, err := Load("", true, envMap(map[string]string{"PETSTORE_REGISTRATION": "token",
		"PETSTORE_REGISTRATION_RATE_LIMIT_PER_HOUR": "3", "PETSTORE_REGISTRATION_UNUSED_TTL": "48h"}))
	if err != nil || cfg.RegistrationPolicy() != "token" || cfg.RegistrationRateLimit != 3 || time.Duration(cfg.RegistrationUnusedTTL) != 48*time.Hour {
		t.Fatalf("%+v %v", cfg, err)
	}
	d := Default()
	if d.RegistrationPolicy() != "off" || d.RegistrationRateLimit != 10 || time.Duration(d.RegistrationUnusedTTL) != 30*24*time.Hour {
		t.Errorf("production defaults: %q %d %s", d.RegistrationPolicy(), d.RegistrationRateLimit, time.Duration(d.RegistrationUnusedTTL))
	}
	d.Dev = true
	if d.RegistrationPolicy() != "open" {
		t.Errorf("development default: %q", d.RegistrationPolicy())
	}
	bad := Default()
	bad.Dev, bad.Registration, bad.RegistrationRateLimit, bad.RegistrationUnusedTTL = true, "sometimes", -1, Duration(time.Minute)
	err = bad.Validate()
	for _, want := range []string{"registration:", "registration_rate_limit_per_hour", "registration_unused_ttl"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate does not report %s: %v", want, err)
		}
	}
}
