package provider

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/ory/fosite"
)

// Pushed authorization requests (RFC 9126) with fosite's handler: the
// client posts its authorization request to /oauth2/par, authenticated as
// at the token endpoint, and gets a single-use request_uri valid for
// parLifespan; /oauth2/auth (pkg/web) then takes only client_id and that
// request_uri. The store keeps the request under the request_uri's hash
// (store.CreatePARSession) and consumes it when the code is issued
// (ConsumePAR).

// parURIPrefix is RFC 9126 §2.2's URN prefix of our request_uri values.
const parURIPrefix = "urn:ietf:params:oauth:request_uri:"

// parLifespan is expires_in of a pushed request (RFC 9126 §2.2: short).
const parLifespan = 60 * time.Second

// IsPARRequestURI reports whether uri is one of this server's request_uri
// values (by its prefix; whether it exists is the store's to say).
func IsPARRequestURI(uri string) bool {
	return len(uri) > len(parURIPrefix) && uri[:len(parURIPrefix)] == parURIPrefix
}

// handlePAR is the pushed authorization request endpoint (RFC 9126 §2):
// 201 {"request_uri", "expires_in"}, or an RFC 6749 §5.2 error.
func (p *Provider) handlePAR(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, resp, err := p.pushAuthorize(ctx, r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	p.record(ctx, "par.pushed", "success", ar.GetClient().GetID(), "", nil)
	p.OAuth2.WritePushedAuthorizeResponse(ctx, w, ar, resp)
}

func (p *Provider) pushAuthorize(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, fosite.PushedAuthorizeResponder, error) {
	if err := parseForm(r); err != nil {
		return nil, nil, err
	}
	if err := requireClientAuth(r); err != nil {
		return nil, nil, err
	}
	ar, err := p.OAuth2.NewPushedAuthorizeRequest(ctx, r)
	if errors.Is(err, fosite.ErrInvalidState) && ar != nil && ar.GetState() == "" {
		// fosite checks state last; a missing one is fine (PKCE is
		// required), as at the authorization endpoint (pkg/web).
		err = nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !ar.GetResponseTypes().ExactOne("code") {
		return nil, nil, fosite.ErrUnsupportedResponseType.WithHint("Only response_type=code is supported.")
	}
	if err := p.checkPushed(ar); err != nil {
		return nil, nil, err
	}
	// The session carries the expiry (fositeStorage.CreatePARSession).
	resp, err := p.OAuth2.NewPushedAuthorizeResponse(ctx, ar, NewSession("", ""))
	if err != nil {
		return nil, nil, err
	}
	return ar, resp, nil
}

// checkPushed validates a pushed request like the authorization request it
// stands for (RFC 9126 §2.1), so a bad value is refused here, not after the
// user signed in: PKCE S256, dpop_jkt, resource.
func (p *Provider) checkPushed(ar fosite.AuthorizeRequester) error {
	f := ar.GetRequestForm()
	if f.Get("code_challenge") == "" || f.Get("code_challenge_method") != "S256" {
		return fosite.ErrInvalidRequest.WithHint("PKCE with code_challenge_method=S256 is required.")
	}
	if err := CheckDPoPJKT(f.Get("dpop_jkt")); err != nil {
		return err
	}
	_, err := p.ResolveResources(f["resource"], ar.GetRequestedScopes())
	return err
}

// CheckDPoPJKT checks the dpop_jkt parameter (RFC 9449 §10): when present,
// the base64url SHA-256 thumbprint of the key that must redeem the code.
func CheckDPoPJKT(jkt string) error {
	if jkt != "" && !jktPattern.MatchString(jkt) {
		return fosite.ErrInvalidRequest.WithHint("dpop_jkt must be the base64url SHA-256 JWK thumbprint (RFC 7638) of the client's DPoP key.")
	}
	return nil
}

var jktPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// ConsumePAR uses up a pushed request as its code is issued:
// fosite.ErrNotFound when it is unknown, expired or used already.
func (p *Provider) ConsumePAR(ctx context.Context, requestURI string) error {
	return p.store.ConsumePARSession(ctx, requestURI)
}

// RequirePAR reports whether the server requires pushed authorization
// requests from every client (require_pushed_authorization_requests).
func (p *Provider) RequirePAR() bool { return p.cfg.RequirePAR }

// CreatePARSession stores a pushed request with its expiry on this
// server's clock (fosite's handler sets it from the wall clock).
func (s *fositeStorage) CreatePARSession(ctx context.Context, requestURI string, req fosite.AuthorizeRequester) error {
	if sess := req.GetSession(); sess != nil {
		sess.SetExpiresAt(fosite.PushedAuthorizeRequestContext, s.p.now().UTC().Add(parLifespan))
	}
	return s.Storage.CreatePARSession(ctx, requestURI, req)
}
