package provider

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	josejwt "github.com/go-jose/go-jose/v3/jwt"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	fjwt "github.com/ory/fosite/token/jwt"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// ID tokens (OpenID Connect Core §2) are made by fosite's openid handlers
// (explicit code flow and refresh) with idTokenStrategy, which signs with
// the client's id_token_signed_response_alg: RS256 (the default every
// provider must support, §15.1) or ES256. The keys are the jwtIssuer's.

// idTokenType is the typ header of our ID tokens; it tells them apart from
// access tokens (at+jwt) and logout tokens (logout+jwt) signed with the
// same keys.
const idTokenType = "JWT"

// idTokenAlgs are the id_token_signed_response_alg values we sign with.
var idTokenAlgs = []string{string(jose.RS256), string(jose.ES256)}

type idTokenAlgKey struct{}

// idTokenAlg is the client's id_token_signed_response_alg, RS256 when unset.
func idTokenAlg(c fosite.Client) string {
	if ic, ok := c.(identityClient); ok && ic.Identity().IDTokenSignedResponseAlg != "" {
		return ic.Identity().IDTokenSignedResponseAlg
	}
	return string(jose.RS256)
}

// idTokenStrategy is fosite's default ID token strategy (claims checks,
// nonce, aud, exp) told which algorithm the client wants.
type idTokenStrategy struct{ openid.DefaultStrategy }

// GenerateIDToken implements openid.OpenIDConnectTokenStrategy.
func (s idTokenStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	alg := idTokenAlg(r.GetClient())
	if sess, ok := r.GetSession().(openid.Session); ok {
		sess.IDTokenHeaders().Add("alg", alg) // fosite picks the at_hash function from it
	}
	return s.DefaultStrategy.GenerateIDToken(context.WithValue(ctx, idTokenAlgKey{}, alg), lifespan, r)
}

// idTokenSigner is fosite's jwt.Signer over our keys: Generate signs with
// the current key of the algorithm in the context (RS256 when none), with
// its kid; Decode and Validate accept any published key.
type idTokenSigner struct{ keys *jwtIssuer }

var _ fjwt.Signer = idTokenSigner{}

// Generate implements jwt.Signer.
func (s idTokenSigner) Generate(ctx context.Context, claims fjwt.MapClaims, _ fjwt.Mapper) (string, string, error) {
	alg, _ := ctx.Value(idTokenAlgKey{}).(string)
	if alg == "" {
		alg = string(jose.RS256)
	}
	tok, err := s.sign(ctx, alg, idTokenType, map[string]any(claims))
	if err != nil {
		return "", "", err
	}
	return tok, jwtSignature(tok), nil
}

// sign makes a JWS of claims with the current key of alg and the typ header.
func (s idTokenSigner) sign(ctx context.Context, alg, typ string, claims map[string]any) (string, error) {
	key, err := s.keys.signingKey(ctx, alg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", key.KeyID))
	if err != nil {
		return "", err
	}
	return josejwt.Signed(signer).Claims(claims).CompactSerialize()
}

// Decode implements jwt.Signer: the token verified against the published key
// its kid names, the algorithm pinned to that key's.
func (s idTokenSigner) Decode(_ context.Context, token string) (*fjwt.Token, error) {
	return fjwt.ParseWithClaims(token, fjwt.MapClaims{}, func(t *fjwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key := s.keys.publicKey(kid)
		if key == nil || key.Algorithm != string(t.Method) {
			return nil, errors.New("unknown signing key")
		}
		return key.Key, nil
	})
}

// Validate implements jwt.Signer.
func (s idTokenSigner) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return jwtSignature(token), nil
}

// Hash implements jwt.Signer.
func (idTokenSigner) Hash(_ context.Context, in []byte) ([]byte, error) {
	h := sha256.Sum256(in)
	return h[:], nil
}

// GetSignature implements jwt.Signer.
func (idTokenSigner) GetSignature(_ context.Context, token string) (string, error) {
	return jwtSignature(token), nil
}

// GetSigningMethodLength implements jwt.Signer.
func (idTokenSigner) GetSigningMethodLength(context.Context) int { return sha256.Size }

// IDTokenHintClaims is what an ID token we issued says about the sign-in:
// the user (sub), the browser session (sid, "" when none), the client it
// was issued to (azp, else the single aud) and auth_time.
type IDTokenHintClaims struct {
	Subject, SessionID, ClientID string
	AuthTime                     time.Time
}

// hintClaims are the claims IDTokenHint reads.
type hintClaims struct {
	josejwt.Claims
	SID      string `json:"sid"`
	AZP      string `json:"azp"`
	AuthTime int64  `json:"auth_time"`
}

// IDTokenHint verifies an ID token this server issued, as sent in
// id_token_hint (OIDC Core §3.1.2.1, RP-Initiated Logout 1.0 §2): signed
// (RS256 or ES256) by one of our published keys, typ JWT, iss our issuer,
// with a sub. An expired token is accepted: the hint names a past sign-in.
// Anything else is an error (identity EINVALID).
func (p *Provider) IDTokenHint(_ context.Context, hint string) (IDTokenHintClaims, error) {
	c, why := p.verifyIDToken(hint)
	if why != "" {
		return IDTokenHintClaims{}, identity.Errorf(identity.EINVALID, "The id_token_hint is not an ID token issued here: %s.", why)
	}
	out := IDTokenHintClaims{Subject: c.Subject, SessionID: c.SID, ClientID: c.AZP}
	if out.ClientID == "" && len(c.Audience) == 1 {
		out.ClientID = c.Audience[0]
	}
	if c.AuthTime > 0 {
		out.AuthTime = time.Unix(c.AuthTime, 0).UTC()
	}
	return out, nil
}

// verifyIDToken checks that token is an ID token we signed (see
// IDTokenHint) without looking at exp; why says what is wrong, "" if
// nothing.
func (p *Provider) verifyIDToken(token string) (c hintClaims, why string) {
	tok, err := josejwt.ParseSigned(token)
	if err != nil || len(tok.Headers) != 1 {
		return c, "not a signed JWT"
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != idTokenType {
		return c, "not an ID token"
	}
	key := p.strategy.jwt.publicKey(h.KeyID)
	if key == nil || !slices.Contains(idTokenAlgs, h.Algorithm) || key.Algorithm != h.Algorithm {
		return c, "unknown signing key"
	}
	if err := tok.Claims(key.Key, &c); err != nil {
		return c, "bad signature"
	}
	if c.Issuer != p.Issuer || c.Subject == "" {
		return c, "wrong issuer or no subject"
	}
	return c, ""
}

// SignJWT signs claims as a JWS with typ (e.g. "logout+jwt") using the
// current key of the client's id_token_signed_response_alg (RS256 by
// default), with its kid. The claims are signed as given: the caller sets
// iss, aud, iat, jti. An unknown client is an error.
func (p *Provider) SignJWT(ctx context.Context, clientID, typ string, claims map[string]any) (string, error) {
	c, err := p.store.GetClient(ctx, clientID)
	if err != nil {
		return "", fmt.Errorf("sign jwt for client %q: %w", clientID, err)
	}
	return idTokenSigner{keys: p.strategy.jwt}.sign(ctx, idTokenAlg(c), typ, claims)
}
