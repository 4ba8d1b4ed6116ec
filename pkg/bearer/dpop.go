package bearer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/dpop"
)

// DPoP at the resource server (RFC 9449 §7): "Authorization: DPoP <token>"
// with a DPoP proof header made for this request (htm, htu), for this
// token (ath) and by the key the token is bound to (cnf.jkt). A token
// bound to a key is refused under the Bearer scheme (§7.2); an unbound one
// under the DPoP scheme.

var (
	// ErrInvalidProof: the DPoP proof is missing, malformed, replayed, or
	// not for this request, token or key (401 invalid_dpop_proof).
	ErrInvalidProof = errors.New("bearer: invalid DPoP proof")
	// ErrUseNonce: the proof lacks the server nonce (401 use_dpop_nonce).
	ErrUseNonce = errors.New("bearer: DPoP nonce required")
)

// DPoPAlgs is the algs parameter of every DPoP challenge.
var DPoPAlgs = strings.Join(dpop.Algorithms, " ")

// nonceError carries the nonce to send with ErrUseNonce.
type nonceError struct{ nonce string }

func (nonceError) Error() string        { return ErrUseNonce.Error() }
func (nonceError) Is(target error) bool { return target == ErrUseNonce }

// dpopScheme marks an error of a request made with the DPoP scheme, so that
// the challenge is a DPoP one.
type dpopScheme struct{ err error }

func (e dpopScheme) Error() string { return e.err.Error() }
func (e dpopScheme) Unwrap() error { return e.err }

// parseScheme splits an Authorization value into scheme (Bearer or DPoP)
// and token, with ParseAuthorization's checks.
func parseScheme(h string) (scheme, token string, err error) {
	trimmed := strings.TrimLeft(h, " \t")
	if s, rest, ok := strings.Cut(trimmed, " "); ok && strings.EqualFold(s, "DPoP") {
		token, err = ParseAuthorization("Bearer " + rest)
		return "DPoP", token, err
	}
	token, err = ParseAuthorization(h)
	return "Bearer", token, err
}

// verifyRequest authenticates r under either scheme.
func (v *Verifier) verifyRequest(r *http.Request, authorization string) (*Principal, error) {
	scheme, token, err := parseScheme(authorization)
	if err != nil {
		if scheme == "DPoP" {
			return nil, dpopScheme{err}
		}
		return nil, err
	}
	p, err := v.verifyToken(r.Context(), token)
	switch {
	case err != nil && scheme == "DPoP":
		return nil, dpopScheme{err}
	case err != nil:
		return nil, err
	case scheme == "Bearer" && p.JKT != "":
		return nil, dpopScheme{fmt.Errorf("%w: DPoP-bound token presented as a bearer token", ErrInvalid)}
	case scheme == "Bearer":
		return p, nil
	case p.JKT == "":
		return nil, dpopScheme{fmt.Errorf("%w: bearer token presented with the DPoP scheme", ErrInvalid)}
	}
	if err := v.checkProof(r.Context(), r, token, p.JKT); err != nil {
		return nil, dpopScheme{err}
	}
	return p, nil
}

// checkProof checks the request's one DPoP header against the request,
// the token and its key.
func (v *Verifier) checkProof(ctx context.Context, r *http.Request, token, jkt string) error {
	proofs := r.Header.Values("DPoP")
	if len(proofs) != 1 {
		return fmt.Errorf("%w: want one DPoP header, got %d", ErrInvalidProof, len(proofs))
	}
	_, err := v.DPoP.Check(ctx, proofs[0], dpop.Request{Method: r.Method, URL: v.requestURL(r), AccessToken: token, JKT: jkt})
	switch {
	case errors.Is(err, dpop.ErrUseNonce):
		return nonceError{nonce: v.DPoP.Nonces.Current()}
	case errors.Is(err, dpop.ErrInvalidProof):
		return fmt.Errorf("%w: %v", ErrInvalidProof, err)
	case err != nil:
		return fmt.Errorf("%w: DPoP replay cache: %v", ErrUnavailable, err)
	}
	return nil
}

// requestURL is the URL the client used (the htu it signs): PublicURL
// and the request's path when PublicURL is set (behind a proxy), else the
// scheme seen by clientaddr and the Host header.
func (v *Verifier) requestURL(r *http.Request) string {
	if v.PublicURL != "" {
		return strings.TrimRight(v.PublicURL, "/") + r.URL.EscapedPath()
	}
	return clientaddr.Scheme(r) + "://" + r.Host + r.URL.EscapedPath()
}

// dpopChallenge is the WWW-Authenticate value for a DPoP error code (""
// for none).
func dpopChallenge(code string) string {
	if code == "" {
		return `DPoP algs="` + DPoPAlgs + `"`
	}
	return `DPoP error="` + code + `", algs="` + DPoPAlgs + `"`
}
