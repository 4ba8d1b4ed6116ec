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

// SignInRecorder is implemented by a fosite session that records the
// browser sign-in behind a code itself (the ID token's auth_time and sid,
// OIDC Core §2 and Front-/Back-Channel Logout §2). requestedAt is when the
// authorization request arrived (before any sign-in it caused).
type SignInRecorder interface {
	RecordSignIn(authTime, requestedAt time.Time, sid string)
}

// stampSignIn tells the fosite session of a code when and in which browser
// session the user signed in. fosite's OpenID Connect prompt validator reads
// auth_time and requested_at from it (prompt=none, prompt=login, max_age),
// and the ID token carries them. A session that is neither a SignInRecorder
// nor an openid.Session (OAuth only) is left alone.
func stampSignIn(sess fosite.Session, s *ui.Session, requestedAt time.Time) {
	if !s.SignedIn() {
		return
	}
	if rec, ok := sess.(SignInRecorder); ok {
		rec.RecordSignIn(s.AuthTime, requestedAt, s.SID)
		return
	}
	os, ok := sess.(openid.Session)
	if !ok {
		return
	}
	c := os.IDTokenClaims()
	c.AuthTime, c.RequestedAt = s.AuthTime.UTC(), requestedAt.UTC()
	if c.Extra == nil {
		c.Extra = map[string]any{}
	}
	c.Extra["sid"] = s.SID
	if len(c.AuthenticationMethodsReferences) == 0 {
		c.AuthenticationMethodsReferences = []string{"pwd"} // RFC 8176: the only way to sign in here
	}
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
