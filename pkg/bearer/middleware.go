package bearer

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
)

type ctxKey struct{}

// NewContext returns ctx carrying p; Require does this for handlers.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal Require established, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Realm is the RFC 6750 realm in every challenge.
const Realm = "petstore"

// urlCredentialParams are query parameters that would put a secret in URLs,
// logs and browser histories (RFC 6750 §2.3 is a MAY we decline).
var urlCredentialParams = []string{"access_token", "api_key"}

// Require authenticates the request and checks that the principal holds
// every one of scopes, then calls next with the principal in the context.
// The scope decision is made on every request, cached credential or not.
func (v *Verifier) Require(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := v.authenticate(r)
			if err != nil {
				v.logRefusal(r, err)
				v.WriteError(w, err)
				return
			}
			for _, s := range scopes {
				if !p.HasScope(s) {
					v.WriteInsufficientScope(w, strings.Join(scopes, " "))
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
		})
	}
}

func (v *Verifier) authenticate(r *http.Request) (*Principal, error) {
	if r.URL.RawQuery != "" { // parsing an empty query still allocates
		q := r.URL.Query()
		for _, name := range urlCredentialParams {
			if q.Has(name) {
				return nil, errors.Join(ErrBadRequest, errors.New("credential in the URL"))
			}
		}
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return nil, ErrMissing
	case 1:
		v.init()
		return v.verifyRequest(r, values[0])
	default:
		return nil, errors.Join(ErrBadRequest, errors.New("more than one Authorization header"))
	}
}

// logRefusal records why a credential was refused, without the credential.
func (v *Verifier) logRefusal(r *http.Request, err error) {
	v.init()
	switch {
	case errors.Is(err, ErrMissing):
		return // ordinary: a client discovering that auth is needed
	case errors.Is(err, ErrUnavailable):
		v.Logger.WarnContext(r.Context(), "credential not checked: authorization server unavailable", "path", r.URL.Path, "err", err)
	default:
		v.Logger.InfoContext(r.Context(), "credential refused", "path", r.URL.Path, "reason", err)
	}
}

// Response bodies, in the JSON APIs' one shape (httpkit.Error); the RFC
// 6750 §3.1 error codes go in WWW-Authenticate. Every invalid credential
// gets the same bytes, so that an unknown key cannot be told from a revoked,
// expired or malformed one (AK-06).
const (
	msgMissing      = "Missing credential: send an access token or an API key in the Authorization header"
	msgInvalid      = "Invalid token"
	msgBadRequest   = "Credentials must be sent once, in the Authorization header"
	msgUnavailable  = "Authorization server unavailable, please retry"
	msgInvalidProof = "Invalid DPoP proof"
	msgUseNonce     = "Retry with the DPoP nonce in the DPoP-Nonce header"
)

// RetryAfterSeconds is sent with 503 answers.
const RetryAfterSeconds = "5"

// WriteError writes the RFC 6750 §3 answer for an error from Verify,
// without resource metadata; Verifier.WriteError adds it.
func WriteError(w http.ResponseWriter, err error) { writeError(w, err, "") }

// WriteError writes the RFC 6750 §3 answer for an error from Verify; a 401
// challenge names the RFC 9728 metadata (§5.1) when ResourceMetadata is set.
func (v *Verifier) WriteError(w http.ResponseWriter, err error) {
	writeError(w, err, v.ResourceMetadata)
}

// WriteInsufficientScope answers 403 insufficient_scope (RFC 6750 §3.1)
// naming scope, the space-separated scopes the call needs, and the
// resource metadata, so a client can ask for them (step-up).
func (v *Verifier) WriteInsufficientScope(w http.ResponseWriter, scope string) {
	writeInsufficientScope(w, scope, v.ResourceMetadata)
}

// msgAudience is the error_description of a token for another resource.
const msgAudience = "The access token's audience does not include this API"

func writeError(w http.ResponseWriter, err error, metadata string) {
	h := w.Header()
	var scheme dpopScheme
	var nonce nonceError
	rm := ""
	if metadata != "" {
		rm = `, resource_metadata="` + metadata + `"`
	}
	switch {
	case errors.As(err, &nonce):
		h.Set("WWW-Authenticate", dpopChallenge("use_dpop_nonce"))
		h.Set("DPoP-Nonce", nonce.nonce)
		httpkit.Error(w, httpkit.CodeUnauthorized, msgUseNonce)
	case errors.Is(err, ErrInvalidProof):
		h.Set("WWW-Authenticate", dpopChallenge("invalid_dpop_proof"))
		httpkit.Error(w, httpkit.CodeUnauthorized, msgInvalidProof)
	case errors.As(err, &scheme) && errors.Is(err, ErrInvalid):
		h.Set("WWW-Authenticate", dpopChallenge("invalid_token"))
		httpkit.Error(w, httpkit.CodeUnauthorized, msgInvalid)
	case errors.Is(err, ErrMissing):
		h.Set("WWW-Authenticate", `Bearer realm="`+Realm+`"`+rm)
		h.Add("WWW-Authenticate", dpopChallenge(""))
		httpkit.Error(w, httpkit.CodeUnauthorized, msgMissing)
	case errors.Is(err, ErrBadRequest):
		h.Set("WWW-Authenticate", `Bearer realm="`+Realm+`", error="invalid_request"`)
		httpkit.Error(w, httpkit.CodeInvalid, msgBadRequest)
	case errors.Is(err, ErrAudience):
		h.Set("WWW-Authenticate", `Bearer realm="`+Realm+`", error="invalid_token", error_description="`+msgAudience+`"`+rm)
		httpkit.Error(w, httpkit.CodeUnauthorized, msgAudience)
	case errors.Is(err, ErrInvalid):
		h.Set("WWW-Authenticate", `Bearer realm="`+Realm+`", error="invalid_token"`+rm)
		httpkit.Error(w, httpkit.CodeUnauthorized, msgInvalid)
	default:
		h.Set("Retry-After", RetryAfterSeconds)
		httpkit.Error(w, httpkit.CodeUnavailable, msgUnavailable)
	}
}

// writeInsufficientScope answers RFC 6750 §3.1 insufficient_scope; the
// scope needed is in WWW-Authenticate and in the description.
func writeInsufficientScope(w http.ResponseWriter, scope, metadata string) {
	rm := ""
	if metadata != "" {
		rm = `, resource_metadata="` + metadata + `"`
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`", error="insufficient_scope", scope="`+scope+`"`+rm)
	httpkit.Error(w, httpkit.CodeForbidden, "Insufficient scope: this call needs "+scope)
}
