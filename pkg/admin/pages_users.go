package admin

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
)

type userForm struct {
	Email string
	Name  string
	Admin bool
}

type usersPage struct {
	base
	Query string
	Users []manage.UserView
	Pager pager
	Form  userForm
}

// pageUsers serves GET /admin/users?q=.
func (h *Handler) pageUsers(w http.ResponseWriter, r *http.Request, u *identity.User) {
	h.renderUsers(w, r, u, http.StatusOK, userForm{}, "")
}

func (h *Handler) renderUsers(w http.ResponseWriter, r *http.Request, u *identity.User, status int, f userForm, errMsg string) {
	p := usersPage{base: h.base(r, u, "users", "Users"), Query: r.URL.Query().Get("q"), Form: f}
	p.Error = errMsg
	pg := pageOf(r)
	us, total, err := h.Users.ListUsers(r.Context(), identity.UserFilter{Query: p.Query, Page: pg})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	for _, x := range us {
		p.Users = append(p.Users, manage.ViewUser(x))
	}
	p.Pager = newPager(r, pg, total)
	h.UI.Render(w, r, status, "admin/users", p)
}

// pageCreateUser serves POST /admin/users.
func (h *Handler) pageCreateUser(w http.ResponseWriter, r *http.Request, u *identity.User) {
	f := userForm{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Admin: r.PostForm.Get("admin") == "on"}
	nu, err := h.service().CreateUser(r.Context(), actorFrom(r.Context()), manage.UserInput{Email: f.Email, Name: f.Name, Password: r.PostForm.Get("password"), Admin: f.Admin})
	if code := identity.ErrorCode(err); code == identity.EINVALID || code == identity.ECONFLICT {
		h.renderUsers(w, r, u, httpx.StatusOf(err), f, identity.ErrorMessage(err))
		return
	} else if err != nil {
		h.internalError(w, r, err)
		return
	}
	redirectDone(w, r, "/admin/users/"+nu.ID, "user_created")
}

type userPage struct {
	base
	User   manage.UserView
	Self   bool
	Grants grantTable
	Keys   keyTable
}

// pageUser serves GET /admin/users/{id}: the account, its grants and keys.
func (h *Handler) pageUser(w http.ResponseWriter, r *http.Request, u *identity.User) {
	h.renderUser(w, r, u, http.StatusOK, "")
}

func (h *Handler) renderUser(w http.ResponseWriter, r *http.Request, u *identity.User, status int, errMsg string) {
	ctx := r.Context()
	target, err := h.Users.UserByID(ctx, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := userPage{base: h.base(r, u, "users", target.Email), User: manage.ViewUser(target), Self: target.ID == u.ID}
	p.Error = errMsg
	gs, _, err := h.Grants.ListGrants(ctx, identity.GrantFilter{UserID: target.ID, Page: identity.Page{Limit: 100}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	n := h.names(ctx)
	p.Grants = grantTable{Rows: grantRows(n, gs), Back: r.URL.Path, Compact: true}
	ks, _, err := h.APIKeys.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: target.ID, Page: identity.Page{Limit: 100}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	p.Keys = keyTable{Rows: h.keyRows(n, ks), Back: r.URL.Path, Compact: true}
	h.UI.Render(w, r, status, "admin/user", p)
}

// confirmDisableUser serves GET /admin/users/{id}/disable.
func (h *Handler) confirmDisableUser(w http.ResponseWriter, r *http.Request, u *identity.User) {
	ctx := r.Context()
	target, err := h.Users.UserByID(ctx, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	_, grants, err := h.Grants.ListGrants(ctx, identity.GrantFilter{UserID: target.ID, Page: identity.Page{Limit: 1}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	_, keys, err := h.APIKeys.ListAPIKeys(ctx, identity.APIKeyFilter{OwnerID: target.ID, Page: identity.Page{Limit: 1}})
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	back := "/admin/users/" + target.ID
	h.confirm(w, r, confirmPage{
		base:     h.base(r, u, "users", target.Email),
		Question: "Disable " + target.Email + "?",
		Detail: []string{
			"They are signed out everywhere and cannot sign in.",
			plural(grants, "connected app loses", "connected apps lose") + " access: the grant and its tokens are revoked.",
			plural(keys, "API key is", "API keys are") + " revoked.",
			"You can enable the account again; apps and keys then need to be set up anew.",
		},
		Action: back + "/disable", Button: "Disable user", Cancel: back,
	})
}

// pageSetUserDisabled serves POST /admin/users/{id}/disable and /enable.
func (h *Handler) pageSetUserDisabled(disabled bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, u *identity.User) {
		_, _, err := h.service().SetUserDisabled(r.Context(), actorFrom(r.Context()), pathID(r), disabled)
		if identity.ErrorCode(err) == identity.EINVALID {
			h.renderUser(w, r, u, http.StatusBadRequest, identity.ErrorMessage(err))
			return
		} else if err != nil {
			h.fail(w, r, err)
			return
		}
		notice := "user_enabled"
		if disabled {
			notice = "user_disabled"
		}
		redirectDone(w, r, "/admin/users/"+pathID(r), notice)
	}
}

// pageResetPassword serves POST /admin/users/{id}/password.
func (h *Handler) pageResetPassword(w http.ResponseWriter, r *http.Request, u *identity.User) {
	pw := r.PostForm.Get("password")
	if subtle.ConstantTimeCompare([]byte(pw), []byte(r.PostForm.Get("password_confirm"))) != 1 {
		h.renderUser(w, r, u, http.StatusBadRequest, "The two passwords differ.")
		return
	}
	err := h.service().ResetPassword(r.Context(), actorFrom(r.Context()), pathID(r), pw)
	if identity.ErrorCode(err) == identity.EINVALID {
		h.renderUser(w, r, u, http.StatusBadRequest, identity.ErrorMessage(err))
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	if pathID(r) == u.ID {
		// The admin's own session just ended (its version changed).
		http.Redirect(w, r, "/login?return_to="+url.QueryEscape("/admin/users/"+u.ID), http.StatusSeeOther)
		return
	}
	redirectDone(w, r, "/admin/users/"+pathID(r), "password_reset")
}

// pageSaveProfile serves POST /admin/users/{id}/profile: the display name
// and the verified-email flag (OpenID Connect profile and email claims),
// through the operator service like the CLI's user update.
func (h *Handler) pageSaveProfile(w http.ResponseWriter, r *http.Request, u *identity.User) {
	name, verified := r.PostForm.Get("name"), r.PostForm.Get("email_verified") == "on"
	updated, err := h.service().UpdateUser(r.Context(), actorFrom(r.Context()), pathID(r), manage.UserPatch{Name: &name, EmailVerified: &verified})
	if identity.ErrorCode(err) == identity.EINVALID {
		h.renderUser(w, r, u, http.StatusBadRequest, identity.ErrorMessage(err))
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	if updated.ID == u.ID {
		// The admin's own account changed: keep this browser signed in.
		if err := h.UI.Resign(w, r, userVersion(updated)); err != nil {
			h.internalError(w, r, err)
			return
		}
	}
	redirectDone(w, r, "/admin/users/"+pathID(r), "profile_saved")
}
