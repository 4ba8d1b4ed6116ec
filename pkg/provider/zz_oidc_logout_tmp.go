package provider

// TEMPORARY (oidc-logout branch): minimal stand-ins for the oidc-provider
// contracts IDTokenHint and SignJWT, signing with the ES256 key. The lead
// deletes this file when oidc-provider's versions are merged.

import (
	"context"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// IDTokenHintClaims are what an id_token_hint tells about the session.
type IDTokenHintClaims struct {
	Subject, SessionID, ClientID string
	AuthTime                     time.Time
}

// IDTokenHint verifies an ID token this server issued; expired is fine.
func (p *Provider) IDTokenHint(_ context.Context, hint string) (IDTokenHintClaims, error) {
	tok, err := jwt.ParseSigned(hint)
	if err != nil || len(tok.Headers) != 1 {
		return IDTokenHintClaims{}, errors.New("id_token_hint is not a JWT")
	}
	j := p.strategy.jwt
	j.mu.RLock()
	key := j.verify[tok.Headers[0].KeyID]
	j.mu.RUnlock()
	if key == nil || tok.Headers[0].Algorithm != string(jose.ES256) {
		return IDTokenHintClaims{}, errors.New("id_token_hint: unknown key")
	}
	var c struct {
		jwt.Claims
		SID      string `json:"sid"`
		AuthTime int64  `json:"auth_time"`
	}
	if err := tok.Claims(key, &c); err != nil {
		return IDTokenHintClaims{}, errors.New("id_token_hint: bad signature")
	}
	if c.Issuer != p.Issuer || len(c.Audience) != 1 || c.Subject == "" {
		return IDTokenHintClaims{}, errors.New("id_token_hint: not ours")
	}
	return IDTokenHintClaims{Subject: c.Subject, SessionID: c.SID, ClientID: c.Audience[0], AuthTime: time.Unix(c.AuthTime, 0).UTC()}, nil
}

// SignJWT signs claims with the current ES256 key and header typ.
func (p *Provider) SignJWT(_ context.Context, _ string, typ string, claims map[string]any) (string, error) {
	j := p.strategy.jwt
	j.mu.RLock()
	key := j.current
	j.mu.RUnlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader("kid", key.KeyID))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).CompactSerialize()
}
