package demo

import (
	"crypto/rand"
	"crypto/subtle"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Limits of the in-memory session store. Sessions are created only when
// someone starts to connect, so bots crawling "/" cost nothing.
const (
	sessionIdle     = 7 * 24 * time.Hour // a session unused this long is forgotten
	maxSessions     = 10000              // beyond this the least recently used goes
	pendingLifetime = 10 * time.Minute   // how long a started authorization may take
	maxPending      = 4                  // parallel "Connect" tabs per session
)

// session is MyApp's server-side state for one browser. The browser only
// holds the random id; tokens never leave the server.
type session struct {
	id string

	// refresh serialises token refreshes of this session, so two tabs
	// hitting a 401 together refresh once.
	refresh sync.Mutex

	mu      sync.Mutex // guards the fields below
	seen    time.Time
	csrf    string
	pending map[string]pendingAuth // state → what the callback needs
	token   *oauth2.Token
	scopes  []string
	flash   *flash
	// who signed in (OpenID Connect), and the state of a sign-out in
	// flight at PetStore.
	who         *identity
	logoutState string
}

// pendingAuth is one authorization request in flight.
type pendingAuth struct {
	verifier string // PKCE code_verifier
	nonce    string // OpenID Connect nonce; "" without openid
	started  time.Time
}

// flash is a one-time message shown on the next page.
type flash struct {
	Kind  string // "notice" or "problem"
	Title string
	Text  string
}

// connection is a snapshot of a session's tokens.
func (s *session) connection() (*oauth2.Token, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, s.scopes
}

func (s *session) setToken(t *oauth2.Token, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.scopes = t, scopes
}

// dropToken forgets the tokens and returns what was there.
func (s *session) dropToken() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.token
	s.token, s.scopes = nil, nil
	return t
}

func (s *session) setIdentity(id *identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.who = id
}

func (s *session) identity() *identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.who
}

// signOut forgets who signed in and the tokens, and returns who it was.
func (s *session) signOut() *identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	who := s.who
	s.who, s.token, s.scopes = nil, nil, nil
	return who
}

func (s *session) setLogoutState(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logoutState = state
}

// takeLogoutState consumes the sign-out state if it matches.
func (s *session) takeLogoutState(state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.logoutState != "" && subtle.ConstantTimeCompare([]byte(state), []byte(s.logoutState)) == 1
	s.logoutState = ""
	return ok
}

func (s *session) setFlash(f flash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flash = &f
}

func (s *session) takeFlash() *flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = nil
	return f
}

func (s *session) csrfToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.csrf
}

// addPending remembers a new authorization request, dropping expired ones
// and, past maxPending, the oldest.
func (s *session) addPending(state, verifier, nonce string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, p := range s.pending {
		if now.Sub(p.started) > pendingLifetime {
			delete(s.pending, k)
		}
	}
	for len(s.pending) >= maxPending {
		var oldest string
		for k, p := range s.pending {
			if oldest == "" || p.started.Before(s.pending[oldest].started) {
				oldest = k
			}
		}
		delete(s.pending, oldest)
	}
	if s.pending == nil {
		s.pending = map[string]pendingAuth{}
	}
	s.pending[state] = pendingAuth{verifier: verifier, nonce: nonce, started: now}
}

// takePending consumes the request matching state. On no match every
// pending request is dropped: a forged or replayed callback aborts them.
func (s *session) takePending(state string, now time.Time) (pendingAuth, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pending[state]
	if !ok || state == "" {
		s.pending = nil
		return pendingAuth{}, false
	}
	delete(s.pending, state)
	if now.Sub(p.started) > pendingLifetime {
		return pendingAuth{}, false
	}
	return p, true
}

// sessionStore keeps sessions in memory: a restart disconnects everyone,
// which a demo can afford and which keeps tokens out of any file.
type sessionStore struct {
	mu sync.Mutex
	m  map[string]*session
}

func (st *sessionStore) get(id string, now time.Time) *session {
	if id == "" {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[id]
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.seen) > sessionIdle {
		delete(st.m, id)
		return nil
	}
	s.seen = now
	return s
}

func (st *sessionStore) create(now time.Time) *session {
	s := &session{id: rand.Text(), csrf: rand.Text(), seen: now}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.insert(s, now)
	return s
}

// rotate moves a session to a fresh id (at connect, so an id planted
// before the user connected is worthless afterwards) with a fresh CSRF
// token.
func (st *sessionStore) rotate(old *session, now time.Time) *session {
	old.mu.Lock()
	s := &session{
		id: rand.Text(), csrf: rand.Text(), seen: now,
		pending: old.pending, token: old.token, scopes: old.scopes, flash: old.flash,
	}
	old.token, old.scopes, old.pending = nil, nil, nil
	old.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, old.id)
	st.insert(s, now)
	return s
}

func (st *sessionStore) insert(s *session, now time.Time) {
	if st.m == nil {
		st.m = map[string]*session{}
	}
	if len(st.m) >= maxSessions {
		st.evict(now)
	}
	st.m[s.id] = s
}

// evict drops idle sessions, and the least recently used one if none is.
func (st *sessionStore) evict(now time.Time) {
	var lru string
	var lruSeen time.Time
	for id, s := range st.m {
		s.mu.Lock()
		seen := s.seen
		s.mu.Unlock()
		if now.Sub(seen) > sessionIdle {
			delete(st.m, id)
			continue
		}
		if lru == "" || seen.Before(lruSeen) {
			lru, lruSeen = id, seen
		}
	}
	if len(st.m) >= maxSessions && lru != "" {
		delete(st.m, lru)
	}
}
