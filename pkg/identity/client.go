package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// UserIDPrefix starts every user id; client ids may not, so a token's
// subject is never ambiguous between a user and a client.
const UserIDPrefix = "usr_"

// PrefixClientSecret marks client secrets, so scanners can find leaked ones.
const PrefixClientSecret = "pst_cs_"

// NewClientSecret returns a server-generated secret with 256 bits of entropy
// and its SHA-256 hash, the only form that is stored.
func NewClientSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret = PrefixClientSecret + base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(secret))
	return secret, sum[:]
}

var clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)

// NewClientID derives a readable, unique-enough client id from a name.
func NewClientID(name string) string {
	slug := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(slug) > 40 {
		slug = slug[:40]
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	suffix := strings.ToLower(base64.RawURLEncoding.EncodeToString(b))
	suffix = strings.NewReplacer("_", "x", "-", "y").Replace(suffix)
	if slug == "" {
		return "client-" + suffix
	}
	return slug + "-" + suffix
}

// Fields of a client registration, the keys of Error.Fields from Validate.
const (
	FieldID             = "id"
	FieldName           = "name"
	FieldGrantTypes     = "grant_types"
	FieldPublic         = "public"
	FieldRedirectURIs   = "redirect_uris"
	FieldAllowedOrigins = "allowed_origins"
	FieldScopes         = "scopes"
	FieldTokenFormat    = "token_format"
	// FieldTokenEndpointAuthMethod covers private_key_jwt and its keys.
	FieldTokenEndpointAuthMethod = "token_endpoint_auth_method"
	// FieldMetadata: the RFC 7591 metadata of a self-registered client.
	FieldMetadata = "metadata"
	FieldProfile  = "profile"
)

// ClientIDFor is the client id NewClientID would make from name, with a
// suffix derived from seed instead of a random one: the same name and seed
// always give the same id (idempotent registration forms).
func ClientIDFor(name, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	id := NewClientID(name)
	suffix := strings.ToLower(base64.RawURLEncoding.EncodeToString(sum[:6]))
	suffix = strings.NewReplacer("_", "x", "-", "y").Replace(suffix)
	return id[:strings.LastIndexByte(id, '-')+1] + suffix
}

// NewFormID is a random token for a form that must not act twice.
func NewFormID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Validate checks a client registration and returns every problem as one
// EINVALID *Error whose Fields name the field of each problem.
func (c *Client) Validate() error {
	var problems []string
	fields := map[string][]string{}
	bad := func(field, s string) {
		problems = append(problems, s)
		fields[field] = append(fields[field], s)
	}
	if p := c.idProblem(); p != "" {
		bad(FieldID, p)
	}
	if n := strings.TrimSpace(c.Name); n == "" || len(n) > 100 {
		bad(FieldName, "name must be 1-100 characters")
	} else if !PlainText(n) {
		bad(FieldName, "name must be plain text on one line (no control or bidirectional-control characters)")
	}
	c.validateGrants(bad)
	for _, u := range c.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			bad(FieldRedirectURIs, ErrorMessage(err))
		}
	}
	problems = append(problems, c.logoutProblems()...)
	for _, o := range c.AllowedOrigins {
		if err := ValidateOrigin(o); err != nil {
			bad(FieldAllowedOrigins, ErrorMessage(err))
		}
	}
	if len(c.AllowedOrigins) > 0 && !c.Public {
		// A browser cannot keep a client secret (RFC 9700 §2.1.1).
		bad(FieldAllowedOrigins, "allowed origins are for public clients only")
	}
	for _, s := range c.Scopes {
		if _, ok := LookupScope(s); !ok {
			bad(FieldScopes, "unknown scope "+quote(s))
		}
	}
	for _, p := range c.metadataProblems() {
		bad(FieldMetadata, p)
	}
	for _, p := range c.tokenFormatProblems() {
		bad(FieldTokenFormat, p)
	}
	for _, p := range c.profileProblems() {
		bad(FieldProfile, p)
	}
	c.validateKeys(func(s string) { bad(FieldTokenEndpointAuthMethod, s) })
	if len(problems) > 0 {
		return &Error{Code: EINVALID, Message: strings.Join(problems, "; "), Fields: fields}
	}
	return nil
}

// logoutProblems checks the OpenID Connect logout settings.
func (c *Client) logoutProblems() []string {
	var problems []string
	for _, u := range c.PostLogoutRedirectURIs {
		if err := ValidatePostLogoutRedirectURI(u); err != nil {
			problems = append(problems, ErrorMessage(err))
		}
	}
	if c.BackchannelLogoutURI != "" {
		if err := ValidateBackchannelLogoutURI(c.BackchannelLogoutURI); err != nil {
			problems = append(problems, ErrorMessage(err))
		}
	} else if c.BackchannelLogoutSessionRequired {
		problems = append(problems, "backchannel logout session required needs a backchannel logout URI")
	}
	return problems
}

