package demo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"golang.org/x/oauth2"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of petstore-demo.
type Config struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"` // where browsers reach MyApp; the redirect URI is {public_url}/callback
	Issuer    string `yaml:"issuer"`     // the authorization server, as in its "iss"
	APIURL    string `yaml:"api_url"`    // the PetStore API, without /v1
	ClientID  string `yaml:"client_id"`
	// ClientSecret authenticates MyApp at the token and revocation
	// endpoints (client_secret_basic). Prefer PETSTORE_DEMO_CLIENT_SECRET.
	ClientSecret string `yaml:"client_secret"`
	Scopes       Scopes `yaml:"scopes"`
	// MetricsListen serves /metrics (and nothing else) on a listener of its
	// own; the public listener serves it only for a plain-http loopback
	// public_url (local development). "" switches it off.
	MetricsListen string `yaml:"metrics_listen"`
}

// Scopes is a scope list, written in YAML either as a list or as one
// space-separated string.
type Scopes []string

// UnmarshalYAML accepts both forms.
func (s *Scopes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = strings.Fields(n.Value)
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return fmt.Errorf("line %d: scopes must be a list or a space-separated string", n.Line)
	}
	*s = list
	return nil
}

// Default returns the configuration for a local development stack.
func Default() Config {
	return Config{
		Listen:    "127.0.0.1:8082",
		PublicURL: "http://127.0.0.1:8082",
		Issuer:    "http://127.0.0.1:8080",
		APIURL:    "http://127.0.0.1:8081",
		ClientID:  "myapp",
		Scopes:    Scopes{"openid", "profile", "email", "read:pets", "write:pets", "offline_access"},
		// Loopback: scrapers on this machine reach it, the public does not.
		MetricsListen: "127.0.0.1:9466",
	}
}

// envKeys maps each environment override to the field it sets.
var envKeys = []struct {
	name string
	set  func(*Config, string)
}{
	{"PETSTORE_DEMO_LISTEN", func(c *Config, v string) { c.Listen = v }},
	{"PETSTORE_DEMO_METRICS_LISTEN", func(c *Config, v string) { c.MetricsListen = v }},
	{"PETSTORE_DEMO_PUBLIC_URL", func(c *Config, v string) { c.PublicURL = v }},
	{"PETSTORE_DEMO_ISSUER", func(c *Config, v string) { c.Issuer = v }},
	{"PETSTORE_DEMO_API_URL", func(c *Config, v string) { c.APIURL = v }},
	{"PETSTORE_DEMO_CLIENT_ID", func(c *Config, v string) { c.ClientID = v }},
	{"PETSTORE_DEMO_CLIENT_SECRET", func(c *Config, v string) { c.ClientSecret = v }},
}

// Load reads the defaults, then the YAML file at path (skipped when path is
// empty; unknown keys are errors, so typos do not pass silently), then the
// PETSTORE_DEMO_* variables found by getenv, and validates the result.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// io.EOF: an empty file (or only comments) keeps the defaults.
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	for _, e := range envKeys {
		if v := getenv(e.name); v != "" {
			e.set(&cfg, v)
		}
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	return cfg, cfg.Validate()
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen: %q is not host:port", c.Listen)
	}
	if c.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil {
			bad("metrics_listen: %q is not host:port (or empty to switch it off)", c.MetricsListen)
		} else if c.MetricsListen == c.Listen && port != "0" {
			bad("metrics_listen: must differ from listen; /metrics gets a listener of its own")
		}
	}
	for _, u := range []struct{ key, val string }{
		{"public_url", c.PublicURL}, {"issuer", c.Issuer}, {"api_url", c.APIURL},
	} {
		if err := checkURL(u.val); err != nil {
			bad("%s: %v", u.key, err)
		}
	}
	if c.ClientID == "" {
		bad("client_id: required")
	}
	if c.ClientSecret == "" {
		bad("client_secret: required (set PETSTORE_DEMO_CLIENT_SECRET)")
	}
	if len(c.Scopes) == 0 {
		bad("scopes: at least one scope is required")
	}
	for _, s := range c.Scopes {
		if !validScopeToken(s) {
			bad("scopes: %q is not a valid scope token", s)
		}
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute http(s) URL without query or fragment;
// plain http only on a loopback host, where no one can listen in.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("required")
	case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q must not carry a query, fragment or user info", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("%q: plain http is allowed only on loopback; use https", raw)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validScopeToken follows RFC 6749 §3.3: scope-token = 1*NQCHAR.
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}

// SecureCookies reports whether the session cookie must be Secure: always,
// except when MyApp is served over plain http on loopback (browsers drop
// Secure cookies there).
func (c Config) SecureCookies() bool {
	u, err := url.Parse(c.PublicURL)
	return err != nil || u.Scheme != "http" || !isLoopback(u.Hostname())
}

// RedirectURL is the callback registered for MyApp at the authorization
// server.
func (c Config) RedirectURL() string { return c.PublicURL + "/callback" }

// PostLogoutRedirectURL is where PetStore sends the browser back after
// sign-out (register it with --post-logout-redirect-uri).
func (c Config) PostLogoutRedirectURL() string { return c.PublicURL + "/signed-out" }

// OAuth2 is the x/oauth2 client configuration: client_secret_basic at the
// endpoints of the issuer.
func (c Config) OAuth2() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.Issuer + "/oauth2/auth",
			TokenURL:  c.Issuer + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: c.RedirectURL(),
		Scopes:      c.Scopes,
	}
}

// LogValue leaves the client secret out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("listen", c.Listen),
		slog.String("metrics_listen", c.MetricsListen),
		slog.String("public_url", c.PublicURL),
		slog.String("issuer", c.Issuer),
		slog.String("api_url", c.APIURL),
		slog.String("client_id", c.ClientID),
		slog.Bool("client_secret_set", c.ClientSecret != ""),
		slog.String("scopes", strings.Join(c.Scopes, " ")),
	)
}
