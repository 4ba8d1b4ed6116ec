package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// keyScopes are the scopes a user can put on an API key.
var keyScopes = []string{identity.ScopeReadPets, identity.ScopeWritePets}

// keyExpiries are the choices of the "Expires" field, in days (0 = never).
var keyExpiries = map[string]int{"never": 0, "30": 30, "90": 90, "365": 365}

// notices are the one-line confirmations shown after a redirect; only
// these fixed texts can appear, never anything from the URL.
var notices = map[string]string{
	"grant_revoked": "Access revoked. The app can no longer use your PetStore account.",
	"key_revoked":   "API key revoked. Requests using it are refused from now on.",
}

// accountPage is the data of templates/account.html.
type accountPage struct {
	Email     string
	Notice    string
	Grants    []grantView
	Keys      []keyView
	KeyScopes []identity.ScopeInfo
	// NewKey is the API key just created, shown once and never again.
	NewKey     string
	NewKeyName string
	Form       keyForm
	FormError  string
}

type grantView struct {
	ID         string
	ClientName string
	Scopes     []identity.ScopeInfo
	CreatedAt  time.Time
	LastUsedAt time.Time
}

type keyView struct {
	ID         string
	Name       string
	Prefix     string
	Env        string
	Scopes     []string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	Expired    bool
}

// keyForm is the create-key form as submitted, to refill it on error.
type keyForm struct {
	Name   string
	Env    string
	Scopes []string
	Expiry string
}

// handleAccount serves GET /account: connected apps and API keys.
func (h *Handler) handleAccount(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	p := accountPage{Notice: notices[r.URL.Query().Get("notice")]}
	h.renderAccount(w, r, http.StatusOK, u, p)
}