// validateGrants checks the grant types and what each needs, and that a
// public client (it cannot authenticate) neither uses client_credentials
// nor introspects.
func (c *Client) validateGrants(bad func(field, s string)) {
	if len(c.GrantTypes) == 0 {
		bad(FieldGrantTypes, "at least one grant type is required")
	}
	for _, g := range c.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantClientCredentials && g != GrantDeviceCode {
			bad(FieldGrantTypes, "unsupported grant type "+quote(g)+" (authorization_code, refresh_token, client_credentials, device_code)")
		}
	}
	if slices.Contains(c.GrantTypes, GrantClientCredentials) && c.Public {
		bad(FieldPublic, "a public client cannot use client_credentials")
	}
	if c.Public && c.CanIntrospect {
		// Introspection needs client authentication (RFC 7662 §2.1).
		bad(FieldPublic, "a public client cannot introspect: it has no secret to authenticate with")
	}
	if slices.Contains(c.GrantTypes, GrantRefreshToken) && !slices.Contains(c.GrantTypes, GrantAuthorizationCode) && !slices.Contains(c.GrantTypes, GrantDeviceCode) {
		bad(FieldGrantTypes, "refresh_token needs authorization_code or device_code")
	}
	if slices.Contains(c.GrantTypes, GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		bad(FieldRedirectURIs, "authorization_code needs at least one redirect URI")
	}
}

// tokenFormatProblems checks the formats of the client's tokens: the
// access token format and the ID token algorithm.
func (c *Client) tokenFormatProblems() []string {
	var problems []string
	if c.TokenFormat != TokenFormatOpaque && c.TokenFormat != TokenFormatJWT {
		problems = append(problems, "token format must be opaque or jwt")
	}
	if c.IDTokenSignedResponseAlg != "" && !slices.Contains(IDTokenSigningAlgs, c.IDTokenSignedResponseAlg) {
		problems = append(problems, "id_token_signed_response_alg must be "+strings.Join(IDTokenSigningAlgs, " or "))
	}
	return problems
}

func quote(s string) string { return `"` + s + `"` }

// idProblem checks the client id: the URL of a metadata document for such
// clients, else the registered-id pattern.
func (c *Client) idProblem() string {
	switch {
	case c.Registration == RegistrationMetadataDocument:
		if err := ValidateMetadataDocumentURL(c.ID, true); err != nil {
			return ErrorMessage(err)
		}
	case !clientIDPattern.MatchString(c.ID):
		return "client id must be 2-63 characters of a-z, 0-9, '.', '_' or '-'"
	case strings.HasPrefix(c.ID, UserIDPrefix):
		// A client_credentials token's subject is the client id: it must
		// never be mistaken for a user's (AT-08).
		return "client id must not start with " + quote(UserIDPrefix) + ", the prefix of user ids"
	}
	return ""
}

// metadataProblems checks the RFC 7591 §2 metadata kept as registered.
func (c *Client) metadataProblems() []string {
	var out []string
	for _, u := range []struct{ name, v string }{{"client_uri", c.ClientURI}, {"logo_uri", c.LogoURI}} {
		if u.v != "" && !isHTTPSURL(u.v) {
			out = append(out, u.name+" must be an https URL")
		}
	}
	if len(c.SoftwareID) > 200 || len(c.SoftwareVersion) > 100 {
		out = append(out, "software_id must be at most 200 and software_version at most 100 characters")
	}
	return out
}

func isHTTPSURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && len(raw) <= 2000 && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Fragment == ""
}

// ValidateMetadataDocumentURL checks a client id that is the URL of a client
// ID metadata document (draft-ietf-oauth-client-id-metadata-document §3):
// https with a path component, no fragment, user info, dot segments or
// query; plain http on a loopback host only when allowLoopbackHTTP (the
// server's development mode).
func ValidateMetadataDocumentURL(raw string, allowLoopbackHTTP bool) error {
	invalid := func(why string) error { return Errorf(EINVALID, "client id URL %q %s", raw, why) }
	if len(raw) > 2000 || strings.ContainsAny(raw, " \t\r\n\\#") {
		return invalid("must be at most 2000 characters without spaces, backslashes or a fragment")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" || u.Opaque != "" {
		return invalid("must be an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowLoopbackHTTP && isLoopbackHost(u.Hostname()):
	default:
		return invalid("must use https")
	}
	if u.User != nil || u.RawQuery != "" || strings.Contains(raw, "?") {
		return invalid("must not carry user info or a query")
	}
	if u.Path == "" || u.Path == "/" {
		return invalid("must have a path")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return invalid("must not contain . or .. path segments")
		}
	}
	if u.String() != raw {
		return invalid("must be written in canonical form")
	}
	return nil
}

