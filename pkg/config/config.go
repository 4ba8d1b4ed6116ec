package config

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Duration is a time.Duration written as "15m" or "720h" in YAML.
type Duration time.Duration

// UnmarshalYAML parses Go duration syntax.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 30s, 15m or 720h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes Go duration syntax.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// StringList is a YAML list of strings, or one comma-separated string.
type StringList []string

// UnmarshalYAML accepts both forms.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*l = splitList(n.Value)
		return nil
	case yaml.SequenceNode:
		var items []string
		if err := n.Decode(&items); err != nil {
			return err
		}
		*l = items
		return nil
	}
	return fmt.Errorf("line %d: want a list or a comma-separated string", n.Line)
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

// Config is the whole configuration of petstore-auth.
type Config struct {
	// Dev relaxes production checks: http loopback issuer, generated secret,
	// migrations applied on start.
	Dev    bool   `yaml:"dev"`
	Issuer string `yaml:"issuer"`
	Listen string `yaml:"listen"`
	// MetricsListen is where /metrics is served, on a listener of its own
	// that serves nothing else (default loopback). The public listener
	// serves /metrics only in development mode. "" switches it off.
	MetricsListen string `yaml:"metrics_listen"`
	// Pprof serves Go's runtime profiles (net/http/pprof, /debug/pprof/)
	// on the metrics listener. Off by default: a profile reveals code paths
	// and costs CPU while it runs.
	Pprof       bool   `yaml:"pprof"`
	DatabaseURL string `yaml:"database_url"`
	// Secret is the system secret (≥32 bytes): HMAC key of opaque tokens,
	// session cookie keys, encryption of signing keys. Prefer PETSTORE_SECRET.
	Secret string `yaml:"secret"`
	// PreviousSecrets are system secrets being rotated out: tokens, session
	// cookies and sealed keys made with them stay valid, nothing new is made
	// with them. Remove one once its tokens have expired.
	PreviousSecrets []string `yaml:"previous_secrets"`
	DataDir         string   `yaml:"data_dir"`
	WebDir          string   `yaml:"web_dir"` // where templates/ and static/ live; "" = embedded
	TLS             TLS      `yaml:"tls"`
	Tokens          Tokens   `yaml:"tokens"`
	// Resources are the resource servers tokens are issued for (RFC 8707);
	// the first is the audience of a token requested without a resource.
	// PETSTORE_RESOURCES (comma-separated identifiers) replaces the list.
	Resources []Resource `yaml:"resources"`
	// RedisURL, when set, shares rate limits and the DPoP replay cache
	// between replicas.
	RedisURL string `yaml:"redis_url"`
	// RequirePushedAuthorizationRequests refuses authorization requests
	// not pushed to /oauth2/par first (RFC 9126 §5), for every client.
	RequirePushedAuthorizationRequests bool       `yaml:"require_pushed_authorization_requests"`
	RateLimits                         RateLimits `yaml:"rate_limits"`
	Limits                             Limits     `yaml:"limits"`
	LogLevel                           string     `yaml:"log_level"`
	// TrustedProxies are the addresses (CIDR prefixes or bare IPs) of the
	// reverse proxies in front of the server. Only from these peers are
	// X-Forwarded-For, Forwarded and X-Forwarded-Proto believed; with a
	// proxy terminating TLS, production may listen on plain HTTP.
	TrustedProxies StringList `yaml:"trusted_proxies"`
	// Registration is the policy of the registration endpoint (RFC 7591):
	// off, open or token. "" means open in development mode and off in
	// production (RegistrationPolicy).
	Registration string `yaml:"registration"`
	// RegistrationRateLimit is how many registrations one address may make
	// per hour; 0 is unlimited.
	RegistrationRateLimit int `yaml:"registration_rate_limit_per_hour"`
	// RegistrationUnusedTTL: self-registered clients (RFC 7591 or client ID
	// metadata documents) that got no token for this long are removed.
	RegistrationUnusedTTL Duration `yaml:"registration_unused_ttl"`
}

// RegistrationPolicy returns the effective registration policy: the
// configured one, or by default open in development mode (MCP clients on
// a developer's machine register themselves) and off in production (an
// operator opts in to strangers creating clients).
func (c *Config) RegistrationPolicy() string {
	if c.Registration != "" {
		return c.Registration
	}
	if c.Dev {
		return "open"
	}
	return "off"
}

