package identity

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// RD-04: redirect URIs refused at registration.
func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri string
		ok  bool
	}{
		{"https://app.example/cb", true},
		{"https://app.example/cb?tenant=1", true},
		{"https://app.example/c%7eb", true},
		{"https://0%8a0000", false},             // percent-encoded host (found by FuzzValidateRedirectURI)
		{"https://app.example/c\u00e4b", false}, // not canonical: matched byte for byte
		{"http://127.0.0.1:8082/callback", true},
		{"http://[::1]/cb", true},
		{"http://localhost:3000/cb", true},
		{"http://app.example/cb", false},
		{"https://app.example/cb#frag", false},
		{"https://app.example/cb#", false},
		{"javascript://x/%0aalert(1)", false},
		{"data:text/html,hi", false},
		{"vbscript:msgbox", false},
		{"file:///etc/passwd", false},
		{"https://*.example/cb", false},
		{"https://user@app.example/cb", false},
		{"/relative/cb", false},
		{"https://app.example/cb?code=x", false},
		{"https://app.example/cb?state=x", false},
		{"https://app.example/cb?iss=x", false},
		{"https://app.example/cb?error=x", false},
		{" https://app.example/cb", false},
		{"https://app.example/c\nb", false},
		{"https://evil.com\\@app.example/cb", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := ValidateRedirectURI(tt.uri)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateRedirectURI(%q) = %v, want ok=%v", tt.uri, err, tt.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("code %q, want invalid", ErrorCode(err))
			}
		})
	}
}

func TestClientValidateReportsAllProblems(t *testing.T) {
	c := &Client{ID: "Bad ID!", GrantTypes: []string{"password", GrantClientCredentials}, Public: true,
		RedirectURIs: []string{"javascript:alert(1)"}, Scopes: []string{"pets:*"}, TokenFormat: "xml"}
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid client accepted")
	}
	for _, want := range []string{"client id", "name", "password", "public client", "redirect URI", "pets:*", "token format"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

// AT-08: a client cannot take a user's id, so a client_credentials token's
// subject never names a user.
func TestClientIDCannotLookLikeAUser(t *testing.T) {
	c := &Client{ID: "usr_abc123", Name: "x", GrantTypes: []string{GrantClientCredentials}, TokenFormat: TokenFormatOpaque}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), UserIDPrefix) {
		t.Fatalf("client id with the user prefix accepted: %v", err)
	}
}

func TestClientSecretsAreUniqueAndHashed(t *testing.T) {
	s1, h1 := NewClientSecret()
	s2, h2 := NewClientSecret()
	if s1 == s2 || string(h1) == string(h2) {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(s1, PrefixClientSecret) || len(s1) < len(PrefixClientSecret)+43 {
		t.Fatalf("secret %q lacks prefix or 256 bits", s1)
	}
	if len(h1) != 32 {
		t.Fatalf("hash length %d", len(h1))
	}
}

func TestParseScopes(t *testing.T) {
	if s, err := ParseScopes("read:pets  write:pets"); err != nil || len(s) != 2 {
		t.Fatalf("got %v %v", s, err)
	}
	for _, bad := range []string{"read:pets read:pets", "read:*", "READ:PETS", strings.Repeat("a", 2000)} {
		if _, err := ParseScopes(bad); err == nil {
			t.Errorf("ParseScopes(%.20q) accepted", bad)
		}
	}
}

// RD-01, RD-03: only a byte-identical URI, or, for a public client, a
// loopback IP URI with another port, matches.
func TestRedirectURIMatches(t *testing.T) {
	for _, tc := range []struct {
		name, registered, requested string
		want                        bool
	}{
		{"identical", "https://app.example/cb", "https://app.example/cb", true},
		{"trailing slash", "https://app.example/cb", "https://app.example/cb/", false},
		{"explicit port on https", "https://app.example/cb", "https://app.example:443/cb", false},
		{"loopback any port", "http://127.0.0.1/cb", "http://127.0.0.1:5555/cb", true},
		{"loopback other registered port", "http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb", true},
		{"loopback v6 any port", "http://[::1]/cb", "http://[::1]:5555/cb", true},
		{"loopback encoded path", "http://127.0.0.1/cb", "http://127.0.0.1:5555/%63b", false},
		{"loopback user info", "http://127.0.0.1/cb", "http://u@127.0.0.1:5555/cb", false},
		{"loopback other path", "http://127.0.0.1/cb", "http://127.0.0.1:5555/other", false},
		{"loopback other address", "http://127.0.0.1/cb", "http://127.0.0.2:5555/cb", false},
		{"loopback query changed", "http://127.0.0.1/cb?a=1", "http://127.0.0.1:5555/cb?a=2", false},
		{"loopback fragment", "http://127.0.0.1/cb", "http://127.0.0.1:5555/cb#x", false},
		{"https loopback downgraded", "https://127.0.0.1/cb", "http://127.0.0.1:5555/cb", false},
		{"localhost is exact only", "http://localhost:8080/cb", "http://localhost:9090/cb", false},
		{"non-numeric port", "http://127.0.0.1/cb", "http://127.0.0.1:x/cb", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedirectURIMatches(tc.registered, tc.requested, true); got != tc.want {
				t.Fatalf("public: RedirectURIMatches(%q, %q) = %v, want %v", tc.registered, tc.requested, got, tc.want)
			}
			// A confidential client's URI matches exactly, port included.
			if got := RedirectURIMatches(tc.registered, tc.requested, false); got != (tc.registered == tc.requested) {
				t.Fatalf("confidential: RedirectURIMatches(%q, %q) = %v, want %v", tc.registered, tc.requested, got, !got)
			}
		})
	}
}