// IsMetadataDocumentID reports whether a client id names a client ID
// metadata document (it is an http(s) URL) rather than a registered client.
func IsMetadataDocumentID(id string) bool {
	return strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://")
}

// ValidateRedirectURI enforces RFC 9700 §2.1/§4.1 at registration: absolute,
// https (http only on loopback for native/public clients), no fragment, no
// userinfo, no wildcard, no parameters the server itself adds.
func ValidateRedirectURI(raw string) error {
	return validateClientURI("redirect URI", raw, []string{"code", "state", "iss", "error", "error_description"})
}

// PostLogoutRedirectURIRegistered reports whether uri is one of the
// client's post-logout redirect URIs, byte for byte (RP-Initiated Logout
// 1.0 §3: it MUST have been registered; no loopback or prefix leniency).
func (c *Client) PostLogoutRedirectURIRegistered(uri string) bool {
	return uri != "" && slices.Contains(c.PostLogoutRedirectURIs, uri)
}

// ValidatePostLogoutRedirectURI checks a post_logout_redirect_uri at
// registration (OpenID Connect RP-Initiated Logout 1.0 §3.1) with the rules
// of redirect URIs: absolute, https (http on loopback), no fragment, no
// user info, canonical, and without the state parameter the server adds.
func ValidatePostLogoutRedirectURI(raw string) error {
	return validateClientURI("post-logout redirect URI", raw, []string{"state"})
}

// ValidateBackchannelLogoutURI checks a backchannel_logout_uri (OpenID
// Connect Back-Channel Logout 1.0 §2.2): absolute, https (http only on
// loopback), no fragment; a query is allowed.
func ValidateBackchannelLogoutURI(raw string) error {
	return validateClientURI("backchannel logout URI", raw, nil)
}

func validateClientURI(kind, raw string, reserved []string) error {
	invalid := func(why string) error { return Errorf(EINVALID, "%s %q %s", kind, raw, why) }
	if raw == "" || len(raw) > 2000 {
		return invalid("must be 1-2000 characters")
	}
	if strings.ContainsAny(raw, " \t\r\n\\*") {
		return invalid("must not contain spaces, backslashes or wildcards")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return invalid("must be an absolute URL")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return invalid("must not have a fragment")
	}
	if u.User != nil {
		return invalid("must not carry user info")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return invalid("may use http only on a loopback address (RFC 8252)")
		}
	default:
		return invalid("must use https (or http on loopback)")
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalid("must have a host")
	}
	// Matching is byte for byte: a percent-encoded host, or a URI that
	// parses to something else, would mean one thing here and another in
	// the browser.
	if strings.Contains(u.Host, "%") {
		return invalid("must not percent-encode the host")
	}
	if u.String() != raw {
		return invalid("must be written in canonical form (" + u.String() + ")")
	}
	for _, k := range reserved {
		if u.Query().Has(k) {
			return invalid("must not already carry the parameter " + quote(k))
		}
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// RedirectURIMatches reports whether a requested redirect_uri may be used
// for a registered one: byte-identical; or, for a public (native) client
// only, and an http URI on a loopback IP literal, the same URI with any
// port (RFC 8252 §7.3; RFC 9700 §4.1.3). A confidential client's loopback
// URI matches exactly, port included: the any-port rule exists because a
// native app cannot reserve a port, which a server-side client can. It is
// stricter than fosite's matcher, which allows any port for every client,
// compares loopback URIs by their decoded path and ignores the registered
// scheme and any user info.
func RedirectURIMatches(registered, requested string, public bool) bool {
	if requested == registered {
		return true
	}
	if !public {
		return false
	}
	reg, err := url.Parse(registered)
	if err != nil || reg.Scheme != "http" || net.ParseIP(reg.Hostname()) == nil || !isLoopbackHost(reg.Hostname()) {
		return false
	}
	req, err := url.Parse(requested)
	if err != nil || strings.ContainsAny(requested, "#\\") {
		return false
	}
	port := req.Port()
	if strings.Trim(port, "0123456789") != "" {
		return false
	}
	// Put the registered port in and compare the strings: only the port may differ.
	withPort := *req
	withPort.Host = reg.Host
	return req.Scheme == "http" && req.User == nil && req.Hostname() == reg.Hostname() && withPort.String() == registered
}

// ValidateOrigin checks an origin a public client may call the token and
// revocation endpoints from (CORS, the Fetch standard's serialization of an
// origin): scheme://host[:port] in lower case, https (http only on loopback,
// as for redirect URIs, RFC 8252 §8.3), no path, query, fragment, user info
// or wildcard, and no default port.
func ValidateOrigin(raw string) error {
	invalid := func(why string) error { return Errorf(EINVALID, "allowed origin %q %s", raw, why) }
	if raw == "" || len(raw) > 300 {
		return invalid("must be 1-300 characters")
	}
	if strings.ContainsAny(raw, " \t\r\n\\*") {
		return invalid("must not contain spaces, backslashes or wildcards")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return invalid("must be an absolute origin such as https://app.example")
	}
	if u.User != nil {
		return invalid("must not carry user info")
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		return invalid("must be an origin (scheme://host[:port]) without path, query or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return invalid("may use http only on a loopback address")
		}
	default:
		return invalid("must use https (or http on loopback)")
	}
	if strings.Contains(u.Host, "%") {
		return invalid("must not percent-encode the host")
	}
	for _, r := range u.Host {
		if r > 0x7e {
			// Browsers send international names in punycode (xn--…).
			return invalid("must write the host in ASCII (punycode)")
		}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return invalid("must have a port between 1 and 65535")
		}
	}
	if canon, ok := OriginOf(raw); !ok || canon != raw {
		return invalid("must be written as the browser sends it (" + canon + ")")
	}
	return nil
}

