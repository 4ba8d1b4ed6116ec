// Package provider composes fosite into the PetStore authorization server's
// protocol core and serves its machine endpoints: token (RFC 6749), revocation
// (RFC 7009), introspection (RFC 7662), metadata (RFC 8414), OpenID Connect
// Discovery, UserInfo, the JWKS and the JWT revocation list.
//
// Composition is an explicit list of factories — authorization code, PKCE
// (enforced, S256 only), refresh token, client credentials, revocation,
// introspection, OpenID Connect explicit flow and refresh — never
// ComposeAllEnabled, so implicit, hybrid and password grants cannot be
// switched on by accident.
//
// OpenID Connect: a grant with the openid scope gets an ID token from
// fosite's openid handlers (idtoken.go), signed RS256 by default or ES256 per
// client (id_token_signed_response_alg), with keys of both algorithms kept
// and rotated together (jwt.go). pkg/web fills the claims of the sign-in
// (auth_time, sid, amr) into Session; UserInfo is userinfo.go; the
// discovery document is metadata.go's RFC 8414 document plus the OpenID
// members. IDTokenHint and SignJWT are for id_token_hint and logout tokens.
//
// Three things fosite does not do and this package adds:
//   - A refresh-token grace window: a rotated refresh token presented again
//     by the same client within the window gets the same successor pair
//     (sealed with AES-GCM and kept only for the window), so two tabs or a
//     lost response never log a user out; after the window it is reuse and
//     fosite revokes the whole family.
//   - Introspection restricted to resource-server clients, with token_type
//     and token_use, API keys answered alongside tokens, and exactly
//     {"active":false} for anything else.
//   - The loser of a parallel code redemption gets invalid_grant (not a 500)
//     and the tokens of the winner are revoked, as for a sequential replay.
//
// Where things are: routes.go mounts one file per endpoint (token.go,
// revoke.go, introspect.go, revoked_jwts.go, metadata.go, jwks.go,
// userinfo.go). The
// token endpoint parses a request once (token.go), runs it through one
// pipeline and one grant per grant type (token_code.go, token_refresh.go,
// token_client_credentials.go); grants return errors and never write. The
// grace window is refresh_grace.go, the storage rules fosite sees are
// fosite_storage.go, the form rules form.go, the rate limits limit.go,
// and every error answer of every endpoint is written by errors.go.
package provider
