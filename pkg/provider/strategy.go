package provider

import (
	"context"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// Every credential carries a distinct, greppable prefix so that secret
// scanners and humans can tell them apart (API keys use sk_live_/sk_test_),
// and a checksum so that junk is refused before any lookup
// (pkg/tokenformat).
const (
	PrefixAccessToken   = tokenformat.AccessToken
	PrefixRefreshToken  = tokenformat.RefreshToken
	PrefixAuthorizeCode = tokenformat.AuthorizeCode
)

// hmacBody returns fosite's HMAC token inside one of ours. Legacy tokens
// (issued before checksums) are still accepted: access tokens for at most
// their lifespan after an upgrade, refresh tokens for their idle and
// absolute lifetimes. Anything else yields "", whose signature matches no
// stored token.
func hmacBody(prefix, token string) string {
	body, _, err := tokenformat.Open(prefix, token)
	if err != nil {
		return ""
	}
	return body
}

// identityClient is implemented by the store's fosite.Client adapter.
type identityClient interface{ Identity() *identity.Client }

// tokenStrategy issues prefixed opaque HMAC tokens, and RFC 9068 JWT access
// tokens for clients registered with the jwt token format. Refresh tokens and
// codes are always opaque.
type tokenStrategy struct {
	hmac *oauth2.HMACSHAStrategyUnPrefixed
	jwt  *jwtIssuer
}

var _ oauth2.CoreStrategy = (*tokenStrategy)(nil)

// clientOf is the registration of the request's client, nil when unknown.
func clientOf(r fosite.Requester) *identity.Client {
	if c, ok := r.GetClient().(identityClient); ok {
		return c.Identity()
	}
	return nil
}

func wantsJWT(r fosite.Requester) bool {
	c, ok := r.GetClient().(identityClient)
	return ok && c.Identity().TokenFormat == identity.TokenFormatJWT
}

// isJWT tells a JWT (three dot-separated parts) from an opaque token.
func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

func (s *tokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return jwtSignature(token)
	}
	return s.hmac.AccessTokenSignature(ctx, hmacBody(PrefixAccessToken, token))
}

func (s *tokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (token, sig string, err error) {
	if wantsJWT(r) && s.jwt != nil {
		token, sig, err = s.jwt.generate(ctx, r)
	} else {
		var t string
		t, sig, err = s.hmac.GenerateAccessToken(ctx, r)
		token = tokenformat.Seal(PrefixAccessToken, t)
	}
	return token, sig, err
}

func (s *tokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if isJWT(token) {
		if s.jwt == nil {
			return fosite.ErrTokenSignatureMismatch
		}
		return s.jwt.validate(ctx, r, token)
	}
	body := hmacBody(PrefixAccessToken, token)
	if body == "" {
		return fosite.ErrTokenSignatureMismatch.WithHint("Not an access token.")
	}
	return s.hmac.ValidateAccessToken(ctx, r, body)
}

func (s *tokenStrategy) RefreshTokenSignature(ctx context.Context, token string) string {
	return s.hmac.RefreshTokenSignature(ctx, hmacBody(PrefixRefreshToken, token))
}

func (s *tokenStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := s.hmac.GenerateRefreshToken(ctx, r)
	if err != nil {
		return "", "", err
	}
	return tokenformat.Seal(PrefixRefreshToken, t), sig, nil
}

func (s *tokenStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	body := hmacBody(PrefixRefreshToken, token)
	if body == "" {
		return fosite.ErrTokenSignatureMismatch.WithHint("Not a refresh token.")
	}
	return s.hmac.ValidateRefreshToken(ctx, r, body)
}

func (s *tokenStrategy) AuthorizeCodeSignature(ctx context.Context, token string) string {
	return s.hmac.AuthorizeCodeSignature(ctx, hmacBody(PrefixAuthorizeCode, token))
}

func (s *tokenStrategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := s.hmac.GenerateAuthorizeCode(ctx, r)
	if err != nil {
		return "", "", err
	}
	return tokenformat.Seal(PrefixAuthorizeCode, t), sig, nil
}

func (s *tokenStrategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	body := hmacBody(PrefixAuthorizeCode, token)
	if body == "" {
		return fosite.ErrTokenSignatureMismatch.WithHint("Not an authorization code.")
	}
	return s.hmac.ValidateAuthorizeCode(ctx, r, body)
}
