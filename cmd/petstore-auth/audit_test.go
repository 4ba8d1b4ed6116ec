package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"testing"

	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// TestAuditTrail walks the security-relevant events through real HTTP and
// the CLI and checks that each is recorded once, with who and whom, and that
// the audit table holds no password, token or key.
func TestAuditTrail(t *testing.T) {
	db := "sqlite://" + t.TempDir() + "/a.db"
	setEnv(t, db)
	t.Setenv("PETSTORE_REFRESH_GRACE_WINDOW", "0s") // a replayed refresh token is reuse at once
	e := newFlowEnv(t, db)
	svc := createClient(t, "--name", "Cron", "--grant-type", "client_credentials", "--scope", "read:pets")
	ctx := context.Background()
	s, ts := e.server, e.ts

	b := newBrowser(t, ts.URL)
	v := oauth2.GenerateVerifier()
	authURL := e.conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets offline_access"))
	p := b.Get(authURL)
	bad := webtest.Hidden(p.Body)
	bad.Set("email", "alice@example.com")
	bad.Set("password", "wrong password!")
	b.Post(ts.URL+"/login", bad)                                                        // login.failure
	p = e.signIn(t, b, b.Get(authURL))                                                  // login.success
	q := callback(t, e.consent(t, b, p, "allow", false, "read:pets", "offline_access")) // consent.granted, code.issued
	_, err := e.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))             // code.redeemed, token.issued
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v)); err == nil { // code.reused
		t.Fatal("code redeemed twice")
	}
	// The replay revoked the first tokens; a fresh consent for the rest.
	v = oauth2.GenerateVerifier()
	p = b.Get(e.conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets offline_access")))
	q = callback(t, e.consent(t, b, p, "allow", false, "read:pets", "offline_access"))
	tok, err := e.conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt string) (int, map[string]any) {
		return postForm(t, ts.URL+"/oauth2/token", e.client.ClientID, e.client.ClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	if st, _ := refresh(tok.RefreshToken); st != 200 { // token.refreshed
		t.Fatalf("refresh: %d", st)
	}
	if st, _ := refresh(tok.RefreshToken); st != 400 { // token.reuse_detected
		t.Fatalf("reuse: %d", st)
	}
	p = b.Get(e.conf.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("scope", "read:pets write:pets")))
	callback(t, e.consent(t, b, p, "deny", false)) // consent.denied

	_, body := postForm(t, ts.URL+"/oauth2/token", svc.ClientID, svc.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	svcToken, _ := body["access_token"].(string)
	postForm(t, ts.URL+"/oauth2/introspect", svc.ClientID, svc.ClientSecret, url.Values{"token": {svcToken}}) // introspection.denied
	postForm(t, ts.URL+"/oauth2/revoke", svc.ClientID, svc.ClientSecret, url.Values{"token": {svcToken}})     // token.revoked

	out, err := cli(t, "", "apikey", "create", "--owner", "alice@example.com", "--scope", "read:pets", "--output", "json") // apikey.created
	if err != nil {
		t.Fatal(out, err)
	}
	var key struct{ Key, ID string }
	json.Unmarshal([]byte(out), &key)
	for range 3 {
		postForm(t, ts.URL+"/oauth2/introspect", e.rs.ClientID, e.rs.ClientSecret, url.Values{"token": {key.Key}}) // apikey.first_used, once
	}
	if out, err := cli(t, "", "apikey", "revoke", key.ID); err != nil { // apikey.revoked
		t.Fatal(out, err)
	}
	acct := b.Get(ts.URL + "/account")
	if m := regexp.MustCompile(`action="(/account/grants/[^"]+/revoke)"`).FindStringSubmatch(acct.Body); m != nil {
		b.Post(ts.URL+html.UnescapeString(m[1]), webtest.Hidden(acct.Body)) // grant.revoked
	} else {
		t.Fatal("no grant to revoke on the account page")
	}
	acct = b.Get(ts.URL + "/account")
	b.Post(ts.URL+"/logout", webtest.Hidden(acct.Body)) // logout

	s.Audit.Flush(ctx)
	events, _, err := s.Audit.ListAudit(ctx, identity.AuditFilter{Page: identity.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	byType := map[string]*identity.AuditEvent{}
	for _, ev := range events {
		count[ev.Type]++
		byType[ev.Type] = ev
	}
	once := []string{"login.failure", "login.success", "code.reused", "token.refreshed", "token.reuse_detected",
		"consent.denied", "introspection.denied", "token.revoked", "apikey.created", "apikey.first_used", "apikey.revoked", "grant.revoked", "logout"}
	for _, typ := range once {
		if count[typ] != 1 {
			t.Errorf("%s recorded %d times, want once (all: %v)", typ, count[typ], count)
		}
	}
	for typ, want := range map[string]int{"consent.granted": 2, "code.issued": 2, "code.redeemed": 2} {
		if count[typ] != want {
			t.Errorf("%s recorded %d times, want %d", typ, count[typ], want)
		}
	}
	if f := byType["login.failure"]; f == nil || f.IP == "" || f.UserAgent == "" || f.Details["reason"] == "" {
		t.Errorf("login.failure lacks ip, user agent or reason: %+v", f)
	}
	if g := byType["consent.granted"]; g == nil || g.UserID == "" || g.ClientID != e.client.ClientID {
		t.Errorf("consent.granted lacks user or client: %+v", g)
	}
	if r := byType["token.reuse_detected"]; r == nil || r.ClientID != e.client.ClientID {
		t.Errorf("token.reuse_detected lacks the client: %+v", r)
	}
	dump, _ := json.Marshal(events)
	for what, secret := range map[string]string{"password": "correct horse battery", "wrong password": "wrong password!",
		"refresh token": tok.RefreshToken, "access token": tok.AccessToken, "api key": key.Key, "client secret": e.client.ClientSecret} {
		if bytes.Contains(dump, []byte(secret)) {
			t.Errorf("the audit table holds the %s", what)
		}
	}
}
