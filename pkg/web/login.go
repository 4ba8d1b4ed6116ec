package web

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// badCredentials is the one message for every failed sign-in, so the page
// does not tell whether an account exists or is disabled.
const badCredentials = "Incorrect email or password."

// loginPage is the data of templates/login.html.
type loginPage struct {
	Email      string
	ReturnTo   string
	ClientName string // the app the user is signing in for, if any
	Error      string
	LoggedOut  bool
}

// handleLoginPage serves GET /login.
func (h *Handler) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	returnTo := r.URL.Query().Get("return_to")
	if !validReturnTo(returnTo) {
		returnTo = ""
	}
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	// prompt=login: a signed-in user signs in again before coming back.
	if u != nil && !h.needsReauth(r, returnTo) {
		http.Redirect(w, r, orDefault(returnTo, "/account"), http.StatusSeeOther)
		return
	}
	h.renderLogin(w, r, http.StatusOK, loginPage{ReturnTo: returnTo, LoggedOut: r.URL.Query().Get("logged_out") == "1"})
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, p loginPage) {
	if strings.HasPrefix(p.ReturnTo, authPath+"?") {
		if q, err := url.ParseQuery(strings.TrimPrefix(p.ReturnTo, authPath+"?")); err == nil && q.Get("client_id") != "" {
			if c, err := h.Clients.ClientByID(r.Context(), q.Get("client_id")); err == nil {
				p.ClientName = c.Name
				// With remembered consent, signing in ends in a 303 to the client.
				ui.AllowFormTargets(w, formTargets(c.RedirectURIs...)...)
			}
		}
	}
	h.UI.Render(w, r, status, "login", p)
}

// handleLogin serves POST /login. Every attempt is counted before the
// password is checked, so parallel guesses cannot slip past the limit; an
// unknown email costs the same Argon2id work as a wrong password.
func (h *Handler) handleLogin(w http.ResponseWriter, r *http.Request) {
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	pw := r.PostForm.Get("password")
	remember := r.PostForm.Get("remember") == "on"
	returnTo := r.PostForm.Get("return_to")
	if !validReturnTo(returnTo) {
		returnTo = ""
	}
	page := loginPage{Email: truncate(email, 320), ReturnTo: returnTo}
	fail := func(reason, userID string) {
		details := map[string]string{"reason": reason}
		if userID == "" {
			// People type passwords into the email field: never the text.
			details["email_hmac"] = h.emailDigest(email)
		}
		h.audit(r, identity.AuditEvent{Type: "login.failure", Outcome: "failure", UserID: userID, Details: details})
	}

	if retry, limited := h.loginLimited(r, email); limited {
		fail("rate_limited", "")
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		minutes := int(math.Ceil(retry.Minutes()))
		h.UI.Error(w, r, http.StatusTooManyRequests, "Too many sign-in attempts",
			"For your security, signing in is paused. Please try again in "+plural(minutes, "minute")+".")
		return
	}

	u, err := h.Users.UserByEmail(r.Context(), email)
	if err != nil && !identity.IsNotFound(err) {
		h.internalError(w, r, err)
		return
	}
	var hash string
	if u != nil {
		hash = u.PasswordHash
	}
	ok := password.Verify(hash, pw) // an empty hash still costs one Argon2id run
	switch {
	case u == nil:
		fail("unknown_user", "")
	case !ok:
		fail("bad_password", u.ID)
	case u.Disabled:
		fail("disabled", u.ID)
	}
	if u == nil || !ok || u.Disabled {
		page.Error = badCredentials
		h.renderLogin(w, r, http.StatusUnauthorized, page)
		return
	}
	if err := h.UI.SignIn(w, r, u.ID, u.Email, userVersion(u), remember); err != nil {
		h.internalError(w, r, err)
		return
	}
	details := map[string]string{}
	if remember {
		details["remember"] = "true"
	}
	h.audit(r, identity.AuditEvent{Type: "login.success", UserID: u.ID, Details: details})
	http.Redirect(w, r, orDefault(returnTo, "/account"), http.StatusSeeOther)
}

// loginLimited counts the attempt against the client IP and the account
// (both, always) and reports whether either is over its limit. A limiter
// failure lets the attempt through: Argon2id still slows guessing down.
func (h *Handler) loginLimited(r *http.Request, email string) (time.Duration, bool) {
	// The account key is a hash, so emails do not end up in Redis.
	sum := sha256.Sum256([]byte(email))
	keys := []struct {
		key   string
		limit int
	}{
		{"login:ip:" + clientIP(r), LoginLimitPerIP},
		{"login:acct:" + hex.EncodeToString(sum[:16]), LoginLimitPerAccount},
	}
	var retry time.Duration
	limited := false
	for _, k := range keys {
		ok, after, err := h.Limiter.Allow(r.Context(), k.key, k.limit, LoginLimitWindow)
		if err != nil {
			h.log(r.Context()).Error("login rate limiter", "err", err)
			continue
		}
		if !ok {
			limited = true
			retry = max(retry, after)
		}
	}
	return max(retry, time.Second), limited
}

// handleLogout serves POST /logout.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	u, err := h.currentUser(w, r)
	if err != nil {
		h.log(r.Context()).Error("logout: load user", "err", err)
	}
	if u != nil {
		h.audit(r, identity.AuditEvent{Type: "logout", UserID: u.ID})
	}
	h.UI.SignOut(w, r)
	http.Redirect(w, r, "/login?logged_out=1", http.StatusSeeOther)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
