package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Mount registers the machine endpoints.
func (p *Provider) Mount(r *mux.Router) {
	// CORS (cors.go): token and revoke for public clients' origins;
	// introspection and the revocation list are for servers only.
	r.Handle("/oauth2/token", p.corsClients(p.limit(p.handleToken))).Methods(http.MethodPost, http.MethodOptions)
	r.Handle("/oauth2/revoke", p.corsClients(p.limit(p.handleRevoke))).Methods(http.MethodPost, http.MethodOptions)
	r.Handle("/oauth2/introspect", p.limit(p.handleIntrospect)).Methods(http.MethodPost)
	r.HandleFunc("/oauth2/revoked-jwts", p.handleRevokedJWTs).Methods(http.MethodGet)
	r.Handle("/.well-known/oauth-authorization-server", corsPublic(p.handleMetadata)).Methods(http.MethodGet, http.MethodOptions)
	r.Handle("/.well-known/jwks.json", corsPublic(p.handleJWKS)).Methods(http.MethodGet, http.MethodOptions)
	for _, path := range []string{"/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"} {
		r.HandleFunc(path, methodNotAllowed)
	}
}

// oauthError writes an RFC 6749 §5.2 error body.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="petstore-auth"`)
	}
	httpx.JSON(w, status, map[string]string{"error": code, "error_description": description})
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", http.MethodPost)
	oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "This endpoint accepts POST only.")
}

// parseForm parses an application/x-www-form-urlencoded body and refuses
// duplicated parameters (RFC 6749 §3.2: parameters MUST NOT be included more
// than once; fosite silently takes the first).
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			oauthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is larger than 1 MiB.")
			return false
		}
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
		return false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body must be application/x-www-form-urlencoded.")
		return false
	}
	if name, dup := duplicated(r.URL.Query(), r.PostForm); dup {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The parameter '"+name+"' is included more than once.")
		return false
	}
	if _, _, basic := r.BasicAuth(); basic && (r.PostForm.Has("client_secret") || r.PostForm.Has("client_assertion")) {
		// RFC 6749 §2.3: one authentication method per request.
		oauthError(w, http.StatusBadRequest, "invalid_request", "Use one client authentication method, not several.")
		return false
	}
	if len(r.URL.Query()) > 0 {
		// Credentials and codes in a URL end up in logs and histories.
		oauthError(w, http.StatusBadRequest, "invalid_request", "Parameters must be sent in the request body, not the URL.")
		return false
	}
	return true
}

// duplicated returns a parameter that appears more than once in any of
// the sets or in more than one of them (its name may be empty).
func duplicated(sets ...url.Values) (string, bool) {
	seen := map[string]bool{}
	for _, s := range sets {
		for k, v := range s {
			if len(v) > 1 || seen[k] {
				return k, true
			}
			seen[k] = true
		}
	}
	return "", false
}

