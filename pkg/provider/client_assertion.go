package provider

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// clientAssertionType is the client_assertion_type of RFC 7523 §2.2.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionAlgs are the signature algorithms accepted for client
// assertions (metadata token_endpoint_auth_signing_alg_values_supported);
// "none" and the HMAC algorithms never are.
var assertionAlgs = []string{string(jose.RS256), string(jose.ES256), string(jose.PS256), string(jose.EdDSA)}

const (
	// maxAssertionLifetime bounds exp - now: an assertion is for one
	// request, and its jti is remembered until exp.
	maxAssertionLifetime = 5 * time.Minute
	// assertionLeeway is the clock skew tolerated on exp, nbf and iat.
	assertionLeeway  = 30 * time.Second
	maxAssertionSize = 8 << 10
)

// authenticateClient is fosite's client authentication strategy (every
// endpoint that authenticates clients goes through it: token, introspect,
// revoke). A request with client_assertion is a private_key_jwt client
// (RFC 7523 §3); anything else is fosite's secret or public-client path,
// which a private_key_jwt client may not take.
//
// The assertion is checked here rather than by fosite's own RFC 7523 code,
// which allows one algorithm per client, has no EdDSA, no bound on exp and
// no issuer audience.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		c, err := p.verifyAssertion(ctx, form, true)
		if err != nil {
			return nil, err
		}
		markAuthenticated(ctx)
		return c, nil
	}
	c, err := p.fosite.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err == nil && usesPrivateKeyJWT(c) {
		return nil, fosite.ErrInvalidClient.WithHint("This client authenticates with private_key_jwt (client_assertion).")
	}
	return c, err
}

func usesPrivateKeyJWT(c fosite.Client) bool {
	ic, ok := c.(identityClient)
	return ok && ic.Identity().UsesPrivateKeyJWT()
}

// verifyAssertion checks a client assertion (RFC 7523 §3): one of our
// algorithms, signed by a key of the client, iss = sub = the client id,
// aud the issuer or the token endpoint, exp in the future and at most
// maxAssertionLifetime ahead, a jti. consume spends the jti (single use);
// without it a used jti is refused but nothing is written (rate-limit
// admission, limit.go). Every refusal is invalid_client; a storage failure
// is temporarily_unavailable.
func (p *Provider) verifyAssertion(ctx context.Context, form url.Values, consume bool) (fosite.Client, error) {
	tok, id, err := parseAssertion(form)
	if err != nil {
		return nil, err
	}
	client, err := p.fosite.Store.GetClient(ctx, id)
	if errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		return nil, err
	} else if err != nil || !usesPrivateKeyJWT(client) {
		return nil, fosite.ErrInvalidClient.WithHint("This client does not authenticate with private_key_jwt.")
	}
	claims, err := p.assertionClaims(ctx, client.(identityClient).Identity(), tok)
	if err != nil {
		return nil, err
	}
	if err := p.checkAssertionClaims(claims, id); err != nil {
		return nil, err
	}
	if err := p.spendJTI(ctx, id, claims, consume); err != nil {
		return nil, err
	}
	return client, nil
}

