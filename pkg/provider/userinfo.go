package provider

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// bearerError is a refusal of a bearer-token request (RFC 6750 §3):
// writeError answers it with WWW-Authenticate: Bearer and the code (none
// when the request had no token, §3.1) and an RFC 6749 style JSON body.
type bearerError struct {
	status      int
	code        string // "" when no token was sent
	description string
	scope       string // the scope needed, with insufficient_scope
}

func (e bearerError) Error() string { return e.code + ": " + e.description }

// challenge is the WWW-Authenticate value.
func (e bearerError) challenge() string {
	c := `Bearer realm="petstore-auth"`
	if e.code != "" {
		c += fmt.Sprintf(`, error=%q, error_description=%q`, e.code, e.description)
	}
	if e.scope != "" {
		c += fmt.Sprintf(`, scope=%q`, e.scope)
	}
	return c
}

func (e bearerError) rfc6749() *fosite.RFC6749Error {
	code := e.code
	if code == "" {
		code = "invalid_token"
	}
	return oauthError(e.status, code, e.description)
}

func invalidToken(description string) bearerError {
	return bearerError{status: http.StatusUnauthorized, code: "invalid_token", description: description}
}

// userInfo is the UserInfo response (OIDC Core §5.3.2): sub always, the
// profile and email claims (§5.4) when the grant has those scopes.
type userInfo struct {
	Subject       string `json:"sub"`
	Name          string `json:"name,omitempty"`
	UpdatedAt     int64  `json:"updated_at,omitempty"` // unix seconds
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

// handleUserInfo is the UserInfo endpoint (OIDC Core §5.3), GET or POST,
// with an access token of a user's grant that has the openid scope, in the
// Authorization header (RFC 6750 §2.1) or, with POST, the form body
// (§2.2). The answer has only the claims the grant's scopes allow.
func (p *Provider) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	token, err := bearerToken(r)
	var out userInfo
	if err == nil {
		out, err = p.userInfo(r.Context(), token)
	}
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, out)
}

// bearerToken reads the access token of a request: the Authorization
// header, or access_token in a POST form body; one of them, never both,
// never the URL query (RFC 6750 §2.3 is not supported: URLs are logged).
func bearerToken(r *http.Request) (string, error) {
	var header string
	if len(r.Header.Values("Authorization")) > 1 {
		return "", bearerError{status: http.StatusBadRequest, code: "invalid_request", description: "Send one Authorization header."}
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, value, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(value) == "" {
			return "", bearerError{status: http.StatusBadRequest, code: "invalid_request", description: "The Authorization header must be 'Bearer <access token>'."}
		}
		header = strings.TrimSpace(value)
	}
	if r.URL.Query().Has("access_token") {
		return "", bearerError{status: http.StatusBadRequest, code: "invalid_request", description: "Send the access token in the Authorization header, not the URL."}
	}
	form, err := formToken(r)
	if err != nil {
		return "", err
	}
	switch {
	case header != "" && form != "":
		return "", bearerError{status: http.StatusBadRequest, code: "invalid_request", description: "Send the access token once: in the Authorization header or the form body."}
	case header == "" && form == "":
		return "", bearerError{status: http.StatusUnauthorized, description: "An access token is required."}
	case header != "":
		return header, nil
	}
	return form, nil
}

// formToken is the access_token of a POST form body (RFC 6750 §2.2), ""
// when there is none.
func formToken(r *http.Request) (string, error) {
	if r.Method != http.MethodPost || !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		return "", nil
	}
	if err := r.ParseForm(); err != nil {
		return "", bearerError{status: http.StatusBadRequest, code: "invalid_request", description: "The request body is not a valid form."}
	}
	if len(r.PostForm["access_token"]) > 1 {
		return "", bearerError{status: http.StatusBadRequest, code: "invalid_request", description: "The parameter 'access_token' is included more than once."}
	}
	return r.PostForm.Get("access_token"), nil
}

// userInfo answers for an access token; errors are bearerErrors, or a
// storage failure (503).
func (p *Provider) userInfo(ctx context.Context, token string) (userInfo, error) {
	if apikey.LooksLikeKey(token) {
		return userInfo{}, invalidToken("API keys do not identify a signed-in user.")
	}
	sess := NewSession("", "")
	found, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, sess)
	switch {
	case err != nil && storeFailure(err):
		return userInfo{}, unavailable("The token could not be checked; retry.", err)
	case err != nil || found != fosite.AccessToken:
		return userInfo{}, invalidToken("The access token is not valid: unknown, expired or revoked.")
	case sess.GrantID == "":
		return userInfo{}, invalidToken("The access token was not issued for a user.")
	}
	scopes := ar.GetGrantedScopes()
	if !scopes.Has(identity.ScopeOpenID) {
		return userInfo{}, bearerError{status: http.StatusForbidden, code: "insufficient_scope",
			description: "The access token was not granted the 'openid' scope.", scope: identity.ScopeOpenID}
	}
	u, err := p.tokenUser(ctx, sess.Subject)
	if err != nil {
		return userInfo{}, err
	}
	out := userInfo{Subject: u.ID}
	if scopes.Has(identity.ScopeProfile) {
		out.Name, out.UpdatedAt = u.Name, u.UpdatedAt.Unix()
	}
	if scopes.Has(identity.ScopeEmail) {
		verified := u.EmailVerified
		out.Email, out.EmailVerified = u.Email, &verified
	}
	return out, nil
}

// tokenUser is the user a token was issued to; one that is gone or
// disabled makes the token invalid.
func (p *Provider) tokenUser(ctx context.Context, id string) (*identity.User, error) {
	u, err := p.store.UserByID(ctx, id)
	switch {
	case identity.ErrorCode(err) == identity.ENOTFOUND:
		return nil, invalidToken("The user of this access token no longer exists.")
	case err != nil:
		return nil, unavailable("The user could not be read; retry.", err)
	case u.Disabled:
		return nil, invalidToken("The user of this access token is disabled.")
	}
	return u, nil
}

// corsBearer serves CORS for UserInfo: any origin may call it, since the
// credential is a bearer token the page holds, never a cookie (the same
// reasoning as the public documents, corsPublic).
func corsBearer(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate")
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next(w, r)
	})
}
