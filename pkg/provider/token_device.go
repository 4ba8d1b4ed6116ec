package provider

import (
	"context"
	"net/http"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/tokenformat"
)

// deviceGrant is the device access token request (RFC 8628 §3.4, §3.5):
// the device polls with its device_code until the user decided. fosite
// has authenticated the client (deviceTokenHandler); check answers the
// poll, and on an approval redeems the code once and makes the session
// the user's grant, so that issue mints tokens like the code grant does.
type deviceGrant struct{ p *Provider }

// Device polling errors (RFC 8628 §3.5).
var (
	errAuthorizationPending = oauthError(http.StatusBadRequest, "authorization_pending", "The user has not decided yet; poll again after the interval.")
	errSlowDown             = oauthError(http.StatusBadRequest, "slow_down", "Polling too fast; the interval has been raised by 5 seconds.")
	errDeviceDenied         = oauthError(http.StatusBadRequest, "access_denied", "The user denied the request.")
	errExpiredToken         = oauthError(http.StatusBadRequest, "expired_token", "The device code has expired; start again.")
	errUnknownDeviceCode    = oauthError(http.StatusBadRequest, "invalid_grant", "The device code is not valid for this client.")
	errUsedDeviceCode       = oauthError(http.StatusBadRequest, "invalid_grant", "The device code has been used.")
)

func (g deviceGrant) check(ctx context.Context, req *tokenRequest) error {
	hash, err := g.callersCode(ctx, req)
	if err != nil {
		return err
	}
	d, slowDown, err := g.p.store.PollDeviceCode(ctx, hash, g.p.now())
	if err != nil {
		return unavailable("The device code could not be checked; retry.", err)
	}
	switch d.Status {
	case identity.DeviceDenied:
		return errDeviceDenied
	case identity.DeviceRedeemed:
		return errUsedDeviceCode
	case identity.DevicePending:
		if slowDown {
			return errSlowDown
		}
		return errAuthorizationPending
	}
	for _, s := range d.GrantedScopes {
		req.ar.GrantScope(s)
	}
	// The audience (RFC 8707, resource.go): the default resource, which
	// is all the user was shown; a resource named at the token request
	// must be it. Checked before the code is spent.
	if err := g.p.grantAudience(req, g.p.legacyBound(nil)); err != nil {
		return err
	}
	if err := g.p.store.RedeemDeviceCode(ctx, hash); identity.ErrorCode(err) == identity.ECONFLICT {
		return errUsedDeviceCode
	} else if err != nil {
		return unavailable("The device code could not be redeemed; retry.", err)
	}
	if s, ok := req.ar.GetSession().(*Session); ok {
		s.Subject, s.GrantID, s.AuthTime = d.UserID, d.GrantID, g.p.now().UTC().Round(time.Second)
	}
	return nil
}

// callersCode returns the hash of the request's device code when it is
// one of the authenticated client's, unexpired; nothing is written.
func (g deviceGrant) callersCode(ctx context.Context, req *tokenRequest) (string, error) {
	code := req.form("device_code")
	if code == "" {
		return "", oauthError(http.StatusBadRequest, "invalid_request", "The 'device_code' parameter is required.")
	}
	if _, _, err := tokenformat.Open(tokenformat.DeviceCode, code); err != nil {
		return "", errUnknownDeviceCode // malformed or made up: no database lookup
	}
	hash := hashDeviceCode(code)
	d, err := g.p.store.DeviceCodeByHash(ctx, hash)
	switch {
	case identity.IsNotFound(err):
		return "", errUnknownDeviceCode
	case err != nil:
		return "", unavailable("The device code could not be checked; retry.", err)
	case d.ClientID != req.client():
		return "", errUnknownDeviceCode // another client's code: unknown, and nothing is touched
	case !g.p.now().Before(d.ExpiresAt):
		return "", errExpiredToken
	}
	return hash, nil
}

func (g deviceGrant) issue(ctx context.Context, req *tokenRequest) (fosite.AccessResponder, error) {
	resp, err := g.p.OAuth2.NewAccessResponse(ctx, req.ar)
	if err != nil {
		return nil, err
	}
	g.p.recordIssued(ctx, req, identity.EventDeviceRedeemed)
	return resp, nil
}

func (deviceGrant) failed(_ context.Context, _ *tokenRequest, err error) (fosite.AccessResponder, error) {
	return nil, err
}

// deviceTokenHandler is fosite's part of the device grant: it lets fosite
// authenticate the client for the grant type and mints the tokens (access,
// plus refresh when offline_access was granted and the client may
// refresh) in one transaction, as fosite's code grant handler does.
type deviceTokenHandler struct{ p *Provider }

var _ fosite.TokenEndpointHandler = deviceTokenHandler{}

func (deviceTokenHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (deviceTokenHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(identity.GrantDeviceCode)
}

func (h deviceTokenHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	if !r.GetClient().GetGrantTypes().Has(identity.GrantDeviceCode) {
		return fosite.ErrUnauthorizedClient.WithHint("This client is not registered for the device authorization grant.")
	}
	now := h.p.now().UTC()
	r.GetSession().SetExpiresAt(fosite.AccessToken, now.Add(h.p.cfg.AccessTokenLifespan).Round(time.Second))
	r.GetSession().SetExpiresAt(fosite.RefreshToken, now.Add(h.p.cfg.RefreshTokenIdleLifespan).Round(time.Second))
	return nil
}

func (h deviceTokenHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	access, accessSig, err := h.p.strategy.GenerateAccessToken(ctx, r)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	var refresh, refreshSig string
	if r.GetGrantedScopes().Has(identity.ScopeOfflineAccess) && r.GetClient().GetGrantTypes().Has(identity.GrantRefreshToken) {
		if refresh, refreshSig, err = h.p.strategy.GenerateRefreshToken(ctx, r); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
	}
	if err := h.store(ctx, r, accessSig, refreshSig); err != nil {
		return err
	}
	resp.SetAccessToken(access)
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(r.GetSession().GetExpiresAt(fosite.AccessToken).Sub(h.p.now()).Round(time.Second))
	resp.SetScopes(r.GetGrantedScopes())
	if refresh != "" {
		resp.SetExtra("refresh_token", refresh)
	}
	return nil
}

// store saves the access (and refresh) token sessions in one transaction.
func (h deviceTokenHandler) store(ctx context.Context, r fosite.AccessRequester, accessSig, refreshSig string) (err error) {
	ctx, err = storage.MaybeBeginTx(ctx, h.p.store)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	defer func() {
		if err != nil {
			_ = storage.MaybeRollbackTx(ctx, h.p.store)
		}
	}()
	if err = h.p.store.CreateAccessTokenSession(ctx, accessSig, r.Sanitize(nil)); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if refreshSig != "" {
		if err = h.p.store.CreateRefreshTokenSession(ctx, refreshSig, accessSig, r.Sanitize(nil)); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
	}
	if err = storage.MaybeCommitTx(ctx, h.p.store); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	return nil
}
