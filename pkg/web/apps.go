package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
)

// The developer page (/account/apps): a signed-in user registers and
// manages their own OAuth apps. Every rule (what an app may be, the limit
// per user, who may touch which app) is pkg/manage's and pkg/identity's;
// this file only reads forms and renders pages. Another user's app is
// "not found", exactly like an app that does not exist.

// appKinds are the choices of the form's "Kind" field.
const (
	appKindWeb    = "web"    // confidential: a server that keeps a secret
	appKindPublic = "public" // browser or native app: PKCE, no secret
)

// appNotices are the confirmations a redirect to /account/apps may show.
var appNotices = map[string]string{
	"app_saved":   "Your app was saved.",
	"app_deleted": "App deleted. Its users are disconnected and its tokens no longer work.",
	"app_exists":  "This app was registered already (the form was sent again). Its secret was shown once; if you did not copy it, rotate it.",
}

// appView is an app as the pages show it.
type appView struct {
	ID             string
	Name           string
	Public         bool
	RedirectURIs   []string
	AllowedOrigins []string
	Scopes         []string
	Connected      int
	CreatedAt      time.Time
	// PreviousUntil: the secret replaced by the last rotation works until
	// then; nil when none does.
	PreviousUntil *time.Time
}

func (h *Handler) viewApp(a *manage.App) appView {
	v := appView{ID: a.ID, Name: a.Name, Public: a.Public, RedirectURIs: a.RedirectURIs, AllowedOrigins: a.AllowedOrigins,
		Scopes: a.Scopes, Connected: a.Connected, CreatedAt: a.CreatedAt}
	if a.PreviousSecretActive(h.now()) {
		v.PreviousUntil = a.PreviousSecretExpiresAt
	}
	return v
}

// appsPage is the data of templates/apps.html.
type appsPage struct {
	Apps   []appView
	Max    int
	Full   bool
	Notice string
}

// appForm is the register/edit form as submitted, to refill it on error.
type appForm struct {
	// FormID makes registering idempotent: the app's id derives from it
	// (identity.ClientIDFor), so the same form sent twice (a reload of the
	// secret page) finds the app instead of making a second one.
	FormID       string
	Name         string
	Kind         string
	RedirectURIs string // one per line
	Origins      string // one per line
}

func parseAppForm(r *http.Request) appForm {
	return appForm{FormID: r.PostForm.Get("form_id"), Name: strings.TrimSpace(r.PostForm.Get("name")), Kind: r.PostForm.Get("kind"),
		RedirectURIs: r.PostForm.Get("redirect_uris"), Origins: r.PostForm.Get("allowed_origins")}
}

// appFormPage is the data of templates/app.html: the register form (App
// nil) or an app's page with its edit form.
type appFormPage struct {
	App    *appView
	Form   appForm
	Max    int
	Notice string
	// Errors are the problems by field (identity.Field*); Error is the
	// message of a problem no field shows.
	Errors map[string][]string
	Error  string
}

// appSecretPage is the data of templates/app_secret.html, the only page
// that shows a secret.
type appSecretPage struct {
	App    appView
	Secret string
	Fresh  bool // registered rather than rotated
}

// appConfirmPage is the data of templates/app_confirm.html.
type appConfirmPage struct {
	App    appView
	Rotate bool // else delete
	Graces []manage.Choice
}

// handleApps serves GET /account/apps: the user's apps.
func (h *Handler) handleApps(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	apps, err := h.service().Apps(r.Context(), u.ID)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	p := appsPage{Max: manage.MaxAppsPerUser, Full: len(apps) >= manage.MaxAppsPerUser, Notice: appNotices[r.URL.Query().Get("notice")]}
	for _, a := range apps {
		p.Apps = append(p.Apps, h.viewApp(a))
	}
	h.UI.Render(w, r, http.StatusOK, "apps", p)
}

// handleNewApp serves GET /account/apps/new: the register form.
func (h *Handler) handleNewApp(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.requireUser(w, r); !ok {
		return
	}
	h.UI.Render(w, r, http.StatusOK, "app", appFormPage{Form: appForm{Kind: appKindWeb, FormID: identity.NewFormID()}, Max: manage.MaxAppsPerUser})
}

// handleCreateApp serves POST /account/apps. The secret of a confidential
// app is shown once, on the page answering this POST (no-store).
func (h *Handler) handleCreateApp(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	f := parseAppForm(r)
	// Origins go through whatever the kind: identity.Client.Validate says
	// that a server-side app cannot have them, instead of dropping them.
	in := manage.AppInput{Name: f.Name, RedirectURIs: lines(f.RedirectURIs), Public: f.Kind == appKindPublic,
		AllowedOrigins: lines(f.Origins)}
	if f.Kind != appKindWeb && f.Kind != appKindPublic {
		h.renderAppForm(w, r, nil, f, identity.Errorf(identity.EINVALID, "Choose what kind of app this is."))
		return
	}
	if f.FormID != "" {
		in.ID = identity.ClientIDFor(f.Name, u.ID+"\n"+f.FormID)
	}
	c, secret, err := h.service().CreateApp(r.Context(), h.actor(r, u), u.ID, in)
	if identity.ErrorCode(err) == identity.ECONFLICT && in.ID != "" {
		if _, err := h.service().App(r.Context(), u.ID, in.ID); err == nil {
			http.Redirect(w, r, "/account/apps/"+url.PathEscape(in.ID)+"?notice=app_exists", http.StatusSeeOther)
			return
		}
	}
	if err != nil {
		h.renderAppForm(w, r, nil, f, err)
		return
	}
	h.UI.Render(w, r, http.StatusCreated, "app_secret",
		appSecretPage{App: h.viewApp(&manage.App{Client: c}), Secret: secret, Fresh: true})
}