func (h *Handler) renderAccount(w http.ResponseWriter, r *http.Request, status int, u *identity.User, p accountPage) {
	ctx := r.Context()
	p.Email = u.Email
	if p.Form.Env == "" {
		p.Form = keyForm{Env: identity.EnvTest, Scopes: []string{identity.ScopeReadPets}, Expiry: "90"}
	}
	for _, s := range keyScopes {
		info, _ := identity.LookupScope(s)
		p.KeyScopes = append(p.KeyScopes, info)
	}
	grants, _, err := h.Grants.ListGrants(ctx, identity.GrantFilter{UserID: u.ID, Page: identity.Page{Limit: 200}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	names := map[string]string{}
	for _, g := range grants {
		if _, ok := names[g.ClientID]; !ok {
			names[g.ClientID] = h.clientName(r, g.ClientID)
		}
		v := grantView{ID: g.ID, ClientName: names[g.ClientID], CreatedAt: g.CreatedAt, LastUsedAt: g.LastUsedAt}
		for _, s := range g.Scopes {
			info, ok := identity.LookupScope(s)
			if !ok {
				info = identity.ScopeInfo{Name: s, Title: s}
			}
			v.Scopes = append(v.Scopes, info)
		}
		p.Grants = append(p.Grants, v)
	}
	keys, _, err := h.APIKeys.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: u.ID, Page: identity.Page{Limit: 200}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	now := h.now()
	for _, k := range keys {
		if k.RevokedAt != nil {
			continue
		}
		p.Keys = append(p.Keys, keyView{
			ID: k.ID, Name: k.Name, Prefix: k.Prefix, Env: k.Env, Scopes: k.Scopes,
			CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt, Expired: !k.Active(now),
		})
	}
	h.UI.Render(w, r, status, "account", p)
}

// requireUser returns the signed-in user or redirects to the login page.
func (h *Handler) requireUser(w http.ResponseWriter, r *http.Request) (*identity.User, bool) {
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return nil, false
	}
	if u == nil {
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?return_to="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		} else {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		}
		return nil, false
	}
	return u, true
}

// handleRevokeGrant serves POST /account/grants/{id}/revoke. A grant that
// is not the user's own is "not found", like one that does not exist.
func (h *Handler) handleRevokeGrant(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	id := mux.Vars(r)["id"]
	g, err := h.Grants.GrantByID(r.Context(), id)
	switch {
	case identity.IsNotFound(err) || (err == nil && (g.UserID != u.ID || g.RevokedAt != nil)):
		h.notFound(w, r)
		return
	case err != nil:
		h.internalError(w, r, err)
		return
	}
	if err := h.Grants.RevokeGrant(r.Context(), g.ID); err != nil {
		h.internalError(w, r, err)
		return
	}
	h.audit(r, identity.AuditEvent{Type: "grant.revoked", UserID: u.ID, ClientID: g.ClientID,
		Details: map[string]string{"grant_id": g.ID}})
	http.Redirect(w, r, "/account?notice=grant_revoked", http.StatusSeeOther)
}

// handleCreateKey serves POST /account/keys. The key is shown once on the
// page answering this POST (no-store) and never stored: only its SHA-256
// and a display prefix are.
func (h *Handler) handleCreateKey(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	f := keyForm{
		Name:   strings.TrimSpace(r.PostForm.Get("name")),
		Env:    r.PostForm.Get("env"),
		Expiry: r.PostForm.Get("expiry"),
	}
	for _, s := range keyScopes {
		if slices.Contains(r.PostForm["scope"], s) {
			f.Scopes = append(f.Scopes, s)
		}
	}
	days, okExpiry := keyExpiries[f.Expiry]
	var problem string
	switch {
	case f.Name == "" || utf8.RuneCountInString(f.Name) > 64:
		problem = "Give the key a name of up to 64 characters."
	case f.Env != identity.EnvTest && f.Env != identity.EnvLive:
		problem = "Choose test or live mode."
	case len(f.Scopes) == 0:
		problem = "Choose at least one permission."
	case !okExpiry:
		problem = "Choose when the key expires."
	}
	if problem != "" {
		h.renderAccount(w, r, http.StatusBadRequest, u, accountPage{Form: f, FormError: problem})
		return
	}
	key, err := apikey.Generate(f.Env)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	k := &identity.APIKey{
		OwnerID: u.ID, Name: f.Name, Env: f.Env, Scopes: f.Scopes,
		Prefix: apikey.DisplayPrefix(key), Hash: apikey.Hash(key), CreatedAt: h.now(),
	}
	if days > 0 {
		exp := h.now().AddDate(0, 0, days)
		k.ExpiresAt = &exp
	}
	if err := h.APIKeys.CreateAPIKey(r.Context(), k); err != nil {
		h.internalError(w, r, err)
		return
	}
	h.audit(r, identity.AuditEvent{Type: "apikey.created", UserID: u.ID, Details: map[string]string{
		"key_id": k.ID, "name": k.Name, "env": k.Env, "prefix": k.Prefix, "scopes": strings.Join(k.Scopes, " "),
	}})
	h.renderAccount(w, r, http.StatusCreated, u, accountPage{NewKey: key, NewKeyName: k.Name})
}

// handleRevokeKey serves POST /account/keys/{id}/revoke.
func (h *Handler) handleRevokeKey(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	k, err := h.APIKeys.APIKeyByID(r.Context(), mux.Vars(r)["id"])
	switch {
	case identity.IsNotFound(err) || (err == nil && (k.OwnerID != u.ID || k.RevokedAt != nil)):
		h.notFound(w, r)
		return
	case err != nil:
		h.internalError(w, r, err)
		return
	}
	if err := h.APIKeys.RevokeAPIKey(r.Context(), k.ID); err != nil {
		h.internalError(w, r, err)
		return
	}
	h.audit(r, identity.AuditEvent{Type: "apikey.revoked", UserID: u.ID, Details: map[string]string{
		"key_id": k.ID, "prefix": k.Prefix,
	}})
	http.Redirect(w, r, "/account?notice=key_revoked", http.StatusSeeOther)
}
