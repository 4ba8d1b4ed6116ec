package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/ui"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const (
	testPostLogout  = "https://app.example/signed-out"
	otherClient     = "other-app"
	otherPostLogout = "https://other.example/bye"
)

// logoutEnv is env with end_session wired: two clients with registered
// post-logout redirect URIs, a fake hint verifier and a recorder of ended
// sessions.
type logoutEnv struct {
	*env
	mu    sync.Mutex
	ended map[string][]string // user id -> sids
}

// Hints understood by the fake verifier; "this-session" takes the sid of
// the session in the request, as a hint from this very session would.
func newLogoutEnv(t *testing.T) *logoutEnv {
	e := &logoutEnv{env: newEnv(t), ended: map[string][]string{}}
	clients := e.h.Clients.(*fakeClients).clients
	clients[testClient].PostLogoutRedirectURIs = []string{testPostLogout, "https://app.example/bye?from=petstore"}
	clients[otherClient] = &identity.Client{ID: otherClient, Name: "Other App", PostLogoutRedirectURIs: []string{otherPostLogout}}
	e.h.IDTokenHint = func(ctx context.Context, hint string) (provider.IDTokenHintClaims, error) {
		sid := ui.SessionFrom(ctx).SID
		switch hint {
		case "alice-this-session":
			return provider.IDTokenHintClaims{Subject: "usr_alice", SessionID: sid, ClientID: testClient}, nil
		case "alice-old-session":
			return provider.IDTokenHintClaims{Subject: "usr_alice", SessionID: "an-older-sid", ClientID: testClient}, nil
		case "bob":
			return provider.IDTokenHintClaims{Subject: "usr_bob", SessionID: "bobs-sid", ClientID: testClient}, nil
		}
		return provider.IDTokenHintClaims{}, errors.New("not ours")
	}
	e.h.SessionsEnded = func(_ context.Context, userID string, sids []string) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.ended[userID] = append(e.ended[userID], sids...)
	}
	return e
}

func (e *logoutEnv) endedSessions(user string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ended[user]
}

func signedIn(t *testing.T, b *webtest.Browser) bool {
	t.Helper()
	p := b.Get("/account")
	return p.Status == http.StatusOK
}

func logoutPath(params ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		q.Add(params[i], params[i+1])
	}
	return EndSessionPath + "?" + q.Encode()
}

// RP-Initiated Logout 1.0 §2-§3: a valid hint for the signed-in session
// signs out at once and returns to the registered URI with state; the
// clients of the session are told (back-channel hook).
func TestEndSessionWithHintSignsOutAtOnce(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	p := b.Get(logoutPath("id_token_hint", "alice-this-session", "post_logout_redirect_uri", testPostLogout, "state", "st 1/2", "ui_locales", "de fr"))
	if p.Status != http.StatusSeeOther || p.Location != testPostLogout+"?state=st+1%2F2" {
		t.Fatalf("end_session: HTTP %d to %q, want 303 to %s?state=…\n%.1500s", p.Status, p.Location, testPostLogout, p.Body)
	}
	if signedIn(t, b) {
		t.Fatal("still signed in after end_session with a hint for this session")
	}
	if got := e.endedSessions("usr_alice"); len(got) != 1 || got[0] == "" {
		t.Errorf("SessionsEnded got %v, want the session's sid", got)
	}
	if e.audit.count(identity.EventEndSession, "") != 1 {
		t.Errorf("no %s audit event", identity.EventEndSession)
	}
}

// A registered URI with its own query keeps it; state is appended.
func TestEndSessionKeepsTheRegisteredQuery(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	p := b.Post(EndSessionPath, url.Values{"id_token_hint": {"alice-this-session"},
		"post_logout_redirect_uri": {"https://app.example/bye?from=petstore"}, "state": {"abc"}})
	if p.Status != http.StatusSeeOther || p.Location != "https://app.example/bye?from=petstore&state=abc" {
		t.Fatalf("end_session (POST): HTTP %d to %q", p.Status, p.Location)
	}
	if signedIn(t, b) {
		t.Fatal("still signed in")
	}
}

