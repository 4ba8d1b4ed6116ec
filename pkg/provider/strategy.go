package provider

import (
	"context"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Every credential carries a distinct, greppable prefix so that secret
// scanners and humans can tell them apart (API keys use sk_live_/sk_test_).
const (
	PrefixAccessToken   = "pst_at_"
	PrefixRefreshToken  = "pst_rt_"
	PrefixAuthorizeCode = "pst_ac_"
)

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
	return s.hmac.AccessTokenSignature(ctx, strings.TrimPrefix(token, PrefixAccessToken))
}

func (s *tokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (token, sig string, err error) {
	if wantsJWT(r) && s.jwt != nil {
		token, sig, err = s.jwt.generate(ctx, r)
	} else {
		var t string
		t, sig, err = s.hmac.GenerateAccessToken(ctx, r)
		token = PrefixAccessToken + t
	}
	if err == nil {
		captureIssued(ctx, token, "")
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
	if !strings.HasPrefix(token, PrefixAccessToken) {
		return fosite.ErrTokenSignatureMismatch.WithHint("Not an access token.")
	}
	return s.hmac.ValidateAccessToken(ctx, r, strings.TrimPrefix(token, PrefixAccessToken))
}

func (s *tokenStrategy) RefreshTokenSignature(ctx context.Context, token string) string {
	return s.hmac.RefreshTokenSignature(ctx, strings.TrimPrefix(token, PrefixRefreshToken))
}

func (s *tokenStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := s.hmac.GenerateRefreshToken(ctx, r)
	captureIssued(ctx, "", PrefixRefreshToken+t)
	return PrefixRefreshToken + t, sig, err
}

func (s *tokenStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	if !strings.HasPrefix(token, PrefixRefreshToken) {
		return fosite.ErrTokenSignatureMismatch.WithHint("Not a refresh token.")
	}
	return s.hmac.ValidateRefreshToken(ctx, r, strings.TrimPrefix(token, PrefixRefreshToken))
}

func (s *tokenStrategy) AuthorizeCodeSignature(ctx context.Context, token string) string {
	return s.hmac.AuthorizeCodeSignature(ctx, strings.TrimPrefix(token, PrefixAuthorizeCode))
}

func (s *tokenStrategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	t, sig, err := s.hmac.GenerateAuthorizeCode(ctx, r)
	return PrefixAuthorizeCode + t, sig, err
}

func (s *tokenStrategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	if !strings.HasPrefix(token, PrefixAuthorizeCode) {
		return fosite.ErrTokenSignatureMismatch.WithHint("Not an authorization code.")
	}
	return s.hmac.ValidateAuthorizeCode(ctx, r, strings.TrimPrefix(token, PrefixAuthorizeCode))
}

// issued collects the plaintext tokens generated while one refresh request is
// served, so that the storage wrapper can seal them for the grace window in
// the same transaction that rotates the old token.
type issued struct {
	oldSignature string
	access       string
	refresh      string
	// grantScope is the refresh token's full scope when the new access
	// token was narrowed (RFC 6749 §6); the new refresh token keeps it.
	grantScope fosite.Arguments
	// requested is the scope parameter of the refresh request, normalised;
	// a replay within the grace window must ask the same.
	requested string
}

type issuedKey struct{}

func withCapture(ctx context.Context, oldSignature string) (context.Context, *issued) {
	c := &issued{oldSignature: oldSignature}
	return context.WithValue(ctx, issuedKey{}, c), c
}

func captureIssued(ctx context.Context, access, refresh string) {
	c, ok := ctx.Value(issuedKey{}).(*issued)
	if !ok {
		return
	}
	if access != "" {
		c.access = access
	}
	if refresh != "" {
		c.refresh = refresh
	}
}
