package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/petstore"
)

// config is config/petstore-api.yaml; see that file for what each key means.
type config struct {
	// Dev allows plain HTTP (production refuses to start without TLS).
	Dev          bool     `yaml:"dev"`
	TLS          tlsFiles `yaml:"tls"`
	Listen       string   `yaml:"listen"`
	DatabaseURL  string   `yaml:"database_url"`
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret string   `yaml:"client_secret"`
	// PublicURL is the API's resource identifier (RFC 8707), the base
	// of its RFC 9728 metadata and of the htu of DPoP proofs; "" means the
	// listen URL (DPoP: the request's Host and scheme, X-Forwarded-Proto
	// from a trusted proxy).
	PublicURL string `yaml:"public_url"`
	// AcceptAudiences are accepted besides PublicURL: the legacy
	// "petstore-api" of tokens issued before resource indicators.
	AcceptAudiences proxyList `yaml:"accept_audiences"`
	// Audience is the former name of a single accepted audience; kept so
	// that an old file still loads, it is added to AcceptAudiences.
	Audience               string        `yaml:"audience"`
	Mode                   string        `yaml:"mode"`
	CacheTTL               time.Duration `yaml:"cache_ttl"`
	RevocationPollInterval time.Duration `yaml:"revocation_poll_interval"`
	// RevocationEvents receives revocations pushed by the authorization
	// server (Security Event Tokens over RFC 8936 long polling), so the
	// API refuses a revoked credential within a second; the cache and
	// poll bounds still apply when the channel is down.
	RevocationEvents bool `yaml:"revocation_events"`
	// RateLimitPerMinute bounds requests per credential (per client address
	// for requests without one); 0 switches it off.
	RateLimitPerMinute int `yaml:"rate_limit_per_minute"`
	// FailedPerIPPerMinute bounds refused credentials (401 invalid_token)
	// per client address; above it the address gets 429 without its
	// credentials being checked, except those already known to be valid.
	// 0 switches it off.
	FailedPerIPPerMinute int `yaml:"failed_credentials_per_ip_per_minute"`
	// MetricsListen serves /metrics (and nothing else) on a listener of its
	// own; the public listener serves it only in development mode. ""
	// switches it off.
	MetricsListen string `yaml:"metrics_listen"`
	// Pprof serves Go's runtime profiles (net/http/pprof) under
	// /debug/pprof/ on the metrics listener. Off by default: a profile
	// reveals code paths and costs CPU while it runs.
	Pprof bool `yaml:"pprof"`
	// RedisURL, when set, shares the rate-limit counts and the DPoP
	// replay cache between replicas.
	RedisURL string `yaml:"redis_url"`
	// TrustedProxies: the reverse proxies (CIDRs or IPs) whose
	// X-Forwarded-For / Forwarded / X-Forwarded-Proto are believed.
	TrustedProxies proxyList `yaml:"trusted_proxies"`
}

// proxyList is a YAML list or one comma-separated string.
type proxyList []string

func (l *proxyList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = splitList(n.Value)
		return nil
	}
	var items []string
	if err := n.Decode(&items); err != nil {
		return err
	}
	*l = items
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// urlProblems checks the issuer and the API's own URL: absolute http(s)
// without query or fragment.
func (c config) urlProblems() []error {
	var errs []error
	for _, f := range []struct{ name, value, what string }{
		{"issuer", c.Issuer, ""},
		{"public_url", c.resource(), " (the API's resource identifier)"},
	} {
		if u, err := url.Parse(f.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("%s: %q must be an absolute http(s) URL without query or fragment%s", f.name, f.value, f.what))
		}
	}
	return errs
}

// resource is the API's resource identifier (RFC 8707): public_url, or
// the listen URL (https with TLS) when it is not set.
func (c config) resource() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	if c.TLS.enabled() {
		return "https://" + c.Listen
	}
	return "http://" + c.Listen
}

// acceptAudiences are the audiences accepted besides the public URL.
func (c config) acceptAudiences() []string {
	out := []string(c.AcceptAudiences)
	if c.Audience != "" {
		out = append(out, c.Audience)
	}
	return out
}

