package provider

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// introspection is the RFC 7662 §2.2 answer for an active credential.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Expiry    int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	TokenType string   `json:"token_type,omitempty"` // access_token, refresh_token or api_key
	TokenUse  string   `json:"token_use,omitempty"`  // access_token or refresh_token
	Env       string   `json:"env,omitempty"`        // live or test, for API keys
	JTI       string   `json:"jti,omitempty"`
	// Cnf is the DPoP key an access token is bound to (RFC 9449 §6.2).
	Cnf *confirmation `json:"cnf,omitempty"`
}

var inactive = introspection{Active: false}

// handleIntrospect is RFC 7662, for resource-server clients only: an
// active credential is described, anything else is exactly
// {"active":false}.
func (p *Provider) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	out, err := p.introspectRequest(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

func (p *Provider) introspectRequest(r *http.Request) (introspection, error) {
	ctx := r.Context()
	if err := parseForm(r); err != nil {
		return inactive, err
	}
	if err := p.authenticateResourceServer(r, "introspection.denied", "This client is not allowed to introspect tokens."); err != nil {
		return inactive, err
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return inactive, oauthError(http.StatusBadRequest, "invalid_request", "The 'token' parameter is required.")
	}
	out, err := p.introspect(ctx, token, r.PostForm.Get("token_type_hint"))
	if err != nil {
		// Unknown is not inactive: a resource server must not turn a
		// database outage into "invalid token" for every caller.
		return inactive, unavailable("The token could not be checked; retry.", err)
	}
	return out, nil
}

// authenticateResourceServer authenticates the calling client (HTTP Basic,
// or client_secret_post from a parsed form) and requires it to be a
// confidential resource server (CanIntrospect). A refusal is audited as
// event when event is not "".
func (p *Provider) authenticateResourceServer(r *http.Request, event, refusal string) error {
	ctx := r.Context()
	client, err := p.fosite.AuthenticateClient(ctx, r, r.PostForm)
	if errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		return unavailable("The client could not be checked; retry.", err)
	}
	if err != nil {
		p.recordDenied(ctx, event, clientIDOf(r), "bad_client_credentials")
		return oauthError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	}
	if c, ok := client.(identityClient); !ok || !c.Identity().CanIntrospect || client.IsPublic() {
		p.recordDenied(ctx, event, client.GetID(), "not_a_resource_server")
		return oauthError(http.StatusForbidden, "unauthorized_client", refusal)
	}
	return nil
}

func (p *Provider) recordDenied(ctx context.Context, event, clientID, reason string) {
	if event != "" {
		p.record(ctx, event, "failure", clientID, "", map[string]string{"reason": reason})
	}
}

// storeFailure tells a storage failure from a verdict on the token: fosite
// wraps storage errors in request_unauthorized, while its own verdicts (not
// found, revoked, expired) are fosite errors themselves.
func storeFailure(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var rfc *fosite.RFC6749Error
	if !errors.As(err, &rfc) || rfc.ErrorField != fosite.ErrRequestUnauthorized.ErrorField || rfc.Unwrap() == nil {
		return false
	}
	var verdict *fosite.RFC6749Error
	return !errors.As(rfc.Unwrap(), &verdict)
}

// introspect answers for token; the error is a storage failure only.
func (p *Provider) introspect(ctx context.Context, token, hint string) (introspection, error) {
	if apikey.LooksLikeKey(token) {
		return p.introspectAPIKey(ctx, token)
	}
	use := fosite.AccessToken
	if hint == "refresh_token" {
		use = fosite.RefreshToken
	}
	sess := NewSession("", "")
	found, ar, err := p.fosite.IntrospectToken(ctx, token, use, sess)
	if err != nil {
		if storeFailure(err) {
			return inactive, err
		}
		return inactive, nil
	}
	out := introspection{
		Active: true, Scope: strings.Join(ar.GetGrantedScopes(), " "), ClientID: ar.GetClient().GetID(),
		Subject: sess.Subject, IssuedAt: ar.GetRequestedAt().Unix(), Issuer: p.Issuer,
		// A token issued before resource indicators has no granted
		// audience; it was made for the API the default names.
		Audience:  p.legacyBound(ar.GetGrantedAudience()),
		TokenType: string(found), TokenUse: string(found),
	}
	if exp := sess.GetExpiresAt(found); !exp.IsZero() {
		out.Expiry = exp.Unix()
	}
	if found == fosite.AccessToken && sess.JKT != "" {
		out.Cnf = &confirmation{JKT: sess.JKT}
	}
	if found == fosite.AccessToken {
		// The id revocation events name (ssf.go): a JWT's jti, an opaque
		// token's public TokenID.
		out.JTI = sess.JTI
		if !isJWT(token) {
			out.JTI = identity.TokenID(p.strategy.AccessTokenSignature(ctx, token))
		}
	}
	return out, nil
}

func (p *Provider) introspectAPIKey(ctx context.Context, key string) (introspection, error) {
	if _, err := apikey.Parse(key); err != nil {
		return inactive, nil // a typo: no database lookup
	}
	k, err := p.store.APIKeyByHash(ctx, apikey.Hash(key))
	if err != nil && identity.ErrorCode(err) != identity.ENOTFOUND {
		return inactive, err
	}
	if err != nil || !k.Active(p.now()) {
		return inactive, nil
	}
	if p.noteKeyUse(k) {
		p.record(ctx, "apikey.first_used", "success", "", k.OwnerID, map[string]string{"key_id": k.ID, "prefix": k.Prefix})
	}
	out := introspection{Active: true, Scope: strings.Join(k.Scopes, " "), Subject: k.OwnerID, IssuedAt: k.CreatedAt.Unix(),
		Issuer: p.Issuer, TokenType: "api_key", TokenUse: "access_token", Env: k.Env, JTI: k.ID}
	if k.ExpiresAt != nil {
		out.Expiry = k.ExpiresAt.Unix()
	}
	return out, nil
}