// Without a hint the user confirms first; the confirmation is a
// CSRF-protected POST; then the browser returns with state.
func TestEndSessionWithoutHintAsksFirst(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	p := b.Get(logoutPath("client_id", testClient, "post_logout_redirect_uri", testPostLogout, "state", "xyz")).Want(t, http.StatusOK)
	for _, want := range []string{"Sign out of PetStore?", "Pet Diary", "alice@example.com", `action="/oauth2/logout/confirm"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("confirmation page lacks %q", want)
		}
	}
	if !signedIn(t, b) {
		t.Fatal("showing the confirmation page signed the user out")
	}
	forged := p.Hidden()
	forged.Set("csrf_token", "forged")
	if q := b.Post(EndSessionPath+"/confirm", forged); q.Status != http.StatusForbidden || !signedIn(t, b) {
		t.Fatalf("confirmation without the CSRF token: HTTP %d, signed in %v", q.Status, signedIn(t, b))
	}
	q := b.Submit(p, EndSessionPath+"/confirm", nil)
	if q.Status != http.StatusSeeOther || q.Location != testPostLogout+"?state=xyz" {
		t.Fatalf("confirm: HTTP %d to %q\n%.1500s", q.Status, q.Location, q.Body)
	}
	if signedIn(t, b) {
		t.Fatal("still signed in after confirming")
	}
	if len(e.endedSessions("usr_alice")) != 1 {
		t.Errorf("SessionsEnded not told")
	}
}

// A hint that is not for this session (another user, an older session)
// does not sign out at once: the user is asked.
func TestEndSessionHintForAnotherSessionAsks(t *testing.T) {
	for _, hint := range []string{"bob", "alice-old-session"} {
		t.Run(hint, func(t *testing.T) {
			e := newLogoutEnv(t)
			b := e.browser()
			e.mustLogin(b, "alice@example.com")
			p := b.Get(logoutPath("id_token_hint", hint, "post_logout_redirect_uri", testPostLogout))
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "Sign out of PetStore?") {
				t.Fatalf("HTTP %d to %q, want the confirmation page", p.Status, p.Location)
			}
			if !signedIn(t, b) || len(e.endedSessions("usr_alice")) != 0 {
				t.Fatal("a hint for another session signed the user out")
			}
		})
	}
}

// RP-Initiated Logout 1.0 §3: a post_logout_redirect_uri that is not
// registered for the client, byte for byte, is never followed: an error
// page, no redirect, and the session stays.
func TestEndSessionNeverFollowsAnUnregisteredURI(t *testing.T) {
	cases := []struct {
		name   string
		params []string
	}{
		{"unregistered", []string{"id_token_hint", "alice-this-session", "post_logout_redirect_uri", "https://evil.example/"}},
		{"trailing slash", []string{"id_token_hint", "alice-this-session", "post_logout_redirect_uri", testPostLogout + "/"}},
		{"extra query", []string{"id_token_hint", "alice-this-session", "post_logout_redirect_uri", testPostLogout + "?x=1"}},
		{"other case", []string{"id_token_hint", "alice-this-session", "post_logout_redirect_uri", "https://APP.example/signed-out"}},
		{"registered for another client", []string{"id_token_hint", "alice-this-session", "post_logout_redirect_uri", otherPostLogout}},
		{"registered for another client, by client_id", []string{"client_id", testClient, "post_logout_redirect_uri", otherPostLogout}},
		{"no client named", []string{"post_logout_redirect_uri", testPostLogout}},
		{"client_id disagrees with the hint", []string{"id_token_hint", "alice-this-session", "client_id", otherClient, "post_logout_redirect_uri", otherPostLogout}},
		{"hint not ours", []string{"id_token_hint", "forged", "client_id", testClient, "post_logout_redirect_uri", testPostLogout}},
		{"unknown client", []string{"client_id", "nobody", "post_logout_redirect_uri", testPostLogout}},
		{"duplicated parameter", []string{"id_token_hint", "alice-this-session", "post_logout_redirect_uri", testPostLogout, "post_logout_redirect_uri", "https://evil.example/"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newLogoutEnv(t)
			b := e.browser()
			e.mustLogin(b, "alice@example.com")
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var p page
				if method == http.MethodGet {
					p = b.Get(logoutPath(tc.params...))
				} else {
					form := url.Values{}
					for i := 0; i+1 < len(tc.params); i += 2 {
						form.Add(tc.params[i], tc.params[i+1])
					}
					p = b.Post(EndSessionPath, form)
				}
				if p.Status != http.StatusBadRequest || p.Location != "" || !strings.Contains(p.Body, "We could not sign you out") {
					t.Fatalf("%s: HTTP %d to %q, want the 400 error page\n%.1500s", method, p.Status, p.Location, p.Body)
				}
				if strings.Contains(p.Body, "evil.example") || strings.Contains(p.Body, "other.example") {
					t.Errorf("%s: the error page links to the refused URI", method)
				}
			}
			if !signedIn(t, b) || len(e.endedSessions("usr_alice")) != 0 {
				t.Fatal("a refused end_session signed the user out")
			}
			if e.audit.count(identity.EventEndSessionRefused, "") != 2 {
				t.Errorf("refusals audited %d times, want 2", e.audit.count(identity.EventEndSessionRefused, ""))
			}
		})
	}
}

// Signed out already: nothing to confirm; back to the client, or the
// signed-out page naming the app.
func TestEndSessionWhenSignedOut(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.browser()
	p := b.Get(logoutPath("client_id", testClient, "post_logout_redirect_uri", testPostLogout, "state", "s1"))
	if p.Status != http.StatusSeeOther || p.Location != testPostLogout+"?state=s1" {
		t.Fatalf("HTTP %d to %q", p.Status, p.Location)
	}
	p = b.Get(logoutPath("client_id", testClient)).Want(t, http.StatusOK)
	if !strings.Contains(p.Body, "You are signed out") || !strings.Contains(p.Body, "Pet Diary") {
		t.Errorf("signed-out page:\n%.1500s", p.Body)
	}
	p = b.Get(EndSessionPath).Want(t, http.StatusOK)
	if !strings.Contains(p.Body, "You are signed out") {
		t.Errorf("signed-out page without parameters:\n%.1500s", p.Body)
	}
}

// A valid hint without a redirect URI: signed out, then the signed-out page.
func TestEndSessionWithoutRedirectShowsSignedOutPage(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	p := b.Get(logoutPath("id_token_hint", "alice-this-session")).Want(t, http.StatusOK)
	if !strings.Contains(p.Body, "You are signed out") || signedIn(t, b) {
		t.Fatalf("want the signed-out page and no session:\n%.1500s", p.Body)
	}
}

// The account page's sign-out also tells the session's clients.
func TestLogoutTellsSessionsEnded(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	b.Post("/logout", url.Values{"csrf_token": {b.Get("/account").CSRF(t)}}).Want(t, http.StatusSeeOther)
	if got := e.endedSessions("usr_alice"); len(got) != 1 || slices.Contains(got, "") {
		t.Fatalf("SessionsEnded got %v", got)
	}
}
