package identity

// ProfileFAPI2 is the FAPI 2.0 Security Profile (OpenID FAPI 2.0 Security
// Profile, final): a client registered with it gets, whatever its other
// settings say, every item of FAPI2ProfileRules.
const ProfileFAPI2 = "fapi2"

// FAPI2ProfileRules are what the fapi2 profile enforces, item by item (the
// metadata publishes them; docs/security.md names each one's test).
var FAPI2ProfileRules = []string{
	"pushed_authorization_requests_required",
	"pkce_s256_required",
	"dpop_bound_access_tokens_required",
	"public_client_with_dpop_or_private_key_jwt",
	"iss_in_authorization_response",
	"authorization_code_lifetime_max_60s",
	"no_refresh_token_reuse_grace",
}

// RequiresPAR reports whether the client must push its authorization
// requests (RFC 9126): registered --require-par or under the fapi2 profile.
func (c *Client) RequiresPAR() bool { return c.RequirePAR || c.Profile == ProfileFAPI2 }

// RequiresDPoP reports whether every token request of the client needs a
// DPoP proof (RFC 9449): registered --dpop-bound or under the fapi2 profile.
func (c *Client) RequiresDPoP() bool { return c.DPoPBound || c.Profile == ProfileFAPI2 }

// FAPI2 reports whether the client is under the fapi2 profile.
func (c *Client) FAPI2() bool { return c.Profile == ProfileFAPI2 }

// profileProblems are the registration rules of the profiles.
func (c *Client) profileProblems() []string {
	switch {
	case c.Profile == "":
		return nil
	case c.Profile != ProfileFAPI2:
		return []string{"profile must be empty or " + quote(ProfileFAPI2)}
	case !c.Public && !c.UsesPrivateKeyJWT():
		// FAPI 2.0 §5.3.2.1: a confidential client authenticates with
		// private_key_jwt (or mTLS, which this server does not offer).
		return []string{"a confidential fapi2 client must authenticate with private_key_jwt (--jwks-uri or --jwks)"}
	}
	return nil
}
