package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// OpenID Connect RP-Initiated Logout 1.0: the end_session_endpoint.
//
//	GET|POST /oauth2/logout          id_token_hint, client_id, post_logout_redirect_uri, state, ui_locales
//	POST     /oauth2/logout/confirm  the confirmation page's form (CSRF-protected)
//
// A valid id_token_hint whose sub and sid are the signed-in session's signs
// out at once; otherwise the user confirms. Afterwards the browser goes to
// the post_logout_redirect_uri, only when it is registered for the client
// byte for byte, with state; or sees the "You are signed out" page. A bad
// request shows an error page and never redirects.

// EndSessionPath is the end_session_endpoint.
const EndSessionPath = "/oauth2/logout"

// maxLogoutState bounds the state echoed to the client.
const maxLogoutState = 1024

// SessionClientRecorder records that a client was issued an ID token in a
// browser session (pkg/store), so that the client hears when it ends.
type SessionClientRecorder interface {
	RecordSessionClient(ctx context.Context, sid, clientID, userID, grantID string, expires time.Time) error
}

// endSessionRequest is a validated end_session request.
type endSessionRequest struct {
	client      *identity.Client // nil: no client named
	hint        *provider.IDTokenHintClaims
	redirectURI string // registered for client; "" for none
	state       string
}

// logoutPage is the data of templates/logout.html and logged_out.html.
type logoutPage struct {
	ClientName, ClientID, Email, RedirectURI, State string
}

// handleEndSession serves GET and POST /oauth2/logout. It is not
// CSRF-protected: relying parties send it from their site; it signs out
// at once only on proof (a hint for this very session).
func (h *Handler) handleEndSession(w http.ResponseWriter, r *http.Request) {
	req, ok := h.parseEndSession(w, r)
	if !ok {
		return
	}
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	s := ui.SessionFrom(r.Context())
	switch {
	case u == nil:
		// Nobody is signed in here: nothing to end, nothing to confirm.
		h.finishEndSession(w, r, req)
	case req.hint != nil && req.hint.Subject == u.ID && req.hint.SessionID == s.SID:
		h.endSession(w, r, u, req)
		h.finishEndSession(w, r, req)
	default:
		page := logoutPage{Email: u.Email, RedirectURI: req.redirectURI, State: req.state}
		if req.client != nil {
			page.ClientName, page.ClientID = req.client.Name, req.client.ID
		}
		h.UI.Render(w, r, http.StatusOK, "logout", page)
	}
}

// handleEndSessionConfirm serves POST /oauth2/logout/confirm, the form of
// the confirmation page (CSRF-checked by ui.Protect).
func (h *Handler) handleEndSessionConfirm(w http.ResponseWriter, r *http.Request) {
	req, ok := h.parseEndSession(w, r)
	if !ok {
		return
	}
	u, err := h.currentUser(w, r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if u != nil {
		h.endSession(w, r, u, req)
	}
	h.finishEndSession(w, r, req)
}

// parseEndSession validates the request (RP-Initiated Logout 1.0 §2, §3);
// on a problem it shows the error page and returns ok false.
func (h *Handler) parseEndSession(w http.ResponseWriter, r *http.Request) (req *endSessionRequest, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, ui.MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.refuseEndSession(w, r, "", "The request could not be read.")
		return nil, false
	}
	if dup, found := duplicated(r.Form); found {
		h.refuseEndSession(w, r, "", "The parameter “"+dup+"” appears more than once.")
		return nil, false
	}
	req = &endSessionRequest{state: r.Form.Get("state")}
	clientID := r.Form.Get("client_id")
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		c, err := h.verifyHint(r.Context(), hint)
		if err != nil {
			h.refuseEndSession(w, r, clientID, "The sign-out request carries an ID token that this server did not issue.")
			return nil, false
		}
		if clientID != "" && clientID != c.ClientID {
			h.refuseEndSession(w, r, clientID, "The ID token was issued to another application than the one asking to sign you out.")
			return nil, false
		}
		req.hint, clientID = &c, c.ClientID
	}
	if len(req.state) > maxLogoutState {
		h.refuseEndSession(w, r, clientID, "The state parameter is too long.")
		return nil, false
	}
	if clientID != "" {
		c, err := h.Clients.ClientByID(r.Context(), clientID)
		if identity.IsNotFound(err) || err == nil && c.Disabled {
			h.refuseEndSession(w, r, clientID, "The application asking to sign you out is not known here.")
			return nil, false
		}
		if err != nil {
			h.internalError(w, r, err)
			return nil, false
		}
		req.client = c
	}
	return req, h.checkPostLogoutRedirect(w, r, req)
}

