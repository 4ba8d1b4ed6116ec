package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// OAuth2 is the part of fosite's OAuth2Provider the authorization endpoint
// uses; (*provider.Provider).OAuth2 satisfies it.
type OAuth2 interface {
	NewAuthorizeRequest(ctx context.Context, req *http.Request) (fosite.AuthorizeRequester, error)
	NewAuthorizeResponse(ctx context.Context, ar fosite.AuthorizeRequester, session fosite.Session) (fosite.AuthorizeResponder, error)
	WriteAuthorizeError(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, err error)
	WriteAuthorizeResponse(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder)
}

// Templates are the pages this package renders; pass them to ui.Config
// Required so that a missing one stops the server at startup.
var Templates = []string{"index", "login", "consent", "select_account", "account", "error", "apps", "app", "app_secret", "app_confirm", "logout", "logged_out", "device"}

// Sign-in throttling (NIST SP 800-63B §5.2.2): only failed attempts count,
// each with delays that double after the free ones. See login.go.
var (
	// LoginPerAccountAddress bounds failures of one account from one client
	// address: 5 free, then 15 s doubling up to 1 h; forgotten a day after
	// the last failure or at a successful sign-in from that address.
	LoginPerAccountAddress = ratelimit.Backoff{Free: 5, Base: 15 * time.Second, Max: time.Hour, Forget: 24 * time.Hour}
	// LoginPerAddress bounds failures from one client address over all
	// accounts (password spraying): 50 free, then 15 s doubling up to 15 min;
	// forgotten an hour after the last failure. Successful sign-ins do not
	// count, so a NAT or proxy full of users is not throttled by them.
	LoginPerAddress = ratelimit.Backoff{Free: 50, Base: 15 * time.Second, Max: 15 * time.Minute, Forget: time.Hour}
	// LoginAccountCeiling is the number of consecutive failures of one
	// account, from all addresses, after which each address gets only one
	// free failure for it before the delays start. It slows a distributed
	// guesser and never blocks an address without failures.
	LoginAccountCeiling = 20
)

// Handler serves the user's pages. Every field except Throttle, Now, Logger,
// Dev, IDTokenHint, Sessions and SessionsEnded is required.
type Handler struct {
	// OAuth2 is fosite's provider (provider.Provider.OAuth2).
	OAuth2 OAuth2
	// Issuer is added as iss to every authorization response (RFC 9207).
	Issuer string
	// NewSession makes the fosite session stored with a code
	// (provider.NewSession).
	NewSession func(userID, grantID string) fosite.Session
	// ConsumePAR uses up a pushed request as its code is issued
	// (provider.Provider.ConsumePAR); nil when PAR is not wired.
	ConsumePAR func(ctx context.Context, requestURI string) error
	// RequirePAR refuses authorization requests that were not pushed, for
	// every client (require_pushed_authorization_requests).
	RequirePAR bool
	// Resources resolves the resource parameters of an authorization
	// request and its scopes to the token audience (RFC 8707), or answers
	// invalid_target (provider.Provider.ResolveResources).
	Resources func(requested, scopes []string) ([]string, error)

	Users   identity.UserStore
	Clients identity.ClientStore
	Grants  identity.GrantStore
	APIKeys identity.APIKeyStore
	Audit   identity.AuditLog
	UI      *ui.Kit
	// AuditKey keys the digest of an email typed at a failed sign-in that
	// matches no account (provider.DeriveKey(secret, "audit-email")).
	AuditKey []byte
	// Throttle counts failed sign-ins (ratelimit.Redis to share them
	// between replicas); nil means an in-process counter.
	Throttle ratelimit.Throttle
	Now      func() time.Time
	Logger   *slog.Logger
	// IDTokenHint verifies an id_token_hint (OIDC Core §3.1.2.1, RP-Initiated
	// Logout §2): an ID token this server issued, signature checked, expiry
	// not. nil: id_token_hint is refused. Wired from
	// (*provider.Provider).IDTokenHint.
	IDTokenHint func(ctx context.Context, hint string) (provider.IDTokenHintClaims, error)
	// SessionClients records which client got an ID token in which
	// browser session (the store); nil records nothing.
	SessionClients SessionClientRecorder
	// SessionsEnded is told the sids of a user's browser sessions that
	// ended (logout, end_session, sign out everywhere), to send
	// back-channel logout tokens; nil: nobody is told.
	SessionsEnded func(ctx context.Context, userID string, sids []string)
	// GrantLogouts, when set, queues back-channel logout tokens for the
	// client of a grant the user revokes on the account page.
	GrantLogouts manage.LogoutQueue
	// Sessions lists and ends the signed-in user's browser sessions on the
	// account page; nil hides that part of the page.
	Sessions SessionStore
	// Dev shows fosite's reason on the error page of a refused
	// authorization request, to help whoever is registering a client.
	Dev bool
	// Devices serves the /device page of the device authorization grant
	// (device.go); nil leaves the page out.
	Devices Devices
}

// SessionStore lists and ends a user's browser sessions (the store).
type SessionStore interface {
	// UserSessions lists the user's live sessions, most recently seen first.
	UserSessions(ctx context.Context, userID string) ([]identity.BrowserSession, error)
	// DeleteUserSession ends the user's session sid; identity.ENOTFOUND
	// when it is not the user's live session.
	DeleteUserSession(ctx context.Context, userID, sid string) error
	// DeleteUserSessions ends all the user's sessions and returns their sids.
	DeleteUserSessions(ctx context.Context, userID string) ([]string, error)
}

