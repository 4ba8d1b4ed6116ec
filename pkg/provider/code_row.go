package provider

import (
	"context"
	"errors"
	"net/url"

	"github.com/ory/fosite"
)

// One code, one row. fosite stores three requests for a new code — the
// code's, its PKCE request (code_challenge) and, with openid, its OpenID
// Connect request (nonce, max_age, prompt…) — and reads and deletes the
// latter two at the code exchange: six statements per code (of 17 for a
// whole flow with openid). They are the same request (same id, client, scopes and session)
// sanitised to different form fields, so codeRowProvider collects them
// while fosite answers the authorization request and writes one
// authorize_codes row whose form is the union of the three. At the token
// endpoint fositeStorage answers the PKCE and OpenID Connect reads from
// that row, and their deletes need no statement: the code's conditional
// update (exactly once, DESIGN §4) retires them with the code.
//
// A code stored the old way (three rows: issued by an earlier release, or
// without codeRowProvider) has no code_challenge in its row, every code
// here having one (PKCE is required); its PKCE and OpenID Connect requests
// are read from and deleted in their own tables, as before.

// codeRowProvider is fosite's provider with NewAuthorizeResponse writing
// one row per code.
type codeRowProvider struct {
	*fosite.Fosite
	p *Provider
}

// pendingCode is what fosite hands to storage for one new code.
type pendingCode struct {
	signature string
	req       fosite.Requester
	form      url.Values
}

type pendingCodeKey struct{}

func pendingCodeOf(ctx context.Context) *pendingCode {
	pc, _ := ctx.Value(pendingCodeKey{}).(*pendingCode)
	return pc
}

// add merges the form of one of the code's requests into the row.
func (pc *pendingCode) add(req fosite.Requester) {
	for k, v := range req.GetRequestForm() {
		pc.form[k] = v
	}
}

// NewAuthorizeResponse is fosite's (RFC 6749 §4.1.2), with the code's
// requests written as one row once every handler has accepted it: a
// failed authorization stores nothing.
func (c codeRowProvider) NewAuthorizeResponse(ctx context.Context, ar fosite.AuthorizeRequester, sess fosite.Session) (fosite.AuthorizeResponder, error) {
	pc := &pendingCode{form: url.Values{}}
	resp, err := c.Fosite.NewAuthorizeResponse(context.WithValue(ctx, pendingCodeKey{}, pc), ar, sess)
	if err != nil || pc.req == nil {
		return resp, err
	}
	req, ok := pc.req.(*fosite.Request) // what fosite's Sanitize returns
	if !ok {
		return nil, fosite.ErrServerError.WithDebug("the code's request is not a *fosite.Request")
	}
	row := *req
	row.Form = pc.form
	if err := c.p.store.CreateAuthorizeCodeSession(ctx, pc.signature, &row); err != nil {
		return nil, fosite.ErrServerError.WithWrap(err).WithDebug(err.Error())
	}
	return resp, nil
}

// GetPKCERequestSession implements pkce.PKCERequestStorage: the code's
// row, until the code is used (then gone, as a deleted PKCE request is).
func (s *fositeStorage) GetPKCERequestSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	req, err := s.Storage.GetAuthorizeCodeSession(ctx, sig, sess)
	switch {
	case errors.Is(err, fosite.ErrInvalidatedAuthorizeCode):
		return nil, fosite.ErrNotFound
	case err != nil:
		return nil, err
	case req.GetRequestForm().Has("code_challenge"):
		return req, nil
	}
	req, err = s.Storage.GetPKCERequestSession(ctx, sig, sess)
	if err == nil {
		s.oldRows.Store("pkce "+sig, true)
	}
	return req, err
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStorage) DeletePKCERequestSession(ctx context.Context, sig string) error {
	if _, old := s.oldRows.LoadAndDelete("pkce " + sig); old {
		return s.Storage.DeletePKCERequestSession(ctx, sig)
	}
	return nil
}

// openIDRequest is the OpenID Connect request of the code with signature
// sig: its row (read after the code's redemption, so a used code is fine
// here), or the row of its own of a code stored the old way.
func (s *fositeStorage) openIDRequest(ctx context.Context, sig string) (fosite.Requester, error) {
	req, err := s.Storage.GetAuthorizeCodeSession(ctx, sig, NewSession("", ""))
	if err != nil && !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		return nil, err
	}
	if req.GetRequestForm().Has("code_challenge") {
		return req, nil
	}
	req, err = s.GetOIDCRequest(ctx, sig, NewSession("", ""))
	if err == nil {
		s.oldRows.Store("oidc "+sig, true)
	}
	return req, err
}

// stashCode keeps a request of a new code for codeRowProvider; false when
// there is none collecting (storage used without it).
func stashCode(ctx context.Context, sig string, req fosite.Requester, code bool) bool {
	pc := pendingCodeOf(ctx)
	if pc == nil {
		return false
	}
	if code {
		pc.signature, pc.req = sig, req
	}
	pc.add(req)
	return true
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStorage) CreatePKCERequestSession(ctx context.Context, sig string, req fosite.Requester) error {
	if stashCode(ctx, sig, req, false) {
		return nil
	}
	return s.Storage.CreatePKCERequestSession(ctx, sig, req)
}
