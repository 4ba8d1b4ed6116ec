package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

type grantRow struct {
	ID, UserID, UserEmail, ClientID, ClientName string
	Scopes                                      []string
	CreatedAt, LastUsedAt                       time.Time
	RevokedAt                                   *time.Time
}

func grantRows(n *names, gs []*identity.Grant) []grantRow {
	out := make([]grantRow, 0, len(gs))
	for _, g := range gs {
		out = append(out, grantRow{ID: g.ID, UserID: g.UserID, UserEmail: n.user(g.UserID), ClientID: g.ClientID,
			ClientName: n.client(g.ClientID), Scopes: g.Scopes, CreatedAt: g.CreatedAt, LastUsedAt: g.LastUsedAt, RevokedAt: g.RevokedAt})
	}
	return out
}

// grantTable and keyTable feed the shared table partials; Back is the
// page their revoke links return to.
// Compact drops the user column on a user's own page.
type grantTable struct {
	Rows    []grantRow
	Back    string
	Compact bool
}

type keyTable struct {
	Rows    []keyRow
	Back    string
	Compact bool
}

func here(r *http.Request) string {
	q := r.URL.Query()
	q.Del("done")
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

type grantsPage struct {
	base
	User, Client   string // the filter as typed
	UserID         string // resolved
	IncludeRevoked bool
	Grants         grantTable
	Pager          pager
	RevokeAll      string // link to the bulk confirmation, when filtered
}

// pageGrants serves GET /admin/grants?user=&client=&all=.
func (h *Handler) pageGrants(w http.ResponseWriter, r *http.Request, u *identity.User) {
	ctx := r.Context()
	q := r.URL.Query()
	p := grantsPage{base: h.base(r, u, "grants", "Grants"), User: strings.TrimSpace(q.Get("user")),
		Client: strings.TrimSpace(q.Get("client")), IncludeRevoked: q.Get("all") == "on"}
	id, ok, err := h.resolveUser(ctx, p.User)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	p.UserID = id
	pg := pageOf(r)
	if ok {
		gs, total, err := h.Grants.ListGrants(ctx, identity.GrantFilter{UserID: id, ClientID: p.Client, IncludeRevoked: p.IncludeRevoked, Page: pg})
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		p.Grants = grantTable{Rows: grantRows(h.names(ctx), gs), Back: here(r)}
		p.Pager = newPager(r, pg, total)
		if (id != "" || p.Client != "") && total > 0 {
			v := url.Values{}
			if id != "" {
				v.Set("user_id", id)
			}
			if p.Client != "" {
				v.Set("client_id", p.Client)
			}
			p.RevokeAll = "/admin/grants/revoke?" + v.Encode()
		}
	} else {
		p.Error = "No user " + p.User + "."
	}
	h.UI.Render(w, r, http.StatusOK, "admin/grants", p)
}

// safeBack accepts a console path to return to after an action.
func safeBack(s, fallback string) string {
	if strings.HasPrefix(s, "/admin") && !strings.ContainsAny(s, "\\\r\n") && !strings.HasPrefix(s, "//") {
		if u, err := url.Parse(s); err == nil && u.Host == "" && u.Scheme == "" {
			return s
		}
	}
	return fallback
}

// confirmRevokeGrant serves GET /admin/grants/{id}/revoke.
func (h *Handler) confirmRevokeGrant(w http.ResponseWriter, r *http.Request, u *identity.User) {
	ctx := r.Context()
	g, err := h.Grants.GrantByID(ctx, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	n := h.names(ctx)
	who, app := orID(n.user(g.UserID), g.UserID), orID(n.client(g.ClientID), g.ClientID)
	back := safeBack(r.URL.Query().Get("back"), "/admin/grants")
	h.confirm(w, r, confirmPage{
		base:     h.base(r, u, "grants", "Revoke grant"),
		Question: "Revoke the access " + who + " gave to " + app + "?",
		Detail: []string{
			"Scopes: " + strings.Join(g.Scopes, ", ") + ".",
			"The app's refresh and access tokens for this user stop working at once; it must ask the user again.",
		},
		Action: "/admin/grants/" + g.ID + "/revoke", Button: "Revoke grant", Cancel: back,
		Fields: map[string]string{"back": back},
	})
}

func orID(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

// pageRevokeGrant serves POST /admin/grants/{id}/revoke.
func (h *Handler) pageRevokeGrant(w http.ResponseWriter, r *http.Request, u *identity.User) {
	if _, err := h.service().RevokeGrant(r.Context(), actorFrom(r.Context()), pathID(r), ""); err != nil {
		h.fail(w, r, err)
		return
	}
	redirectDone(w, r, safeBack(r.PostForm.Get("back"), "/admin/grants"), "grant_revoked")
}

// confirmRevokeGrants serves GET /admin/grants/revoke?user_id=&client_id=.
func (h *Handler) confirmRevokeGrants(w http.ResponseWriter, r *http.Request, u *identity.User) {
	ctx := r.Context()
	userID, clientID := r.URL.Query().Get("user_id"), r.URL.Query().Get("client_id")
	if userID == "" && clientID == "" {
		h.UI.Error(w, r, http.StatusBadRequest, "Nothing to revoke", "Choose a user or a client first.")
		return
	}
	_, total, err := h.Grants.ListGrants(ctx, identity.GrantFilter{UserID: userID, ClientID: clientID, Page: identity.Page{Limit: 1}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	n := h.names(ctx)
	var whose []string
	if userID != "" {
		whose = append(whose, "of "+orID(n.user(userID), userID))
	}
	if clientID != "" {
		whose = append(whose, "to "+orID(n.client(clientID), clientID))
	}
	h.confirm(w, r, confirmPage{
		base:     h.base(r, u, "grants", "Revoke grants"),
		Question: "Revoke " + plural(total, "active grant", "active grants") + " " + strings.Join(whose, " ") + "?",
		Detail: []string{"Every refresh and access token issued under them stops working at once.",
			"The apps must ask the users for consent again."},
		Action: "/admin/grants/revoke", Button: "Revoke all", Cancel: "/admin/grants",
		Fields: map[string]string{"user_id": userID, "client_id": clientID},
	})
}

// pageRevokeGrants serves POST /admin/grants/revoke.
func (h *Handler) pageRevokeGrants(w http.ResponseWriter, r *http.Request, u *identity.User) {
	userID, clientID := r.PostForm.Get("user_id"), r.PostForm.Get("client_id")
	if _, err := h.service().RevokeGrants(r.Context(), actorFrom(r.Context()), userID, clientID); err != nil {
		h.fail(w, r, err)
		return
	}
	v := url.Values{"all": {"on"}}
	if userID != "" {
		v.Set("user", userID)
	}
	if clientID != "" {
		v.Set("client", clientID)
	}
	redirectDone(w, r, "/admin/grants?"+v.Encode(), "grants_revoked")
}

// --- API keys ---

type keyRow struct {
	ID, Name, Prefix, Env, OwnerID, OwnerEmail string
	Scopes                                     []string
	CreatedAt                                  time.Time
	ExpiresAt, LastUsedAt, RevokedAt           *time.Time
	Active                                     bool
}

func (h *Handler) keyRows(n *names, ks []*identity.APIKey) []keyRow {
	now := h.now()
	out := make([]keyRow, 0, len(ks))
	for _, k := range ks {
		out = append(out, keyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Env: k.Env, OwnerID: k.OwnerID,
			OwnerEmail: n.user(k.OwnerID), Scopes: k.Scopes, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt,
			LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt, Active: k.Active(now)})
	}
	return out
}

type keysPage struct {
	base
	Owner          string
	IncludeRevoked bool
	Keys           keyTable
	Pager          pager
}

// pageAPIKeys serves GET /admin/api-keys?owner=&all=.
func (h *Handler) pageAPIKeys(w http.ResponseWriter, r *http.Request, u *identity.User) {
	ctx := r.Context()
	q := r.URL.Query()
	p := keysPage{base: h.base(r, u, "keys", "API keys"), Owner: strings.TrimSpace(q.Get("owner")), IncludeRevoked: q.Get("all") == "on"}
	id, ok, err := h.resolveUser(ctx, p.Owner)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if ok {
		pg := pageOf(r)
		ks, total, err := h.APIKeys.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: id, IncludeRevoked: p.IncludeRevoked, Page: pg})
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		p.Keys = keyTable{Rows: h.keyRows(h.names(ctx), ks), Back: here(r)}
		p.Pager = newPager(r, pg, total)
	} else {
		p.Error = "No user " + p.Owner + "."
	}
	h.UI.Render(w, r, http.StatusOK, "admin/apikeys", p)
}

// confirmRevokeAPIKey serves GET /admin/api-keys/{id}/revoke.
func (h *Handler) confirmRevokeAPIKey(w http.ResponseWriter, r *http.Request, u *identity.User) {
	k, err := h.APIKeys.APIKeyByID(r.Context(), pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	owner := orID(h.names(r.Context()).user(k.OwnerID), k.OwnerID)
	back := safeBack(r.URL.Query().Get("back"), "/admin/api-keys")
	h.confirm(w, r, confirmPage{
		base:     h.base(r, u, "keys", "Revoke API key"),
		Question: "Revoke the API key " + k.Prefix + "… (" + k.Name + ") of " + owner + "?",
		Detail:   []string{"Programs using it get 401 from their next request on.", "This cannot be undone."},
		Action:   "/admin/api-keys/" + k.ID + "/revoke", Button: "Revoke key", Cancel: back,
		Fields: map[string]string{"back": back},
	})
}

// pageRevokeAPIKey serves POST /admin/api-keys/{id}/revoke.
func (h *Handler) pageRevokeAPIKey(w http.ResponseWriter, r *http.Request, u *identity.User) {
	if _, err := h.service().RevokeAPIKey(r.Context(), actorFrom(r.Context()), pathID(r), ""); err != nil {
		h.fail(w, r, err)
		return
	}
	redirectDone(w, r, safeBack(r.PostForm.Get("back"), "/admin/api-keys"), "key_revoked")
}

// --- audit log ---

type kv struct{ Key, Value string }

type auditRow struct {
	Time                 time.Time
	Type, Outcome        string
	Actor, ActorID       string
	User, UserID         string
	Client, ClientID, IP string
	Details              []kv
}

func (h *Handler) auditRows(ctx context.Context, es []*identity.AuditEvent) []auditRow {
	n := h.names(ctx)
	out := make([]auditRow, 0, len(es))
	for _, e := range es {
		row := auditRow{Time: e.Time, Type: e.Type, Outcome: e.Outcome, ActorID: e.ActorID, UserID: e.UserID,
			User: n.user(e.UserID), ClientID: e.ClientID, Client: n.client(e.ClientID), IP: e.IP}
		// The actor is a user or a client; show whichever name resolves.
		row.Actor = n.user(e.ActorID)
		if row.Actor == "" {
			row.Actor = n.client(e.ActorID)
		}
		keys := make([]string, 0, len(e.Details))
		for k := range e.Details {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if v := e.Details[k]; v != "" {
				row.Details = append(row.Details, kv{k, v})
			}
		}
		out = append(out, row)
	}
	return out
}

type auditPage struct {
	base
	Type, User, Client, Outcome, Since, Until string
	Types                                     []string // offered by the type filter
	Events                                    []auditRow
	Pager                                     pager
}

// The console's datetime-local inputs send "2006-01-02T15:04", read as UTC.
const localTime = "2006-01-02T15:04"

func parseLocal(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(localTime, s); err == nil {
		return t, true
	}
	t, err := time.Parse(time.RFC3339, s)
	return t, err == nil
}

// pageAudit serves GET /admin/audit?type=&user=&client=&outcome=&since=&until=.
func (h *Handler) pageAudit(w http.ResponseWriter, r *http.Request, u *identity.User) {
	ctx := r.Context()
	q := r.URL.Query()
	p := auditPage{base: h.base(r, u, "audit", "Audit log"), Type: strings.TrimSpace(q.Get("type")), User: strings.TrimSpace(q.Get("user")),
		Client: strings.TrimSpace(q.Get("client")), Outcome: q.Get("outcome"), Since: q.Get("since"), Until: q.Get("until"),
		Types: identity.AuditEventTypes}
	f := identity.AuditFilter{Type: p.Type, ClientID: p.Client, Page: pageOf(r)}
	var problems []string
	if p.Outcome == "success" || p.Outcome == "failure" {
		f.Outcome = p.Outcome
	}
	var ok bool
	if f.Since, ok = parseLocal(p.Since); !ok {
		problems = append(problems, "the start time is not a date and time")
	}
	if f.Until, ok = parseLocal(p.Until); !ok {
		problems = append(problems, "the end time is not a date and time")
	}
	id, found, err := h.resolveUser(ctx, p.User)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	f.UserID = id
	if !found {
		problems = append(problems, "there is no user "+p.User)
	}
	if len(problems) > 0 {
		p.Error = "Cannot filter: " + strings.Join(problems, "; ") + "."
		h.UI.Render(w, r, http.StatusBadRequest, "admin/audit", p)
		return
	}
	es, total, err := h.Audit.ListAudit(ctx, f)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	p.Events = h.auditRows(ctx, es)
	p.Pager = newPager(r, f.Page, total)
	h.UI.Render(w, r, http.StatusOK, "admin/audit", p)
}
