package web

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
)

func TestAccountListsAndRevokesOwnGrant(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	redirectParams(t, e.consent(b, b.Get(authPathFor("read:pets")), "allow", []string{"read:pets"}, true))

	account := b.Get("/account")
	for _, want := range []string{"Pet Diary", "View your pets", `action="/account/grants/grt_1/revoke"`} {
		if !strings.Contains(account.Body, want) {
			t.Fatalf("account page lacks %q", want)
		}
	}
	p := b.Post("/account/grants/grt_1/revoke", url.Values{"csrf_token": {account.CSRF(t)}})
	if p.Status != http.StatusSeeOther || p.Location != "/account?notice=grant_revoked" {
		t.Fatalf("revoke: HTTP %d to %q", p.Status, p.Location)
	}
	if e.grants.get("grt_1").RevokedAt == nil || e.audit.count("grant.revoked", "") != 1 {
		t.Fatal("grant not revoked or not audited")
	}
	after := b.Get(p.Location)
	if strings.Contains(after.Body, "grants/grt_1/revoke") || !strings.Contains(after.Body, "Access revoked.") {
		t.Fatal("revoked grant still listed, or no confirmation")
	}
	// Revoked: the remembered consent is gone, the consent page is back.
	if p := b.Get(authPathFor("read:pets")); p.Status != http.StatusOK {
		t.Fatalf("after revoking: HTTP %d, want the consent page", p.Status)
	}
}

// Someone else's grant or key is "not found" and stays untouched.
func TestAccountCannotRevokeOthers(t *testing.T) {
	e := newEnv(t)
	bob := e.browser()
	e.mustLogin(bob, "bob@example.com")
	redirectParams(t, e.consent(bob, bob.Get(authPathFor("read:pets")), "allow", []string{"read:pets"}, false))
	bobAccount := bob.Get("/account")
	created := bob.Post("/account/keys", url.Values{"csrf_token": {bobAccount.CSRF(t)}, "name": {"bob's"},
		"env": {"test"}, "scope": {"read:pets"}, "expiry": {"never"}})
	if created.Status != http.StatusCreated {
		t.Fatalf("create key: HTTP %d", created.Status)
	}

	alice := e.browser()
	e.mustLogin(alice, "alice@example.com")
	token := alice.Get("/account").CSRF(t)
	for _, path := range []string{"/account/grants/grt_1/revoke", "/account/keys/key_1/revoke", "/account/grants/grt_404/revoke"} {
		if p := alice.Post(path, url.Values{"csrf_token": {token}}); p.Status != http.StatusNotFound {
			t.Fatalf("%s: HTTP %d, want 404", path, p.Status)
		}
	}
	if e.grants.get("grt_1").RevokedAt != nil || e.keys.keys[0].RevokedAt != nil {
		t.Fatal("another user's grant or key was revoked")
	}
}

// A new API key is shown once; only its hash and display prefix are stored.
func TestCreateAndRevokeAPIKey(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	account := b.Get("/account")
	p := b.Post("/account/keys", url.Values{"csrf_token": {account.CSRF(t)}, "name": {"Nightly sync"},
		"env": {"live"}, "scope": {"read:pets", "write:pets", "admin"}, "expiry": {"90"}})
	if p.Status != http.StatusCreated || p.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: HTTP %d, Cache-Control %q", p.Status, p.Header.Get("Cache-Control"))
	}
	key := regexp.MustCompile(`sk_live_[A-Za-z0-9]+`).FindString(p.Body)
	if _, err := apikey.Parse(key); err != nil {
		t.Fatalf("page shows no valid key (%q): %v", key, err)
	}
	k := e.keys.keys[0]
	if !bytes.Equal(k.Hash, apikey.Hash(key)) || k.Prefix != apikey.DisplayPrefix(key) || k.OwnerID != "usr_alice" ||
		k.Env != "live" || strings.Join(k.Scopes, " ") != "read:pets write:pets" || k.ExpiresAt == nil {
		t.Fatalf("stored key %+v", k)
	}
	again := b.Get("/account")
	if strings.Contains(again.Body, key) || !strings.Contains(again.Body, k.Prefix) {
		t.Fatal("the key is shown again, or its prefix is not listed")
	}
	rp := b.Post("/account/keys/"+k.ID+"/revoke", url.Values{"csrf_token": {again.CSRF(t)}})
	if rp.Status != http.StatusSeeOther || e.keys.keys[0].RevokedAt == nil {
		t.Fatalf("revoke: HTTP %d", rp.Status)
	}
	if e.audit.count("apikey.created", "") != 1 || e.audit.count("apikey.revoked", "") != 1 {
		t.Fatalf("audit events %v", e.audit.types())
	}
}

func TestCreateAPIKeyValidation(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	e.mustLogin(b, "alice@example.com")
	token := b.Get("/account").CSRF(t)
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"name too long", url.Values{"name": {strings.Repeat("é", 65)}, "env": {"test"}, "scope": {"read:pets"}, "expiry": {"30"}}, "more than 64 characters"},
		{"bad env", url.Values{"name": {"x"}, "env": {"prod"}, "scope": {"read:pets"}, "expiry": {"30"}}, "live or test"},
		{"no scope", url.Values{"name": {"x"}, "env": {"test"}, "scope": {"admin"}, "expiry": {"30"}}, "at least one scope"},
		{"bad expiry", url.Values{"name": {"x"}, "env": {"test"}, "scope": {"read:pets"}, "expiry": {"7"}}, "when the key expires"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf_token", token)
			p := b.Post("/account/keys", tc.form)
			if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, tc.want) {
				t.Fatalf("HTTP %d; want 400 saying %q", p.Status, tc.want)
			}
		})
	}
	if len(e.keys.keys) != 0 {
		t.Fatal("an invalid form created a key")
	}
}

// Every page carries the strict CSP and is neither framed nor cached.
func TestPagesCarrySecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	check := func(name string, p page) {
		t.Helper()
		h := p.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", name, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", name, h)
		}
	}
	check("landing", b.Get("/"))
	check("login", b.Get("/login"))
	check("error", b.Get("/oauth2/auth?client_id=nope"))
	e.mustLogin(b, "alice@example.com")
	check("account", b.Get("/account"))
	check("consent", b.Get(authPathFor("read:pets")))
}

func TestLandingPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if p := b.Get("/"); p.Status != http.StatusOK || !strings.Contains(p.Body, `href="/login"`) {
		t.Fatalf("signed out: HTTP %d", p.Status)
	}
	e.mustLogin(b, "alice@example.com")
	if p := b.Get("/"); p.Status != http.StatusSeeOther || p.Location != "/account" {
		t.Fatalf("signed in: HTTP %d to %q", p.Status, p.Location)
	}
}
