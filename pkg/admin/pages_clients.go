package admin

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
)

// Client kinds offered by the console form, each a fixed set of grant
// types: the combinations that make sense.
const (
	kindWeb     = "web"     // confidential, authorization code (+ refresh with offline_access)
	kindNative  = "native"  // public, authorization code + PKCE (+ refresh with offline_access)
	kindService = "service" // confidential, client_credentials
)

type clientForm struct {
	ID            string
	Name          string
	Kind          string
	RedirectURIs  string // one per line
	Origins       string // allowed origins, one per line
	Scopes        []string
	CanIntrospect bool
	TokenFormat   string
}

// Has reports whether the form has scope checked.
func (f clientForm) Has(scope string) bool { return slices.Contains(f.Scopes, scope) }

func parseClientForm(r *http.Request) clientForm {
	f := r.PostForm
	return clientForm{
		ID: strings.TrimSpace(f.Get("id")), Name: strings.TrimSpace(f.Get("name")), Kind: f.Get("kind"),
		RedirectURIs: f.Get("redirect_uris"), Origins: f.Get("allowed_origins"), Scopes: f["scopes"], CanIntrospect: f.Get("can_introspect") == "on",
		TokenFormat: f.Get("token_format"),
	}
}

func (f clientForm) uris() []string { return lines(f.RedirectURIs) }

func (f clientForm) origins() []string { return lines(f.Origins) }

// lines splits a textarea into its non-empty trimmed lines.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

type clientRow struct {
	ID, Name, Kind      string
	OwnerID, OwnerEmail string // "" for an operator's client
	Scopes              []string
	GrantTypes          []string
	Disabled            bool
	CreatedAt           time.Time
	// Registration is "dynamic" or "metadata_document" for a client that
	// registered itself (shown as unverified), "" otherwise.
	Registration string
	LastUsedAt   *time.Time
}

func kindOf(c *identity.Client) string {
	switch {
	case c.Public:
		return kindNative
	case slices.Contains(c.GrantTypes, identity.GrantAuthorizationCode):
		return kindWeb
	default:
		return kindService
	}
}

type clientsPage struct {
	base
	Clients   []clientRow
	Pager     pager
	Form      clientForm
	AllScopes []identity.ScopeInfo
	// Registered: the list shows only self-registered clients
	// (?filter=registered).
	Registered bool
}

// pageClients serves GET /admin/clients.
func (h *Handler) pageClients(w http.ResponseWriter, r *http.Request, u *identity.User) {
	h.renderClients(w, r, u, http.StatusOK, clientForm{Kind: kindWeb, TokenFormat: identity.TokenFormatOpaque,
		Scopes: []string{identity.ScopeReadPets}}, "")
}

func (h *Handler) renderClients(w http.ResponseWriter, r *http.Request, u *identity.User, status int, form clientForm, errMsg string) {
	p := clientsPage{base: h.base(r, u, "clients", "Clients"), Form: form, AllScopes: identity.Scopes}
	p.Error = errMsg
	pg := pageOf(r)
	p.Registered = r.URL.Query().Get("filter") == "registered"
	cs, total, err := h.Clients.ListClients(r.Context(), identity.ClientFilter{Registered: p.Registered, Page: pg})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	n := h.names(r.Context())
	for _, c := range cs {
		p.Clients = append(p.Clients, clientRow{ID: c.ID, Name: c.Name, Kind: kindOf(c), Scopes: c.Scopes,
			OwnerID: c.OwnerID, OwnerEmail: n.user(c.OwnerID),
			GrantTypes: c.GrantTypes, Disabled: c.Disabled, CreatedAt: c.CreatedAt, Registration: c.Registration, LastUsedAt: c.LastUsedAt})
	}
	p.Pager = newPager(r, pg, total)
	h.UI.Render(w, r, status, "admin/clients", p)
}

type secretPage struct {
	base
	Client manage.ClientView
	Secret string
	Fresh  bool // created rather than rotated
}

// pageCreateClient serves POST /admin/clients; the answer is the only page
// that ever shows the secret.
func (h *Handler) pageCreateClient(w http.ResponseWriter, r *http.Request, u *identity.User) {
	f := parseClientForm(r)
	in := manage.ClientInput{ID: f.ID, Name: f.Name, RedirectURIs: f.uris(), AllowedOrigins: f.origins(), Scopes: f.Scopes, CanIntrospect: f.CanIntrospect, TokenFormat: f.TokenFormat}
	// Web and native clients get manage.DefaultGrantTypes (refresh_token
	// with offline_access only), as from the CLI and the API.
	switch f.Kind {
	case kindWeb:
	case kindNative:
		in.Public = true
	case kindService:
		in.GrantTypes = []string{identity.GrantClientCredentials}
	default:
		h.renderClients(w, r, u, http.StatusBadRequest, f, "Choose what kind of client this is.")
		return
	}
	c, secret, err := h.service().CreateClient(r.Context(), actorFrom(r.Context()), in)
	if code := identity.ErrorCode(err); code == identity.EINVALID || code == identity.ECONFLICT {
		h.renderClients(w, r, u, httpx.StatusOf(err), f, identity.ErrorMessage(err))
		return
	} else if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.UI.Render(w, r, http.StatusCreated, "admin/secret",
		secretPage{base: h.base(r, u, "clients", "Client created"), Client: manage.ViewClient(c), Secret: secret, Fresh: true})
}

type clientPage struct {
	base
	Client     manage.ClientView
	OwnerEmail string
	// PreviousSecretActive: the secret replaced by the last rotation still
	// works, until Client.PreviousSecretExpiresAt.
	PreviousSecretActive bool
	Kind                 string
	Form                 clientForm
	AllScopes            []identity.ScopeInfo
	ActiveGrants         int
}