func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !parseForm(w, r) {
		return
	}
	if len(r.PostForm.Get("scope")) > identity.MaxScopeLength {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "The 'scope' parameter is too long.")
		return
	}
	grantType := r.PostForm.Get("grant_type")
	switch grantType {
	case "authorization_code", "refresh_token", "client_credentials":
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "The 'grant_type' parameter is required.")
		return
	default:
		// fosite answers invalid_request for grants it has no handler for.
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Supported grant types: authorization_code, refresh_token, client_credentials.")
		return
	}
	if _, _, basic := r.BasicAuth(); !basic && r.PostForm.Get("client_id") == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication is required (HTTP Basic, or client_id for public clients).")
		return
	}
	var capture *issued
	if grantType == "refresh_token" {
		ctx, capture = withCapture(ctx, p.strategy.RefreshTokenSignature(ctx, r.PostForm.Get("refresh_token")))
	}
	sess := NewSession("", "")
	ar, err := p.OAuth2.NewAccessRequest(ctx, r, sess)
	if err != nil {
		if errors.Is(err, errGraceReplay) {
			if p.replayRotation(w, r) {
				return // read the token just after a parallel rotation committed
			}
			err = fosite.ErrInvalidGrant.WithHint("The refresh token was already used.")
		}
		if grantType == "authorization_code" {
			p.burnCode(r, ar)
		}
		p.tokenError(w, r, ar, err)
		return
	}
	client := ar.GetClient()
	switch {
	case ar.GetGrantTypes().ExactOne("authorization_code"):
		if !redirectRegistered(client, r.PostForm.Get("redirect_uri")) {
			p.burnCode(r, ar)
			p.tokenError(w, r, ar, fosite.ErrInvalidGrant.WithHint("The 'redirect_uri' is not one this client registered."))
			return
		}
	case ar.GetGrantTypes().ExactOne("client_credentials"):
		sess.Subject = client.GetID()
		for _, s := range ar.GetRequestedScopes() {
			ar.GrantScope(s) // fosite has already checked them against the client
		}
	case ar.GetGrantTypes().ExactOne("refresh_token"):
		s, _ := ar.GetSession().(*Session)
		if s != nil && p.cfg.RefreshTokenAbsoluteLifespan > 0 {
			end := s.AuthTime.Add(p.cfg.RefreshTokenAbsoluteLifespan)
			if !p.now().Before(end) {
				p.tokenError(w, r, ar, fosite.ErrInvalidGrant.WithHint("The refresh token reached its absolute lifetime; sign in again."))
				return
			}
			if exp := s.GetExpiresAt(fosite.RefreshToken); exp.IsZero() || exp.After(end) {
				s.SetExpiresAt(fosite.RefreshToken, end)
			}
		}
		if err := narrowScope(ar, r.PostForm.Get("scope"), capture); err != nil {
			p.tokenError(w, r, ar, err)
			return
		}
	}
	resp, err := p.OAuth2.NewAccessResponse(ctx, ar)
	if err != nil {
		switch {
		case grantType == "refresh_token" && lostRace(err) && p.replayRotation(w, r):
			return // a parallel request rotated it first: answer with its pair
		case grantType == "authorization_code":
			if errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) { // a parallel redemption won
				err = fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
			}
			p.burnCode(r, ar)
		}
		p.tokenError(w, r, ar, err)
		return
	}
	details := map[string]string{"grant_type": grantType, "scope": strings.Join(ar.GetGrantedScopes(), " ")}
	switch grantType {
	case "authorization_code":
		p.record(ctx, "code.redeemed", "success", client.GetID(), ar.GetSession().GetSubject(), details)
	case "refresh_token":
		p.record(ctx, "token.refreshed", "success", client.GetID(), ar.GetSession().GetSubject(), details)
	}
	// token.issued counts every issuance, by grant type (metrics).
	p.record(ctx, "token.issued", "success", client.GetID(), ar.GetSession().GetSubject(), details)
	p.OAuth2.WriteAccessResponse(ctx, w, ar, resp)
}

// tokenError writes a token-endpoint error and audits the notable ones.
func (p *Provider) tokenError(w http.ResponseWriter, r *http.Request, ar fosite.AccessRequester, err error) {
	ctx := r.Context()
	if errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		httpx.Logger(ctx).Error("token endpoint: storage unavailable", "err", err)
		httpx.Unavailable(w, 5, "The request could not be processed now; retry.")
		return
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	clientID := ""
	if ar != nil && ar.GetClient() != nil {
		clientID = ar.GetClient().GetID()
	}
	switch {
	case errors.Is(err, fosite.ErrInactiveToken) && r.PostForm.Get("grant_type") == "refresh_token":
		p.record(ctx, "token.reuse_detected", "failure", clientID, "", nil)
	case rfc.CodeField >= 500:
		httpx.Logger(ctx).Error("token endpoint", "err", rfc.WithExposeDebug(true).GetDescription())
	}
	challengeOn401(w, rfc.CodeField)
	p.OAuth2.WriteAccessError(ctx, w, ar, err)
}

// redirectRegistered applies the authorization endpoint's rule
// (identity.RedirectURIMatches: exact, loopback any-port for public clients
// only) to the redirect_uri of a code redemption. fosite only compares it
// with the authorization request's, and not at all when that request named
// none.
func redirectRegistered(c fosite.Client, uri string) bool {
	if uri == "" {
		return true
	}
	for _, reg := range c.GetRedirectURIs() {
		if identity.RedirectURIMatches(reg, uri, c.IsPublic()) {
			return true
		}
	}
	return false
}

