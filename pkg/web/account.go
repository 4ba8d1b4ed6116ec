package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
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
	"session_ended": "Signed out. That browser will have to sign in again.",
	"profile_saved": "Your name is saved. Apps you connected get it the next time they ask.",
}

// accountPage is the data of templates/account.html.
type accountPage struct {
	Email string
	// Name is the display name (the OpenID Connect name claim) as shown in
	// the profile form; ProfileError explains a refused one.
	Name         string
	ProfileError string
	Notice       string
	Grants       []grantView
	Keys         []keyView
	// Sessions are the user's signed-in browsers, this one first.
	Sessions  []sessionView
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
	if p.ProfileError == "" {
		p.Name = u.Name
	}
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
	if p.Sessions, err = h.sessionViews(r, u); err != nil {
		h.internalError(w, r, err)
		return
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
			ID: k.ID, Name: keyName(k), Prefix: k.Prefix, Env: k.Env, Scopes: k.Scopes,
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

// handleRevokeGrant serves POST /account/grants/{id}/revoke.
func (h *Handler) handleRevokeGrant(w http.ResponseWriter, r *http.Request) {
	h.revokeOwn(w, r, "grant_revoked", func(ctx context.Context, a manage.Actor, id, owner string) error {
		_, err := h.service().RevokeGrant(ctx, a, id, owner)
		return err
	})
}

// handleRevokeKey serves POST /account/keys/{id}/revoke.
func (h *Handler) handleRevokeKey(w http.ResponseWriter, r *http.Request) {
	h.revokeOwn(w, r, "key_revoked", func(ctx context.Context, a manage.Actor, id, owner string) error {
		_, err := h.service().RevokeAPIKey(ctx, a, id, owner)
		return err
	})
}

// revokeOwn revokes the signed-in user's grant or key {id} with the owner
// set, so that one that is not theirs (or no longer active) is "not
// found", like one that does not exist.
func (h *Handler) revokeOwn(w http.ResponseWriter, r *http.Request, notice string,
	revoke func(ctx context.Context, a manage.Actor, id, owner string) error) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	err := revoke(r.Context(), h.actor(r, u), mux.Vars(r)["id"], u.ID)
	switch {
	case identity.IsNotFound(err):
		h.notFound(w, r)
	case err != nil:
		h.internalError(w, r, err)
	default:
		http.Redirect(w, r, "/account?notice="+notice, http.StatusSeeOther)
	}
}

// service is the operator service (pkg/manage) on this handler's stores:
// the account page's actions follow the same rules, and leave the same
// audit events, as the CLI's and the admin console's.
func (h *Handler) service() *manage.Service {
	return &manage.Service{Users: h.Users, Clients: h.Clients, Grants: h.Grants, APIKeys: h.APIKeys,
		Audit: h.Audit, Logouts: h.GrantLogouts, Now: h.Now, Logger: h.Logger}
}

// actor is the signed-in user acting on their own account.
func (h *Handler) actor(r *http.Request, u *identity.User) manage.Actor {
	return manage.Actor{ID: u.ID, Kind: manage.ActorUser, Channel: identity.ChannelAccount, Credential: "session",
		IP: clientaddr.Of(r), UserAgent: truncate(r.UserAgent(), 256)}
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
	days, ok := keyExpiries[f.Expiry]
	if !ok {
		h.renderAccount(w, r, http.StatusBadRequest, u, accountPage{Form: f, FormError: "Choose when the key expires."})
		return
	}
	in := manage.APIKeyInput{OwnerID: u.ID, Name: f.Name, Env: f.Env, Scopes: f.Scopes}
	if days > 0 {
		exp := h.now().AddDate(0, 0, days)
		in.ExpiresAt = &exp
	}
	// The name, environment and scope rules are pkg/manage's, the same as
	// for `petstore-auth apikey create`.
	k, key, err := h.service().CreateAPIKey(r.Context(), h.actor(r, u), in)
	if identity.ErrorCode(err) == identity.EINVALID {
		h.renderAccount(w, r, http.StatusBadRequest, u, accountPage{Form: f, FormError: identity.ErrorMessage(err)})
		return
	} else if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.renderAccount(w, r, http.StatusCreated, u, accountPage{NewKey: key, NewKeyName: keyName(k)})
}

// keyName is what the page calls a key: its name, which is optional
// (manage.MaxAPIKeyName), or its display prefix.
func keyName(k *identity.APIKey) string {
	if k.Name == "" {
		return k.Prefix + "…"
	}
	return k.Name
}

// handleProfile serves POST /account/profile: the user changes their
// display name through pkg/manage (same rule and audit event as the CLI and
// the admin console). The change ends the user's other browser sessions
// (identity.SessionVersion) but keeps this one.
func (h *Handler) handleProfile(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	name := r.PostForm.Get("name")
	updated, err := h.service().UpdateUser(r.Context(), h.actor(r, u), u.ID, manage.UserPatch{Name: &name})
	if identity.ErrorCode(err) == identity.EINVALID {
		h.renderAccount(w, r, http.StatusBadRequest, u, accountPage{Name: truncate(name, 400), ProfileError: identity.ErrorMessage(err)})
		return
	} else if err != nil {
		h.internalError(w, r, err)
		return
	}
	if err := h.UI.Resign(w, r, userVersion(updated)); err != nil {
		h.internalError(w, r, err)
		return
	}
	http.Redirect(w, r, "/account?notice=profile_saved", http.StatusSeeOther)
}
