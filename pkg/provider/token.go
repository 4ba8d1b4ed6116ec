package provider

import (
	"context"
	"net/http"
	"strings"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// tokenRequest is one token request (RFC 6749 §3.2), parsed once: the form,
// the grant type and, once fosite has authenticated the client and
// validated the grant, its access request.
type tokenRequest struct {
	r         *http.Request
	grantType string
	// ar is fosite's access request; its client is nil when the client did
	// not authenticate.
	ar fosite.AccessRequester
	// keepScope is the refresh token's full scope when a refresh request
	// narrowed the new access token's (token_refresh.go); the new refresh
	// token keeps it.
	keepScope fosite.Arguments
	// keepAudience is the refresh token's full audience when a refresh
	// request narrowed the new access token's (RFC 8707, resource.go).
	keepAudience []string
	// proof is the request's valid DPoP proof, nil without one (dpop.go).
	proof *dpop.Proof
}

func (t *tokenRequest) form(key string) string { return t.r.PostForm.Get(key) }

// client is the authenticated client's id, "" before authentication.
func (t *tokenRequest) client() string {
	if t.ar == nil || t.ar.GetClient() == nil {
		return ""
	}
	return t.ar.GetClient().GetID()
}

// grant is one grant type's part of the token endpoint, one file each
// (token_code.go, token_refresh.go, token_client_credentials.go). The
// pipeline around it (exchange) is the same for every grant; a grant
// returns errors and never writes.
type grant interface {
	// check applies this server's rules to the request fosite validated.
	check(ctx context.Context, req *tokenRequest) error
	// issue makes the tokens.
	issue(ctx context.Context, req *tokenRequest) (fosite.AccessResponder, error)
	// failed sees every failure of the grant after parsing and returns the
	// answer: the error to write, or a response after all (the refresh
	// grace window).
	failed(ctx context.Context, req *tokenRequest, err error) (fosite.AccessResponder, error)
}

// grants are the grant types of the token endpoint (RFC 6749 §4.1.3, §6,
// §4.4); metadata.go publishes the same list.
func (p *Provider) grants() map[string]grant {
	return map[string]grant{
		"authorization_code":     codeGrant{p},
		"refresh_token":          refreshGrant{p},
		"client_credentials":     clientCredentialsGrant{p},
		identity.GrantDeviceCode: deviceGrant{p},
	}
}

// handleToken is the token endpoint (RFC 6749 §3.2): parse, exchange through
// the grant, write the answer — fosite's response writer for tokens,
// writeError for every error.
func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	req, g, err := p.parseTokenRequest(r)
	if err == nil {
		req.proof, err = p.checkProof(r.Context(), r)
	}
	var resp fosite.AccessResponder
	if err == nil {
		resp, err = p.exchange(r.Context(), req, g)
	}
	if err != nil {
		p.writeError(w, r, err)
		return
	}
	p.dpopResponse(w, req, resp)
	p.OAuth2.WriteAccessResponse(r.Context(), w, req.ar, resp)
}

// parseTokenRequest checks what fosite does not, or answers in a way RFC
// 6749 does not (unsupported_grant_type, invalid_client for a request
// naming no client), before any database work.
func (p *Provider) parseTokenRequest(r *http.Request) (*tokenRequest, grant, error) {
	if err := parseForm(r); err != nil {
		return nil, nil, err
	}
	if len(r.PostForm.Get("scope")) > identity.MaxScopeLength {
		return nil, nil, oauthError(http.StatusBadRequest, "invalid_scope", "The 'scope' parameter is too long.")
	}
	grantType := r.PostForm.Get("grant_type")
	g, ok := p.grantTypes[grantType]
	switch {
	case grantType == "":
		return nil, nil, oauthError(http.StatusBadRequest, "invalid_request", "The 'grant_type' parameter is required.")
	case !ok:
		// fosite answers invalid_request for grants it has no handler for.
		return nil, nil, oauthError(http.StatusBadRequest, "unsupported_grant_type", "Supported grant types: authorization_code, refresh_token, client_credentials, "+identity.GrantDeviceCode+".")
	}
	if err := requireClientAuth(r); err != nil {
		return nil, nil, err
	}
	return &tokenRequest{r: r, grantType: grantType}, g, nil
}

// exchange is the pipeline every grant goes through: fosite authenticates
// the client and validates the grant, the grant checks our rules and
// issues; any failure goes to the grant's failed, once.
func (p *Provider) exchange(ctx context.Context, req *tokenRequest, g grant) (fosite.AccessResponder, error) {
	// fosite reads a code four times on the way to the tokens; once from
	// the database is enough. failed reads afresh.
	okCtx := p.store.WithCodeMemo(ctx)
	ar, err := p.OAuth2.NewAccessRequest(okCtx, req.r, NewSession("", ""))
	req.ar = ar
	if err == nil {
		err = p.bindProof(req)
	}
	if err == nil {
		err = g.check(okCtx, req)
	}
	var resp fosite.AccessResponder
	if err == nil {
		resp, err = g.issue(okCtx, req)
	}
	if err != nil {
		return g.failed(ctx, req, err)
	}
	return resp, nil
}

// recordIssued audits a successful exchange: event (when not "") and
// token.issued, which counts every issuance by grant type (metrics).
func (p *Provider) recordIssued(ctx context.Context, req *tokenRequest, event string) {
	details := map[string]string{"grant_type": req.grantType, "scope": strings.Join(req.ar.GetGrantedScopes(), " ")}
	subject := req.ar.GetSession().GetSubject()
	if event != "" {
		p.record(ctx, event, "success", req.client(), subject, details)
	}
	p.record(ctx, "token.issued", "success", req.client(), subject, details)
	p.noteClientUse(ctx, req)
}

// noteClientUse records that a self-registered client got a token: such
// clients are removed after registration_unused_ttl without one. The
// store writes at most once an hour per client.
func (p *Provider) noteClientUse(ctx context.Context, req *tokenRequest) {
	c, ok := req.ar.GetClient().(identityClient)
	if !ok || !c.Identity().Unverified() {
		return
	}
	if err := p.store.TouchClient(ctx, c.Identity().ID, p.now()); err != nil {
		p.log.Warn("record client use", "client_id", c.Identity().ID, "err", err)
	}
}
