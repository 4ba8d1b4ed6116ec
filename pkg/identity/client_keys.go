package identity

import (
	"encoding/json"
	"net/url"
	"strings"
)

// AuthPrivateKeyJWT is the token_endpoint_auth_method of clients that
// authenticate with a JWT signed by their own key (RFC 7523 §2.2, OIDC
// Core §9) instead of a secret.
const AuthPrivateKeyJWT = "private_key_jwt"

// MaxJWKSSize bounds a client's JWK Set, inline or fetched, in bytes.
const MaxJWKSSize = 64 << 10

// UsesPrivateKeyJWT reports whether the client authenticates with
// private_key_jwt.
func (c *Client) UsesPrivateKeyJWT() bool { return c.TokenEndpointAuthMethod == AuthPrivateKeyJWT }

// validateKeys checks the private_key_jwt part of a registration: such a
// client is confidential, has no secret and exactly one source of keys;
// other clients have none.
func (c *Client) validateKeys(bad func(string)) {
	switch c.TokenEndpointAuthMethod {
	case "", "none", "client_secret_basic", "client_secret_post":
		if c.JWKSURI != "" || c.JWKS != "" {
			bad("a JWKS URI or JWK Set is for private_key_jwt clients only")
		}
		return
	case AuthPrivateKeyJWT:
	default:
		bad("token endpoint auth method must be none, client_secret_basic, client_secret_post or private_key_jwt")
		return
	}
	if c.Public {
		bad("a private_key_jwt client is confidential, not public")
	}
	if len(c.SecretHash) > 0 {
		bad("a private_key_jwt client has no client secret")
	}
	switch {
	case (c.JWKSURI == "") == (c.JWKS == ""):
		bad("a private_key_jwt client needs exactly one of a JWKS URI and a JWK Set")
	case c.JWKSURI != "":
		if err := ValidateJWKSURI(c.JWKSURI); err != nil {
			bad(ErrorMessage(err))
		}
	default:
		if err := ValidateJWKS(c.JWKS); err != nil {
			bad(ErrorMessage(err))
		}
	}
}

// ValidateJWKSURI checks a client's jwks_uri: absolute https (http only on
// a loopback host, for development), no user info or fragment.
func ValidateJWKSURI(raw string) error {
	invalid := func(why string) error { return Errorf(EINVALID, "JWKS URI %q %s", raw, why) }
	if len(raw) > 2000 || strings.ContainsAny(raw, " \t\r\n\\") {
		return invalid("must be at most 2000 characters without spaces or backslashes")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Hostname() == "" {
		return invalid("must be an absolute URL")
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return invalid("must not carry user info or a fragment")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopbackHost(u.Hostname()):
	default:
		return invalid("must use https (or http on loopback)")
	}
	return nil
}

// privateJWKMembers are the JWK members of private keys (RFC 7518 §6.2.2,
// §6.3.2, §6.4; RFC 8037 §2): a client registers public keys only.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ValidateJWKS checks the shape of a JWK Set document (RFC 7517 §5): a JSON
// object with 1-20 keys, each with a "kty" and no private members. The
// provider parses the keys themselves when it verifies an assertion.
func ValidateJWKS(doc string) error {
	invalid := func(why string) error { return Errorf(EINVALID, "JWK Set %s", why) }
	if len(doc) > MaxJWKSSize {
		return invalid("is larger than 64 KiB")
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(doc), &set); err != nil {
		return invalid("is not a JSON object with a \"keys\" array")
	}
	if len(set.Keys) == 0 || len(set.Keys) > 20 {
		return invalid("must have 1-20 keys")
	}
	for _, k := range set.Keys {
		if kty, _ := k["kty"].(string); kty == "" {
			return invalid("has a key without \"kty\"")
		}
		for _, m := range privateJWKMembers {
			if _, ok := k[m]; ok {
				return invalid("must hold public keys only (a key has the private member \"" + m + "\")")
			}
		}
	}
	return nil
}