// checkPostLogoutRedirect accepts post_logout_redirect_uri only when it is
// registered for the client named by the hint or client_id (§3: the OP
// MUST NOT redirect otherwise).
func (h *Handler) checkPostLogoutRedirect(w http.ResponseWriter, r *http.Request, req *endSessionRequest) bool {
	uri := r.Form.Get("post_logout_redirect_uri")
	if uri == "" {
		return true
	}
	if req.client == nil {
		h.refuseEndSession(w, r, "", "The request names a page to return to but not the application it belongs to (id_token_hint or client_id).")
		return false
	}
	if !req.client.PostLogoutRedirectURIRegistered(uri) {
		h.refuseEndSession(w, r, req.client.ID, "The page to return to after signing out is not registered for "+req.client.Name+".")
		return false
	}
	req.redirectURI = uri
	return true
}

func (h *Handler) verifyHint(ctx context.Context, hint string) (provider.IDTokenHintClaims, error) {
	if h.IDTokenHint == nil {
		return provider.IDTokenHintClaims{}, identity.Errorf(identity.EINVALID, "id_token_hint is not supported")
	}
	return h.IDTokenHint(ctx, hint)
}

// refuseEndSession shows the error page (400) and audits the refusal.
func (h *Handler) refuseEndSession(w http.ResponseWriter, r *http.Request, clientID, why string) {
	h.audit(r, identity.AuditEvent{Type: identity.EventEndSessionRefused, ClientID: truncate(clientID, 100),
		Outcome: "failure", Details: map[string]string{"reason": why}})
	h.UI.Error(w, r, http.StatusBadRequest, "We could not sign you out", why)
}

// endSession ends u's browser session here and on the server, and tells
// the clients that got ID tokens in it (back-channel logout).
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request, u *identity.User, req *endSessionRequest) {
	sid := ui.SessionFrom(r.Context()).SID
	e := identity.AuditEvent{Type: identity.EventEndSession, UserID: u.ID}
	if req.client != nil {
		e.ClientID = req.client.ID
	}
	h.audit(r, e)
	h.UI.SignOut(w, r)
	if sid != "" {
		h.sessionsEnded(r.Context(), u.ID, []string{sid})
	}
}

// finishEndSession sends the browser to the registered
// post_logout_redirect_uri with state, or shows the signed-out page.
func (h *Handler) finishEndSession(w http.ResponseWriter, r *http.Request, req *endSessionRequest) {
	if req.redirectURI != "" {
		http.Redirect(w, r, withState(req.redirectURI, req.state), http.StatusSeeOther)
		return
	}
	var page logoutPage
	if req.client != nil {
		page.ClientName = req.client.Name
	}
	h.UI.Render(w, r, http.StatusOK, "logged_out", page)
}

// withState appends state to a registered URI, keeping the URI's own bytes
// (it carries no state: identity.ValidatePostLogoutRedirectURI).
func withState(uri, state string) string {
	if state == "" {
		return uri
	}
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + url.Values{"state": {state}}.Encode()
}

// recordIDTokenSession notes, when the openid scope was granted, that the
// client gets an ID token in the current browser session: the session's
// end will be sent to it (Back-Channel Logout 1.0).
func (h *Handler) recordIDTokenSession(r *http.Request, clientID, userID, grantID string, granted []string) {
	s := ui.SessionFrom(r.Context())
	if h.SessionClients == nil || s == nil || s.SID == "" || !slices.Contains(granted, "openid") {
		return
	}
	if err := h.SessionClients.RecordSessionClient(r.Context(), s.SID, clientID, userID, grantID, h.UI.Expires(s)); err != nil {
		h.log(r.Context()).Error("record the session's client for back-channel logout", "err", err)
	}
}
