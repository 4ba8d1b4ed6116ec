package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
)

// oauthError is an RFC 6749 §5.2 error with this server's own description
// (fosite's would add its generic sentence before the hint).
func oauthError(status int, code, description string) *fosite.RFC6749Error {
	return &fosite.RFC6749Error{CodeField: status, ErrorField: code, DescriptionField: description}
}

// statusClientClosedRequest is the status recorded for a request whose
// client went away before the answer (nginx's 499; not sent on the wire).
const statusClientClosedRequest = 499

// unavailableRetry is the Retry-After of the answer while the database cannot be reached: the
// client must retry, not conclude its credentials or token are bad.
const unavailableRetry = 5 * time.Second

// unavailable is a 503 temporarily_unavailable with description.
func unavailable(description string, cause error) error {
	return oauthError(http.StatusServiceUnavailable, "temporarily_unavailable", description).WithWrap(cause)
}

// rateLimited is the refusal of a request over a budget (limit.go): HTTP
// 429 (RFC 6585) with Retry-After. RFC 6749 has no rate-limit code; the
// body says temporarily_unavailable, the registered code whose meaning
// ("currently unable to handle the request due to a temporary overloading",
// §4.1.2.1) a client already handles by waiting and retrying, where
// invalid_request would tell it to fix a request that has nothing wrong
// (docs/security.md, "Rate limits").
type rateLimited struct{ retryAfter time.Duration }

func (e rateLimited) Error() string { return fmt.Sprintf("rate limited for %s", e.retryAfter) }

// writeError is the one writer of every OAuth endpoint's error answer: an
// RFC 6749 §5.2 JSON body written by fosite's error writer (Cache-Control:
// no-store), plus the headers the status calls for: WWW-Authenticate with
// a 401 (§5.2; Bearer with the RFC 6750 §3 code for a bearerError),
// Retry-After with a 429 or 503 (RFC 9110 §10.2.3).
// Anything that is not an RFC 6749 error becomes server_error.
func (p *Provider) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		// The client hung up (net/http cancels the request's context): no
		// answer reaches it, and what failed was its leaving, not the
		// server. 499 is nginx's "client closed request", so access logs
		// and 5xx metrics do not count it as a server error.
		httpx.Logger(r.Context()).Info("oauth endpoint: client closed the request", "path", r.URL.Path, "err", err)
		w.WriteHeader(statusClientClosedRequest)
		return
	}
	err = typedErrorHeaders(w, err)
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField != http.StatusServiceUnavailable && errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		// fosite wraps a storage failure while loading the client
		// (fositeStorage.GetClient) in invalid_client; the cause wins.
		rfc = oauthError(http.StatusServiceUnavailable, "temporarily_unavailable", "The request could not be processed now; retry.").WithWrap(err)
	}
	switch {
	case rfc.CodeField == http.StatusUnauthorized && rfc.ErrorField == "invalid_token" && w.Header().Get("WWW-Authenticate") == "":
		// A bearer credential was refused (RFC 6750 §3; RFC 7592 §2).
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case rfc.CodeField == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "":
		w.Header().Set("WWW-Authenticate", `Basic realm="petstore-auth"`)
	case rfc.CodeField == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", fmt.Sprint(int(unavailableRetry.Seconds())))
		w.Header().Set("Connection", "close") // shed the connection too, not only the request
		httpx.Logger(r.Context()).Error("oauth endpoint unavailable", "path", r.URL.Path, "err", rfc.WithExposeDebug(true).GetDescription(), "cause", rfc.Unwrap())
	case rfc.CodeField >= 500:
		httpx.Logger(r.Context()).Error("oauth endpoint", "path", r.URL.Path, "err", rfc.WithExposeDebug(true).GetDescription(), "cause", rfc.Unwrap())
	}
	p.fosite.WriteAccessError(r.Context(), w, nil, rfc)
}

// typedErrorHeaders sets the headers our own error types call for
// (DPoP-Nonce, Retry-After, WWW-Authenticate) and returns the RFC 6749
// error each stands for; any other error is returned as it is.
func typedErrorHeaders(w http.ResponseWriter, err error) error {
	var limited rateLimited
	var nonce useNonce
	if errors.As(err, &nonce) {
		// RFC 9449 §8: the client retries with the nonce in this header.
		w.Header().Set("DPoP-Nonce", nonce.nonce)
		err = oauthError(http.StatusBadRequest, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
	}
	if errors.As(err, &limited) {
		w.Header().Set("Retry-After", fmt.Sprint(max(1, int(math.Ceil(limited.retryAfter.Seconds())))))
		err = oauthError(http.StatusTooManyRequests, "temporarily_unavailable", "Too many requests; retry after the time in Retry-After.")
	}
	var bearer bearerError
	if errors.As(err, &bearer) {
		w.Header().Set("WWW-Authenticate", bearer.challenge())
		err = bearer.rfc6749()
	}
	return err
}
