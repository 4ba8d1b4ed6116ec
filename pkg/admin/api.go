package admin

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
)

// Page sizes of the API.
const (
	defaultLimit = 50
	maxLimit     = 500
)

// mountAPI registers the JSON API; every route but the OpenAPI document
// requires an admin credential. The routes and docs/admin-openapi.json are
// kept equal by a test.
func (h *Handler) mountAPI(r *mux.Router) {
	api := r.PathPrefix(APIPrefix).Subrouter()
	api.HandleFunc("/openapi.json", h.handleOpenAPI).Methods(http.MethodGet)

	a := api.NewRoute().Subrouter()
	a.Use(h.requireAdmin)
	a.HandleFunc("/stats", h.apiStats).Methods(http.MethodGet)

	a.HandleFunc("/clients", h.apiListClients).Methods(http.MethodGet)
	a.HandleFunc("/clients", h.apiCreateClient).Methods(http.MethodPost)
	a.HandleFunc("/clients/{id}", h.apiGetClient).Methods(http.MethodGet)
	a.HandleFunc("/clients/{id}", h.apiUpdateClient).Methods(http.MethodPatch)
	a.HandleFunc("/clients/{id}", h.apiDeleteClient).Methods(http.MethodDelete)
	a.HandleFunc("/clients/{id}/rotate-secret", h.apiRotateSecret).Methods(http.MethodPost)
	a.HandleFunc("/clients/{id}/disable", h.apiSetClientDisabled(true)).Methods(http.MethodPost)
	a.HandleFunc("/clients/{id}/enable", h.apiSetClientDisabled(false)).Methods(http.MethodPost)

	a.HandleFunc("/users", h.apiListUsers).Methods(http.MethodGet)
	a.HandleFunc("/users", h.apiCreateUser).Methods(http.MethodPost)
	a.HandleFunc("/users/{id}", h.apiGetUser).Methods(http.MethodGet)
	a.HandleFunc("/users/{id}", h.apiUpdateUser).Methods(http.MethodPatch)
	a.HandleFunc("/users/{id}/disable", h.apiSetUserDisabled(true)).Methods(http.MethodPost)
	a.HandleFunc("/users/{id}/enable", h.apiSetUserDisabled(false)).Methods(http.MethodPost)
	a.HandleFunc("/users/{id}/password", h.apiResetPassword).Methods(http.MethodPost)

	a.HandleFunc("/grants", h.apiListGrants).Methods(http.MethodGet)
	a.HandleFunc("/grants/revoke", h.apiRevokeGrants).Methods(http.MethodPost)
	a.HandleFunc("/grants/{id}", h.apiGetGrant).Methods(http.MethodGet)
	a.HandleFunc("/grants/{id}/revoke", h.apiRevokeGrant).Methods(http.MethodPost)

	a.HandleFunc("/api-keys", h.apiListAPIKeys).Methods(http.MethodGet)
	a.HandleFunc("/api-keys/{id}", h.apiGetAPIKey).Methods(http.MethodGet)
	a.HandleFunc("/api-keys/{id}/revoke", h.apiRevokeAPIKey).Methods(http.MethodPost)

	a.HandleFunc("/audit", h.apiListAudit).Methods(http.MethodGet)
}

// decode reads one JSON object of at most 1 MiB into v, refusing other
// content types, unknown fields and trailing data.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return identity.Errorf(httpkit.CodeUnsupportedMedia, "The request body must be application/json.")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, httpx.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var unknown *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return identity.Errorf(httpkit.CodeTooLarge, "The request body is larger than 1 MiB.")
		case errors.As(err, &unknown):
			return identity.Errorf(identity.EINVALID, "The field %q has the wrong type.", unknown.Field)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return identity.Errorf(identity.EINVALID, "The body has an %s.", strings.TrimPrefix(err.Error(), "json: "))
		default:
			return identity.Errorf(identity.EINVALID, "The request body is not a valid JSON object.")
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return identity.Errorf(identity.EINVALID, "The request body must hold exactly one JSON object.")
	}
	return nil
}

// page parses ?offset=&limit=.
func page(r *http.Request) (identity.Page, error) {
	p := identity.Page{Limit: defaultLimit}
	q := r.URL.Query()
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 1_000_000_000 {
			return p, identity.Errorf(identity.EINVALID, "offset must be a non-negative integer.")
		}
		p.Offset = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return p, identity.Errorf(identity.EINVALID, "limit must be an integer from 1 to %d.", maxLimit)
		}
		p.Limit = n
	}
	return p, nil
}

