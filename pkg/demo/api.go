package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Pet is one pet as the PetStore API returns it.
type Pet struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Species   string    `json:"species"`
	Age       int       `json:"age"`
	CreatedAt time.Time `json:"created_at"`
}

// petList is GET /v1/pets.
type petList struct {
	Pets []Pet   `json:"pets"`
	Next *string `json:"next"`
}

// newPet is the body of POST /v1/pets.
type newPet struct {
	Name    string `json:"name"`
	Species string `json:"species"`
	Age     int    `json:"age"`
}

// errRevoked means the connection is gone: the refresh token was refused
// or the API keeps refusing fresh tokens. The tokens have been dropped.
var errRevoked = errors.New("demo: the connection to PetStore was revoked or expired")

// apiError is an answer of the API other than success or 401.
type apiError struct {
	Status  int
	Message string // the API's "error_description", shown escaped
}

func (e *apiError) Error() string {
	return fmt.Sprintf("demo: PetStore API: %d %s", e.Status, e.Message)
}

// unreachableError is a network failure or a 5xx of a PetStore service.
type unreachableError struct {
	Service string // "api" or "auth"
	Err     error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("demo: PetStore %s unreachable: %v", e.Service, e.Err)
}
func (e *unreachableError) Unwrap() error { return e.Err }

// maxResponse bounds what MyApp reads from the PetStore services.
const maxResponse = 1 << 20

// call performs an API request with the session's access token. A token
// known to be expired is refreshed first; a 401 leads to exactly one
// refresh and one retry.
func (h *Handler) call(ctx context.Context, s *session, method, path string, in, out any) error {
	tok, _ := s.connection()
	if tok == nil {
		return errRevoked
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	if !tok.Expiry.IsZero() && !h.now().Before(tok.Expiry) && tok.RefreshToken != "" {
		var err error
		if tok, err = h.refresh(ctx, s, tok); err != nil {
			return err
		}
	}
	resp, err := h.send(ctx, method, path, tok.AccessToken, body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		drain(resp)
		if tok, err = h.refresh(ctx, s, tok); err != nil {
			return err
		}
		if resp, err = h.send(ctx, method, path, tok.AccessToken, body); err != nil {
			return err
		}
		if resp.StatusCode == http.StatusUnauthorized {
			// A token fresh from the authorization server is refused: the
			// API and the server disagree, and retrying will not help.
			drain(resp)
			s.dropToken()
			h.log().Warn("API refused a freshly refreshed token; connection dropped")
			return errRevoked
		}
	}
	defer drain(resp)
	if resp.StatusCode >= 500 {
		return &unreachableError{Service: "api", Err: fmt.Errorf("status %d", resp.StatusCode)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// The API's one error shape: a code and a message for people.
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&e)
		msg := e.Description
		if msg == "" {
			msg = e.Error
		}
		return &apiError{Status: resp.StatusCode, Message: msg}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return &unreachableError{Service: "api", Err: fmt.Errorf("unreadable answer: %w", err)}
	}
	return nil
}

func (h *Handler) send(ctx context.Context, method, path, accessToken string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.Config.APIURL+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client().Do(req)
	if err != nil {
		return nil, &unreachableError{Service: "api", Err: err}
	}
	return resp, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	_ = resp.Body.Close()
}

// refresh trades the session's refresh token for new tokens. It runs
// detached from the browser's request: once the server has rotated the
// refresh token, MyApp must keep the answer even if the user navigated away.
func (h *Handler) refresh(ctx context.Context, s *session, failed *oauth2.Token) (*oauth2.Token, error) {
	s.refresh.Lock()
	defer s.refresh.Unlock()
	cur, scopes := s.connection()
	switch {
	case cur == nil:
		return nil, errRevoked
	case cur.AccessToken != failed.AccessToken:
		return cur, nil // another request of this session refreshed already
	case cur.RefreshToken == "":
		s.dropToken()
		return nil, errRevoked
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	ctx = withClient(ctx, h.client())
	next, err := h.Config.OAuth2().TokenSource(ctx, &oauth2.Token{RefreshToken: cur.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			// invalid_grant (revoked, expired, reused) or the client itself
			// is no longer accepted: the connection is over.
			s.dropToken()
			h.log().Info("refresh refused; connection dropped", "error", re.ErrorCode, "status", re.Response.StatusCode)
			return nil, errRevoked
		}
		h.log().Warn("refresh failed", "err", redactErr(err))
		return nil, &unreachableError{Service: "auth", Err: err}
	}
	s.setToken(next, grantedScopes(next, scopes))
	return next, nil
}

// grantedScopes reads "scope" of a token response; RFC 6749 §5.1 lets the
// server omit it when it equals what was asked for (or held before).
func grantedScopes(t *oauth2.Token, fallback []string) []string {
	if s, ok := t.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		return strings.Fields(s)
	}
	return fallback
}

// revoke asks the authorization server to revoke one token (RFC 7009),
// authenticating like x/oauth2 does: client_secret_basic with the id and
// secret form-encoded first (RFC 6749 §2.3.1).
func (h *Handler) revoke(ctx context.Context, token, hint string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Config.Issuer+"/oauth2/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(h.Config.ClientID), url.QueryEscape(h.Config.ClientSecret))
	resp, err := h.client().Do(req)
	if err != nil {
		return &unreachableError{Service: "auth", Err: redactErr(err)}
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return &unreachableError{Service: "auth", Err: fmt.Errorf("revoke: status %d", resp.StatusCode)}
	}
	return nil
}

// redactErr keeps the failing operation and cause of a transport error but
// not the URL, which for some requests could carry a secret.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func contextTimeout(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}

func withClient(ctx context.Context, c *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c)
}
