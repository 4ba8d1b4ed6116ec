package provider

import (
	"context"
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/dpop"
)

// DPoP at the token endpoint (RFC 9449 §5): a request with a valid proof
// gets token_type DPoP and an access token bound to the proof key's
// thumbprint (Session.JKT: cnf.jkt in JWTs and introspection, stored with
// opaque tokens in the session). A public client's refresh token is bound
// to the key too (§5.0): refreshing it needs a proof by the same key. A
// client registered --dpop-bound must send a proof.

// dpopAlgs are advertised as dpop_signing_alg_values_supported.
var dpopAlgs = dpop.Algorithms

// useNonce is the use_dpop_nonce answer (RFC 9449 §8): writeError adds the
// DPoP-Nonce header.
type useNonce struct{ nonce string }

func (useNonce) Error() string { return "use_dpop_nonce" }

func errInvalidProof(description string) *fosite.RFC6749Error {
	return oauthError(http.StatusBadRequest, "invalid_dpop_proof", description)
}

// checkProof checks the request's DPoP header, if any (RFC 9449 §4.3).
// It runs before the grant is looked at: a bad proof changes nothing.
func (p *Provider) checkProof(ctx context.Context, r *http.Request) (*dpop.Proof, error) {
	values := r.Header.Values("DPoP")
	switch len(values) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, errInvalidProof("Send one DPoP header.")
	}
	proof, err := p.dpop.Check(ctx, values[0], dpop.Request{Method: r.Method, URL: p.Issuer + "/oauth2/token"})
	switch {
	case errors.Is(err, dpop.ErrUseNonce):
		return nil, useNonce{nonce: p.dpop.Nonces.Current()}
	case errors.Is(err, dpop.ErrInvalidProof):
		return nil, errInvalidProof("The DPoP proof is not valid.").WithWrap(err)
	case err != nil:
		return nil, unavailable("The DPoP proof could not be checked; retry.", err)
	}
	return proof, nil
}

// bindProof applies the binding rules once fosite has authenticated the
// client and loaded what the grant presents, and binds the new access
// token to the proof's key.
func (p *Provider) bindProof(req *tokenRequest) error {
	sess, ok := req.ar.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	if err := checkBinding(req, sess); err != nil {
		return err
	}
	sess.JKT = ""
	if req.proof != nil {
		sess.JKT = req.proof.JKT
	}
	return nil
}

// checkBinding refuses a request without the proof its client or what it
// presents is bound to: a --dpop-bound (or fapi2) client, a code bound
// with dpop_jkt (RFC 9449 §10), a public client's bound refresh token
// (§5.0: another key is invalid_grant).
func checkBinding(req *tokenRequest, sess *Session) error {
	jkt := ""
	if req.proof != nil {
		jkt = req.proof.JKT
	}
	if c := clientOf(req.ar); jkt == "" && c != nil && c.RequiresDPoP() {
		return errInvalidProof("This client must send a DPoP proof with every token request.")
	}
	switch req.grantType {
	case "authorization_code":
		if sess.CodeJKT != "" && jkt != sess.CodeJKT {
			return errInvalidProof("The authorization code is bound to another DPoP key.")
		}
	case "refresh_token":
		return checkRefreshBinding(req, sess, jkt)
	}
	return nil
}

// checkRefreshBinding: a public client's refresh token bound to a key
// needs a proof by that key (RFC 9449 §5.0).
func checkRefreshBinding(req *tokenRequest, sess *Session, jkt string) error {
	switch {
	case sess.JKT == "" || !req.ar.GetClient().IsPublic():
		return nil
	case jkt == "":
		return errInvalidProof("This refresh token is bound to a DPoP key; send a proof made with it.")
	case jkt != sess.JKT:
		return fosite.ErrInvalidGrant.WithHint("The refresh token is bound to another DPoP key.")
	}
	return nil
}

// noRefreshGrace reports whether a rotation keeps no grace-window pair,
// so that a replay of the old token is reuse: the refresh token is bound
// to a DPoP key (a replay would hand the pair over without checking the
// key), or the client is under the fapi2 profile.
func noRefreshGrace(req *tokenRequest) bool {
	if c := clientOf(req.ar); c != nil && c.FAPI2() {
		return true
	}
	s, ok := req.ar.GetSession().(*Session)
	return ok && s.JKT != "" && req.ar.GetClient().IsPublic()
}

// dpopResponse marks a response bound to a proof (RFC 9449 §5.1).
func (p *Provider) dpopResponse(w http.ResponseWriter, req *tokenRequest, resp fosite.AccessResponder) {
	if req.proof == nil {
		return
	}
	resp.SetTokenType("DPoP")
	if p.dpop.Nonces != nil {
		w.Header().Set("DPoP-Nonce", p.dpop.Nonces.Current())
	}
}
