package provider

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
)

// handleRevoke is RFC 7009. fosite's response writer turns every error it
// does not know into a 200 with an empty body; here a success is `{}` as
// JSON (§2.2; some client libraries refuse an empty body), an unknown or
// already dead token is a success (§2.2), a token of another client is
// refused with unauthorized_client (§2.1, §2.2.1) and revokes nothing, and
// a failure to store the revocation is a 503 (§2.2.1), never a 200.
func (p *Provider) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := p.revoke(r); err != nil {
		p.writeError(w, r, err)
		return
	}
	p.record(r.Context(), "token.revoked", "success", clientIDOf(r), "", map[string]string{"hint": r.PostForm.Get("token_type_hint")})
	w.Header().Set("Pragma", "no-cache")
	httpx.JSON(w, http.StatusOK, struct{}{})
}

func (p *Provider) revoke(r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	if err := requireClientAuth(r); err != nil {
		return err
	}
	err := p.OAuth2.NewRevocationRequest(r.Context(), r)
	if err == nil {
		err = p.revokeRotatedChain(r.Context(), r)
	}
	if err != nil {
		return revokeError(err)
	}
	return nil
}

// revokeError gives fosite's revocation errors this endpoint's answers.
func revokeError(err error) error {
	rfc := fosite.ErrorToRFC6749Error(err)
	switch {
	case rfc.CodeField >= 500 || errors.Is(err, fosite.ErrTemporarilyUnavailable):
		return unavailable("The revocation could not be stored; retry.", err)
	case rfc.ErrorField == fosite.ErrInvalidClient.ErrorField:
		return oauthError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	case rfc.ErrorField == fosite.ErrUnauthorizedClient.ErrorField:
		return oauthError(http.StatusBadRequest, "unauthorized_client", "The token was issued to another client; only that client may revoke it.")
	}
	return err
}

// revokeRotatedChain revokes the chain of a refresh token that was already
// rotated: fosite answers 200 for it without revoking anything, but
// revoking any refresh token of a chain must end the chain (RT-07). Only
// the owning client may (another one gets unauthorized_client, as for a
// live token); fosite has authenticated the caller.
func (p *Provider) revokeRotatedChain(ctx context.Context, r *http.Request) error {
	sig := p.strategy.RefreshTokenSignature(ctx, r.PostForm.Get("token"))
	req, err := p.store.GetRefreshTokenSession(ctx, sig, NewSession("", ""))
	if req == nil || !errors.Is(err, fosite.ErrInactiveToken) {
		return nil
	}
	if req.GetClient().GetID() != clientIDOf(r) {
		return fosite.ErrUnauthorizedClient
	}
	if err := p.store.RevokeRefreshToken(ctx, req.GetID()); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	if err := p.store.RevokeAccessToken(ctx, req.GetID()); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	return nil
}