// parseAssertion reads the request's assertion: the type, a signed JWT of
// one of assertionAlgs, and the client id it names (iss, unverified; the
// client_id parameter, when sent, must agree).
func parseAssertion(form url.Values) (*jwt.JSONWebToken, string, error) {
	refuse := func(hint string) error { return fosite.ErrInvalidClient.WithHint(hint) }
	raw := form.Get("client_assertion")
	switch {
	case form.Get("client_assertion_type") != clientAssertionType:
		return nil, "", refuse("The 'client_assertion_type' must be " + clientAssertionType + ".")
	case raw == "" || len(raw) > maxAssertionSize:
		return nil, "", refuse("The 'client_assertion' is missing or too long.")
	}
	tok, err := jwt.ParseSigned(raw)
	if err != nil || len(tok.Headers) != 1 {
		return nil, "", refuse("The 'client_assertion' is not a signed JWT.")
	}
	if !slices.Contains(assertionAlgs, tok.Headers[0].Algorithm) {
		return nil, "", refuse("The 'client_assertion' algorithm must be one of RS256, ES256, PS256, EdDSA.")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Issuer == "" {
		return nil, "", refuse("The 'client_assertion' has no 'iss'.")
	}
	if named := form.Get("client_id"); named != "" && named != unverified.Issuer {
		return nil, "", refuse("The 'client_id' differs from the assertion's 'iss'.")
	}
	return tok, unverified.Issuer, nil
}

// assertionClaims verifies the signature with the client's keys: the
// registered set, or the one at its jwks_uri (fetched again, at most every
// jwksMinRefresh, when no key matches: the client rotated).
func (p *Provider) assertionClaims(ctx context.Context, c *identity.Client, tok *jwt.JSONWebToken) (*jwt.Claims, error) {
	refuse := fosite.ErrInvalidClient.WithHint("The 'client_assertion' signature does not verify with a key of the client.")
	h := tok.Headers[0]
	try := func(set *jose.JSONWebKeySet) *jwt.Claims {
		keys := set.Keys
		if h.KeyID != "" {
			keys = set.Key(h.KeyID)
		}
		for _, k := range keys {
			if k.Algorithm != "" && k.Algorithm != h.Algorithm {
				continue
			}
			var out jwt.Claims
			if tok.Claims(k.Key, &out) == nil {
				return &out
			}
		}
		return nil
	}
	if c.JWKS != "" {
		set, err := parseJWKS([]byte(c.JWKS))
		if err == nil {
			if out := try(set); out != nil {
				return out, nil
			}
		}
		return nil, refuse
	}
	for _, refresh := range []bool{false, true} {
		set, err := p.jwks.keys(ctx, c.JWKSURI, refresh)
		if err != nil {
			p.log.WarnContext(ctx, "client jwks_uri", "client_id", c.ID, "err", err)
			return nil, fosite.ErrInvalidClient.WithHint("The client's jwks_uri could not be read.")
		}
		if out := try(set); out != nil {
			return out, nil
		}
	}
	return nil, refuse
}

// checkAssertionClaims applies RFC 7523 §3 to verified claims: who, for
// whom, when.
func (p *Provider) checkAssertionClaims(c *jwt.Claims, id string) error {
	refuse := func(hint string) error { return fosite.ErrInvalidClient.WithHint(hint) }
	switch {
	case c.Issuer != id || c.Subject != id:
		return refuse("The assertion's 'iss' and 'sub' must both be the client id.")
	case !c.Audience.Contains(p.Issuer) && !c.Audience.Contains(p.Issuer+"/oauth2/token"):
		return refuse("The assertion's 'aud' must be the issuer " + p.Issuer + " (or its token endpoint).")
	case c.ID == "" || len(c.ID) > 200:
		return refuse("The assertion needs a 'jti' of at most 200 characters.")
	}
	return p.checkAssertionTimes(c)
}

// checkAssertionTimes requires exp, in the future and at most
// maxAssertionLifetime ahead, and nbf and iat not in the future, each with
// assertionLeeway.
func (p *Provider) checkAssertionTimes(c *jwt.Claims) error {
	refuse := func(hint string) error { return fosite.ErrInvalidClient.WithHint(hint) }
	now := p.now()
	switch {
	case c.Expiry == nil || !now.Before(c.Expiry.Time().Add(assertionLeeway)):
		return refuse("The assertion has expired or has no 'exp'.")
	case c.Expiry.Time().Sub(now) > maxAssertionLifetime+assertionLeeway:
		return refuse("The assertion's 'exp' is more than 5 minutes ahead.")
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(assertionLeeway)):
		return refuse("The assertion is not valid yet ('nbf').")
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(assertionLeeway)):
		return refuse("The assertion was issued in the future ('iat').")
	}
	return nil
}

// spendJTI makes the jti single use per client (RFC 7523 §3 item 7): it
// is remembered until the assertion expires; the store's insert decides.
func (p *Provider) spendJTI(ctx context.Context, id string, c *jwt.Claims, consume bool) error {
	key := id + " " + c.ID
	var err error
	if consume {
		err = p.store.SetClientAssertionJWT(ctx, key, c.Expiry.Time().Add(assertionLeeway))
	} else {
		err = p.store.ClientAssertionJWTValid(ctx, key)
	}
	switch {
	case errors.Is(err, fosite.ErrJTIKnown):
		return fosite.ErrInvalidClient.WithHint("The assertion's 'jti' has been used before.")
	case err != nil:
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	return nil
}

// assertionIssuer is the unverified iss of a request's client assertion:
// the client id it names, for budgets (limit.go); "" when there is none.
func assertionIssuer(form url.Values) string {
	raw := form.Get("client_assertion")
	if raw == "" || len(raw) > maxAssertionSize {
		return ""
	}
	tok, err := jwt.ParseSigned(raw)
	if err != nil {
		return ""
	}
	var c jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil {
		return ""
	}
	return c.Issuer
}
