package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// Templates are the pages of the console; pass them to ui.Config.Required
// so that a missing one stops the server at startup.
var Templates = []string{
	"admin/dashboard", "admin/clients", "admin/client", "admin/secret", "admin/users", "admin/user",
	"admin/grants", "admin/apikeys", "admin/audit", "admin/confirm",
}

const pageLimit = 25

// mountPages registers the HTML console. Every route needs the session of
// an enabled admin; every POST the session's CSRF token (ui.Protect).
// Destructive actions are a GET that shows a confirmation and a POST from
// that page that acts.
func (h *Handler) mountPages(r *mux.Router) {
	page := func(f pageFunc) http.Handler { return h.UI.Pages(h.UI.Protect(h.requireAdminSession(f))) }
	get, post := []string{http.MethodGet, http.MethodHead}, []string{http.MethodPost}
	r.Handle("/admin", page(h.pageDashboard)).Methods(get...)
	r.Handle("/admin/", http.RedirectHandler("/admin", http.StatusMovedPermanently)).Methods(get...)

	r.Handle("/admin/clients", page(h.pageClients)).Methods(get...)
	r.Handle("/admin/clients", page(h.pageCreateClient)).Methods(post...)
	r.Handle("/admin/clients/{id}", page(h.pageClient)).Methods(get...)
	r.Handle("/admin/clients/{id}", page(h.pageUpdateClient)).Methods(post...)
	r.Handle("/admin/clients/{id}/rotate-secret", page(h.confirmClient("rotate"))).Methods(get...)
	r.Handle("/admin/clients/{id}/rotate-secret", page(h.pageRotateSecret)).Methods(post...)
	r.Handle("/admin/clients/{id}/disable", page(h.confirmClient("disable"))).Methods(get...)
	r.Handle("/admin/clients/{id}/disable", page(h.pageSetClientDisabled(true))).Methods(post...)
	r.Handle("/admin/clients/{id}/enable", page(h.pageSetClientDisabled(false))).Methods(post...)
	r.Handle("/admin/clients/{id}/delete", page(h.confirmClient("delete"))).Methods(get...)
	r.Handle("/admin/clients/{id}/delete", page(h.pageDeleteClient)).Methods(post...)

	r.Handle("/admin/users", page(h.pageUsers)).Methods(get...)
	r.Handle("/admin/users", page(h.pageCreateUser)).Methods(post...)
	r.Handle("/admin/users/{id}", page(h.pageUser)).Methods(get...)
	r.Handle("/admin/users/{id}/disable", page(h.confirmDisableUser)).Methods(get...)
	r.Handle("/admin/users/{id}/disable", page(h.pageSetUserDisabled(true))).Methods(post...)
	r.Handle("/admin/users/{id}/enable", page(h.pageSetUserDisabled(false))).Methods(post...)
	r.Handle("/admin/users/{id}/password", page(h.pageResetPassword)).Methods(post...)
	r.Handle("/admin/users/{id}/profile", page(h.pageSaveProfile)).Methods(post...)

	r.Handle("/admin/grants", page(h.pageGrants)).Methods(get...)
	r.Handle("/admin/grants/revoke", page(h.confirmRevokeGrants)).Methods(get...)
	r.Handle("/admin/grants/revoke", page(h.pageRevokeGrants)).Methods(post...)
	r.Handle("/admin/grants/{id}/revoke", page(h.confirmRevokeGrant)).Methods(get...)
	r.Handle("/admin/grants/{id}/revoke", page(h.pageRevokeGrant)).Methods(post...)

	r.Handle("/admin/api-keys", page(h.pageAPIKeys)).Methods(get...)
	r.Handle("/admin/api-keys/{id}/revoke", page(h.confirmRevokeAPIKey)).Methods(get...)
	r.Handle("/admin/api-keys/{id}/revoke", page(h.pageRevokeAPIKey)).Methods(post...)

	r.Handle("/admin/audit", page(h.pageAudit)).Methods(get...)
}