func boolParam(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, identity.Errorf(identity.EINVALID, "%s must be true or false.", name)
	}
	return b, nil
}

func timeParam(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, identity.Errorf(identity.EINVALID, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z.", name)
	}
	return t, nil
}

func pathID(r *http.Request) string { return mux.Vars(r)["id"] }

// apiStats handles GET /stats: today's counts (UTC day).
func (h *Handler) apiStats(w http.ResponseWriter, r *http.Request) {
	since := h.now().Truncate(24 * time.Hour)
	c, err := h.Stats.AdminCounts(r.Context(), since)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, struct {
		Counts
		Since time.Time `json:"since"`
	}{c, since})
}

// apiListClients handles GET /clients.
func (h *Handler) apiListClients(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	cs, total, err := h.Clients.ListClients(r.Context(), identity.ClientFilter{Page: p})
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.NewList(cs, total, p, manage.ViewClient))
}

// apiCreateClient handles POST /clients; the answer carries the secret once.
func (h *Handler) apiCreateClient(w http.ResponseWriter, r *http.Request) {
	var in manage.ClientInput
	if err := decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, secret, err := h.service().CreateClient(r.Context(), actorFrom(r.Context()), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Location", APIPrefix+"/clients/"+c.ID)
	httpx.JSON(w, http.StatusCreated, manage.ClientWithSecret{ClientView: manage.ViewClient(c), ClientSecret: secret})
}

// apiGetClient handles GET /clients/{id}.
func (h *Handler) apiGetClient(w http.ResponseWriter, r *http.Request) {
	c, err := h.Clients.ClientByID(r.Context(), pathID(r))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ViewClient(c))
}

// apiUpdateClient handles PATCH /clients/{id}.
func (h *Handler) apiUpdateClient(w http.ResponseWriter, r *http.Request) {
	var p manage.ClientPatch
	if err := decode(w, r, &p); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := h.service().UpdateClient(r.Context(), actorFrom(r.Context()), pathID(r), p)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ViewClient(c))
}

// apiDeleteClient handles DELETE /clients/{id}.
func (h *Handler) apiDeleteClient(w http.ResponseWriter, r *http.Request) {
	if err := h.service().DeleteClient(r.Context(), actorFrom(r.Context()), pathID(r), ""); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiRotateSecret handles POST /clients/{id}/rotate-secret, with an
// optional JSON body {"grace": "24h"} (manage.RotateInput).
func (h *Handler) apiRotateSecret(w http.ResponseWriter, r *http.Request) {
	var in manage.RotateInput
	if r.ContentLength != 0 {
		if err := decode(w, r, &in); err != nil {
			httpx.Error(w, r, err)
			return
		}
	}
	grace, err := manage.ParseGrace(in.Grace)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, secret, err := h.service().RotateClientSecret(r.Context(), actorFrom(r.Context()), pathID(r), "", grace)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ClientWithSecret{ClientView: manage.ViewClient(c), ClientSecret: secret})
}

// apiSetClientDisabled handles POST /clients/{id}/disable and /enable.
func (h *Handler) apiSetClientDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := h.service().SetClientDisabled(r.Context(), actorFrom(r.Context()), pathID(r), disabled)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		httpx.JSON(w, http.StatusOK, manage.ViewClient(c))
	}
}

// apiListUsers handles GET /users?q=.
func (h *Handler) apiListUsers(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	us, total, err := h.Users.ListUsers(r.Context(), identity.UserFilter{Query: r.URL.Query().Get("q"), Page: p})
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.NewList(us, total, p, manage.ViewUser))
}

// apiCreateUser handles POST /users.
func (h *Handler) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var in manage.UserInput
	if err := decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	u, err := h.service().CreateUser(r.Context(), actorFrom(r.Context()), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Location", APIPrefix+"/users/"+u.ID)
	httpx.JSON(w, http.StatusCreated, manage.ViewUser(u))
}

// apiGetUser handles GET /users/{id}.
func (h *Handler) apiGetUser(w http.ResponseWriter, r *http.Request) {
	u, err := h.Users.UserByID(r.Context(), pathID(r))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ViewUser(u))
}

// apiUpdateUser handles PATCH /users/{id} (manage.UserPatch: name,
// email_verified).
func (h *Handler) apiUpdateUser(w http.ResponseWriter, r *http.Request) {
	var p manage.UserPatch
	if err := decode(w, r, &p); err != nil {
		httpx.Error(w, r, err)
		return
	}
	u, err := h.service().UpdateUser(r.Context(), actorFrom(r.Context()), pathID(r), p)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ViewUser(u))
}