// TrustedProxyPrefixes returns TrustedProxies parsed; Validate reports the
// entries that do not parse, which are left out here.
func (c *Config) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := clientaddr.ParsePrefix(strings.TrimSpace(s)); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Limits protect the server from overload.
type Limits struct {
	// MaxInFlight is how many requests are served at once; more get 503 +
	// Retry-After at once instead of queueing. 0 switches it off.
	MaxInFlight int `yaml:"max_in_flight"`
	// RequestTimeout is the deadline of every request's database work.
	RequestTimeout Duration `yaml:"request_timeout"`
}

// TLS names the certificate and key served by petstore-auth.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Enabled reports whether a certificate is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// RateLimits bound the protocol endpoints (token, introspect, revoke), per
// minute; 0 switches a limit off. A client's own budget is charged only
// after it authenticated, so knowing a client id is not enough to spend it.
type RateLimits struct {
	// PerIP: requests from one address that did not authenticate as a
	// confidential client (public clients, malformed requests, failures),
	// per endpoint. Authenticated clients are not counted here.
	PerIP int `yaml:"per_ip_per_minute"`
	// PerClient: requests by one authenticated client, per endpoint.
	PerClient int `yaml:"per_client_per_minute"`
	// FailedAuthPerIP: failed client authentications from one address
	// across the endpoints; beyond it the address gets 429.
	FailedAuthPerIP int `yaml:"failed_auth_per_ip_per_minute"`
	// FailedAuthPerClient: failed authentications naming one client id;
	// beyond it, addresses that failed get 429 for that id while the
	// right secret from any other address still works.
	FailedAuthPerClient int `yaml:"failed_auth_per_client_per_minute"`
}

// Tokens holds lifetimes and policies of codes and tokens.
type Tokens struct {
	AuthorizeCodeLifespan Duration `yaml:"authorize_code_lifespan"`
	AccessTokenLifespan   Duration `yaml:"access_token_lifespan"`
	// RefreshTokenIdleLifespan is how long an unused refresh token lives;
	// every rotation starts it again.
	RefreshTokenIdleLifespan Duration `yaml:"refresh_token_idle_lifespan"`
	// RefreshTokenAbsoluteLifespan caps a refresh chain from the first grant.
	RefreshTokenAbsoluteLifespan Duration `yaml:"refresh_token_absolute_lifespan"`
	// RefreshGraceWindow: a rotated refresh token presented again within it by
	// the same client gets the same successor pair instead of a reuse alarm.
	RefreshGraceWindow Duration `yaml:"refresh_grace_window"`
	// JWTAudience was the "aud" of every access token before resource
	// indicators; it is refused with a pointer to resources (Validate).
	JWTAudience string `yaml:"jwt_audience"`
	// DPoPProofWindow bounds how far a DPoP proof's iat may be from now
	// (RFC 9449 §11.1); used proofs are remembered for twice as long.
	DPoPProofWindow Duration `yaml:"dpop_proof_window"`
	// DPoPNonce requires server nonces in DPoP proofs (RFC 9449 §8).
	DPoPNonce bool `yaml:"dpop_nonce"`
}

// Resource is one resource server tokens are issued for (RFC 8707).
type Resource struct {
	// Identifier is the resource server's public URL: an absolute URI
	// without a fragment, the "aud" of the tokens issued for it.
	Identifier string `yaml:"identifier"`
	// Scopes are the scopes it accepts (server scopes such as
	// offline_access need not be listed); empty means every non-admin scope.
	Scopes StringList `yaml:"scopes"`
}

// DefaultResource is the shipped development API's URL (petstore-api on
// its default listen address).
const DefaultResource = "http://127.0.0.1:8081"

// ResourceList returns the resources as the protocol core uses them, an
// empty scope list filled with every non-admin scope.
func (c *Config) ResourceList() identity.Resources {
	out := make(identity.Resources, 0, len(c.Resources))
	for _, r := range c.Resources {
		scopes := []string(r.Scopes)
		if len(scopes) == 0 {
			scopes = identity.ResourceScopes()
		}
		out = append(out, identity.Resource{Identifier: r.Identifier, Scopes: scopes})
	}
	return out
}

