package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
)

// fakeDevices holds one pending device request under a user code.
type fakeDevices struct {
	mu      sync.Mutex
	code    string // normalised
	decided string // "", "allow", "deny"
	granted []string
	lookups int
}

func (f *fakeDevices) LookupUserCode(_ context.Context, typed string) (*provider.DeviceRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	norm, ok := identity.NormalizeUserCode(typed)
	if !ok || norm != f.code || f.decided != "" {
		return nil, provider.ErrUserCode
	}
	return &provider.DeviceRequest{UserCode: identity.FormatUserCode(norm), ClientID: testClient, Scopes: []string{"read:pets", "offline_access"},
		DeviceUserAgent: "PetTV/2.1", DeviceAddress: "203.0.113.9", ExpiresAt: time.Now().Add(time.Minute)}, nil
}

func (f *fakeDevices) DecideUserCode(_ context.Context, typed, _, _ string, granted []string, approve bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decided, f.granted = "deny", granted
	if approve {
		f.decided = "allow"
	}
	return nil
}

func deviceEnv(t *testing.T) (*env, *fakeDevices) {
	return withDevices(newEnv(t))
}

// withDevices mounts e's pages again with a fakeDevices.
func withDevices(e *env) (*env, *fakeDevices) {
	d := &fakeDevices{code: "BCDFGHJK"}
	e.h.Devices = d
	e.router = mux.NewRouter()
	e.h.Mount(e.router)
	e.srv.Config.Handler = e.router
	return e, d
}

// getFrom asks for path as if from client address ip.
func (e *env) getFrom(ip, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "https://auth.example"+path, nil)
	req.RemoteAddr = ip + ":40000"
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	return rec
}

// TestDeviceCodeGuessingThrottled: wrong user codes from one address are
// answered with the form again (400) for the 10 free ones, then with a
// wait page (429, Retry-After, "Try again in"); the right code from that
// address waits too (no oracle), and from another address it works.
// Throttled guesses never reach the code lookup.
func TestDeviceCodeGuessingThrottled(t *testing.T) {
	forEachThrottle(t, func(t *testing.T, e *env) {
		deviceGuessing(t, e)
	})
}

func deviceGuessing(t *testing.T, e *env) {
	e, d := withDevices(e)
	for i := range DeviceCodePerAddress.Free {
		if rec := e.getFrom("198.51.100.20", "/device?user_code=ZZZZ-ZZZZ"); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "not valid") {
			t.Fatalf("wrong code %d: HTTP %d", i+1, rec.Code)
		}
	}
	before := d.lookups
	rec := e.getFrom("198.51.100.20", "/device?user_code=ZZZZ-ZZZX")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "Wait ") {
		t.Fatalf("11th wrong code: HTTP %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := e.getFrom("198.51.100.20", "/device?user_code=BCDF-GHJK"); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right code from the throttled address: HTTP %d; want 429", rec.Code)
	}
	if d.lookups != before {
		t.Fatalf("throttled guesses reached the lookup (%d more)", d.lookups-before)
	}
	// Another address, signed out: the right code leads to sign-in, and
	// back to the device page afterwards.
	rec = e.getFrom("192.0.2.30", "/device?user_code=bcdf+ghjk")
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || loc != "/login?return_to="+url.QueryEscape("/device?user_code=BCDF-GHJK") {
		t.Fatalf("right code, signed out: HTTP %d to %q", rec.Code, loc)
	}
	if e.audit.count("device.code_rejected", "") != DeviceCodePerAddress.Free {
		t.Errorf("wrong codes audited %d times; want %d", e.audit.count("device.code_rejected", ""), DeviceCodePerAddress.Free)
	}
}

// TestDevicePageConsent: signed in, the page names the app, the device
// (its address and what it calls itself) and the scopes; allowing with
// one scope unticked records a grant of the other, and the form needs the
// CSRF token.
func TestDevicePageConsent(t *testing.T) {
	e, d := deviceEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	p := b.Get("/device?user_code=BCDF-GHJK")
	if p.Status != http.StatusOK {
		t.Fatalf("device page: HTTP %d\n%s", p.Status, p.Body)
	}
	for _, want := range []string{"Pet Diary", "203.0.113.9", "PetTV/2.1", "BCDF-GHJK", "read:pets", "offline_access"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the device page does not show %q", want)
		}
	}
	if p := b.Post("/device", url.Values{"user_code": {"BCDF-GHJK"}, "decision": {"allow"}, "scope": {"read:pets"}}); p.Status != http.StatusForbidden {
		t.Fatalf("decision without the CSRF token: HTTP %d", p.Status)
	}
	p = b.Post("/device", url.Values{"user_code": {"BCDF-GHJK"}, "decision": {"allow"}, "scope": {"read:pets"}, "csrf_token": {p.CSRF(t)}})
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "all set") {
		t.Fatalf("allow: HTTP %d\n%s", p.Status, p.Body)
	}
	if d.decided != "allow" || strings.Join(d.granted, " ") != "read:pets" {
		t.Fatalf("decision %q with %v; want allow with read:pets", d.decided, d.granted)
	}
	if g, err := e.grants.ActiveGrant(context.Background(), "usr_alice", testClient); err != nil || strings.Join(g.Scopes, " ") != "read:pets" {
		t.Fatalf("grant after allowing: %+v %v", g, err)
	}
}

// TestValidReturnToDevice: the device page is a place sign-in may return
// to, with its user code, and nothing that merely starts like it.
func TestValidReturnToDevice(t *testing.T) {
	for s, want := range map[string]bool{
		"/device":                     true,
		"/device?user_code=BCDF-GHJK": true,
		"/device?other=1":             false,
		"/devices":                    false,
		"/device/../admin":            false,
		"//device":                    false,
	} {
		if got := validReturnTo(s); got != want {
			t.Errorf("validReturnTo(%q) = %v; want %v", s, got, want)
		}
	}
}
