package ui

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Session is the browser session: anonymous (only a CSRF token) until
// SignIn, then the signed-in user.
type Session struct {
	// ID changes at every sign-in, so a session id seen before sign-in is
	// worthless after it.
	ID string
	// SID is the session's public id: the OpenID Connect sid claim. Unlike ID it is not a secret.
	SID string
	// UserID is empty while signed out.
	UserID string
	// Email is shown in the page header; the user id is what counts.
	Email string
	// AuthTime is when the user signed in.
	AuthTime time.Time
	// Version is the caller's fingerprint of the user at sign-in (see
	// SignIn); a mismatch later means the session must end.
	Version int64
	// Remember is "keep me signed in".
	Remember bool
	// CSRF is the token every form of this session must carry.
	CSRF string
	// Created is when the session started, for the absolute lifetime.
	Created time.Time
}

// SignedIn reports whether a user is signed in.
func (s *Session) SignedIn() bool { return s != nil && s.UserID != "" }

type sessionKey struct{}

// SessionFrom returns the session that Pages put into ctx, or nil.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// newCookieStore derives the HMAC and AES keys from the system secret with
// HKDF, each under its own label, so that they are independent of each
// other and of every other key derived from the same secret.
// With several secrets, the first seals new cookies and all of them open
// old ones (securecookie tries each pair in turn), for secret rotation.
func newCookieStore(secrets [][]byte, maxAge time.Duration) (*sessions.CookieStore, error) {
	var pairs [][]byte
	for _, secret := range secrets {
		hashKey, err := hkdf.Key(sha256.New, secret, nil, "petstore-auth ui session hmac v1", 64)
		if err != nil {
			return nil, err
		}
		blockKey, err := hkdf.Key(sha256.New, secret, nil, "petstore-auth ui session aes-256 v1", 32)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, hashKey, blockKey)
	}
	st := sessions.NewCookieStore(pairs...)
	st.MaxAge(int(maxAge / time.Second)) // the codecs' timestamp check
	for _, c := range st.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(cookieSerializer{})
		}
	}
	return st, nil
}

// Cookie values are kept to gob-friendly scalars.
const (
	kID       = "sid"
	kSID      = "psid"
	kUser     = "uid"
	kEmail    = "email"
	kAuthTime = "at"
	kVersion  = "ver"
	kRemember = "rem"
	kCSRF     = "csrf"
	kCreated  = "iat"
)

// CookieName is the name of the session cookie.
func (k *Kit) CookieName() string { return k.cookie }

// load decodes the session cookie. A missing, forged, undecodable or
// expired cookie yields a new anonymous session that needs saving.
func (k *Kit) load(r *http.Request) (s *Session, fresh bool) {
	gs, err := k.store.New(r, k.cookie)
	if err == nil && !gs.IsNew {
		s = &Session{}
		s.ID, _ = gs.Values[kID].(string)
		s.SID, _ = gs.Values[kSID].(string)
		s.UserID, _ = gs.Values[kUser].(string)
		s.Email, _ = gs.Values[kEmail].(string)
		s.CSRF, _ = gs.Values[kCSRF].(string)
		s.Remember, _ = gs.Values[kRemember].(bool)
		s.Version, _ = gs.Values[kVersion].(int64)
		at, _ := gs.Values[kAuthTime].(int64)
		created, _ := gs.Values[kCreated].(int64)
		s.AuthTime, s.Created = time.Unix(at, 0).UTC(), time.Unix(created, 0).UTC()
		if s.ID != "" && s.CSRF != "" && k.now().Before(s.Created.Add(k.lifetime(s))) && k.alive(r, s) {
			return s, false
		}
	}
	now := k.now().UTC().Truncate(time.Second)
	return &Session{ID: randomToken(), CSRF: randomToken(), Created: now}, true
}

// alive asks the registry whether a signed-in session was ended on the
// server (logout elsewhere, "sign out everywhere") and, at most once per
// TouchInterval, records that it was seen. Anonymous sessions are not
// registered; a registry error fails closed (signed out).
func (k *Kit) alive(r *http.Request, s *Session) bool {
	if k.sessions == nil || s.UserID == "" {
		return true
	}
	lastSeen, ok, err := k.sessions.SessionActive(r.Context(), s.ID)
	if err != nil {
		k.log.Warn("session registry unavailable; treating the session as signed out", "err", err)
		return false
	}
	if now := k.now().UTC(); ok && now.Sub(lastSeen) >= TouchInterval {
		if err := k.sessions.TouchSession(r.Context(), s.ID, now); err != nil {
			k.log.Warn("record when the session was last seen", "err", err) // the session itself is fine
		}
	}
	return ok
}