// Default returns the configuration used when a setting is absent.
func Default() Config {
	return Config{
		Issuer:      "http://127.0.0.1:8080",
		Listen:      "127.0.0.1:8080",
		DatabaseURL: "sqlite://data/petstore-auth.db",
		DataDir:     "data",
		LogLevel:    "info",
		// PerClient 600,000/min is 10,000/s per endpoint, above what one node
		// serves (4,000 introspections/s measured on PostgreSQL): an introspecting
		// resource server is limited by capacity, not by this default.
		RateLimits:    RateLimits{PerIP: 6000, PerClient: 600000, FailedAuthPerIP: 100, FailedAuthPerClient: 50},
		MetricsListen: "127.0.0.1:9464",
		Limits:        Limits{MaxInFlight: 512, RequestTimeout: Duration(10 * time.Second)},
		// 10 registrations per address per hour: an assistant registers
		// once; a script making clients in bulk is stopped.
		RegistrationRateLimit: 10,
		RegistrationUnusedTTL: Duration(30 * 24 * time.Hour),
		Tokens: Tokens{
			AuthorizeCodeLifespan:        Duration(60 * time.Second),
			AccessTokenLifespan:          Duration(15 * time.Minute),
			RefreshTokenIdleLifespan:     Duration(30 * 24 * time.Hour),
			RefreshTokenAbsoluteLifespan: Duration(90 * 24 * time.Hour),
			RefreshGraceWindow:           Duration(10 * time.Second),
			DPoPProofWindow:              Duration(60 * time.Second),
		},
		Resources: []Resource{{Identifier: DefaultResource}},
	}
}

// Load reads the YAML file at path (if path is "" or the file does not exist
// and optional is true, only defaults are used) and applies PETSTORE_*
// variables from env. It does not validate: call Validate.
func Load(path string, optional bool, env func(string) (string, bool)) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist) && optional:
		case err != nil:
			return cfg, fmt.Errorf("read config: %w", err)
		default:
			dec := yaml.NewDecoder(bytes.NewReader(b))
			dec.KnownFields(true)
			if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
				return cfg, fmt.Errorf("config %s: %w", path, err)
			}
		}
	}
	if env == nil {
		env = os.LookupEnv
	}
	return cfg, applyEnv(&cfg, env)
}