// Mount registers the pages on r.
func (h *Handler) Mount(r *mux.Router) {
	if h.Throttle == nil {
		h.Throttle = &ratelimit.Memory{Now: h.Now}
	}
	page := func(f http.HandlerFunc) http.Handler { return h.UI.Pages(h.UI.Protect(f)) }
	r.Handle("/", page(h.handleIndex)).Methods(http.MethodGet, http.MethodHead)
	// The authorization endpoint takes GET and POST from the client's site,
	// so it is not CSRF-protected: it changes nothing by itself.
	r.Handle("/oauth2/auth", h.UI.Pages(http.HandlerFunc(h.handleAuthorize))).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/oauth2/consent", page(h.handleConsent)).Methods(http.MethodPost)
	r.Handle("/login", page(h.handleLoginPage)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/login", page(h.handleLogin)).Methods(http.MethodPost)
	r.Handle("/logout", page(h.handleLogout)).Methods(http.MethodPost)
	// end_session takes GET and POST from the client's site, like the
	// authorization endpoint; only the confirmation form is protected.
	r.Handle(EndSessionPath, h.UI.Pages(http.HandlerFunc(h.handleEndSession))).Methods(http.MethodGet, http.MethodPost)
	r.Handle(EndSessionPath+"/confirm", page(h.handleEndSessionConfirm)).Methods(http.MethodPost)
	r.Handle("/account", page(h.handleAccount)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/account/profile", page(h.handleProfile)).Methods(http.MethodPost)
	r.Handle("/account/sessions/end-all", page(h.handleEndAllSessions)).Methods(http.MethodPost)
	r.Handle("/account/sessions/{sid}/end", page(h.handleEndBrowserSession)).Methods(http.MethodPost)
	r.Handle("/account/grants/{id}/revoke", page(h.handleRevokeGrant)).Methods(http.MethodPost)
	r.Handle("/account/keys", page(h.handleCreateKey)).Methods(http.MethodPost)
	r.Handle("/account/keys/{id}/revoke", page(h.handleRevokeKey)).Methods(http.MethodPost)
	// The developer page (apps.go).
	r.Handle("/account/apps", page(h.handleApps)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/account/apps", page(h.handleCreateApp)).Methods(http.MethodPost)
	r.Handle("/account/apps/new", page(h.handleNewApp)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/account/apps/{id}", page(h.handleApp)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/account/apps/{id}", page(h.handleUpdateApp)).Methods(http.MethodPost)
	r.Handle("/account/apps/{id}/rotate", page(h.handleConfirmApp(true))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/account/apps/{id}/rotate", page(h.handleRotateApp)).Methods(http.MethodPost)
	r.Handle("/account/apps/{id}/delete", page(h.handleConfirmApp(false))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/account/apps/{id}/delete", page(h.handleDeleteApp)).Methods(http.MethodPost)
	if h.Devices != nil {
		r.Handle("/device", page(h.handleDevice)).Methods(http.MethodGet, http.MethodHead)
		r.Handle("/device", page(h.handleDeviceDecision)).Methods(http.MethodPost)
	}
	r.PathPrefix("/static/").Handler(h.UI.Static())
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) log(ctx context.Context) *slog.Logger {
	if h.Logger == nil {
		return httpx.Logger(ctx)
	}
	if id := httpx.RequestID(ctx); id != "" {
		return h.Logger.With("request_id", id)
	}
	return h.Logger
}

// currentUser returns the signed-in user, or nil when signed out. A session
// whose user is gone, disabled or changed since sign-in (version mismatch)
// is ended here.
func (h *Handler) currentUser(w http.ResponseWriter, r *http.Request) (*identity.User, error) {
	s := ui.SessionFrom(r.Context())
	if !s.SignedIn() {
		return nil, nil
	}
	u, err := h.Users.UserByID(r.Context(), s.UserID)
	if identity.IsNotFound(err) || (err == nil && (u.Disabled || userVersion(u) != s.Version)) {
		h.UI.SignOut(w, r)
		return nil, nil
	}
	return u, err
}

// userVersion fingerprints what must end a session when it changes
// (identity.SessionVersion, shared with pkg/admin).
func userVersion(u *identity.User) int64 { return identity.SessionVersion(u) }

func (h *Handler) audit(r *http.Request, e identity.AuditEvent) {
	e.Time = h.now()
	e.IP = clientaddr.Of(r)
	e.UserAgent = truncate(r.UserAgent(), 256)
	if e.Outcome == "" {
		e.Outcome = "success"
	}
	if e.ActorID == "" {
		e.ActorID = e.UserID
	}
	if err := h.Audit.RecordAudit(r.Context(), &e); err != nil {
		h.log(r.Context()).Error("record audit event", "type", e.Type, "err", err)
	}
}

// emailDigest is what the audit log records of a typed email that matches
// no account: HMAC-SHA-256 under AuditKey of the normalised input, so the
// same typo groups together while the text itself (often a password typed
// into the wrong field) is never stored or logged.
func (h *Handler) emailDigest(typed string) string {
	norm, err := identity.NormalizeEmail(typed)
	if err != nil {
		norm = strings.ToLower(strings.TrimSpace(typed))
	}
	m := hmac.New(sha256.New, h.AuditKey)
	m.Write([]byte(norm))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// internalError logs err and shows the generic error page.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.log(r.Context()).Error("page failed", "path", r.URL.Path, "err", err)
	h.UI.Error(w, r, http.StatusInternalServerError, "Something went wrong",
		"We could not complete your request. Please try again in a moment.")
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.UI.Error(w, r, http.StatusNotFound, "Not found", "There is nothing here, or it is not yours.")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// handleIndex serves GET /: the account page for signed-in users, a short
// landing page for everyone else.
func (h *Handler) handleIndex(w http.ResponseWriter, r *http.Request) {
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if u != nil {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	h.UI.Render(w, r, http.StatusOK, "index", nil)
}