// apiSetUserDisabled handles POST /users/{id}/disable and /enable.
func (h *Handler) apiSetUserDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, n, err := h.service().SetUserDisabled(r.Context(), actorFrom(r.Context()), pathID(r), disabled)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		httpx.JSON(w, http.StatusOK, struct {
			manage.UserView
			GrantsRevoked int `json:"grants_revoked"`
		}{manage.ViewUser(u), n})
	}
}

// apiResetPassword handles POST /users/{id}/password.
func (h *Handler) apiResetPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if err := h.service().ResetPassword(r.Context(), actorFrom(r.Context()), pathID(r), in.Password); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiListGrants handles GET /grants?user_id=&client_id=&include_revoked=.
func (h *Handler) apiListGrants(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	all, err := boolParam(r, "include_revoked")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	f := identity.GrantFilter{UserID: q.Get("user_id"), ClientID: q.Get("client_id"), IncludeRevoked: all, Page: p}
	gs, total, err := h.Grants.ListGrants(r.Context(), f)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.NewList(gs, total, p, manage.ViewGrant))
}

// apiGetGrant handles GET /grants/{id}.
func (h *Handler) apiGetGrant(w http.ResponseWriter, r *http.Request) {
	g, err := h.Grants.GrantByID(r.Context(), pathID(r))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ViewGrant(g))
}

// apiRevokeGrant handles POST /grants/{id}/revoke.
func (h *Handler) apiRevokeGrant(w http.ResponseWriter, r *http.Request) {
	g, err := h.service().RevokeGrant(r.Context(), actorFrom(r.Context()), pathID(r), "")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ViewGrant(g))
}

// apiRevokeGrants handles POST /grants/revoke {"user_id"|"client_id"}.
func (h *Handler) apiRevokeGrants(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID   string `json:"user_id"`
		ClientID string `json:"client_id"`
	}
	if err := decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	n, err := h.service().RevokeGrants(r.Context(), actorFrom(r.Context()), in.UserID, in.ClientID)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]int{"revoked": n})
}

// apiListAPIKeys handles GET /api-keys?owner_id=&include_revoked=.
func (h *Handler) apiListAPIKeys(w http.ResponseWriter, r *http.Request) {
	p, err := page(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	all, err := boolParam(r, "include_revoked")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	f := identity.APIKeyFilter{OwnerID: r.URL.Query().Get("owner_id"), IncludeRevoked: all, Page: p}
	ks, total, err := h.APIKeys.ListAPIKeys(r.Context(), f)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.NewList(ks, total, p, manage.ViewAPIKey))
}

// apiGetAPIKey handles GET /api-keys/{id}.
func (h *Handler) apiGetAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.APIKeys.APIKeyByID(r.Context(), pathID(r))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ViewAPIKey(k))
}

// apiRevokeAPIKey handles POST /api-keys/{id}/revoke.
func (h *Handler) apiRevokeAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.service().RevokeAPIKey(r.Context(), actorFrom(r.Context()), pathID(r), "")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.ViewAPIKey(k))
}

// auditFilter parses the audit log's query parameters (shared with the
// page).
func auditFilter(r *http.Request) (identity.AuditFilter, error) {
	p, err := page(r)
	if err != nil {
		return identity.AuditFilter{}, err
	}
	q := r.URL.Query()
	f := identity.AuditFilter{Type: q.Get("type"), UserID: q.Get("user_id"), ClientID: q.Get("client_id"),
		Outcome: q.Get("outcome"), Page: p}
	if f.Outcome != "" && f.Outcome != "success" && f.Outcome != "failure" {
		return f, identity.Errorf(identity.EINVALID, "outcome must be success or failure.")
	}
	if f.Since, err = timeParam(r, "since"); err != nil {
		return f, err
	}
	if f.Until, err = timeParam(r, "until"); err != nil {
		return f, err
	}
	return f, nil
}

// apiListAudit handles GET /audit?type=&user_id=&client_id=&outcome=&since=&until=.
func (h *Handler) apiListAudit(w http.ResponseWriter, r *http.Request) {
	f, err := auditFilter(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	es, total, err := h.Audit.ListAudit(r.Context(), f)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, manage.NewList(es, total, f.Page, manage.ViewAudit))
}
