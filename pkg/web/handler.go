package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
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

// Limiter counts events per key in a window; ratelimit.Memory and
// ratelimit.Redis implement it.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ok bool, retryAfter time.Duration, err error)
}

// Templates are the pages this package renders; pass them to ui.Config
// Required so that a missing one stops the server at startup.
var Templates = []string{"index", "login", "consent", "account", "error"}

// Login limits: attempts, successful or not, per account and per client IP
// in a 15-minute window.
const (
	LoginLimitPerAccount = 10
	LoginLimitPerIP      = 50
	LoginLimitWindow     = 15 * time.Minute
)

// Handler serves the user's pages. Every field except Limiter, Now, Logger
// and Dev is required.
type Handler struct {
	// OAuth2 is fosite's provider (provider.Provider.OAuth2).
	OAuth2 OAuth2
	// Issuer is added as iss to every authorization response (RFC 9207).
	Issuer string
	// NewSession makes the fosite session stored with a code
	// (provider.NewSession).
	NewSession func(userID, grantID string) fosite.Session

	Users   identity.UserStore
	Clients identity.ClientStore
	Grants  identity.GrantStore
	APIKeys identity.APIKeyStore
	Audit   identity.AuditLog
	UI      *ui.Kit
	// Limiter counts login attempts; nil means an in-process counter.
	Limiter Limiter
	Now     func() time.Time
	Logger  *slog.Logger
	// Dev shows fosite's reason on the error page of a refused
	// authorization request, to help whoever is registering a client.
	Dev bool
}

// Mount registers the pages on r.
func (h *Handler) Mount(r *mux.Router) {
	if h.Limiter == nil {
		h.Limiter = &ratelimit.Memory{Now: h.Now}
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
	r.Handle("/account", page(h.handleAccount)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/account/grants/{id}/revoke", page(h.handleRevokeGrant)).Methods(http.MethodPost)
	r.Handle("/account/keys", page(h.handleCreateKey)).Methods(http.MethodPost)
	r.Handle("/account/keys/{id}/revoke", page(h.handleRevokeKey)).Methods(http.MethodPost)
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

// userVersion fingerprints what must end a session when it changes: any
// update of the user (disabling, password or email change).
func userVersion(u *identity.User) int64 { return u.UpdatedAt.Unix() }

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