// pageClient serves GET /admin/clients/{id}: settings and actions.
func (h *Handler) pageClient(w http.ResponseWriter, r *http.Request, u *identity.User) {
	c, err := h.Clients.ClientByID(r.Context(), pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := clientForm{Name: c.Name, RedirectURIs: strings.Join(c.RedirectURIs, "\n"), Origins: strings.Join(c.AllowedOrigins, "\n"), Scopes: c.Scopes,
		CanIntrospect: c.CanIntrospect, TokenFormat: c.TokenFormat}
	h.renderClient(w, r, u, http.StatusOK, c, f, "")
}

func (h *Handler) renderClient(w http.ResponseWriter, r *http.Request, u *identity.User, status int, c *identity.Client, f clientForm, errMsg string) {
	p := clientPage{base: h.base(r, u, "clients", c.Name), Client: manage.ViewClient(c), Kind: kindOf(c), Form: f, AllScopes: identity.Scopes,
		OwnerEmail: h.names(r.Context()).user(c.OwnerID), PreviousSecretActive: c.PreviousSecretActive(h.now())}
	p.Error = errMsg
	_, n, err := h.Grants.ListGrants(r.Context(), identity.GrantFilter{ClientID: c.ID, Page: identity.Page{Limit: 1}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	p.ActiveGrants = n
	h.UI.Render(w, r, status, "admin/client", p)
}

// pageUpdateClient serves POST /admin/clients/{id}.
func (h *Handler) pageUpdateClient(w http.ResponseWriter, r *http.Request, u *identity.User) {
	f := parseClientForm(r)
	uris, scopes, origins := f.uris(), f.Scopes, f.origins()
	patch := manage.ClientPatch{Name: &f.Name, RedirectURIs: &uris, AllowedOrigins: &origins, Scopes: &scopes, CanIntrospect: &f.CanIntrospect, TokenFormat: &f.TokenFormat}
	_, err := h.service().UpdateClient(r.Context(), actorFrom(r.Context()), pathID(r), patch)
	if identity.ErrorCode(err) == identity.EINVALID {
		c, cerr := h.Clients.ClientByID(r.Context(), pathID(r))
		if cerr != nil {
			h.fail(w, r, cerr)
			return
		}
		h.renderClient(w, r, u, http.StatusBadRequest, c, f, identity.ErrorMessage(err))
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	redirectDone(w, r, "/admin/clients/"+pathID(r), "client_updated")
}

// confirmClient serves the GET confirmations of rotate, disable and delete.
func (h *Handler) confirmClient(action string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, u *identity.User) {
		c, err := h.Clients.ClientByID(r.Context(), pathID(r))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		_, grants, err := h.Grants.ListGrants(r.Context(), identity.GrantFilter{ClientID: c.ID, Page: identity.Page{Limit: 1}})
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		back := "/admin/clients/" + c.ID
		p := confirmPage{base: h.base(r, u, "clients", c.Name), Cancel: back}
		switch action {
		case "rotate":
			p.Question, p.Button, p.Action = "Rotate the secret of "+c.Name+"?", "Rotate secret", back+"/rotate-secret"
			p.Detail = []string{"A new secret is shown once on the next page.",
				"With a grace period the current secret keeps working until it ends, so the app can be updated without downtime; without one it stops at once."}
			p.Choice = &confirmChoice{Name: "grace", Label: "Keep the current secret working for", Options: manage.GraceChoices}
		case "disable":
			p.Question, p.Button, p.Action = "Disable "+c.Name+"?", "Disable client", back+"/disable"
			p.Detail = []string{"Its access and refresh tokens stop working at once and it cannot get new ones.",
				plural(grants, "user grant stays", "user grants stay") + " on record; you can enable the client again later."}
		case "delete":
			p.Question, p.Button, p.Action = "Delete "+c.Name+"?", "Delete client", back+"/delete"
			p.Detail = []string{"The client, " + plural(grants, "active grant", "active grants") + " and all its tokens are deleted.",
				"This cannot be undone."}
		}
		h.confirm(w, r, p)
	}
}

// pageRotateSecret serves POST /admin/clients/{id}/rotate-secret.
func (h *Handler) pageRotateSecret(w http.ResponseWriter, r *http.Request, u *identity.User) {
	grace, err := manage.ParseGrace(r.PostForm.Get("grace"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, secret, err := h.service().RotateClientSecret(r.Context(), actorFrom(r.Context()), pathID(r), "", grace)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.UI.Render(w, r, http.StatusOK, "admin/secret",
		secretPage{base: h.base(r, u, "clients", "Secret rotated"), Client: manage.ViewClient(c), Secret: secret})
}

// pageSetClientDisabled serves POST /admin/clients/{id}/disable and /enable.
func (h *Handler) pageSetClientDisabled(disabled bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, u *identity.User) {
		if _, err := h.service().SetClientDisabled(r.Context(), actorFrom(r.Context()), pathID(r), disabled); err != nil {
			h.fail(w, r, err)
			return
		}
		notice := "client_enabled"
		if disabled {
			notice = "client_disabled"
		}
		redirectDone(w, r, "/admin/clients/"+pathID(r), notice)
	}
}

// pageDeleteClient serves POST /admin/clients/{id}/delete.
func (h *Handler) pageDeleteClient(w http.ResponseWriter, r *http.Request, u *identity.User) {
	if err := h.service().DeleteClient(r.Context(), actorFrom(r.Context()), pathID(r), ""); err != nil {
		h.fail(w, r, err)
		return
	}
	redirectDone(w, r, "/admin/clients", "client_deleted")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