// Allowed origins for browser apps (CORS) follow the redirect-URI rules and
// must be written the way a browser sends the Origin header.
func TestValidateOrigin(t *testing.T) {
	tests := []struct {
		origin string
		ok     bool
	}{
		{"https://app.example", true},
		{"https://app.example:8443", true},
		{"http://127.0.0.1:5173", true},
		{"http://localhost:3000", true},
		{"http://[::1]:8080", true},
		{"http://app.example", false},       // http only on loopback
		{"https://app.example/", false},     // a path
		{"https://app.example/spa", false},  // a path
		{"https://app.example?x=1", false},  // a query
		{"https://app.example#x", false},    // a fragment
		{"https://user@app.example", false}, // user info
		{"https://*.app.example", false},    // wildcard
		{"*", false},                        // wildcard
		{"null", false},                     // opaque origin
		{"https://App.Example", false},      // not as the browser sends it
		{"https://app.example:443", false},  // default port
		{"ftp://app.example", false},        // scheme
		{"app.example", false},              // not absolute
		{"https://0%8a0000", false},         // percent-encoded host
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			err := ValidateOrigin(tt.origin)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateOrigin(%q) = %v, want ok=%v", tt.origin, err, tt.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("code %q, want invalid", ErrorCode(err))
			}
		})
	}
}

func TestCORSOrigins(t *testing.T) {
	c := &Client{Public: true,
		RedirectURIs:   []string{"https://spa.example/cb", "https://spa.example/other", "https://Spa.Example:443/x", "http://127.0.0.1:5173/cb", "com.example.app:/cb"},
		AllowedOrigins: []string{"https://static.example", "https://spa.example"}}
	got := strings.Join(c.CORSOrigins(), " ")
	if want := "https://spa.example http://127.0.0.1:5173 https://static.example"; got != want {
		t.Fatalf("CORSOrigins = %q, want %q", got, want)
	}
	c.Public = false
	if got := c.CORSOrigins(); got != nil {
		t.Fatalf("confidential client has CORS origins %q", got)
	}
	c.Public, c.Disabled = true, true
	if got := c.CORSOrigins(); got != nil {
		t.Fatalf("disabled client has CORS origins %q", got)
	}
}

func TestAllowedOriginsOnlyForPublicClients(t *testing.T) {
	c := &Client{ID: "web-app", Name: "Web", GrantTypes: []string{GrantAuthorizationCode},
		RedirectURIs: []string{"https://app.example/cb"}, TokenFormat: TokenFormatOpaque,
		AllowedOrigins: []string{"https://app.example"}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "public clients only") {
		t.Fatalf("confidential client with allowed origins: %v", err)
	}
	c.Public = true
	if err := c.Validate(); err != nil {
		t.Fatalf("public client with allowed origin: %v", err)
	}
	c.AllowedOrigins = []string{"https://app.example/"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "without path") {
		t.Fatalf("origin with a path: %v", err)
	}
}

