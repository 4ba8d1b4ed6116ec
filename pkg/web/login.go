package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
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
	h.renderLogin(w, r, http.StatusOK, loginPage{ReturnTo: returnTo, Email: h.loginHint(r, returnTo),
		LoggedOut: r.URL.Query().Get("logged_out") == "1"})
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

// handleLogin serves POST /login. Every attempt is charged as a failure
// before the password is checked, so parallel guesses cannot slip past the
// throttle, and refunded when it succeeds; an unknown email costs the same
// Argon2id work as a wrong password.
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

	attempt, retry := h.chargeLogin(r, email)
	if attempt == nil {
		// The account id when the email names one (an indexed read, no
		// password work), so the audit trail shows whose sign-in was slowed.
		var id string
		if u, err := h.Users.UserByEmail(r.Context(), email); err == nil {
			id = u.ID
		}
		fail("rate_limited", id)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		page.Error = "Too many failed sign-in attempts. Try again in " + waitText(retry) + "."
		h.renderLogin(w, r, http.StatusTooManyRequests, page)
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
	attempt.succeeded()
	if s := ui.SessionFrom(r.Context()); s.SignedIn() && s.UserID != u.ID && s.SID != "" {
		// Another user signs in over this browser's session: SignIn ends
		// it, and its apps are told (back-channel logout).
		h.sessionsEnded(r.Context(), s.UserID, []string{s.SID})
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

// accountCounter counts an account's consecutive failures from all
// addresses; it never refuses by itself (see LoginAccountCeiling).
var accountCounter = ratelimit.Backoff{Free: math.MaxInt32, Forget: 24 * time.Hour}

// loginAttempt is a sign-in attempt charged as a failure in advance, so
// that parallel guesses are all counted before any password is checked.
type loginAttempt struct {
	h                *Handler
	r                *http.Request
	pair, addr, acct string // throttle keys; "" when the charge failed open
}

// chargeLogin charges the attempt as a failure of (account, address), of
// the address and of the account, and returns nil with the wait when the
// pair or the address is within its delay (then nothing is charged). An
// address that has no failures for the account passes even when the
// account is over LoginAccountCeiling: the owner signing in from their own
// device is slowed at most, never locked out (NIST SP 800-63B §5.2.2). A
// throttle error lets the attempt through: Argon2id still slows guessing.
func (h *Handler) chargeLogin(r *http.Request, email string) (*loginAttempt, time.Duration) {
	ctx := r.Context()
	// The account key is a hash, so emails do not end up in Redis; unknown
	// emails are throttled like real ones so the answers look alike.
	sum := sha256.Sum256([]byte(email))
	acct, ip := hex.EncodeToString(sum[:16]), clientaddr.Bucket(r)
	a := &loginAttempt{h: h, r: r}
	charge := func(dst *string, key string, b ratelimit.Backoff) (bool, time.Duration) {
		ok, retry, err := h.Throttle.Charge(ctx, key, b)
		if err != nil {
			h.log(ctx).Error("sign-in throttle", "err", err)
			return true, 0
		}
		if ok {
			*dst = key
		}
		return ok, retry
	}
	pair := LoginPerAccountAddress
	if n, err := h.Throttle.Failures(ctx, "login:acct:"+acct); err != nil {
		h.log(ctx).Error("sign-in throttle", "err", err)
	} else if n >= LoginAccountCeiling {
		pair.Free = 1
	}
	if ok, retry := charge(&a.pair, "login:pair:"+acct+":"+ip, pair); !ok {
		return nil, max(retry, time.Second)
	}
	if ok, retry := charge(&a.addr, "login:addr:"+ip, LoginPerAddress); !ok {
		a.undo(a.h.Throttle.Refund, a.pair)
		return nil, max(retry, time.Second)
	}
	charge(&a.acct, "login:acct:"+acct, accountCounter)
	return a, 0
}

// succeeded takes the attempt's charges back: a successful sign-in ends the
// account's run of consecutive failures and those of this address for it,
// and is refunded (not reset) from the address's count, so that signing in
// to one's own account does not wipe out a spraying count.
func (a *loginAttempt) succeeded() {
	a.undo(a.h.Throttle.Reset, a.pair)
	a.undo(a.h.Throttle.Reset, a.acct)
	a.undo(a.h.Throttle.Refund, a.addr)
}

func (a *loginAttempt) undo(f func(context.Context, string) error, key string) {
	if key == "" {
		return
	}
	if err := f(a.r.Context(), key); err != nil {
		a.h.log(a.r.Context()).Error("sign-in throttle", "err", err)
	}
}

// waitText says how long to wait, rounded up: "45 seconds", "2 minutes".
func waitText(d time.Duration) string {
	if d < time.Minute {
		return plural(max(1, int(math.Ceil(d.Seconds()))), "second")
	}
	return plural(int(math.Ceil(d.Minutes())), "minute")
}

// handleLogout serves POST /logout. With a return_to (the "Not you?" of
// the select_account page), the sign-in page follows, then return_to.
func (h *Handler) handleLogout(w http.ResponseWriter, r *http.Request) {
	u, err := h.currentUser(w, r)
	if err != nil {
		h.log(r.Context()).Error("logout: load user", "err", err)
	}
	h.signOut(w, r, u, "")
	if rt := r.PostForm.Get("return_to"); validReturnTo(rt) {
		http.Redirect(w, r, "/login?return_to="+url.QueryEscape(rt), http.StatusSeeOther)
		return
	}
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
