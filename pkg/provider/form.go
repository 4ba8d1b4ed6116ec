package provider

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// parseForm parses an application/x-www-form-urlencoded body and refuses
// duplicated parameters (RFC 6749 §3.2: parameters MUST NOT be included more
// than once; fosite silently takes the first). It is idempotent: the rate
// limiter parses first, the endpoint again for free.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return oauthError(http.StatusRequestEntityTooLarge, "invalid_request", "The request body is larger than 1 MiB.")
		}
		return oauthError(http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return oauthError(http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded.")
	}
	if name, dup := duplicated(r.URL.Query(), r.PostForm); dup {
		return oauthError(http.StatusBadRequest, "invalid_request", "The parameter '"+name+"' is included more than once.")
	}
	if _, _, basic := r.BasicAuth(); basic && (r.PostForm.Has("client_secret") || r.PostForm.Has("client_assertion")) {
		// RFC 6749 §2.3: one authentication method per request.
		return oauthError(http.StatusBadRequest, "invalid_request", "Use one client authentication method, not several.")
	}
	if len(r.URL.Query()) > 0 {
		// Credentials and codes in a URL end up in logs and histories.
		return oauthError(http.StatusBadRequest, "invalid_request", "Parameters must be sent in the request body, not the URL.")
	}
	return nil
}

// requireClientAuth refuses a request that names no client at all, before
// fosite (which would answer invalid_request) reads anything.
func requireClientAuth(r *http.Request) error {
	if _, _, basic := r.BasicAuth(); !basic && r.PostForm.Get("client_id") == "" && !r.PostForm.Has("client_assertion") {
		return oauthError(http.StatusUnauthorized, "invalid_client", "Client authentication is required (HTTP Basic, client_assertion, or client_id for public clients).")
	}
	return nil
}

// duplicated returns a parameter that appears more than once in any of
// the sets or in more than one of them (its name may be empty).
func duplicated(sets ...url.Values) (string, bool) {
	seen := map[string]bool{}
	for _, s := range sets {
		for k, v := range s {
			if (len(v) > 1 && !identity.RepeatableParam(k)) || seen[k] {
				return k, true
			}
			seen[k] = true
		}
	}
	return "", false
}

// clientIDOf returns the client id the request names: from Basic
// credentials (RFC 6749 §2.3.1, form-encoded), the parsed client_id
// parameter or, without one, the iss of a client assertion (RFC 7523 §3,
// unverified: it names, it proves nothing); "" for an id over 200 bytes.
// Call it after parseForm.
func clientIDOf(r *http.Request) string {
	id, _, ok := r.BasicAuth()
	if ok {
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
	} else if id = r.PostForm.Get("client_id"); id == "" {
		id = assertionIssuer(r.PostForm)
	}
	if len(id) > 200 {
		return ""
	}
	return id
}