// pageFunc is a console handler; u is the signed-in admin.
type pageFunc func(w http.ResponseWriter, r *http.Request, u *identity.User)

// userVersion is pkg/web's fingerprint of a user at sign-in: any update of
// the user (disabling, password change) ends their sessions.
func userVersion(u *identity.User) int64 { return identity.SessionVersion(u) }

// requireAdminSession checks on every request that the session's user
// still exists, is enabled, unchanged since sign-in and an admin.
func (h *Handler) requireAdminSession(next pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := ui.SessionFrom(r.Context())
		toLogin := func() {
			// Back to this page after sign-in; pkg/web checks it is one of
			// ours. A form POST (session expired meanwhile) may have no
			// page at its address, so it returns to the dashboard.
			target := "/admin"
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				target = r.URL.RequestURI()
			}
			http.Redirect(w, r, "/login?return_to="+url.QueryEscape(target), http.StatusSeeOther)
		}
		if !s.SignedIn() {
			toLogin()
			return
		}
		u, err := h.Users.UserByID(r.Context(), s.UserID)
		if identity.IsNotFound(err) || err == nil && (u.Disabled || userVersion(u) != s.Version) {
			h.UI.SignOut(w, r)
			toLogin()
			return
		}
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		if !u.Admin {
			h.UI.Error(w, r, http.StatusForbidden, "Admins only",
				"Your account cannot use the admin console. Ask an administrator if you need access.")
			return
		}
		a := manage.Actor{ID: u.ID, Kind: manage.ActorUser, Channel: identity.ChannelConsole, Credential: "session",
			IP: clientaddr.Of(r), UserAgent: userAgent(r)}
		next(w, r.WithContext(withActor(r.Context(), a)), u)
	})
}

func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.logger(r.Context()).Error("admin page failed", "path", r.URL.Path, "err", err)
	h.UI.Error(w, r, http.StatusInternalServerError, "Something went wrong",
		"We could not complete your request. Please try again in a moment.")
}

// fail shows an action's error on the one error page (ui.Kit.Fail): the
// status from the shared code→status map, a caller-safe message for what
// the admin can fix, the generic page for the rest.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.UI.Fail(w, r, err)
}

// notices are the fixed messages a redirect can ask a page to show.
var notices = map[string]string{
	"client_updated":  "The client was saved.",
	"client_disabled": "The client was disabled. Its tokens no longer work.",
	"client_enabled":  "The client was enabled.",
	"client_deleted":  "The client was deleted with its grants and tokens.",
	"user_created":    "The user was created.",
	"user_disabled":   "The user was disabled: signed out everywhere, grants and API keys revoked.",
	"user_enabled":    "The user was enabled.",
	"password_reset":  "The password was changed. The user's sessions have ended.",
	"profile_saved":   "The profile was saved.",
	"grant_revoked":   "The grant was revoked. Its refresh and access tokens no longer work.",
	"grants_revoked":  "The grants were revoked. Their refresh and access tokens no longer work.",
	"key_revoked":     "The API key was revoked.",
}

func redirectDone(w http.ResponseWriter, r *http.Request, path, notice string) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"done="+notice, http.StatusSeeOther)
}

// base is what every console page shows around its content.
type base struct {
	Section string // highlighted in the navigation
	Title   string
	Admin   *identity.User
	Notice  string
	Error   string
}

func (h *Handler) base(r *http.Request, u *identity.User, section, title string) base {
	return base{Section: section, Title: title, Admin: u, Notice: notices[r.URL.Query().Get("done")]}
}

// pager links the pages of a list, keeping the other query parameters.
type pager struct {
	Offset, Limit, Total int
	First, Last          int // 1-based positions shown
	Prev, Next           string
}