// TestValidateLogoutURIs: the OpenID Connect logout URIs of a client are
// checked at registration like redirect URIs.
func TestValidateLogoutURIs(t *testing.T) {
	base := func() *Client {
		return &Client{ID: "rp", Name: "RP", RedirectURIs: []string{"https://rp.example/cb"},
			GrantTypes: []string{GrantAuthorizationCode}, TokenFormat: TokenFormatOpaque}
	}
	good := base()
	good.PostLogoutRedirectURIs = []string{"https://rp.example/bye", "http://127.0.0.1:8082/signed-out", "https://rp.example/bye?from=ps"}
	good.BackchannelLogoutURI = "https://rp.example/backchannel?tenant=1"
	good.BackchannelLogoutSessionRequired = true
	if err := good.Validate(); err != nil {
		t.Fatalf("valid logout settings refused: %v", err)
	}
	for _, uri := range []string{"rp.example/bye", "https://rp.example/bye#x", "http://rp.example/bye", "https://u:p@rp.example/bye",
		"https://rp.example/bye?state=1", "javascript:alert(1)", "https://rp.example/*", "HTTPS://rp.example/bye"} {
		c := base()
		c.PostLogoutRedirectURIs = []string{uri}
		if err := c.Validate(); err == nil || !strings.Contains(ErrorMessage(err), "post-logout redirect URI") {
			t.Errorf("post-logout URI %q: %v", uri, err)
		}
	}
	for _, uri := range []string{"/bc", "https://rp.example/bc#x", "http://rp.example/bc", "ftp://rp.example/bc"} {
		c := base()
		c.BackchannelLogoutURI = uri
		if err := c.Validate(); err == nil || !strings.Contains(ErrorMessage(err), "backchannel logout URI") {
			t.Errorf("backchannel URI %q: %v", uri, err)
		}
	}
	c := base()
	c.BackchannelLogoutSessionRequired = true
	if err := c.Validate(); err == nil {
		t.Error("session required without a backchannel URI accepted")
	}
	if !good.PostLogoutRedirectURIRegistered("https://rp.example/bye") || good.PostLogoutRedirectURIRegistered("https://rp.example/bye/") ||
		good.PostLogoutRedirectURIRegistered("") {
		t.Error("PostLogoutRedirectURIRegistered is not an exact match")
	}
}

// TestRotateSecretGrace: the replaced secret authenticates until the end
// of the grace period (exclusive), not after; no grace drops it at once; a
// second rotation replaces an earlier previous secret; grace beyond 7 days
// and public clients are refused without change.
func TestRotateSecretGrace(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	_, hash := NewClientSecret()
	c := &Client{ID: "app", SecretHash: hash}
	if _, err := c.RotateSecret(now, MaxSecretGrace+time.Second); ErrorCode(err) != EINVALID || !bytes.Equal(c.SecretHash, hash) {
		t.Fatalf("grace over 7 days: %v, secret changed %v", err, !bytes.Equal(c.SecretHash, hash))
	}
	if _, err := c.RotateSecret(now, -time.Second); ErrorCode(err) != EINVALID {
		t.Fatalf("negative grace: %v", err)
	}
	secret, err := c.RotateSecret(now, time.Hour)
	if err != nil || bytes.Equal(c.SecretHash, hash) || !bytes.Equal(c.PreviousSecretHash, hash) {
		t.Fatalf("rotate: %v", err)
	}
	if sum := sha256.Sum256([]byte(secret)); !bytes.Equal(c.SecretHash, sum[:]) {
		t.Fatal("the stored hash is not the new secret's")
	}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {time.Hour - time.Nanosecond, true}, {time.Hour, false}, {2 * time.Hour, false}} {
		if got := c.PreviousSecretActive(now.Add(tc.at)); got != tc.want {
			t.Errorf("previous secret active %s after rotation = %v, want %v", tc.at, got, tc.want)
		}
	}
	second := c.SecretHash
	if _, err := c.RotateSecret(now, 0); err != nil || c.PreviousSecretHash != nil || c.PreviousSecretActive(now) || bytes.Equal(c.SecretHash, second) {
		t.Fatalf("rotation without grace kept a previous secret: %v", err)
	}
	pub := &Client{ID: "spa", Public: true}
	if _, err := pub.RotateSecret(now, 0); ErrorCode(err) != EINVALID || pub.SecretHash != nil {
		t.Fatalf("public client: %v", err)
	}
}

