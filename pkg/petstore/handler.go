package petstore

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
)

// Scopes the routes require.
const (
	ScopeRead  = "read:pets"
	ScopeWrite = "write:pets"
)

// Pagination and body limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	MaxOffset    = 10000
	MaxBodyBytes = 64 << 10
)

// Authenticator puts a *bearer.Principal in the request context after
// checking the credential and the scopes; *bearer.Verifier is one.
type Authenticator interface {
	Require(scopes ...string) func(http.Handler) http.Handler
}

var _ Authenticator = (*bearer.Verifier)(nil)

// Handler serves the pets API.
type Handler struct {
	Store    *Store
	Verifier Authenticator
	Logger   *slog.Logger
	// PublicURL is the API's resource identifier (RFC 8707) and Issuer the
	// authorization server's: with both set, Mount serves the RFC 9728
	// metadata (prm.go).
	PublicURL, Issuer string
}

// Mount registers the routes on r, each behind its scope.
func (h *Handler) Mount(r *mux.Router) {
	read, write := h.Verifier.Require(ScopeRead), h.Verifier.Require(ScopeWrite)
	r.Handle("/v1/pets", read(http.HandlerFunc(h.handleList))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/pets", write(http.HandlerFunc(h.handleCreate))).Methods(http.MethodPost)
	r.Handle("/v1/pets/{id}", read(http.HandlerFunc(h.handleGet))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/v1/pets/{id}", write(http.HandlerFunc(h.handleDelete))).Methods(http.MethodDelete)
	r.Handle(MCPPath, h.mcpHandler()).Methods(http.MethodGet, http.MethodPost, http.MethodDelete)
	if h.PublicURL != "" && h.Issuer != "" {
		mountMetadata(r, NewResourceMetadata(h.PublicURL, h.Issuer))
	}
	r.HandleFunc("/healthz", h.handleHealthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", h.handleReadyz).Methods(http.MethodGet, http.MethodHead)
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

// owner is the caller's subject; Require guarantees a principal.
func owner(r *http.Request) string { return bearer.FromContext(r.Context()).Subject }

// handleList serves GET /v1/pets.
func (h *Handler) handleList(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r)
	if err != nil {
		WriteError(w, httpkit.CodeInvalid, err.Error())
		return
	}
	pets, more, err := h.Store.List(r.Context(), owner(r), page)
	if err != nil {
		h.internal(w, r, "list pets", err)
		return
	}
	var next *string
	if more {
		next = &pets[len(pets)-1].ID
	}
	WriteJSON(w, http.StatusOK, map[string]any{"pets": pets, "next": next})
}

func parsePage(r *http.Request) (Page, error) {
	q := r.URL.Query()
	p := Page{Limit: DefaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return p, errors.New("limit must be an integer between 1 and " + strconv.Itoa(MaxLimit))
		}
		p.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		if !validID(v) {
			return p, errors.New("cursor is not valid; use the 'next' value of the previous page")
		}
		p.After = v
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxOffset {
			return p, errors.New("offset must be an integer between 0 and " + strconv.Itoa(MaxOffset))
		}
		if p.After != "" {
			return p, errors.New("use either cursor or offset, not both")
		}
		p.Offset = n
	}
	return p, nil
}

// handleGet serves GET /v1/pets/{id}.
func (h *Handler) handleGet(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if !validID(id) {
		WriteError(w, httpkit.CodeNotFound, "Pet not found")
		return
	}
	p, err := h.Store.Get(r.Context(), owner(r), id)
	switch {
	case errors.Is(err, ErrNotFound):
		WriteError(w, httpkit.CodeNotFound, "Pet not found")
	case err != nil:
		h.internal(w, r, "get pet", err)
	default:
		WriteJSON(w, http.StatusOK, p)
	}
}

// newPet is the POST body; pointers tell a missing field from a zero one.
type newPet struct {
	Name    *string `json:"name"`
	Species *string `json:"species"`
	Age     *int    `json:"age"`
}

// handleCreate serves POST /v1/pets.
func (h *Handler) handleCreate(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		WriteError(w, httpkit.CodeUnsupportedMedia, "Content-Type must be application/json")
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	var in newPet
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			WriteError(w, httpkit.CodeTooLarge, "The request body is larger than 64 KiB")
			return
		}
		WriteError(w, httpkit.CodeInvalid, "The body is not a valid pet: "+jsonProblem(err))
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		WriteError(w, httpkit.CodeInvalid, "The body must contain one JSON object only")
		return
	}
	var missing []string
	for _, f := range []struct {
		name    string
		present bool
	}{{"name", in.Name != nil}, {"species", in.Species != nil}, {"age", in.Age != nil}} {
		if !f.present {
			missing = append(missing, f.name+" is required")
		}
	}
	if missing != nil {
		WriteError(w, httpkit.CodeInvalid, (&ValidationError{Problems: missing}).Error())
		return
	}
	p := &Pet{Owner: owner(r), Name: *in.Name, Species: *in.Species, Age: *in.Age}
	err := h.Store.Create(r.Context(), p)
	var invalid *ValidationError
	switch {
	case errors.As(err, &invalid):
		WriteError(w, httpkit.CodeInvalid, invalid.Error())
	case err != nil:
		h.internal(w, r, "create pet", err)
	default:
		w.Header().Set("Location", "/v1/pets/"+p.ID)
		WriteJSON(w, http.StatusCreated, p)
	}
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return typeErr.Field + " has the wrong type"
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON"
	default:
		return err.Error() // e.g. json: unknown field "owner"
	}
}

// handleDelete serves DELETE /v1/pets/{id}.
func (h *Handler) handleDelete(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if !validID(id) {
		WriteError(w, httpkit.CodeNotFound, "Pet not found")
		return
	}
	err := h.Store.Delete(r.Context(), owner(r), id)
	switch {
	case errors.Is(err, ErrNotFound):
		WriteError(w, httpkit.CodeNotFound, "Pet not found")
	case err != nil:
		h.internal(w, r, "delete pet", err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// handleHealthz serves GET /healthz: the process is up.
func (h *Handler) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz serves GET /readyz: the database answers.
func (h *Handler) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.Store.Ping(ctx); err != nil {
		h.logger().WarnContext(ctx, "readiness: database unreachable", "err", err)
		WriteError(w, httpkit.CodeUnavailable, "Database unavailable")
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.logger().ErrorContext(r.Context(), what, "err", err)
	WriteError(w, httpkit.CodeInternal, "Internal error")
}

// WriteJSON writes v as JSON with status; API answers are never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) { httpkit.JSON(w, status, v) }

// WriteError writes the JSON APIs' one error shape, {"error": code,
// "error_description": msg}, with the status of code (httpkit.Error).
func WriteError(w http.ResponseWriter, code, msg string) { httpkit.Error(w, code, msg) }
