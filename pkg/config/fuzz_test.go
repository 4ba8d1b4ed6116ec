package config

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as the configuration file, then
// Validate: neither panics, and whatever validates keeps the production
// guarantees (https issuer, TLS, a long secret) unless dev is on, and
// plain http only on loopback when it is.
// Seeds: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	path := filepath.Join(f.TempDir(), "petstore-auth.yaml")
	noEnv := func(string) (string, bool) { return "", false }
	f.Add([]byte("dev: true\n"))
	f.Fuzz(func(t *testing.T, yaml []byte) {
		if err := os.WriteFile(path, yaml, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path, false, noEnv)
		if err != nil {
			return
		}
		if cfg.Validate() != nil {
			return
		}
		u, err := url.Parse(cfg.Issuer)
		switch {
		case err != nil:
			t.Fatalf("valid configuration with an unparsable issuer %q", cfg.Issuer)
		case !cfg.Dev && (u.Scheme != "https" || !cfg.TLS.Enabled() || len(cfg.Secret) < 32):
			t.Fatalf("production configuration without https issuer, TLS or secret validated: %+v", cfg)
		case cfg.Dev && u.Scheme == "http" && !IsLoopback(u.Hostname()):
			t.Fatalf("development configuration with plain http on %q validated", u.Hostname())
		case cfg.TLS.Enabled() && (cfg.TLS.CertFile == "" || cfg.TLS.KeyFile == ""):
			t.Fatalf("half a TLS configuration validated: %+v", cfg.TLS)
		}
	})
}
