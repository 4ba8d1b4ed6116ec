package provider

import (
	"context"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// Principal is who presented a bearer credential to the server itself (the
// admin API): a client_credentials or user token, or an API key.
type Principal struct {
	Kind     string // "token" or "api_key"
	Subject  string // user id, or client id for client_credentials
	ClientID string
	Scopes   []string
	Expiry   time.Time
}

// HasScope reports whether the principal was granted scope (exact match).
func (p *Principal) HasScope(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// Authenticate checks an access token or API key presented to this server.
// Refresh tokens and codes are never accepted. Every failure is EUNAUTHORIZED
// with the same message, so nothing is learnt from the difference.
func (p *Provider) Authenticate(ctx context.Context, credential string) (*Principal, error) {
	credential = strings.TrimSpace(credential)
	switch {
	case credential == "" || len(credential) > 4096:
		return nil, errBadCredential
	case apikey.LooksLikeKey(credential):
		return p.authenticateAPIKey(ctx, credential)
	}
	return p.authenticateToken(ctx, credential)
}

// errBadCredential is every refusal of Authenticate.
var errBadCredential = identity.Errorf(identity.EUNAUTHORIZED, "Invalid or expired credential.")

func (p *Provider) authenticateAPIKey(ctx context.Context, key string) (*Principal, error) {
	if _, err := apikey.Parse(key); err != nil {
		return nil, errBadCredential
	}
	k, err := p.store.APIKeyByHash(ctx, apikey.Hash(key))
	if identity.ErrorCode(err) == identity.EINTERNAL {
		return nil, identity.Errorf(identity.EUNAVAILABLE, "The credential store is unavailable.")
	} else if err != nil || !k.Active(p.now()) {
		return nil, errBadCredential
	}
	p.noteKeyUse(k)
	pr := &Principal{Kind: "api_key", Subject: k.OwnerID, Scopes: k.Scopes}
	if k.ExpiresAt != nil {
		pr.Expiry = *k.ExpiresAt
	}
	return pr, nil
}

func (p *Provider) authenticateToken(ctx context.Context, token string) (*Principal, error) {
	if !isJWT(token) {
		if _, _, err := tokenformat.Open(PrefixAccessToken, token); err != nil {
			return nil, errBadCredential // malformed or made up: no database lookup
		}
	}
	sess := NewSession("", "")
	use, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, sess)
	if err != nil || use != fosite.AccessToken {
		return nil, errBadCredential
	}
	return &Principal{Kind: "token", Subject: sess.Subject, ClientID: ar.GetClient().GetID(),
		Scopes: ar.GetGrantedScopes(), Expiry: sess.GetExpiresAt(fosite.AccessToken)}, nil
}