func newPager(r *http.Request, p identity.Page, total int) pager {
	pg := pager{Offset: p.Offset, Limit: p.Limit, Total: total}
	if total > 0 && p.Offset < total {
		pg.First, pg.Last = p.Offset+1, min(p.Offset+p.Limit, total)
	}
	link := func(off int) string {
		q := r.URL.Query()
		q.Del("done")
		q.Set("offset", strconv.Itoa(off))
		return r.URL.Path + "?" + q.Encode()
	}
	if p.Offset > 0 {
		pg.Prev = link(max(0, p.Offset-p.Limit))
	}
	if p.Offset+p.Limit < total {
		pg.Next = link(p.Offset + p.Limit)
	}
	return pg
}

// pageOf parses offset for a console list; bad values fall back to the
// first page rather than an error page.
func pageOf(r *http.Request) identity.Page {
	off, err := strconv.Atoi(r.URL.Query().Get("offset"))
	if err != nil || off < 0 || off > 1_000_000_000 {
		off = 0
	}
	return identity.Page{Offset: off, Limit: pageLimit}
}

// names resolves user emails and client names for display, once each.
type names struct {
	h       *Handler
	ctx     context.Context
	users   map[string]string
	clients map[string]string
}

func (h *Handler) names(ctx context.Context) *names {
	return &names{h: h, ctx: ctx, users: map[string]string{}, clients: map[string]string{}}
}

func (n *names) user(id string) string {
	if id == "" {
		return ""
	}
	if v, ok := n.users[id]; ok {
		return v
	}
	v := ""
	if u, err := n.h.Users.UserByID(n.ctx, id); err == nil {
		v = u.Email
	}
	n.users[id] = v
	return v
}

func (n *names) client(id string) string {
	if id == "" {
		return ""
	}
	if v, ok := n.clients[id]; ok {
		return v
	}
	v := ""
	if c, err := n.h.Clients.ClientByID(n.ctx, id); err == nil {
		v = c.Name
	}
	n.clients[id] = v
	return v
}

// resolveUser turns what an admin typed (an email or a user id) into a
// user id; ok is false when no such user exists.
func (h *Handler) resolveUser(ctx context.Context, s string) (id string, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true, nil
	}
	var u *identity.User
	if strings.Contains(s, "@") {
		u, err = h.Users.UserByEmail(ctx, s)
	} else {
		u, err = h.Users.UserByID(ctx, s)
	}
	if identity.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return u.ID, true, nil
}

// --- dashboard ---

type dashboardPage struct {
	base
	Counts Counts
	Since  time.Time
	Recent []auditRow
}

// pageDashboard serves GET /admin.
func (h *Handler) pageDashboard(w http.ResponseWriter, r *http.Request, u *identity.User) {
	ctx := r.Context()
	p := dashboardPage{base: h.base(r, u, "dashboard", "Dashboard"), Since: h.now().Truncate(24 * time.Hour)}
	var err error
	if p.Counts, err = h.Stats.AdminCounts(ctx, p.Since); err != nil {
		h.internalError(w, r, err)
		return
	}
	es, _, err := h.Audit.ListAudit(ctx, identity.AuditFilter{Page: identity.Page{Limit: 8}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	p.Recent = h.auditRows(ctx, es)
	h.UI.Render(w, r, http.StatusOK, "admin/dashboard", p)
}

// --- confirmation ---

// confirmPage is the data of admin/confirm: one question, one button.
type confirmPage struct {
	base
	Question string
	Detail   []string
	Action   string // where the form posts
	Button   string
	Cancel   string
	Fields   map[string]string // hidden fields besides the CSRF token
	Choice   *confirmChoice    // a select to answer with, or nil
}

// confirmChoice is a select on a confirmation page (the rotation's grace
// period); its first option is preselected.
type confirmChoice struct {
	Name, Label string
	Options     []manage.Choice
}

func (h *Handler) confirm(w http.ResponseWriter, r *http.Request, p confirmPage) {
	h.UI.Render(w, r, http.StatusOK, "admin/confirm", p)
}
