package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const (
	chromeLinux   = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	firefoxWindow = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)

func signIn(t *testing.T, b *webtest.Browser, email, pw, ua string) {
	t.Helper()
	login := b.Get("/login")
	p := b.Post("/login", url.Values{"email": {email}, "password": {pw}, "csrf_token": {login.CSRF(t)}}, "User-Agent", ua)
	if p.Status != http.StatusOK || !strings.HasSuffix(p.URL, "/account") {
		t.Fatalf("sign-in: HTTP %d at %s", p.Status, p.URL)
	}
}

// lastSeen reads the session rows' last_seen_at of user, in sid order.
func lastSeen(t *testing.T, s *servertest.Server, userID string) []time.Time {
	t.Helper()
	rows, err := s.Store.DB().QueryContext(context.Background(),
		"SELECT last_seen_at FROM browser_sessions WHERE user_id = "+map[bool]string{true: "$1", false: "?"}[s.Dialect() == "postgres"]+" ORDER BY sid", userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v time.Time
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.UTC())
	}
	return out
}

// The account page lists the user's sessions in two browsers (device in
// plain words, address, this device marked); last_seen is written at most
// once a minute; "Sign out" of the other browser and "Sign out everywhere"
// end those sessions at their next request, and the audit log has them.
func TestAccountSessions(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		c := &clock{t: time.Now().UTC().Add(-time.Hour).Truncate(time.Second)}
		s := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL, Now: c.Now})
		u := s.MustUser(t, "alice@example.com", "correct horse battery staple")
		s.MustUser(t, "bob@example.com", "correct horse battery staple")
		a, b := s.Browser(t), s.Browser(t)
		signIn(t, a, u.Email, u.Password, chromeLinux)
		c.Add(10 * time.Second)
		signIn(t, b, u.Email, u.Password, firefoxWindow)
		bob := s.Browser(t)
		signIn(t, bob, "bob@example.com", "correct horse battery staple", chromeLinux)

		page := a.Get("/account")
		for _, want := range []string{"Where you’re signed in", "Chrome on Linux", "Firefox on Windows", "This device", "127.0.0.1", "Sign out everywhere"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("account page lacks %q", want)
			}
		}
		if n := strings.Count(page.Body, `/account/sessions/`) - 1; n != 2 { // two per-session forms, one end-all
			t.Errorf("%d sessions listed, want alice's 2 (not bob's)", n)
		}
		if strings.Index(page.Body, "This device") > strings.Index(page.Body, "Firefox on Windows") {
			t.Error("this device is not listed first")
		}

		// last_seen: many requests within a minute write nothing; the first
		// request after a minute writes once.
		before := lastSeen(t, s, u.ID)
		for range 5 {
			c.Add(5 * time.Second)
			a.Get("/account")
			b.Get("/account")
		}
		if got := lastSeen(t, s, u.ID); !equalTimes(got, before) {
			t.Fatalf("last_seen written within a minute: %v → %v", before, got)
		}
		c.Add(time.Minute)
		a.Get("/account")
		after := lastSeen(t, s, u.ID)
		changed := 0
		for i := range after {
			if !after[i].Equal(before[i]) {
				changed++
				if !after[i].Equal(c.Now()) {
					t.Errorf("last_seen %v, want %v", after[i], c.Now())
				}
			}
		}
		if changed != 1 {
			t.Fatalf("%d last_seen written after a minute by one browser's request, want 1", changed)
		}

		// Sign out the other browser from this one.
		sids := regexp.MustCompile(`/account/sessions/([A-Za-z0-9_-]+)/end`).FindAllStringSubmatch(a.Get("/account").Body, -1)
		if len(sids) != 2 {
			t.Fatalf("sessions %v", sids)
		}
		other := sids[1][1] // this device is first
		p := a.Post("/account/sessions/"+other+"/end", url.Values{"csrf_token": {a.Get("/account").CSRF(t)}})
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "That browser will have to sign in again") {
			t.Fatalf("sign out the other browser: HTTP %d at %s", p.Status, p.URL)
		}
		if p := b.Get("/account"); !strings.Contains(p.URL, "/login") {
			t.Fatalf("the ended session still works: %s", p.URL)
		}
		if p := a.Get("/account"); !strings.HasSuffix(p.URL, "/account") {
			t.Fatalf("this browser was signed out too: %s", p.URL)
		}
		// Someone else's sid is not found.
		if p := bob.Post("/account/sessions/"+sids[0][1]+"/end", url.Values{"csrf_token": {bob.Get("/account").CSRF(t)}}); p.Status != http.StatusNotFound {
			t.Fatalf("bob ends alice's session: HTTP %d", p.Status)
		}

		// Sign out everywhere: this browser and the one signed in again.
		signIn(t, b, u.Email, u.Password, firefoxWindow)
		p = a.Post("/account/sessions/end-all", url.Values{"csrf_token": {a.Get("/account").CSRF(t)}})
		if !strings.Contains(p.URL, "/login") {
			t.Fatalf("sign out everywhere: HTTP %d at %s", p.Status, p.URL)
		}
		for name, br := range map[string]*webtest.Browser{"this": a, "other": b} {
			if p := br.Get("/account"); !strings.Contains(p.URL, "/login") {
				t.Fatalf("%s browser still signed in after sign out everywhere", name)
			}
		}
		if p := bob.Get("/account"); !strings.HasSuffix(p.URL, "/account") {
			t.Fatal("bob was signed out by alice's sign out everywhere")
		}
		events := auditTypes(t, s, u.ID)
		for _, want := range []string{"session.ended", "sessions.ended_all"} {
			if !strings.Contains(events, want) {
				t.Errorf("audit log lacks %s: %s", want, events)
			}
		}
	})
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// auditTypes are the types of the user's audit events, space-separated.
func auditTypes(t *testing.T, s *servertest.Server, userID string) string {
	t.Helper()
	if err := s.Audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs, _, err := s.Store.ListAudit(context.Background(), identity.AuditFilter{UserID: userID, Page: identity.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return strings.Join(out, " ")
}