// TestPrivateKeyJWTClientValidation: a private_key_jwt client is
// confidential, has no secret and exactly one source of public keys (an
// https jwks_uri, or a JWK Set without private members); other clients
// carry no keys.
func TestPrivateKeyJWTClientValidation(t *testing.T) {
	pub := `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}`
	base := func() Client {
		return Client{ID: "svc", Name: "Svc", GrantTypes: []string{GrantClientCredentials}, TokenFormat: TokenFormatOpaque,
			TokenEndpointAuthMethod: AuthPrivateKeyJWT, JWKS: pub}
	}
	tests := []struct {
		name   string
		change func(*Client)
		want   string // "" = valid
	}{
		{"inline keys", func(*Client) {}, ""},
		{"jwks_uri", func(c *Client) { c.JWKS, c.JWKSURI = "", "https://svc.example/jwks.json" }, ""},
		{"loopback http jwks_uri", func(c *Client) { c.JWKS, c.JWKSURI = "", "http://127.0.0.1:9000/jwks.json" }, ""},
		{"with a secret", func(c *Client) { c.SecretHash = []byte("0123456789abcdef0123456789abcdef") }, "no client secret"},
		{"public", func(c *Client) {
			c.Public, c.GrantTypes, c.RedirectURIs = true, []string{GrantAuthorizationCode}, []string{"https://a.example/cb"}
		}, "confidential"},
		{"no keys", func(c *Client) { c.JWKS = "" }, "exactly one"},
		{"both sources", func(c *Client) { c.JWKSURI = "https://svc.example/jwks.json" }, "exactly one"},
		{"http jwks_uri", func(c *Client) { c.JWKS, c.JWKSURI = "", "http://svc.example/jwks.json" }, "https"},
		{"private key", func(c *Client) { c.JWKS = strings.Replace(pub, `"kid"`, `"d":"x","kid"`, 1) }, "public keys only"},
		{"not a set", func(c *Client) { c.JWKS = `[1,2]` }, "keys"},
		{"empty set", func(c *Client) { c.JWKS = `{"keys":[]}` }, "1-20 keys"},
		{"keys without the method", func(c *Client) { c.TokenEndpointAuthMethod = "" }, "private_key_jwt clients only"},
		{"client_secret_jwt", func(c *Client) { c.TokenEndpointAuthMethod = "client_secret_jwt" }, "auth method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v; want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestPlainTextNames: names with NUL, newlines, invalid UTF-8 or
// bidirectional controls are refused for clients and users alike (they
// would fail in PostgreSQL or spoof the consent page); ordinary Unicode is
// fine.
func TestPlainTextNames(t *testing.T) {
	for _, bad := range []string{"a\x00b", "a\nb", "\xff\xfe", "PetStore Official\u202Egpj.exe", "x\u2066y", "z\u200Fz"} {
		c := Client{ID: "app", Name: bad, GrantTypes: []string{GrantClientCredentials}, TokenFormat: TokenFormatOpaque}
		if err := c.Validate(); err == nil || !strings.Contains(ErrorMessage(err), "plain text") {
			t.Errorf("client name %q: %v", bad, err)
		}
		if _, err := NormalizeUserName(bad); err == nil {
			t.Errorf("user name %q accepted", bad)
		}
	}
	for _, good := range []string{"Zoë's Pet App", "ペット", "Café 🐶"} {
		c := Client{ID: "app", Name: good, GrantTypes: []string{GrantClientCredentials}, TokenFormat: TokenFormatOpaque}
		if err := c.Validate(); err != nil {
			t.Errorf("client name %q: %v", good, err)
		}
		if _, err := NormalizeUserName(good); err != nil {
			t.Errorf("user name %q: %v", good, err)
		}
	}
}

// TestResourceTrailingSlash: "http://host" and "http://host/" name one
// resource (JavaScript URL adds the slash), the token's audience is the
// configured form, and an error quotes at most 100 bytes of a long value.
func TestResourceTrailingSlash(t *testing.T) {
	rs := Resources{{Identifier: "http://127.0.0.1:8081", Scopes: []string{"read:pets"}}, {Identifier: "https://api.example/v1/", Scopes: []string{"read:pets"}}}
	for in, want := range map[string]string{"http://127.0.0.1:8081/": "http://127.0.0.1:8081", "http://127.0.0.1:8081": "http://127.0.0.1:8081", "https://api.example/v1/": "https://api.example/v1/"} {
		if got, err := rs.Resolve([]string{in}, []string{"read:pets"}); err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("Resolve(%q) = %v, %v; want %q", in, got, err, want)
		}
	}
	if _, err := rs.Resolve([]string{"https://api.example/v1"}, nil); err == nil {
		t.Error("a path without its slash named the resource with one")
	}
	_, err := rs.Resolve([]string{"https://x.example/" + strings.Repeat("a", 100000)}, nil)
	if err == nil || len(ErrorMessage(err)) > 200 {
		t.Errorf("long resource: error of %d bytes", len(ErrorMessage(err)))
	}
}