// renderAppForm answers a refused form with the problems next to their
// fields and the input kept; err that is not EINVALID is a server error.
func (h *Handler) renderAppForm(w http.ResponseWriter, r *http.Request, app *appView, f appForm, err error) {
	if identity.ErrorCode(err) != identity.EINVALID {
		h.internalError(w, r, err)
		return
	}
	p := appFormPage{App: app, Form: f, Max: manage.MaxAppsPerUser, Errors: identity.FieldErrors(err)}
	shown := 0
	for _, k := range []string{identity.FieldName, identity.FieldRedirectURIs, identity.FieldAllowedOrigins} {
		shown += len(p.Errors[k])
	}
	if p.Errors == nil || shown == 0 {
		p.Error = identity.ErrorMessage(err)
	}
	h.UI.Render(w, r, http.StatusBadRequest, "app", p)
}

// ownApp loads the signed-in user's app {id}; anything else answers 404.
func (h *Handler) ownApp(w http.ResponseWriter, r *http.Request, u *identity.User) (*manage.App, bool) {
	a, err := h.service().App(r.Context(), u.ID, mux.Vars(r)["id"])
	switch {
	case identity.IsNotFound(err):
		h.notFound(w, r)
		return nil, false
	case err != nil:
		h.internalError(w, r, err)
		return nil, false
	}
	return a, true
}

// handleApp serves GET /account/apps/{id}: the app and its edit form.
func (h *Handler) handleApp(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	a, ok := h.ownApp(w, r, u)
	if !ok {
		return
	}
	v := h.viewApp(a)
	f := appForm{Name: a.Name, RedirectURIs: strings.Join(a.RedirectURIs, "\n"), Origins: strings.Join(a.AllowedOrigins, "\n")}
	h.UI.Render(w, r, http.StatusOK, "app", appFormPage{App: &v, Form: f, Max: manage.MaxAppsPerUser,
		Notice: appNotices[r.URL.Query().Get("notice")]})
}

// handleUpdateApp serves POST /account/apps/{id}.
func (h *Handler) handleUpdateApp(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	a, ok := h.ownApp(w, r, u)
	if !ok {
		return
	}
	f := parseAppForm(r)
	uris := lines(f.RedirectURIs)
	p := manage.AppPatch{Name: &f.Name, RedirectURIs: &uris}
	if a.Public {
		origins := lines(f.Origins)
		p.AllowedOrigins = &origins
	}
	if _, err := h.service().UpdateApp(r.Context(), h.actor(r, u), u.ID, a.ID, p); err != nil {
		v := h.viewApp(a)
		h.renderAppForm(w, r, &v, f, err)
		return
	}
	http.Redirect(w, r, "/account/apps/"+a.ID+"?notice=app_saved", http.StatusSeeOther)
}

// handleConfirmApp serves GET /account/apps/{id}/rotate and /delete: the
// confirmation pages, whose forms post to the same path.
func (h *Handler) handleConfirmApp(rotate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := h.requireUser(w, r)
		if !ok {
			return
		}
		a, ok := h.ownApp(w, r, u)
		if !ok {
			return
		}
		if rotate && a.Public {
			h.notFound(w, r) // a public app has no secret to rotate
			return
		}
		h.UI.Render(w, r, http.StatusOK, "app_confirm", appConfirmPage{App: h.viewApp(a), Rotate: rotate, Graces: manage.GraceChoices})
	}
}

// handleRotateApp serves POST /account/apps/{id}/rotate with the chosen
// grace period; the answer is the only page showing the new secret.
func (h *Handler) handleRotateApp(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	grace, err := manage.ParseGrace(r.PostForm.Get("grace"))
	if err == nil {
		var c *identity.Client
		var secret string
		c, secret, err = h.service().RotateClientSecret(r.Context(), h.actor(r, u), mux.Vars(r)["id"], u.ID, grace)
		if err == nil {
			h.UI.Render(w, r, http.StatusOK, "app_secret", appSecretPage{App: h.viewApp(&manage.App{Client: c}), Secret: secret})
			return
		}
	}
	switch identity.ErrorCode(err) {
	case identity.ENOTFOUND:
		h.notFound(w, r)
	case identity.EINVALID:
		h.UI.Error(w, r, http.StatusBadRequest, "Secret not rotated", identity.ErrorMessage(err))
	default:
		h.internalError(w, r, err)
	}
}

// handleDeleteApp serves POST /account/apps/{id}/delete: the app goes with
// its grants and tokens.
func (h *Handler) handleDeleteApp(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	err := h.service().DeleteClient(r.Context(), h.actor(r, u), mux.Vars(r)["id"], u.ID)
	switch {
	case identity.IsNotFound(err):
		h.notFound(w, r)
	case err != nil:
		h.internalError(w, r, err)
	default:
		http.Redirect(w, r, "/account/apps?notice=app_deleted", http.StatusSeeOther)
	}
}

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