// applyEnv overrides settings from PETSTORE_* variables.
func applyEnv(c *Config, env func(string) (string, bool)) error {
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := env(name); ok {
			*dst = v
		}
	}
	dur := func(name string, dst *Duration) {
		if v, ok := env(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration like 30s or 15m", name, v))
				return
			}
			*dst = Duration(d)
		}
	}
	str("PETSTORE_ISSUER", &c.Issuer)
	str("PETSTORE_LISTEN", &c.Listen)
	str("PETSTORE_METRICS_LISTEN", &c.MetricsListen)
	str("PETSTORE_DATABASE_URL", &c.DatabaseURL)
	str("PETSTORE_SECRET", &c.Secret)
	if v, ok := env("PETSTORE_PREVIOUS_SECRETS"); ok {
		c.PreviousSecrets = strings.FieldsFunc(v, func(r rune) bool { return r == ',' })
	}
	if v, ok := env("PETSTORE_TRUSTED_PROXIES"); ok {
		c.TrustedProxies = splitList(v)
	}
	str("PETSTORE_DATA_DIR", &c.DataDir)
	str("PETSTORE_WEB_DIR", &c.WebDir)
	str("PETSTORE_TLS_CERT_FILE", &c.TLS.CertFile)
	str("PETSTORE_TLS_KEY_FILE", &c.TLS.KeyFile)
	str("PETSTORE_REDIS_URL", &c.RedisURL)
	str("PETSTORE_LOG_LEVEL", &c.LogLevel)
	str("PETSTORE_REGISTRATION", &c.Registration)
	dur("PETSTORE_REGISTRATION_UNUSED_TTL", &c.RegistrationUnusedTTL)
	str("PETSTORE_JWT_AUDIENCE", &c.Tokens.JWTAudience)
	if v, ok := env("PETSTORE_RESOURCES"); ok {
		// Identifiers only, each accepting every non-admin scope; the first
		// is the default audience.
		c.Resources = nil
		for _, id := range splitList(v) {
			c.Resources = append(c.Resources, Resource{Identifier: id})
		}
	}
	dur("PETSTORE_AUTHORIZE_CODE_LIFESPAN", &c.Tokens.AuthorizeCodeLifespan)
	dur("PETSTORE_ACCESS_TOKEN_LIFESPAN", &c.Tokens.AccessTokenLifespan)
	dur("PETSTORE_REFRESH_TOKEN_IDLE_LIFESPAN", &c.Tokens.RefreshTokenIdleLifespan)
	dur("PETSTORE_REFRESH_TOKEN_ABSOLUTE_LIFESPAN", &c.Tokens.RefreshTokenAbsoluteLifespan)
	dur("PETSTORE_REFRESH_GRACE_WINDOW", &c.Tokens.RefreshGraceWindow)
	dur("PETSTORE_REQUEST_TIMEOUT", &c.Limits.RequestTimeout)
	dur("PETSTORE_DPOP_PROOF_WINDOW", &c.Tokens.DPoPProofWindow)
	flag := func(name string, dst *bool) {
		if v, ok := env(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
			}
			*dst = b
		}
	}
	flag("PETSTORE_DPOP_NONCE", &c.Tokens.DPoPNonce)
	flag("PETSTORE_PPROF", &c.Pprof)
	flag("PETSTORE_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS", &c.RequirePushedAuthorizationRequests)
	num := func(name string, dst *int) {
		if v, ok := env(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a non-negative number", name, v))
				return
			}
			*dst = n
		}
	}
	num("PETSTORE_RATE_LIMIT_PER_IP", &c.RateLimits.PerIP)
	num("PETSTORE_RATE_LIMIT_PER_CLIENT", &c.RateLimits.PerClient)
	num("PETSTORE_RATE_LIMIT_FAILED_AUTH_PER_IP", &c.RateLimits.FailedAuthPerIP)
	num("PETSTORE_RATE_LIMIT_FAILED_AUTH_PER_CLIENT", &c.RateLimits.FailedAuthPerClient)
	num("PETSTORE_MAX_IN_FLIGHT", &c.Limits.MaxInFlight)
	num("PETSTORE_REGISTRATION_RATE_LIMIT_PER_HOUR", &c.RegistrationRateLimit)
	if v, ok := env("PETSTORE_DEV"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PETSTORE_DEV: %q is not true or false", v))
		}
		c.Dev = b
	}
	return errors.Join(errs...)
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	u, err := url.Parse(c.Issuer)
	switch {
	case c.Issuer == "":
		bad("issuer: required")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		bad("issuer: %q is not an absolute http(s) URL", c.Issuer)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		bad("issuer: %q must not have a query, fragment or user info (RFC 8414)", c.Issuer)
	case strings.HasSuffix(u.Path, "/"):
		bad("issuer: %q must not end with a slash", c.Issuer)
	case u.Scheme == "http" && !c.Dev:
		bad("issuer: %q is plain http; production needs https (set dev: true only for local development)", c.Issuer)
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		bad("issuer: plain http is allowed in development mode on loopback only, not %q", u.Hostname())
	}
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
	if !strings.HasPrefix(c.DatabaseURL, "sqlite://") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("database_url: %q must start with sqlite:// or postgres://", redactURL(c.DatabaseURL))
	}
	if c.Secret == "" && !c.Dev {
		bad("secret: required in production (PETSTORE_SECRET, at least 32 bytes)")
	} else if c.Secret != "" && len(c.Secret) < 32 {
		bad("secret: %d bytes is too short; at least 32 bytes are required", len(c.Secret))
	}
	for i, p := range c.PreviousSecrets {
		if len(p) < 32 {
			bad("previous_secrets[%d]: %d bytes is too short; at least 32 bytes are required", i, len(p))
		}
	}
	if c.TLS.Enabled() && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		bad("tls: both cert_file and key_file are required")
	}
	if !c.Dev && !c.TLS.Enabled() && len(c.TrustedProxies) == 0 {
		bad("tls: production needs tls.cert_file and tls.key_file, or trusted_proxies naming the proxy that terminates TLS (set dev: true only for local development)")
	}
	if _, err := clientaddr.ParsePrefixes(strings.Join(c.TrustedProxies, ",")); err != nil {
		bad("trusted_proxies: %v", err)
	}
	t := c.Tokens
	if t.AuthorizeCodeLifespan <= 0 || time.Duration(t.AuthorizeCodeLifespan) > 10*time.Minute {
		bad("tokens.authorize_code_lifespan: must be between 1s and 10m (RFC 6749 §4.1.2)")
	}
	if t.AccessTokenLifespan <= 0 {
		bad("tokens.access_token_lifespan: must be positive")
	}
	if t.RefreshTokenIdleLifespan <= 0 || t.RefreshTokenAbsoluteLifespan < t.RefreshTokenIdleLifespan {
		bad("tokens: refresh_token_idle_lifespan must be positive and not longer than refresh_token_absolute_lifespan")
	}
	if w := time.Duration(t.DPoPProofWindow); w < time.Second || w > 5*time.Minute {
		bad("tokens.dpop_proof_window: %s must be between 1s and 5m", w)
	}
	if t.RefreshGraceWindow < 0 || time.Duration(t.RefreshGraceWindow) > time.Minute {
		bad("tokens.refresh_grace_window: must be between 0 and 1m")
	}
	if t.JWTAudience != "" {
		bad("tokens.jwt_audience (PETSTORE_JWT_AUDIENCE): replaced by resources; list the API's public URL under resources (PETSTORE_RESOURCES) and let petstore-api accept %q as a legacy audience (PETSTORE_API_ACCEPT_AUDIENCES)", t.JWTAudience)
	}
	c.validateResources(bad)
	if rl := c.RateLimits; rl.PerIP < 0 || rl.PerClient < 0 || rl.FailedAuthPerIP < 0 || rl.FailedAuthPerClient < 0 {
		bad("rate_limits: limits must be 0 (off) or positive")
	}
	if c.Limits.MaxInFlight < 0 {
		bad("limits.max_in_flight: must be 0 (off) or positive")
	}
	if d := time.Duration(c.Limits.RequestTimeout); d < time.Second || d > 2*time.Minute {
		bad("limits.request_timeout: must be between 1s and 2m")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		bad("redis_url: %q must start with redis:// or rediss://", redactURL(c.RedisURL))
	}
	switch c.Registration {
	case "", "off", "open", "token":
	default:
		bad("registration: %q is not off, open or token", c.Registration)
	}
	if c.RegistrationRateLimit < 0 {
		bad("registration_rate_limit_per_hour: must be 0 (off) or positive")
	}
	if time.Duration(c.RegistrationUnusedTTL) < time.Hour {
		bad("registration_unused_ttl: must be at least 1h")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	return errors.Join(errs...)
}