// trusted returns the trusted proxies parsed (validate reports bad ones).
func (c config) trusted() []netip.Prefix {
	p, _ := clientaddr.ParsePrefixes(strings.Join(c.TrustedProxies, ","))
	return p
}

func defaults() config {
	return config{
		Listen:                 "127.0.0.1:8081",
		DatabaseURL:            "sqlite://data/petstore-api.db",
		Issuer:                 "http://127.0.0.1:8080",
		AcceptAudiences:        proxyList{bearer.LegacyAudience},
		Mode:                   "test",
		CacheTTL:               30 * time.Second,
		RevocationPollInterval: 5 * time.Second,
		RevocationEvents:       true,
		RateLimitPerMinute:     petstore.DefaultRateLimitPerMinute,
		FailedPerIPPerMinute:   petstore.DefaultFailedPerIPPerMinute,
		MetricsListen:          "127.0.0.1:9465",
	}
}

// LogValue keeps the client secret out of logs.
func (c config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("dev", c.Dev), slog.Bool("tls", c.TLS.enabled()), slog.String("listen", c.Listen), slog.String("database", redactURL(c.DatabaseURL)),
		slog.String("issuer", c.Issuer), slog.String("client_id", c.ClientID),
		slog.String("resource", c.resource()), slog.Any("accept_audiences", c.acceptAudiences()), slog.String("mode", c.Mode),
		slog.String("cache_ttl", c.CacheTTL.String()), slog.String("revocation_poll_interval", c.RevocationPollInterval.String()),
		slog.Bool("revocation_events", c.RevocationEvents),
		slog.Int("rate_limit_per_minute", c.RateLimitPerMinute), slog.Int("failed_credentials_per_ip_per_minute", c.FailedPerIPPerMinute),
		slog.String("metrics_listen", c.MetricsListen), slog.String("redis", redactURL(c.RedisURL)),
		slog.Any("trusted_proxies", []string(c.TrustedProxies)))
}

// redactURL hides a database password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// envOverrides maps environment variables to the fields they replace.
var envOverrides = []struct {
	name string
	set  func(*config, string)
}{
	{"PETSTORE_API_LISTEN", func(c *config, v string) { c.Listen = v }},
	{"PETSTORE_API_DATABASE_URL", func(c *config, v string) { c.DatabaseURL = v }},
	{"PETSTORE_AUTH_ISSUER", func(c *config, v string) { c.Issuer = v }},
	{"PETSTORE_API_CLIENT_ID", func(c *config, v string) { c.ClientID = v }},
	{"PETSTORE_API_CLIENT_SECRET", func(c *config, v string) { c.ClientSecret = v }},
	{"PETSTORE_API_MODE", func(c *config, v string) { c.Mode = v }},
	{"PETSTORE_API_PUBLIC_URL", func(c *config, v string) { c.PublicURL = v }},
	{"PETSTORE_API_REDIS_URL", func(c *config, v string) { c.RedisURL = v }},
	{"PETSTORE_API_TLS_CERT_FILE", func(c *config, v string) { c.TLS.CertFile = v }},
	{"PETSTORE_API_TLS_KEY_FILE", func(c *config, v string) { c.TLS.KeyFile = v }},
	{"PETSTORE_API_TRUSTED_PROXIES", func(c *config, v string) { c.TrustedProxies = splitList(v) }},
}

