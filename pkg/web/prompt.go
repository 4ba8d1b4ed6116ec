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

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// PromptValues are the prompt values (OpenID Connect Core 1.0 §3.1.2.1)
// the authorization endpoint honours; the metadata advertises exactly these
// as prompt_values_supported.
var PromptValues = []string{"none", "login", "consent", "select_account"}

// prompt is the parsed prompt parameter.
type prompt struct{ none, login, consent, selectAccount bool }

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
		case "select_account":
			p.selectAccount = true
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

// maxMaxAge bounds max_age (seconds) so that the arithmetic cannot
// overflow; ten years is "any sign-in will do".
const maxMaxAge = 10 * 365 * 24 * 3600

// parseMaxAge validates max_age (OIDC Core §3.1.2.1): absent, or a
// non-negative number of seconds. ok is false when it is absent.
func parseMaxAge(form url.Values) (age time.Duration, ok bool, err error) {
	if !form.Has("max_age") {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(form.Get("max_age"), 10, 64)
	if perr != nil || n < 0 {
		return 0, false, fosite.ErrInvalidRequest.WithHint("max_age must be a non-negative number of seconds.")
	}
	return time.Duration(min(n, maxMaxAge)) * time.Second, true, nil
}

// reauthParam carries, through the sign-in page and back, when the
// authorization request arrived and which browser session was live then:
// "<unix seconds>.<fingerprint of the session id>". It is added whenever
// /oauth2/auth sends the browser to sign in. The request counts as
// re-authenticated (prompt=login, max_age, select_account) once a sign-in
// made a different session at or after that time. A client that forges the
// marker only weakens its own request, which it could as well have sent
// without prompt or max_age.
const reauthParam = "petstore_reauth"

// selectedParam is added by the "Continue as …" link of the select_account
// page: the fingerprint of the session whose account the user confirmed.
const selectedParam = "petstore_selected"

// sessionFingerprint is a one-way digest of the browser session id under a
// purpose label, so the id itself never appears in a URL.
func sessionFingerprint(s *ui.Session, purpose string) string {
	id := ""
	if s.SignedIn() {
		id = s.ID
	}
	sum := sha256.Sum256([]byte(purpose + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// reauthMarker is the value of reauthParam for a request arriving now.
func (h *Handler) reauthMarker(r *http.Request) string {
	return strconv.FormatInt(h.now().Unix(), 10) + "." + sessionFingerprint(ui.SessionFrom(r.Context()), "prompt-login")
}

// requestedAt is when the authorization request first arrived: the time in
// its reauthParam marker if it went through sign-in, else now. fosite's
// OpenID Connect validator compares auth_time with it (prompt=login,
// max_age).
func (h *Handler) requestedAt(form url.Values) time.Time {
	ts, _, _ := strings.Cut(form.Get(reauthParam), ".")
	if since, err := strconv.ParseInt(ts, 10, 64); err == nil && since <= h.now().Unix() {
		return time.Unix(since, 0).UTC()
	}
	return h.now().Truncate(time.Second)
}

// reauthenticated reports whether the signed-in session comes from a
// sign-in made after the request that form carries a marker of.
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
	fresh := subtle.ConstantTimeCompare([]byte(fp), []byte(sessionFingerprint(s, "prompt-login"))) == 0
	return fresh && !s.AuthTime.Before(time.Unix(since, 0))
}

// signInTooOld reports whether the session's sign-in does not satisfy the
// request's max_age (max_age=0: always too old, like prompt=login).
func (h *Handler) signInTooOld(r *http.Request, form url.Values) bool {
	age, ok, err := parseMaxAge(form)
	if !ok || err != nil {
		return false
	}
	s := ui.SessionFrom(r.Context())
	return age == 0 || h.now().Sub(s.AuthTime) > age
}

// needsFreshSignIn reports whether the signed-in user must sign in again
// before the request in form can go on: prompt=login or an exceeded
// max_age, not yet satisfied by a sign-in made after the request arrived.
func (h *Handler) needsFreshSignIn(r *http.Request, form url.Values) bool {
	if h.reauthenticated(r, form) {
		return false
	}
	return promptOf(form).login || h.signInTooOld(r, form)
}

// accountConfirmed reports whether a prompt=select_account request may go
// on: the user picked this session's account on the select_account page,
// or signed in after the request arrived.
func (h *Handler) accountConfirmed(r *http.Request, form url.Values) bool {
	s := ui.SessionFrom(r.Context())
	got := form.Get(selectedParam)
	return h.reauthenticated(r, form) ||
		(got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sessionFingerprint(s, "select-account"))) == 1)
}

// needsReauth reports whether returnTo is an authorization request that
// the current session does not satisfy yet (prompt=login, max_age): then
// the sign-in page must show its form even to a signed-in user.
func (h *Handler) needsReauth(r *http.Request, returnTo string) bool {
	q, ok := authQuery(returnTo)
	return ok && h.needsFreshSignIn(r, q)
}

// authQuery returns the parameters of returnTo when it is an authorization
// request.
func authQuery(returnTo string) (url.Values, bool) {
	if !strings.HasPrefix(returnTo, authPath+"?") {
		return nil, false
	}
	q, err := url.ParseQuery(strings.TrimPrefix(returnTo, authPath+"?"))
	return q, err == nil
}

// unsupportedParameter refuses authorization request parameters whose
// meaning would silently change if ignored. Called once the client and the
// redirect URI are known good, so the error goes back to the client.
// claims is ignored instead (claims_parameter_supported: false in the
// metadata; OIDC Core §5.5 lets a provider return fewer claims), as are
// ui_locales, claims_locales, display and acr_values (§3.1.2.1: hints).
func unsupportedParameter(form url.Values, idTokenHints bool) error {
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
	case form.Has("id_token_hint") && !idTokenHints:
		return fosite.ErrInvalidRequest.WithHint("id_token_hint is not supported: this server issues no ID tokens.")
	}
	if _, _, err := parseMaxAge(form); err != nil {
		return err
	}
	_, err := parsePrompt(form.Get("prompt"))
	return err
}

// loginHint is the email to prefill on the sign-in page for the
// authorization request in returnTo: its login_hint when that is an email
// address (OIDC Core §3.1.2.1; anything else is ignored), else the email of
// the user its id_token_hint names.
func (h *Handler) loginHint(r *http.Request, returnTo string) string {
	q, ok := authQuery(returnTo)
	if !ok {
		return ""
	}
	if hint := q.Get("login_hint"); hint != "" {
		if e, err := identity.NormalizeEmail(hint); err == nil {
			return e
		}
	}
	if hint := q.Get("id_token_hint"); hint != "" && h.IDTokenHint != nil {
		if c, err := h.IDTokenHint(r.Context(), hint); err == nil {
			if u, err := h.Users.UserByID(r.Context(), c.Subject); err == nil {
				return u.Email
			}
		}
	}
	return ""
}
