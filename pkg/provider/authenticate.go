package provider

import (
	"context"
	"strings"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// Authenticate checks an access token or API key presented to this server.
// Refresh tokens and codes are never accepted. Every failure is EUNAUTHORIZED
// with the same message, so nothing is learnt from the difference.
func (p *Provider) Authenticate(ctx context.Context, credential string) (*identity.Principal, error) {
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
		pr := &identity.Principal{Kind: "api_key", Subject: k.OwnerID, Scopes: k.Scopes}
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
	return &identity.Principal{Kind: "token", Subject: sess.Subject, ClientID: ar.GetClient().GetID(),
		Scopes: ar.GetGrantedScopes(), Expiry: sess.GetExpiresAt(fosite.AccessToken)}, nil
}
