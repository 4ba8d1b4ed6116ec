package provider

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
)

// Registrar is the operator service's registration part (pkg/manage):
// the endpoint parses and answers, every rule is manage's.
type Registrar interface {
	RegisterClient(ctx context.Context, a manage.Actor, policy, initialToken string, md manage.ClientMetadata) (*manage.ClientInformation, error)
	RegisteredClient(ctx context.Context, id, accessToken string) (*identity.Client, error)
	UpdateRegisteredClient(ctx context.Context, a manage.Actor, id, accessToken string, md manage.ClientMetadata, secret string) (*manage.ClientInformation, error)
	DeleteRegisteredClient(ctx context.Context, a manage.Actor, id, accessToken string) error
}

// SetRegistrar sets the registration service after New, for a composition
// root whose service needs the provider (its client-change hook); call it
// before Mount.
func (p *Provider) SetRegistrar(r Registrar) { p.registrar = r }

// registrationWindow is the window of the per-address registration limit
// (Config.RegistrationPerHour).
const registrationWindow = time.Hour

// maxRegistrationBody bounds a registration request; real metadata is a
// few hundred bytes.
const maxRegistrationBody = 16 << 10

// registrationEnabled reports whether the endpoint exists: a policy other
// than off and a Registrar to carry it out.
func (p *Provider) registrationEnabled() bool {
	pol := p.cfg.RegistrationPolicy
	return p.registrar != nil && (pol == manage.RegistrationOpen || pol == manage.RegistrationToken)
}

// mountRegistration registers the RFC 7591 endpoint and the RFC 7592
// client configuration endpoint when registration is on. With policy off
// the paths do not exist (404) and the metadata has no
// registration_endpoint: a client learns registration is unavailable the
// way RFC 8414 §2 says, by its absence.
func (p *Provider) mountRegistration(r *mux.Router) {
	if !p.registrationEnabled() {
		return
	}
	r.HandleFunc("/oauth2/register", p.handleRegister).Methods(http.MethodPost)
	r.HandleFunc("/oauth2/register/{client_id}", p.handleClientConfiguration).
		Methods(http.MethodGet, http.MethodPut, http.MethodDelete)
	r.HandleFunc("/oauth2/register", p.registerMethodNotAllowed)
}

func (p *Provider) registerMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	p.writeError(w, r, oauthError(http.StatusMethodNotAllowed, "invalid_request", "This endpoint accepts POST only."))
}

// registrationActor is who registers: the anonymous caller, known by its
// address (the audit log's actor).
func registrationActor(r *http.Request) manage.Actor {
	return manage.Actor{ID: "anonymous", Kind: manage.ActorClient, Channel: "registration", IP: clientaddr.Of(r), UserAgent: r.UserAgent()}
}

// handleRegister is the client registration endpoint (RFC 7591 §3): JSON
// metadata in, 201 with the client information out. Every attempt, good or
// bad, counts against the address's hourly budget, so probing costs as
// much as registering.
func (p *Provider) handleRegister(w http.ResponseWriter, r *http.Request) {
	if err := p.allowRegistration(r); err != nil {
		p.writeError(w, r, err)
		return
	}
	md, _, err := readMetadata(r)
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	info, err := p.registrar.RegisterClient(r.Context(), registrationActor(r), p.cfg.RegistrationPolicy, registrationBearer(r), md)
	if err != nil {
		p.writeError(w, r, registrationErr(err))
		return
	}
	info.RegistrationClientURI = p.registrationClientURI(info.ClientID)
	writeJSON(w, http.StatusCreated, info)
}

