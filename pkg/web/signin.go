package web

import (
	"context"
	"net/http"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// idTokenSession is the part of a fosite session (provider.Session) that
// records the browser sign-in behind a code for its ID tokens: the user
// signed in at authTime in the browser session sid; the authorization
// request arrived at requestedAt; clientID is the azp (OIDC Core §2,
// Back-Channel Logout §2.4).
type idTokenSession interface {
	SetIDToken(clientID, sid string, authTime, requestedAt time.Time)
}

// stampSignIn tells the fosite session of a code with openid when and in
// which browser session the user signed in. fosite's OpenID Connect prompt
// validator reads auth_time and requested_at from it (prompt=none,
// prompt=login, max_age) and the ID token carries them. requestedAt is when
// the request first arrived (h.requestedAt: before the sign-in it caused),
// on the handler's clock like auth_time. A plain openid.Session (tests) is
// stamped directly.
func stampSignIn(sess fosite.Session, clientID string, s *ui.Session, requestedAt time.Time) {
	if !s.SignedIn() {
		return
	}
	if rec, ok := sess.(idTokenSession); ok {
		rec.SetIDToken(clientID, s.SID, s.AuthTime, requestedAt)
		return
	}
	os, ok := sess.(openid.Session)
	if !ok {
		return
	}
	c := os.IDTokenClaims()
	c.AuthTime, c.RequestedAt = s.AuthTime.UTC(), requestedAt.UTC()
	c.AuthenticationMethodsReferences = []string{"pwd"} // RFC 8176: the only way to sign in here
	c.Extra = map[string]any{"azp": clientID, "sid": s.SID}
}

// signOut ends the browser session of u (nil when the session had no live
// user), records why, and tells SessionsEnded.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, u *identity.User, reason string) {
	sid := ""
	if s := ui.SessionFrom(r.Context()); s.SignedIn() {
		sid = s.SID
	}
	h.UI.SignOut(w, r)
	if u == nil {
		return
	}
	details := map[string]string{}
	if reason != "" {
		details["reason"] = reason
	}
	h.audit(r, identity.AuditEvent{Type: "logout", UserID: u.ID, Details: details})
	if sid != "" {
		h.sessionsEnded(r.Context(), u.ID, []string{sid})
	}
}

// sessionsEnded calls the SessionsEnded hook, if any.
func (h *Handler) sessionsEnded(ctx context.Context, userID string, sids []string) {
	if h.SessionsEnded != nil && len(sids) > 0 {
		h.SessionsEnded(ctx, userID, sids)
	}
}