// narrowScope applies the scope parameter of a refresh request (RFC 6749
// §6), which fosite ignores: the new access token gets exactly the
// requested scopes, each of which must have been granted to the refresh
// token (else invalid_scope, before anything rotates); the new refresh token
// keeps the full scope, so a later refresh may ask for it again.
func narrowScope(ar fosite.AccessRequester, scope string, capture *issued) error {
	capture.requested = normaliseScope(scope)
	if capture.requested == "" {
		return nil
	}
	granted := ar.GetGrantedScopes()
	requested, err := identity.ParseScopes(scope)
	if err != nil {
		return fosite.ErrInvalidScope.WithHint("The 'scope' parameter names an unknown or repeated scope.")
	}
	for _, s := range requested {
		if !granted.Has(s) {
			return fosite.ErrInvalidScope.WithHintf("The scope '%s' was not granted to this refresh token.", s)
		}
	}
	a, ok := ar.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected access request type")
	}
	capture.grantScope = append(fosite.Arguments(nil), granted...)
	a.GrantedScope = fosite.Arguments(requested)
	return nil
}

// challengeOn401 adds the WWW-Authenticate header RFC 6749 §5.2 requires
// with a 401, which fosite's error writers leave out.
func challengeOn401(w http.ResponseWriter, status int) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="petstore-auth"`)
	}
}

// burnCode is called when redeeming a code failed: wrong verifier, wrong
// redirect_uri, or a second redemption (possibly racing the first). It
// invalidates the code with the same conditional update as a redemption;
// if the code had already been redeemed, the tokens of that redemption are
// revoked (RFC 6749 §4.1.2: a code used twice revokes what it issued). On
// PostgreSQL the update waits for a racing redemption to commit and on
// SQLite transactions are serialised, so this never runs before the
// winner's tokens exist. A failed attempt by the code's own, authenticated
// client thus burns the code (PK-05); anyone else's attempt changes nothing.
func (p *Provider) burnCode(r *http.Request, ar fosite.AccessRequester) {
	ctx := r.Context()
	if ar == nil || ar.GetClient() == nil {
		return // the client did not authenticate: it may not touch any code
	}
	sig := p.strategy.AuthorizeCodeSignature(ctx, r.PostForm.Get("code"))
	req, err := p.store.GetAuthorizeCodeSession(ctx, sig, NewSession("", ""))
	if req == nil || (err != nil && !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode)) {
		return // unknown code: nothing to burn
	}
	if req.GetClient().GetID() != ar.GetClient().GetID() {
		return // another client's code: it stays the owner's to redeem
	}
	tx, err := p.store.BeginTX(ctx)
	if err != nil {
		httpx.Logger(ctx).Error("burn code: begin", "err", err)
		return
	}
	err = p.store.InvalidateAuthorizeCodeSession(tx, sig)
	if cerr := p.store.Commit(tx); cerr != nil {
		_ = p.store.Rollback(tx)
	}
	if errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		p.revokeRequest(r, req.GetID())
		p.record(ctx, "code.reused", "failure", req.GetClient().GetID(), req.GetSession().GetSubject(), map[string]string{"request_id": req.GetID()})
	}
}

// revokeRequest revokes every token issued for one request id.
func (p *Provider) revokeRequest(r *http.Request, requestID string) {
	ctx := r.Context()
	if err := p.store.RevokeRefreshToken(ctx, requestID); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		httpx.Logger(ctx).Error("revoke refresh tokens after code reuse", "err", err)
	}
	if err := p.store.RevokeAccessToken(ctx, requestID); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		httpx.Logger(ctx).Error("revoke access tokens after code reuse", "err", err)
	}
}

// handleRevoke is RFC 7009. fosite's response writer turns every error it
// does not know into a 200 with an empty body; here a success is `{}` as
// JSON (§2.2; some client libraries refuse an empty body), an unknown or
// already dead token is a success (§2.2), a token of another client is
// refused with unauthorized_client (§2.1, §2.2.1) and revokes nothing, and
// a failure to store the revocation is a 503 (§2.2.1), never a 200.
func (p *Provider) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !parseForm(w, r) {
		return
	}
	if _, _, basic := r.BasicAuth(); !basic && r.PostForm.Get("client_id") == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication is required (HTTP Basic, or client_id for public clients).")
		return
	}
	err := p.OAuth2.NewRevocationRequest(ctx, r)
	if err == nil {
		err = p.revokeRotatedChain(r)
	}
	if err == nil {
		p.record(ctx, "token.revoked", "success", r.PostForm.Get("client_id"), "", map[string]string{"hint": r.PostForm.Get("token_type_hint")})
		w.Header().Set("Pragma", "no-cache")
		httpx.JSON(w, http.StatusOK, struct{}{})
		return
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	switch {
	case errors.Is(err, fosite.ErrTemporarilyUnavailable) || rfc.CodeField >= 500:
		httpx.Logger(ctx).Error("revocation not stored", "err", rfc.WithExposeDebug(true).GetDescription())
		httpx.Unavailable(w, 5, "The revocation could not be stored; retry.")
	case rfc.ErrorField == fosite.ErrInvalidClient.ErrorField:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	case rfc.ErrorField == fosite.ErrUnauthorizedClient.ErrorField:
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "The token was issued to another client; only that client may revoke it.")
	default:
		oauthError(w, rfc.CodeField, rfc.ErrorField, rfc.GetDescription())
	}
}

// revokeRotatedChain revokes the chain of a refresh token that was already
// rotated: fosite answers 200 for it without revoking anything, but
// revoking any refresh token of a chain must end the chain (RT-07). Only
// the owning client may (another one gets unauthorized_client, as for a
// live token); fosite has authenticated the caller.
func (p *Provider) revokeRotatedChain(r *http.Request) error {
	ctx := r.Context()
	sig := p.strategy.RefreshTokenSignature(ctx, r.PostForm.Get("token"))
	req, err := p.store.GetRefreshTokenSession(ctx, sig, NewSession("", ""))
	if req == nil || !errors.Is(err, fosite.ErrInactiveToken) {
		return nil
	}
	caller, _, basic := r.BasicAuth()
	if basic {
		caller, _ = url.QueryUnescape(caller)
	} else {
		caller = r.PostForm.Get("client_id")
	}
	if req.GetClient().GetID() != caller {
		return fosite.ErrUnauthorizedClient
	}
	if err := p.store.RevokeRefreshToken(ctx, req.GetID()); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	if err := p.store.RevokeAccessToken(ctx, req.GetID()); err != nil && !errors.Is(err, fosite.ErrNotFound) {
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	return nil
}

// introspection is the RFC 7662 answer for an active credential.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Expiry    int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	TokenType string   `json:"token_type,omitempty"` // access_token, refresh_token or api_key
	TokenUse  string   `json:"token_use,omitempty"`  // access_token or refresh_token
	Env       string   `json:"env,omitempty"`        // live or test, for API keys
	JTI       string   `json:"jti,omitempty"`
}

var inactive = introspection{Active: false}

func (p *Provider) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !parseForm(w, r) {
		return
	}
	client, err := p.fosite.AuthenticateClient(ctx, r, r.PostForm)
	if errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		httpx.Logger(ctx).Error("introspection: client lookup failed", "err", err)
		httpx.Unavailable(w, 5, "The client could not be checked; retry.")
		return
	}
	if err != nil {
		p.record(ctx, "introspection.denied", "failure", r.PostForm.Get("client_id"), "", map[string]string{"reason": "bad_client_credentials"})
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	if c, ok := client.(identityClient); !ok || !c.Identity().CanIntrospect || client.IsPublic() {
		p.record(ctx, "introspection.denied", "failure", client.GetID(), "", map[string]string{"reason": "not_a_resource_server"})
		oauthError(w, http.StatusForbidden, "unauthorized_client", "This client is not allowed to introspect tokens.")
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The 'token' parameter is required.")
		return
	}
	out, err := p.introspect(r, token)
	if err != nil {
		// Unknown is not inactive: a resource server must not turn a
		// database outage into "invalid token" for every caller.
		httpx.Logger(ctx).Error("introspection failed", "err", err)
		httpx.Unavailable(w, 5, "The token could not be checked; retry.")
		return
	}
	httpx.JSON(w, http.StatusOK, out)
}

// storeFailure tells a storage failure from a verdict on the token: fosite
// wraps storage errors in request_unauthorized, while its own verdicts (not
// found, revoked, expired) are fosite errors themselves.
func storeFailure(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var rfc *fosite.RFC6749Error
	if !errors.As(err, &rfc) || rfc.ErrorField != fosite.ErrRequestUnauthorized.ErrorField || rfc.Unwrap() == nil {
		return false
	}
	var verdict *fosite.RFC6749Error
	return !errors.As(rfc.Unwrap(), &verdict)
}

// introspect answers for token; the error is a storage failure only.
func (p *Provider) introspect(r *http.Request, token string) (introspection, error) {
	ctx := r.Context()
	if apikey.LooksLikeKey(token) {
		return p.introspectAPIKey(r, token)
	}
	use := fosite.AccessToken
	if r.PostForm.Get("token_type_hint") == "refresh_token" {
		use = fosite.RefreshToken
	}
	sess := NewSession("", "")
	found, ar, err := p.fosite.IntrospectToken(ctx, token, use, sess)
	if err != nil {
		if storeFailure(err) {
			return inactive, err
		}
		return inactive, nil
	}
	out := introspection{
		Active: true, Scope: strings.Join(ar.GetGrantedScopes(), " "), ClientID: ar.GetClient().GetID(),
		Subject: sess.Subject, IssuedAt: ar.GetRequestedAt().Unix(), Issuer: p.Issuer,
		Audience:  append([]string{p.cfg.JWTAudience}, ar.GetGrantedAudience()...),
		TokenType: string(found), TokenUse: string(found),
	}
	if exp := sess.GetExpiresAt(found); !exp.IsZero() {
		out.Expiry = exp.Unix()
	}
	if found == fosite.AccessToken && isJWT(token) {
		out.JTI = sess.JTI
	}
	return out, nil
}

func (p *Provider) introspectAPIKey(r *http.Request, key string) (introspection, error) {
	ctx := r.Context()
	if _, err := apikey.Parse(key); err != nil {
		return inactive, nil // a typo: no database lookup
	}
	k, err := p.store.APIKeyByHash(ctx, apikey.Hash(key))
	if err != nil && identity.ErrorCode(err) != identity.ENOTFOUND {
		return inactive, err
	}
	if err != nil || !k.Active(p.now()) {
		return inactive, nil
	}
	if p.noteKeyUse(k) {
		p.record(ctx, "apikey.first_used", "success", "", k.OwnerID, map[string]string{"key_id": k.ID, "prefix": k.Prefix})
	}
	out := introspection{Active: true, Scope: strings.Join(k.Scopes, " "), Subject: k.OwnerID, IssuedAt: k.CreatedAt.Unix(),
		Issuer: p.Issuer, Audience: []string{p.cfg.JWTAudience}, TokenType: "api_key", TokenUse: "access_token", Env: k.Env}
	if k.ExpiresAt != nil {
		out.Expiry = k.ExpiresAt.Unix()
	}
	return out, nil
}

// handleRevokedJWTs publishes the ids of revoked JWT access tokens that have
// not expired yet, for resource servers that verify JWTs locally. Only
// resource-server clients may read it.
func (p *Provider) handleRevokedJWTs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	client, err := p.fosite.AuthenticateClient(ctx, r, url.Values{})
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	if c, ok := client.(identityClient); !ok || !c.Identity().CanIntrospect {
		oauthError(w, http.StatusForbidden, "unauthorized_client", "This client is not allowed to read the revocation list.")
		return
	}
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			oauthError(w, http.StatusBadRequest, "invalid_request", "'since' must be a Unix time in seconds.")
			return
		}
		since = time.Unix(n, 0)
	}
	now := p.now()
	list, err := p.store.ListRevokedJWTs(ctx, since)
	if err != nil {
		httpx.Error(w, r, identity.Errorf(identity.EUNAVAILABLE, "The revocation list is unavailable."))
		return
	}
	type entry struct {
		JTI string `json:"jti"`
		Exp int64  `json:"exp"`
	}
	out := struct {
		Revoked []entry `json:"revoked"`
		Now     int64   `json:"now"`
	}{Revoked: []entry{}, Now: now.Unix()}
	for _, e := range list {
		out.Revoked = append(out.Revoked, entry{e.JTI, e.ExpiresAt.Unix()})
	}
	httpx.JSON(w, http.StatusOK, out)
}

// Metadata is the RFC 8414 document; it states exactly what the server does.
func (p *Provider) Metadata() map[string]any {
	return map[string]any{
		"issuer":                                         p.Issuer,
		"authorization_endpoint":                         p.Issuer + "/oauth2/auth",
		"token_endpoint":                                 p.Issuer + "/oauth2/token",
		"revocation_endpoint":                            p.Issuer + "/oauth2/revoke",
		"introspection_endpoint":                         p.Issuer + "/oauth2/introspect",
		"jwks_uri":                                       p.Issuer + "/.well-known/jwks.json",
		"scopes_supported":                               scopeNames(),
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token", "client_credentials"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
		// OIDC Discovery §3; the values pkg/web honours (web.PromptValues).
		"prompt_values_supported": []string{"none", "login", "consent"},
		"service_documentation":   p.Issuer + "/",
	}
}

func scopeNames() []string {
	var out []string
	for _, s := range identity.Scopes {
		out = append(out, s.Name)
	}
	return out
}

func (p *Provider) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(p.Metadata())
}

func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	b, err := p.strategy.jwt.jwks(r.Context())
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	_, _ = w.Write(b)
}