// handleClientConfiguration is the client configuration endpoint (RFC
// 7592 §2): read, replace or delete a registered client with its
// registration access token as bearer token.
func (p *Provider) handleClientConfiguration(w http.ResponseWriter, r *http.Request) {
	ctx, id, token := r.Context(), mux.Vars(r)["client_id"], registrationBearer(r)
	var info *manage.ClientInformation
	var err error
	switch r.Method {
	case http.MethodGet:
		var c *identity.Client
		if c, err = p.registrar.RegisteredClient(ctx, id, token); err == nil {
			info = manage.InformationOf(c)
		}
	case http.MethodPut:
		info, err = p.updateRegistered(r, id, token)
	case http.MethodDelete:
		if err = p.registrar.DeleteRegisteredClient(ctx, registrationActor(r), id, token); err == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if err != nil {
		p.writeError(w, r, registrationErr(err))
		return
	}
	info.RegistrationClientURI = p.registrationClientURI(info.ClientID)
	writeJSON(w, http.StatusOK, info)
}

// updateRegistered reads an RFC 7592 §2.2 update: the whole metadata with
// the client_id, which must be the one in the URL.
func (p *Provider) updateRegistered(r *http.Request, id, token string) (*manage.ClientInformation, error) {
	// Authenticate before reading the body: a stranger learns nothing.
	if _, err := p.registrar.RegisteredClient(r.Context(), id, token); err != nil {
		return nil, err
	}
	md, extra, err := readMetadata(r)
	if err != nil {
		return nil, err
	}
	if extra.ClientID != id {
		return nil, &manage.RegistrationError{Code: manage.ErrInvalidClientMetadata, Description: "client_id must be sent and equal the client's id"}
	}
	return p.registrar.UpdateRegisteredClient(r.Context(), registrationActor(r), id, token, md, extra.ClientSecret)
}

// updateFields are the fields of an RFC 7592 update besides the metadata.
type updateFields struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// readMetadata decodes a JSON metadata body (RFC 7591 §3.1). Unknown
// fields are ignored (§2: a server ignores metadata it does not
// understand); wrong types are invalid_client_metadata.
func readMetadata(r *http.Request) (manage.ClientMetadata, updateFields, error) {
	var md manage.ClientMetadata
	var extra updateFields
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return md, extra, oauthError(http.StatusBadRequest, manage.ErrInvalidClientMetadata, "The request body must be application/json (RFC 7591 §3.1).")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxRegistrationBody))
	if err != nil {
		return md, extra, oauthError(http.StatusRequestEntityTooLarge, manage.ErrInvalidClientMetadata, "The request body is larger than 16 KiB.")
	}
	if err := json.Unmarshal(body, &md); err != nil {
		return md, extra, oauthError(http.StatusBadRequest, manage.ErrInvalidClientMetadata, "The body is not valid client metadata JSON: "+jsonProblem(err))
	}
	_ = json.Unmarshal(body, &extra)
	return md, extra, nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return "field " + te.Field + " has the wrong type"
	}
	return "malformed JSON"
}

// registrationErr maps manage's refusals to RFC 7591 §3.2.2 / RFC 7592 §2
// answers.
func registrationErr(err error) error {
	var re *manage.RegistrationError
	if errors.As(err, &re) {
		return oauthError(http.StatusBadRequest, re.Code, re.Description)
	}
	switch identity.ErrorCode(err) {
	case identity.EUNAUTHORIZED:
		return oauthError(http.StatusUnauthorized, "invalid_token", identity.ErrorMessage(err))
	case identity.ENOTIMPLEMENTED:
		return oauthError(http.StatusForbidden, "access_denied", identity.ErrorMessage(err))
	case identity.EINVALID:
		return oauthError(http.StatusBadRequest, manage.ErrInvalidClientMetadata, identity.ErrorMessage(err))
	case identity.ENOTFOUND:
		return oauthError(http.StatusUnauthorized, "invalid_token", "The registration access token is not valid for this client.")
	}
	return unavailable("The registration could not be stored now; retry.", err)
}

func (p *Provider) registrationClientURI(id string) string {
	return p.Issuer + "/oauth2/register/" + id
}

// registrationBearer returns the RFC 6750 §2.1 bearer token of a
// registration request (header only: the body is JSON), or "".
func registrationBearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // secrets inside (RFC 7591 §3.2.1)
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// allowRegistration counts one registration attempt against the
// address's hourly budget and refuses it (429) when the budget is spent. A
// limiter failure lets the request through: the limiter protects, it must
// not take the endpoint down.
func (p *Provider) allowRegistration(r *http.Request) error {
	limit := p.cfg.RegistrationPerHour
	if limit <= 0 {
		return nil
	}
	ok, retry, err := p.limiter.Allow(r.Context(), "register:"+clientaddr.Bucket(r), limit, registrationWindow)
	if err != nil {
		httpx.Logger(r.Context()).Warn("rate limiter unavailable", "err", err)
		return nil
	}
	if !ok {
		return rateLimited{retryAfter: retry}
	}
	return nil
}
