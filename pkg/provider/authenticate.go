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
	fail := identity.Errorf(identity.EUNAUTHORIZED, "Invalid or expired credential.")
	credential = strings.TrimSpace(credential)
	if credential == "" || len(credential) > 4096 {
		return nil, fail
	}
	if apikey.LooksLikeKey(credential) {
		if _, err := apikey.Parse(credential); err != nil {
			return nil, fail
		}
		k, err := p.store.APIKeyByHash(ctx, apikey.Hash(credential))
		if identity.ErrorCode(err) == identity.EINTERNAL {
			return nil, identity.Errorf(identity.EUNAVAILABLE, "The credential store is unavailable.")
		} else if err != nil || !k.Active(p.now()) {
			return nil, fail
		}
		p.noteKeyUse(k)
		pr := &Principal{Kind: "api_key", Subject: k.OwnerID, Scopes: k.Scopes}
		if k.ExpiresAt != nil {
			pr.Expiry = *k.ExpiresAt
		}
		return pr, nil
	}
	if !isJWT(credential) {
		if _, _, err := tokenformat.Open(PrefixAccessToken, credential); err != nil {
			return nil, fail // malformed or made up: no database lookup
		}
	}
	sess := NewSession("", "")
	use, ar, err := p.fosite.IntrospectToken(ctx, credential, fosite.AccessToken, sess)
	if err != nil || use != fosite.AccessToken {
		return nil, fail
	}
	return &Principal{Kind: "token", Subject: sess.Subject, ClientID: ar.GetClient().GetID(),
		Scopes: ar.GetGrantedScopes(), Expiry: sess.GetExpiresAt(fosite.AccessToken)}, nil
}