// loadConfig reads the YAML file (a missing file is fine unless required),
// applies environment overrides and validates the result.
func loadConfig(path string, required bool, lookupEnv func(string) (string, bool)) (config, error) {
	getenv := func(k string) string { v, _ := lookupEnv(k); return v }
	c := defaults()
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true) // a misspelt key is an error, not a silent default
		// io.EOF: a file of comments only means all defaults.
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("%s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist) && !required:
	default:
		return c, err
	}
	for _, o := range envOverrides {
		if v := getenv(o.name); v != "" {
			o.set(&c, v)
		}
	}
	// Set but empty accepts the API's own audience only.
	if v, ok := lookupEnv("PETSTORE_API_ACCEPT_AUDIENCES"); ok {
		c.AcceptAudiences = splitList(v)
	}
	// Set but empty switches the metrics listener off, as for petstore-auth.
	if v, ok := lookupEnv("PETSTORE_API_METRICS_LISTEN"); ok {
		c.MetricsListen = v
	}
	var envErrs []error
	if v := getenv("PETSTORE_API_PPROF"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			envErrs = append(envErrs, fmt.Errorf("PETSTORE_API_PPROF: %q is not true or false", v))
		}
		c.Pprof = on
	}
	for name, dst := range map[string]*int{"PETSTORE_API_RATE_LIMIT": &c.RateLimitPerMinute,
		"PETSTORE_API_RATE_LIMIT_FAILED_PER_IP": &c.FailedPerIPPerMinute} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				envErrs = append(envErrs, fmt.Errorf("%s: %q is not a number", name, v))
			}
			*dst = n
		}
	}
	envErr := errors.Join(envErrs...)
	if v := getenv("PETSTORE_API_REVOCATION_EVENTS"); v != "" {
		if c.RevocationEvents, err = strconv.ParseBool(v); err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("PETSTORE_API_REVOCATION_EVENTS: %q is not true or false", v))
		}
	}
	var devErr error
	if v := getenv("PETSTORE_API_DEV"); v != "" {
		if c.Dev, err = strconv.ParseBool(v); err != nil {
			devErr = fmt.Errorf("PETSTORE_API_DEV: %q is not true or false", v)
		}
	}
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	return c, errors.Join(envErr, devErr, c.validate())
}

// validate reports every problem at once.
func (c config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen: %q is not host:port", c.Listen)
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite://") && !strings.HasPrefix(c.DatabaseURL, "postgres://") &&
		!strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("database_url: must start with sqlite:// or postgres://")
	}
	errs = append(errs, c.urlProblems()...)
	if c.ClientID == "" {
		bad("client_id: required (the API's own client, allowed to introspect; set PETSTORE_API_CLIENT_ID)")
	}
	if c.ClientSecret == "" {
		bad("client_secret: required (set PETSTORE_API_CLIENT_SECRET)")
	}
	if c.Mode != "live" && c.Mode != "test" {
		bad("mode: %q must be live or test", c.Mode)
	}
	if c.CacheTTL < time.Second || c.CacheTTL > 60*time.Second {
		bad("cache_ttl: %s must be between 1s and 60s (it bounds how long a revoked token still works)", c.CacheTTL)
	}
	if c.RevocationPollInterval < time.Second || c.RevocationPollInterval > 60*time.Second {
		bad("revocation_poll_interval: %s must be between 1s and 60s", c.RevocationPollInterval)
	}
	if c.RateLimitPerMinute < 0 {
		bad("rate_limit_per_minute: must be 0 (off) or positive")
	}
	if c.FailedPerIPPerMinute < 0 {
		bad("failed_credentials_per_ip_per_minute: must be 0 (off) or positive")
	}
	if c.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil {
			bad("metrics_listen: %q is not host:port (or empty to switch it off)", c.MetricsListen)
		} else if c.MetricsListen == c.Listen && port != "0" {
			bad("metrics_listen: must differ from listen; /metrics gets a listener of its own")
		}
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		bad("redis_url: must start with redis:// or rediss://")
	}
	if _, err := clientaddr.ParsePrefixes(strings.Join(c.TrustedProxies, ",")); err != nil {
		bad("trusted_proxies: %v", err)
	}
	errs = append(errs, c.publicURLProblems()...)
	errs = append(errs, c.transportProblems()...)
	return errors.Join(errs...)
}

// publicURLProblems checks public_url: empty, or an absolute http(s) URL
// without query or fragment.
func (c config) publicURLProblems() []error {
	if c.PublicURL == "" {
		return nil
	}
	u, err := url.Parse(c.PublicURL)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "" && u.Fragment == "" {
		return nil
	}
	return []error{fmt.Errorf("public_url: %q must be an absolute http(s) URL without query or fragment", c.PublicURL)}
}
