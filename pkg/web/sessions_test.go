package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// SessionsEnded hears of every ended session with its sid: sign-out,
// per-session sign-out and sign out everywhere (both browsers).
func TestSessionsEndedHook(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var calls []string
	e.h.SessionsEnded = func(_ context.Context, userID string, sids []string) {
		mu.Lock()
		defer mu.Unlock()
		s := slices.Clone(sids)
		slices.Sort(s)
		calls = append(calls, userID+":"+strings.Join(s, ","))
	}
	sidsOf := func(b page) []string {
		var out []string
		for _, m := range regexp.MustCompile(`/account/sessions/([A-Za-z0-9_-]+)/end`).FindAllStringSubmatch(b.Body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	a, b, c := e.browser(), e.browser(), e.browser()
	e.mustLogin(a, "alice@example.com")
	e.mustLogin(b, "alice@example.com")
	e.mustLogin(c, "alice@example.com")
	acc := a.Get("/account")
	sids := sidsOf(acc) // a's own first
	if len(sids) != 3 {
		t.Fatalf("%d sessions listed, want 3", len(sids))
	}
	// One other session, from a.
	if p := a.Post("/account/sessions/"+sids[1]+"/end", url.Values{"csrf_token": {acc.CSRF(t)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("end one: HTTP %d", p.Status)
	}
	// Sign out everywhere (a and the remaining one).
	if p := a.Post("/account/sessions/end-all", url.Values{"csrf_token": {a.Get("/account").CSRF(t)}}); p.Status != http.StatusSeeOther {
		t.Fatalf("end all: HTTP %d", p.Status)
	}
	rest := []string{sids[0], sids[2]}
	slices.Sort(rest)
	want := []string{"usr_alice:" + sids[1], "usr_alice:" + strings.Join(rest, ",")}
	mu.Lock()
	got := slices.Clone(calls)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("SessionsEnded calls %v, want %v", got, want)
	}
	for name, br := range map[string]*webtest.Browser{"a": a, "b": b, "c": c} {
		if p := br.Get("/account"); p.Status != http.StatusSeeOther {
			t.Fatalf("browser %s still signed in: HTTP %d", name, p.Status)
		}
	}
	// Plain sign-out reports its one sid.
	e.mustLogin(a, "alice@example.com")
	own := sidsOf(a.Get("/account"))[0]
	a.Post("/logout", url.Values{"csrf_token": {a.Get("/account").CSRF(t)}})
	mu.Lock()
	defer mu.Unlock()
	if last := calls[len(calls)-1]; last != "usr_alice:"+own {
		t.Fatalf("logout: SessionsEnded %q, want usr_alice:%s", last, own)
	}
}

// deviceName says in plain words what a User-Agent is.
func TestDeviceName(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                                   "Chrome on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0":                   "Edge on Windows",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iPhone",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0":                                                     "Firefox on macOS",
		"Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36":                       "Chrome on Android",
		"curl/8.5.0": "curl",
		"":           "Unknown device",
		"???":        "Unknown device",
	} {
		if got := deviceName(ua); got != want {
			t.Errorf("deviceName(%q) = %q, want %q", ua, got, want)
		}
	}
}
