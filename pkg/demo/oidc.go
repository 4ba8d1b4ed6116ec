package demo

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// MyApp signs in with OpenID Connect when its scopes include openid: the
// authorization request carries a nonce, the callback verifies the ID token
// with go-oidc (signature by the issuer's JWKS, iss, aud, exp, nonce,
// at_hash) and greets the user by name; "Sign out" ends the PetStore
// session too, by RP-Initiated Logout 1.0 with id_token_hint,
// post_logout_redirect_uri and a state checked on return.

// relyingParty is the issuer's discovery document, fetched on first use.
type relyingParty struct {
	mu         sync.Mutex
	provider   *oidc.Provider
	endSession string
}

// identity is who signed in, from a verified ID token.
type identity struct {
	Subject string
	Name    string
	Email   string
	// IDToken is kept as the id_token_hint of sign-out.
	IDToken string
}

// openID reports whether MyApp signs in with OpenID Connect.
func (h *Handler) openID() bool { return slices.Contains(h.Config.Scopes, oidc.ScopeOpenID) }

// discover returns the issuer's provider (go-oidc) and its
// end_session_endpoint, fetching the discovery document once.
func (h *Handler) discover(ctx context.Context) (*oidc.Provider, string, error) {
	h.rp.mu.Lock()
	defer h.rp.mu.Unlock()
	if h.rp.provider != nil {
		return h.rp.provider, h.rp.endSession, nil
	}
	// The key set keeps this context's HTTP client for later fetches.
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), h.client()), h.Config.Issuer)
	if err != nil {
		return nil, "", &unreachableError{Service: "auth", Err: err}
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, "", err
	}
	h.rp.provider, h.rp.endSession = p, meta.EndSession
	return p, meta.EndSession, nil
}

// authCodeOptions are the extra parameters of the authorization request:
// PKCE always, a nonce when signing in with OpenID Connect.
func (h *Handler) authCodeOptions(verifier, nonce string) []oauth2.AuthCodeOption {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if nonce != "" {
		opts = append(opts, oidc.Nonce(nonce))
	}
	return opts
}

// errIDToken is an ID token MyApp refuses.
var errIDToken = errors.New("ID token refused")

// verifyIDToken checks the token response's ID token (OpenID Connect Core
// §3.1.3.7): go-oidc verifies signature, iss, aud and exp; the nonce must be
// the one this browser's request sent; at_hash must match the access token
// (§3.1.3.8).
func (h *Handler) verifyIDToken(ctx context.Context, tok *oauth2.Token, nonce string) (*identity, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: none in the token response", errIDToken)
	}
	p, _, err := h.discover(ctx)
	if err != nil {
		return nil, err
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: h.Config.ClientID, Now: h.now}).Verify(oidc.ClientContext(ctx, h.client()), raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errIDToken, err)
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w: nonce mismatch", errIDToken)
	}
	if idt.AccessTokenHash == "" {
		return nil, fmt.Errorf("%w: no at_hash", errIDToken)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		return nil, fmt.Errorf("%w: %v", errIDToken, err)
	}
	var c struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", errIDToken, err)
	}
	who := &identity{Subject: idt.Subject, Name: c.Name, Email: c.Email, IDToken: raw}
	if who.Name == "" && who.Email == "" {
		// The code flow's ID token may leave the profile claims to
		// UserInfo (OpenID Connect Core §5.4); its sub must be the ID
		// token's (§5.3.2).
		h.userInfo(ctx, p, tok, who)
	}
	return who, nil
}

// userInfo fills who's name and email from the UserInfo endpoint; a
// failure leaves them empty (MyApp then greets without a name).
func (h *Handler) userInfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token, who *identity) {
	info, err := p.UserInfo(oidc.ClientContext(ctx, h.client()), oauth2.StaticTokenSource(tok))
	if err != nil {
		h.log().Warn("UserInfo failed", "err", redactErr(err))
		return
	}
	var c struct {
		Name string `json:"name"`
	}
	if info.Subject != who.Subject || info.Claims(&c) != nil {
		h.log().Warn("UserInfo refused: another subject or bad claims")
		return
	}
	who.Name, who.Email = c.Name, info.Email
}

// handleSignOut is POST /signout: MyApp forgets the user, then sends the
// browser to PetStore's end_session_endpoint to end the PetStore session
// too (RP-Initiated Logout 1.0 §2), with a state checked on return.
func (h *Handler) handleSignOut(w http.ResponseWriter, r *http.Request, s *session) {
	id := s.signOut()
	if id == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	_, endSession, err := h.discover(r.Context())
	if err != nil || endSession == "" {
		h.log().Warn("no end_session_endpoint; signed out of MyApp only", "err", redactErr(err))
		s.setFlash(flash{Kind: "notice", Title: "Signed out of MyApp",
			Text: "PetStore could not be reached, so you may still be signed in there."})
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	state := rand.Text()
	s.setLogoutState(state)
	q := url.Values{"id_token_hint": {id.IDToken}, "client_id": {h.Config.ClientID},
		"post_logout_redirect_uri": {h.Config.PostLogoutRedirectURL()}, "state": {state}}
	sep := "?"
	if u, err := url.Parse(endSession); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	http.Redirect(w, r, endSession+sep+q.Encode(), http.StatusSeeOther)
}

// handleSignedOut is GET /signed-out, the post_logout_redirect_uri: the
// state must be the one this browser's sign-out sent.
func (h *Handler) handleSignedOut(w http.ResponseWriter, r *http.Request) {
	s := h.session(r)
	q := r.URL.Query()
	if s == nil || len(q["state"]) != 1 || !s.takeLogoutState(q.Get("state")) {
		h.log().Info("sign-out return refused", "reason", "state missing or unknown")
		h.Pages.renderMessage(w, h.log(), http.StatusBadRequest, messageData{
			Kind: "problem", Title: "This link cannot be used",
			Text: "MyApp did not start this sign-out, so it ignored the link.", Connect: true,
		})
		return
	}
	h.Pages.renderMessage(w, h.log(), http.StatusOK, messageData{
		Kind: "notice", Title: "You are signed out",
		Text: "You signed out of MyApp and of PetStore. See you soon!", Connect: true,
	})
}