// OriginOf returns the origin of an http(s) URL as a browser serializes it
// in the Origin header: lower-case scheme and host, the port only when it
// is not the scheme's default. ok is false for other schemes.
func OriginOf(raw string) (origin string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		return scheme + "://" + host, true
	}
	return scheme + "://" + host + ":" + port, true
}

// CORSOrigins returns the browser origins a public client may call the
// token and revocation endpoints from: the origins of its http(s) redirect
// URIs and its AllowedOrigins. A confidential client has none: its secret
// must never be in a browser.
func (c *Client) CORSOrigins() []string {
	if !c.Public || c.Disabled {
		return nil
	}
	var out []string
	for _, u := range c.RedirectURIs {
		if o, ok := OriginOf(u); ok && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	for _, o := range c.AllowedOrigins {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// GetsRefreshWithoutOfflineAccess reports whether c gets a refresh token
// with its authorization-code grant without asking for offline_access:
// self-registered clients (assistants, MCP clients — they do not ask for
// offline_access, and re-authorizing every 15 minutes makes them
// unusable) whose grant types include refresh_token. Other clients need
// offline_access (RFC 6749 §6 leaves the choice to the server).
func GetsRefreshWithoutOfflineAccess(c *Client) bool {
	return c.Unverified() && slices.Contains(c.GrantTypes, GrantRefreshToken)
}

// MaxSecretGrace is the longest a replaced client secret may keep working
// after a rotation.
const MaxSecretGrace = 7 * 24 * time.Hour

// PreviousSecretActive reports whether the secret replaced by the last
// rotation still authenticates the client at now: during the grace period,
// until PreviousSecretExpiresAt (exclusive). Together with the current
// SecretHash it is the one rule of which secrets are valid: fosite's client
// authentication and the provider's rate-limit admission both read it
// through store.Client's GetRotatedHashes (fosite.ClientWithSecretRotation).
func (c *Client) PreviousSecretActive(now time.Time) bool {
	return len(c.PreviousSecretHash) > 0 && c.PreviousSecretExpiresAt != nil && now.Before(*c.PreviousSecretExpiresAt)
}

// RotateSecret gives the client a new secret and returns it. With grace
// > 0 the replaced secret keeps working until now+grace; with 0 it stops
// at once. grace must be between 0 and MaxSecretGrace (EINVALID
// otherwise); a public client has no secret to rotate (EINVALID).
func (c *Client) RotateSecret(now time.Time, grace time.Duration) (secret string, err error) {
	if c.Public {
		return "", Errorf(EINVALID, "A public client has no secret.")
	}
	if grace < 0 || grace > MaxSecretGrace {
		return "", Errorf(EINVALID, "The grace period must be between 0 and 7 days (168h).")
	}
	c.PreviousSecretHash, c.PreviousSecretExpiresAt = nil, nil
	if grace > 0 && len(c.SecretHash) > 0 {
		exp := now.Add(grace)
		c.PreviousSecretHash, c.PreviousSecretExpiresAt = c.SecretHash, &exp
	}
	secret, c.SecretHash = NewClientSecret()
	return secret, nil
}
