package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
)

// sessionView is one row of the account page's "Where you're signed in".
type sessionView struct {
	SID        string
	Device     string
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	Current    bool
}

// sessionViews lists the user's live sessions, this browser's first.
func (h *Handler) sessionViews(r *http.Request, u *identity.User) ([]sessionView, error) {
	if h.Sessions == nil {
		return nil, nil
	}
	list, err := h.Sessions.UserSessions(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	cur := ui.SessionFrom(r.Context()).SID
	var out []sessionView
	for _, s := range list {
		v := sessionView{SID: s.SID, Device: deviceName(s.UserAgent), IP: s.IP, CreatedAt: s.CreatedAt,
			LastSeenAt: s.LastSeenAt, Current: s.SID != "" && s.SID == cur}
		if v.Current {
			out = append([]sessionView{v}, out...)
		} else {
			out = append(out, v)
		}
	}
	return out, nil
}

// handleEndBrowserSession serves POST /account/sessions/{sid}/end: signs one of
// the user's sessions out (this one too, if chosen). A sid that is not the
// user's live session is "not found".
func (h *Handler) handleEndBrowserSession(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	sid := mux.Vars(r)["sid"]
	if h.Sessions == nil {
		h.notFound(w, r)
		return
	}
	if sid == ui.SessionFrom(r.Context()).SID {
		h.signOut(w, r, u, "account")
		http.Redirect(w, r, "/login?logged_out=1", http.StatusSeeOther)
		return
	}
	err := h.Sessions.DeleteUserSession(r.Context(), u.ID, sid)
	switch {
	case identity.IsNotFound(err):
		h.notFound(w, r)
		return
	case err != nil:
		h.internalError(w, r, err)
		return
	}
	h.audit(r, identity.AuditEvent{Type: identity.EventSessionEnded, UserID: u.ID, Details: map[string]string{"sid": sid}})
	h.sessionsEnded(r.Context(), u.ID, []string{sid})
	http.Redirect(w, r, "/account?notice=session_ended#sessions", http.StatusSeeOther)
}

// handleEndAllSessions serves POST /account/sessions/end-all: "Sign out
// everywhere", this browser included.
func (h *Handler) handleEndAllSessions(w http.ResponseWriter, r *http.Request) {
	u, ok := h.requireUser(w, r)
	if !ok {
		return
	}
	if h.Sessions == nil {
		h.notFound(w, r)
		return
	}
	sids, err := h.Sessions.DeleteUserSessions(r.Context(), u.ID)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.audit(r, identity.AuditEvent{Type: identity.EventSessionsEndedAll, UserID: u.ID,
		Details: map[string]string{"sessions": strconv.Itoa(len(sids))}})
	h.UI.SignOut(w, r) // the cookie; the row is gone already
	h.sessionsEnded(r.Context(), u.ID, sids)
	http.Redirect(w, r, "/login?logged_out=1", http.StatusSeeOther)
}

// deviceName describes a User-Agent in plain words ("Chrome on Linux"),
// good enough for a person to recognise their own devices; it is never used
// for a decision.
func deviceName(ua string) string {
	if ua == "" {
		return "Unknown device"
	}
	browser := firstMatch(ua, [][2]string{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"HeadlessChrome/", "Chrome"}, {"Chrome/", "Chrome"},
		{"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client/", "a program"},
	})
	os := firstMatch(ua, [][2]string{
		{"Windows", "Windows"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Android", "Android"},
		{"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"},
	})
	switch {
	case browser != "" && os != "":
		return browser + " on " + os
	case browser != "":
		return browser
	case os != "":
		return "A browser on " + os
	}
	return "Unknown device"
}

func firstMatch(s string, pairs [][2]string) string {
	for _, p := range pairs {
		if strings.Contains(s, p[0]) {
			return p[1]
		}
	}
	return ""
}