// validateResources checks resources: at least one, each identifier an
// absolute URI without fragment named once, each scope a known one.
func (c *Config) validateResources(bad func(string, ...any)) {
	if len(c.Resources) == 0 {
		bad("resources: at least one resource server is required (the first is the default audience)")
	}
	seen := map[string]bool{}
	for i, r := range c.Resources {
		if err := identity.CheckResourceIdentifier(r.Identifier); err != nil {
			bad("resources[%d].identifier: %s (RFC 8707 §2)", i, identity.ErrorMessage(err))
		} else if seen[r.Identifier] {
			bad("resources[%d].identifier: %q is listed twice", i, r.Identifier)
		} else if !c.Dev && !strings.HasPrefix(r.Identifier, "https://") {
			// The development default (http://127.0.0.1:8081) would make
			// every token's audience a URL no production API has: its
			// public https URL must be named (PETSTORE_RESOURCES).
			bad("resources[%d].identifier: %q is not https; in production name each API by its public https URL (resources, or PETSTORE_RESOURCES=https://api.example.com)", i, r.Identifier)
		}
		seen[r.Identifier] = true
		if _, err := identity.ParseScopes(strings.Join(r.Scopes, " ")); err != nil {
			bad("resources[%d].scopes: %s", i, identity.ErrorMessage(err))
		} else if slices.Contains(r.Scopes, identity.ScopeAdmin) {
			bad("resources[%d].scopes: admin is the authorization server's own scope", i)
		}
	}
}

// IsLoopback reports whether host is 127.0.0.0/8, ::1 or localhost.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Insecure reports whether cookies may go without Secure: development mode
// over plain http on loopback.
func (c *Config) Insecure() bool {
	u, err := url.Parse(c.Issuer)
	return err == nil && c.Dev && u.Scheme == "http" && IsLoopback(u.Hostname())
}

// SecretBytes returns the system secret. In development mode without one, a
// random secret is generated once and kept in DataDir/secret (mode 0600) so
// that sessions and tokens survive restarts.
func (c *Config) SecretBytes() ([]byte, error) {
	if c.Secret != "" {
		return []byte(c.Secret), nil
	}
	if !c.Dev {
		return nil, errors.New("no system secret configured")
	}
	path := filepath.Join(c.DataDir, "secret")
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) >= 32 {
		return bytes.TrimSpace(b), nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := []byte(hex.EncodeToString(raw))
	// O_EXCL: when two processes race, the loser reads the winner's secret.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return c.SecretBytes()
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Write(append(secret, '\n')); err != nil {
		return nil, err
	}
	return secret, nil
}

// redactURL hides a password in a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// PreviousSecretBytes returns the secrets being rotated out.
func (c *Config) PreviousSecretBytes() [][]byte {
	var out [][]byte
	for _, p := range c.PreviousSecrets {
		out = append(out, []byte(p))
	}
	return out
}

// Redacted returns the database URL without its password, for logs.
func (c *Config) RedactedDatabaseURL() string { return redactURL(c.DatabaseURL) }

// String prints Go duration syntax.
func (d Duration) String() string { return time.Duration(d).String() }
