package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// PromptValues are the prompt values (OpenID Connect Core 1.0 §3.1.2.1)
// the authorization endpoint honours; the metadata advertises exactly these
// as prompt_values_supported. select_account is refused: a browser holds
// one session, so there is no account to choose between.
var PromptValues = []string{"none", "login", "consent"}

// prompt is the parsed prompt parameter.
type prompt struct{ none, login, consent bool }

// parsePrompt validates prompt: only PromptValues, and none alone
// (OIDC Core §3.1.2.1: "If this parameter contains none with any other
// value, an error is returned").
func parsePrompt(raw string) (prompt, error) {
	var p prompt
	vals := strings.Fields(raw)
	for _, v := range vals {
		switch v {
		case "none":
			p.none = true
		case "login":
			p.login = true
		case "consent":
			p.consent = true
		default:
			return p, fosite.ErrInvalidRequest.WithHintf("prompt=%q is not supported; supported values are %s.", v, strings.Join(PromptValues, ", "))
		}
	}
	if p.none && len(vals) > 1 {
		return p, fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
	}
	return p, nil
}

// promptOf returns the prompt of a request parseAuthorize has accepted.
func promptOf(form url.Values) prompt {
	p, _ := parsePrompt(form.Get("prompt"))
	return p
}

// reauthParam carries, through the sign-in page and back, when the
// prompt=login request arrived and which browser session was live then:
// "<unix seconds>.<fingerprint of the session id>". The request is
// satisfied once a sign-in made a different session at or after that time.
// A client that forges the marker only weakens its own prompt=login, which
// it could as well have left out.
const reauthParam = "petstore_reauth"

// sessionFingerprint is a one-way digest of the browser session id, so the
// id itself never appears in a URL.
func sessionFingerprint(s *ui.Session) string {
	id := ""
	if s.SignedIn() {
		id = s.ID
	}
	sum := sha256.Sum256([]byte("prompt-login\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// reauthMarker is the value of reauthParam for a prompt=login request
// arriving now.
func (h *Handler) reauthMarker(r *http.Request) string {
	return strconv.FormatInt(h.now().Unix(), 10) + "." + sessionFingerprint(ui.SessionFrom(r.Context()))
}

// reauthenticated reports whether the signed-in session comes from a
// sign-in made after the prompt=login request that form carries a marker
// of.
func (h *Handler) reauthenticated(r *http.Request, form url.Values) bool {
	s := ui.SessionFrom(r.Context())
	ts, fp, ok := strings.Cut(form.Get(reauthParam), ".")
	if !ok || !s.SignedIn() {
		return false
	}
	since, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	fresh := subtle.ConstantTimeCompare([]byte(fp), []byte(sessionFingerprint(s))) == 0
	return fresh && !s.AuthTime.Before(time.Unix(since, 0))
}

// needsReauth reports whether returnTo is a prompt=login request that the
// current session does not satisfy yet: then the sign-in page must show its
// form even to a signed-in user.
func (h *Handler) needsReauth(r *http.Request, returnTo string) bool {
	if !strings.HasPrefix(returnTo, authPath+"?") {
		return false
	}
	q, err := url.ParseQuery(strings.TrimPrefix(returnTo, authPath+"?"))
	return err == nil && promptOf(q).login && !h.reauthenticated(r, q)
}

// unsupportedParameter refuses authorization request parameters whose
// meaning would silently change if ignored. Called once the client and the
// redirect URI are known good, so the error goes back to the client.
func unsupportedParameter(form url.Values) error {
	switch {
	// RFC 9101 §6.1 / OIDC Core §6: no request objects; request_uri only
	// from our own PAR endpoint.
	case form.Has("request"):
		return fosite.ErrRequestNotSupported.WithHint("Request objects (the request parameter) are not supported.")
	case form.Has("request_uri") && !provider.IsPARRequestURI(form.Get("request_uri")):
		return fosite.ErrRequestURINotSupported.WithHint("The request_uri parameter is not supported.")
	// OIDC Core §7.2.1: self-issued registration.
	case form.Has("registration"):
		return fosite.ErrRegistrationNotSupported.WithHint("The registration parameter is not supported.")
	// No OpenID Connect: there are no ID tokens to hint with, no claims to
	// select and no authentication age to bound, so a client relying on
	// any of them must hear that it was not honoured.
	case form.Has("id_token_hint"):
		return fosite.ErrInvalidRequest.WithHint("id_token_hint is not supported: this server issues no ID tokens.")
	case form.Has("claims"):
		return fosite.ErrInvalidRequest.WithHint("The claims parameter is not supported.")
	case form.Has("max_age"):
		return fosite.ErrInvalidRequest.WithHint("max_age is not supported; use prompt=login to require a fresh sign-in.")
	}
	return nil
}
