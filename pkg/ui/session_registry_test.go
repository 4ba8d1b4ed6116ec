package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// countingRegistry is a session registry that counts its writes.
type countingRegistry struct {
	mu       sync.Mutex
	sessions map[string]*identity.BrowserSession
	touches  int
}

func (f *countingRegistry) CreateSession(_ context.Context, id string, b identity.BrowserSession) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b.LastSeenAt = b.ExpiresAt.Add(-12 * time.Hour) // sign-in time of a browser session
	f.sessions[id] = &b
	return nil
}

func (f *countingRegistry) SessionActive(_ context.Context, id string) (time.Time, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sessions[id]; ok {
		return s.LastSeenAt, true, nil
	}
	return time.Time{}, false, nil
}

func (f *countingRegistry) TouchSession(_ context.Context, id string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.touches++
	f.sessions[id].LastSeenAt = at
	return nil
}

func (f *countingRegistry) DeleteSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, id)
	return nil
}

// SignIn records a public sid, the User-Agent (cut) and the client
// address; last-seen is written at most once per TouchInterval however
// many requests come; a session deleted on the server is signed out at
// its next request.
func TestSessionRegistryRecordsAndThrottlesLastSeen(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	reg := &countingRegistry{sessions: map[string]*identity.BrowserSession{}}
	k := newKit(t, func(c *Config) { c.Now = func() time.Time { return now }; c.Sessions = reg })
	var seen Session
	h := k.Pages(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			_ = k.SignIn(w, r, "usr_1", "a@example.com", 7, false)
		}
		seen = *SessionFrom(r.Context())
	}))
	req := httptest.NewRequest(http.MethodPost, "/login", nil)
	long := "Mozilla/5.0 " + string(make([]byte, 400))
	req.Header.Set("User-Agent", long)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	cookie := rec.Result().Cookies()[len(rec.Result().Cookies())-1]
	if seen.SID == "" || seen.SID == seen.ID {
		t.Fatalf("sid %q, id %q: want a public sid distinct from the id", seen.SID, seen.ID)
	}
	var rec0 *identity.BrowserSession
	for _, s := range reg.sessions {
		rec0 = s
	}
	if rec0 == nil || rec0.SID != seen.SID || rec0.UserID != "usr_1" || len(rec0.UserAgent) != identity.MaxSessionUserAgent || rec0.IP == "" {
		t.Fatalf("recorded %+v", rec0)
	}
	visit := func() Session {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(cookie)
		h.ServeHTTP(httptest.NewRecorder(), req)
		return seen
	}
	rec0.LastSeenAt = now // as the store does at sign-in
	for range 10 {
		now = now.Add(5 * time.Second)
		if s := visit(); s.SID != rec0.SID {
			t.Fatalf("sid changed to %q", s.SID)
		}
	}
	if reg.touches != 0 {
		t.Fatalf("%d last-seen writes within %v, want 0", reg.touches, 50*time.Second)
	}
	now = now.Add(10 * time.Second)
	visit()
	visit()
	if reg.touches != 1 || !rec0.LastSeenAt.Equal(now) {
		t.Fatalf("%d writes after a minute (last seen %v), want 1 at %v", reg.touches, rec0.LastSeenAt, now)
	}
	_ = reg.DeleteSession(context.Background(), seen.ID)
	if s := visit(); s.SignedIn() {
		t.Fatal("a session deleted on the server still works")
	}
}
