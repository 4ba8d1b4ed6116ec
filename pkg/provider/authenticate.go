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

func (p *Provider) authenticateAPIKey(ctx context.Context, key string) (*identity.Principal, error) {
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
	pr := &identity.Principal{Kind: "api_key", Subject: k.OwnerID, Scopes: k.Scopes}
	if k.ExpiresAt != nil {
		pr.Expiry = *k.ExpiresAt
	}
	return pr, nil
}

func (p *Provider) authenticateToken(ctx context.Context, token string) (*identity.Principal, error) {
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
	return &identity.Principal{Kind: "token", Subject: sess.Subject, ClientID: ar.GetClient().GetID(),
		Scopes: ar.GetGrantedScopes(), Expiry: sess.GetExpiresAt(fosite.AccessToken)}, nil
}