// Expires is when s ends at the latest (its absolute lifetime).
func (k *Kit) Expires(s *Session) time.Time { return s.Created.Add(k.lifetime(s)) }

// TouchInterval is how stale a session's last-seen time may get: it is
// written at most once per interval per session, not on every request.
const TouchInterval = time.Minute

func (k *Kit) lifetime(s *Session) time.Duration {
	if s.Remember {
		return k.remember
	}
	return k.browser
}

// save writes s as the session cookie: a browser-session cookie, or a
// persistent one for "keep me signed in".
func (k *Kit) save(w http.ResponseWriter, r *http.Request, s *Session) error {
	gs := sessions.NewSession(k.store, k.cookie)
	gs.Options = k.options(0)
	if s.Remember {
		gs.Options.MaxAge = int(k.remember / time.Second)
	}
	gs.Values[kID] = s.ID
	gs.Values[kCSRF] = s.CSRF
	gs.Values[kCreated] = s.Created.Unix()
	if s.UserID != "" {
		gs.Values[kUser] = s.UserID
		gs.Values[kSID] = s.SID
		gs.Values[kEmail] = s.Email
		gs.Values[kAuthTime] = s.AuthTime.Unix()
		gs.Values[kVersion] = s.Version
		gs.Values[kRemember] = s.Remember
	}
	return k.store.Save(r, w, gs)
}

func (k *Kit) options(maxAge int) *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   !k.insecure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// SignIn starts a signed-in session for the user in a brand new session:
// new id, new public sid, new CSRF token, new cookie. version is the
// caller's fingerprint of the user (e.g. its UpdatedAt); the caller compares
// it on later requests to end sessions of users who were disabled or
// changed. The registry records the session with the request's User-Agent
// and client address (clientaddr.Of). The session in r's context is
// updated in place, so a page rendered afterwards in the same request
// carries the new CSRF token.
func (k *Kit) SignIn(w http.ResponseWriter, r *http.Request, userID, email string, version int64, remember bool) error {
	now := k.now().UTC().Truncate(time.Second)
	ns := Session{
		ID: randomToken(), SID: randomToken(), CSRF: randomToken(), Created: now,
		UserID: userID, Email: email, AuthTime: now, Version: version, Remember: remember,
	}
	if prev := SessionFrom(r.Context()); prev.SignedIn() {
		// Signing in again in this browser (prompt=login, max_age) replaces
		// its session instead of adding one; the same user keeps the public
		// id, so the apps that got ID tokens under it stay tied to it
		// (back-channel logout still reaches them).
		if prev.UserID == userID && prev.SID != "" {
			ns.SID = prev.SID
		}
		if k.sessions != nil {
			if err := k.sessions.DeleteSession(r.Context(), prev.ID); err != nil {
				return err
			}
		}
	}
	if k.sessions != nil {
		ua := r.UserAgent()
		if len(ua) > identity.MaxSessionUserAgent {
			ua = ua[:identity.MaxSessionUserAgent]
		}
		b := identity.BrowserSession{SID: ns.SID, UserID: userID, UserAgent: ua, IP: clientaddr.Of(r),
			ExpiresAt: now.Add(k.lifetime(&ns))}
		if err := k.sessions.CreateSession(r.Context(), ns.ID, b); err != nil {
			return err
		}
	}
	if err := k.save(w, r, &ns); err != nil {
		return err
	}
	if s := SessionFrom(r.Context()); s != nil {
		*s = ns
	}
	return nil
}

// SignOut ends the session: on the server (when a registry is set), so
// that no copy of the cookie works any more, and in the browser, where the
// cookie is deleted and its content cleared.
func (k *Kit) SignOut(w http.ResponseWriter, r *http.Request) {
	if s := SessionFrom(r.Context()); s != nil && s.UserID != "" && k.sessions != nil {
		if err := k.sessions.DeleteSession(r.Context(), s.ID); err != nil {
			k.log.Error("end session on the server", "err", err) // the cookie is still deleted below
		}
	}
	gs := sessions.NewSession(k.store, k.cookie)
	gs.Options = k.options(-1)
	_ = k.store.Save(r, w, gs) // an empty session, expired: the browser drops it
	if s := SessionFrom(r.Context()); s != nil {
		*s = Session{}
	}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Resign records a new version of the signed-in user in this browser's
// session (same id, sid, sign-in time and CSRF token), after the user
// changed their own account here: the change ends their other sessions
// (the caller's version check) but not this one.
func (k *Kit) Resign(w http.ResponseWriter, r *http.Request, version int64) error {
	s := SessionFrom(r.Context())
	if !s.SignedIn() {
		return nil
	}
	s.Version = version
	return k.save(w, r, s)
}
