package admin

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// APIPrefix is where the JSON API lives.
const APIPrefix = "/admin/api/v1"

// Authenticator checks a bearer credential presented to this server;
// (*provider.Provider).Authenticate implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (*identity.Principal, error)
}

// Counts are the numbers on the dashboard.
type Counts struct {
	Clients      int64 `json:"clients"`
	Users        int64 `json:"users"`
	ActiveGrants int64 `json:"active_grants"`
	TokensIssued int64 `json:"tokens_issued"` // access tokens issued since the given time
	FailedLogins int64 `json:"failed_logins"` // failed logins since the given time
}

// StatsSource counts what the dashboard shows.
type StatsSource interface {
	AdminCounts(ctx context.Context, since time.Time) (Counts, error)
}

// StatsFunc adapts a function to StatsSource, so the store's own Stats type
// stays in the store.
type StatsFunc func(ctx context.Context, since time.Time) (Counts, error)

// AdminCounts implements StatsSource.
func (f StatsFunc) AdminCounts(ctx context.Context, since time.Time) (Counts, error) {
	return f(ctx, since)
}

// Handler serves the admin API and pages. All store fields are required;
// UI may be nil, in which case only the JSON API is mounted.
type Handler struct {
	Auth    Authenticator
	Users   identity.UserStore
	Clients identity.ClientStore
	Grants  identity.GrantStore
	APIKeys identity.APIKeyStore
	Audit   identity.AuditLog
	Stats   StatsSource
	// Logouts, when set, queues back-channel logout tokens for the clients
	// of the grants an admin revokes (pkg/store).
	Logouts manage.LogoutQueue
	// UI renders the console pages and holds the sessions (pkg/ui).
	UI     *ui.Kit
	Now    func() time.Time
	Logger *slog.Logger
}

// Mount registers the JSON API, and the console pages when UI is set.
func (h *Handler) Mount(r *mux.Router) {
	h.mountAPI(r)
	if h.UI != nil {
		h.mountPages(r)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

func (h *Handler) logger(ctx context.Context) *slog.Logger {
	l := h.Logger
	if l == nil {
		l = httpx.Logger(ctx)
	} else if id := httpx.RequestID(ctx); id != "" {
		l = l.With("request_id", id)
	}
	return l
}

// service is the service every action goes through, on this handler's
// stores (pkg/manage holds the rules; the CLI and pkg/web use it too).
func (h *Handler) service() *manage.Service {
	return &manage.Service{Users: h.Users, Clients: h.Clients, Grants: h.Grants, APIKeys: h.APIKeys,
		Audit: h.Audit, Logouts: h.Logouts, Now: h.Now, Logger: h.Logger}
}

type ctxKey int

const actorKey ctxKey = iota

// withActor remembers who acts (the admin behind the credential or
// session) for the actions the request performs.
func withActor(ctx context.Context, a manage.Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

func actorFrom(ctx context.Context) manage.Actor {
	a, _ := ctx.Value(actorKey).(manage.Actor)
	return a
}

func userAgent(r *http.Request) string {
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return ua
}

var (
	errNoCredential = identity.Errorf(identity.EUNAUTHORIZED, "A bearer credential with the admin scope is required.")
	errBadHeader    = identity.Errorf(identity.EUNAUTHORIZED, "The Authorization header must be 'Bearer <credential>'.")
	errNotAdmin     = identity.Errorf(identity.EFORBIDDEN, "The credential does not carry the admin scope of an enabled admin.")
)

// bearer extracts the credential of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", errNoCredential
	}
	scheme, cred, ok := strings.Cut(values[0], " ")
	if len(values) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errBadHeader
	}
	cred = strings.TrimSpace(cred)
	if cred == "" || strings.ContainsAny(cred, " \t") {
		return "", errBadHeader
	}
	return cred, nil
}

// requireAdmin lets through requests whose bearer credential carries the
// admin scope and, for a user's credential, belongs to an enabled admin.
func (h *Handler) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		cred, err := bearer(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="petstore-auth admin"`)
			httpx.Error(w, r, err)
			return
		}
		p, err := h.Auth.Authenticate(ctx, cred)
		if err != nil {
			if identity.ErrorCode(err) == identity.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="petstore-auth admin", error="invalid_token"`)
			}
			httpx.Error(w, r, err)
			return
		}
		a, err := h.principalActor(ctx, p)
		if err != nil {
			if identity.ErrorCode(err) == identity.EFORBIDDEN {
				w.Header().Set("WWW-Authenticate", `Bearer realm="petstore-auth admin", error="insufficient_scope", scope="admin"`)
				h.service().Record(ctx, manage.Actor{ID: p.Subject, Kind: "unknown", Channel: identity.ChannelAdminAPI, Credential: p.Kind,
					IP: clientaddr.Of(r), UserAgent: userAgent(r)},
					&identity.AuditEvent{Type: identity.EventAdminAccessDenied, Details: map[string]string{"path": r.URL.Path}}, err)
			}
			httpx.Error(w, r, err)
			return
		}
		a.IP, a.UserAgent = clientaddr.Of(r), userAgent(r)
		next.ServeHTTP(w, r.WithContext(withActor(ctx, a)))
	})
}

// principalActor decides whether an authenticated principal may act as an
// admin.
func (h *Handler) principalActor(ctx context.Context, p *identity.Principal) (manage.Actor, error) {
	if !p.HasScope(identity.ScopeAdmin) || p.Subject == "" {
		return manage.Actor{}, errNotAdmin
	}
	if p.Kind == "token" && p.Subject == p.ClientID {
		// client_credentials: the client itself was registered with the
		// admin scope by an admin.
		return manage.Actor{ID: p.ClientID, Kind: manage.ActorClient, Channel: identity.ChannelAdminAPI, Credential: p.Kind}, nil
	}
	u, err := h.Users.UserByID(ctx, p.Subject)
	switch {
	case identity.IsNotFound(err):
		return manage.Actor{}, errNotAdmin
	case err != nil:
		return manage.Actor{}, err
	case !u.Admin || u.Disabled:
		return manage.Actor{}, errNotAdmin
	}
	return manage.Actor{ID: u.ID, Kind: manage.ActorUser, Channel: identity.ChannelAdminAPI, Credential: p.Kind}, nil
}
