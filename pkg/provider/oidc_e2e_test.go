package provider_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

const rpCallback = "https://rp.example/callback"

// rp is a relying party on go-oidc and x/oauth2, as an app would be.
type rp struct {
	t        *testing.T
	srv      *servertest.Server
	provider *oidc.Provider
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRP(t *testing.T, srv *servertest.Server, c servertest.Client, scopes ...string) *rp {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), srv.URL) // discovery; checks the issuer
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	return &rp{t: t, srv: srv, provider: p,
		conf:     oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: p.Endpoint(), RedirectURL: rpCallback, Scopes: scopes},
		verifier: p.Verifier(&oidc.Config{ClientID: c.ID})}
}

// signIn walks the authorization request in b as u: the login page when
// shown, consent to every requested scope when asked; it returns the code.
func (r *rp) code(b *webtest.Browser, u servertest.User, verifier string, opts ...oauth2.AuthCodeOption) string {
	r.t.Helper()
	opts = append(opts, oauth2.S256ChallengeOption(verifier))
	p := b.Get(r.conf.AuthCodeURL("state-1234567890", opts...))
	if strings.Contains(p.Body, `action="/login"`) {
		p = b.Submit(p, "/login", url.Values{"email": {u.Email}, "password": {u.Password}})
	}
	if strings.Contains(p.Body, `name="decision"`) {
		form := p.Hidden()
		form.Set("decision", "allow")
		for _, m := range regexp.MustCompile(`name="scope" value="([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
			form.Add("scope", html.UnescapeString(m[1]))
		}
		p = b.Post("/oauth2/consent", form)
	}
	loc, err := url.Parse(p.Location)
	if err != nil || !strings.HasPrefix(p.Location, rpCallback) || loc.Query().Get("code") == "" {
		r.t.Fatalf("no code: %d at %s, Location %q: %.300s", p.Status, p.URL, p.Location, p.Body)
	}
	return loc.Query().Get("code")
}

// login runs the code flow and returns the token response.
func (r *rp) login(b *webtest.Browser, u servertest.User, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	r.t.Helper()
	v := oauth2.GenerateVerifier()
	tok, err := r.conf.Exchange(context.Background(), r.code(b, u, v, opts...), oauth2.VerifierOption(v))
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	return tok
}

// idToken verifies the ID token of tok with go-oidc and returns it, its
// claims and its JOSE alg.
func (r *rp) idToken(tok *oauth2.Token) (*oidc.IDToken, map[string]any, string) {
	r.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		r.t.Fatal("no id_token in the token response")
	}
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		r.t.Fatalf("go-oidc refuses the ID token: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		r.t.Fatal(err)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	var h struct{ Alg, Kid, Typ string }
	_ = json.Unmarshal(hdr, &h)
	if h.Kid == "" {
		r.t.Errorf("ID token header %s has no kid", hdr)
	}
	return idt, claims, h.Alg
}

// userInfo calls the UserInfo endpoint through go-oidc and returns every
// claim.
func (r *rp) userInfo(tok *oauth2.Token) map[string]any {
	r.t.Helper()
	ui, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil {
		r.t.Fatalf("UserInfo: %v", err)
	}
	var claims map[string]any
	if err := ui.Claims(&claims); err != nil {
		r.t.Fatal(err)
	}
	return claims
}

func oidcServer(t *testing.T, dbURL string) (*servertest.Server, servertest.User) {
	srv := servertest.MustOpen(t, servertest.Options{DatabaseURL: dbURL})
	alice := srv.MustUser(t, "alice@example.com", "correct horse battery staple", func(u *identity.User) {
		u.Name, u.EmailVerified = "Alice Liddell", true
	})
	return srv, alice
}

func oidcClient(t *testing.T, srv *servertest.Server, alg string) servertest.Client {
	return srv.MustClient(t, identity.Client{Name: "RP " + alg, RedirectURIs: []string{rpCallback},
		GrantTypes:               []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken},
		Scopes:                   []string{"openid", "profile", "email", "offline_access", "read:pets"},
		IDTokenSignedResponseAlg: alg})
}

// TestOpenIDConnectCodeFlow: a relying party on go-oidc discovers the
// server, signs alice in through the real pages and verifies the ID token:
// RS256 by default, nonce echoed, at_hash of the access token, auth_time
// the sign-in (not the consent) time, sid, amr, aud/azp, sub the user id
// (stable, not the email); refresh gives a new ID token for the same
// sign-in.
func TestOpenIDConnectCodeFlow(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		c := oidcClient(t, srv, "")
		r := newRP(t, srv, c, "openid", "offline_access")
		b := srv.Browser(t)

		before := time.Now().Add(-time.Second)
		tok := r.login(b, alice, oidc.Nonce("n-0S6_WzA2Mj"))
		after := time.Now().Add(time.Second)
		idt, claims, alg := r.idToken(tok)
		if alg != "RS256" {
			t.Errorf("alg = %s; want RS256 by default", alg)
		}
		if idt.Nonce != "n-0S6_WzA2Mj" {
			t.Errorf("nonce = %q; want it echoed", idt.Nonce)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
		if idt.Subject != alice.ID || idt.Subject == alice.Email {
			t.Errorf("sub = %q; want the user id %q", idt.Subject, alice.ID)
		}
		if !slices.Equal(idt.Audience, []string{c.ID}) || claims["azp"] != c.ID {
			t.Errorf("aud %v azp %v; want [%s] and %s", idt.Audience, claims["azp"], c.ID, c.ID)
		}
		if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
			t.Errorf("amr = %v; want [pwd]", claims["amr"])
		}
		sid, _ := claims["sid"].(string)
		if sid == "" {
			t.Error("no sid")
		}
		authTime := time.Unix(int64(claims["auth_time"].(float64)), 0)
		if authTime.Before(before) || authTime.After(after) {
			t.Errorf("auth_time %v not within the sign-in (%v .. %v)", authTime, before, after)
		}

		// Second authorization in the same browser: no new sign-in, so the
		// same auth_time and sid, though consented later.
		time.Sleep(1100 * time.Millisecond) // make a later consent visible in whole seconds
		tok2 := r.login(b, alice)
		idt2, claims2, _ := r.idToken(tok2)
		if got := int64(claims2["auth_time"].(float64)); got != authTime.Unix() {
			t.Errorf("second authorization auth_time = %d; want the sign-in's %d", got, authTime.Unix())
		}
		if claims2["sid"] != sid || idt2.Subject != idt.Subject {
			t.Errorf("second authorization sid %v sub %v; want %v %v", claims2["sid"], idt2.Subject, sid, idt.Subject)
		}
		if _, ok := claims2["nonce"]; ok {
			t.Errorf("nonce %v in an ID token whose request had none", claims2["nonce"])
		}

		// Another browser, another sign-in: same sub, another sid.
		tok3 := r.login(srv.Browser(t), alice)
		idt3, claims3, _ := r.idToken(tok3)
		if idt3.Subject != idt.Subject || claims3["sid"] == sid {
			t.Errorf("new sign-in: sub %q sid %v; want sub %q and a new sid", idt3.Subject, claims3["sid"], idt.Subject)
		}

		// Refresh: a new ID token for the same sign-in.
		refreshed, err := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		idtR, claimsR, _ := r.idToken(refreshed)
		if idtR.Subject != idt.Subject || claimsR["auth_time"] != claims["auth_time"] || claimsR["sid"] != sid {
			t.Errorf("refreshed ID token sub %v auth_time %v sid %v; want %v %v %v", idtR.Subject, claimsR["auth_time"], claimsR["sid"],
				idt.Subject, claims["auth_time"], sid)
		}
		if err := idtR.VerifyAccessToken(refreshed.AccessToken); err != nil {
			t.Errorf("refreshed at_hash: %v", err)
		}
		// The same refresh token again within the grace window: the same
		// successor, ID token included.
		replayed, err := r.conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil || replayed.AccessToken != refreshed.AccessToken || replayed.Extra("id_token") != refreshed.Extra("id_token") {
			t.Errorf("replay within the grace window: %v; want the same access and ID token", err)
		}
	})
}

// TestOpenIDConnectES256: a client registered for ES256 gets ES256 ID
// tokens, which go-oidc verifies against the JWKS.
func TestOpenIDConnectES256(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		r := newRP(t, srv, oidcClient(t, srv, "ES256"), "openid")
		_, _, alg := r.idToken(r.login(srv.Browser(t), alice, oidc.Nonce("abc")))
		if alg != "ES256" {
			t.Errorf("alg = %s; want ES256", alg)
		}
	})
}

// TestOpenIDConnectWithoutOpenID: without the openid scope the code flow is
// plain OAuth 2.0: no ID token, and UserInfo refuses the token (403).
func TestOpenIDConnectWithoutOpenID(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		r := newRP(t, srv, oidcClient(t, srv, ""), "read:pets")
		tok := r.login(srv.Browser(t), alice)
		if raw := tok.Extra("id_token"); raw != nil {
			t.Errorf("id_token %v without the openid scope", raw)
		}
		resp := userInfoRaw(t, srv, http.MethodGet, tok.AccessToken, "")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) ||
			!strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="openid"`) {
			t.Errorf("UserInfo without openid: %d %q; want 403 insufficient_scope", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
}

// TestUserInfoClaims: UserInfo answers exactly the claims the grant's
// scopes allow (OIDC Core §5.4), for GET and POST with the token in the
// form body (RFC 6750 §2.2).
func TestUserInfoClaims(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		c := oidcClient(t, srv, "")
		for _, tc := range []struct {
			scopes []string
			want   []string
		}{
			{[]string{"openid"}, []string{"sub"}},
			{[]string{"openid", "profile"}, []string{"name", "sub", "updated_at"}},
			{[]string{"openid", "email"}, []string{"email", "email_verified", "sub"}},
			{[]string{"openid", "profile", "email"}, []string{"email", "email_verified", "name", "sub", "updated_at"}},
		} {
			r := newRP(t, srv, c, tc.scopes...)
			tok := r.login(srv.Browser(t), alice)
			claims := r.userInfo(tok)
			if got := slices.Sorted(maps.Keys(claims)); !slices.Equal(got, tc.want) {
				t.Errorf("scopes %v: claims %v; want %v", tc.scopes, got, tc.want)
			}
			if claims["sub"] != alice.ID {
				t.Errorf("sub = %v; want %s", claims["sub"], alice.ID)
			}
			if slices.Contains(tc.scopes, "profile") && claims["name"] != "Alice Liddell" {
				t.Errorf("name = %v", claims["name"])
			}
			if slices.Contains(tc.scopes, "email") && (claims["email"] != alice.Email || claims["email_verified"] != true) {
				t.Errorf("email %v verified %v", claims["email"], claims["email_verified"])
			}
			post := userInfoRaw(t, srv, http.MethodPost, "", url.Values{"access_token": {tok.AccessToken}}.Encode())
			if post.StatusCode != http.StatusOK {
				t.Errorf("POST with access_token in the body: %d", post.StatusCode)
			}
		}
	})
}

// TestUserInfoErrors: RFC 6750 §3 answers for every token UserInfo must
// refuse.
func TestUserInfoErrors(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		c := oidcClient(t, srv, "")
		r := newRP(t, srv, c, "openid", "offline_access")
		live := r.login(srv.Browser(t), alice)
		revoked := r.login(srv.Browser(t), alice)
		resp, err := http.PostForm(srv.URL+"/oauth2/revoke", url.Values{"token": {revoked.AccessToken},
			"client_id": {c.ID}, "client_secret": {c.Secret}})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %v %v", resp, err)
		}
		svc := srv.MustClient(t, identity.Client{Name: "Service", GrantTypes: []string{identity.GrantClientCredentials},
			Scopes: []string{"read:pets", "openid", "profile"}})
		// Identity scopes need a user: client_credentials cannot get them.
		for _, scope := range []string{"openid read:pets", "profile"} {
			bad, err := http.PostForm(srv.URL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
				"client_id": {svc.ID}, "client_secret": {svc.Secret}, "scope": {scope}})
			if err != nil || bad.StatusCode != http.StatusBadRequest {
				t.Fatalf("client_credentials with %q: %v %v; want 400 invalid_scope", scope, bad.StatusCode, err)
			}
			bad.Body.Close()
		}
		cc, err := http.PostForm(srv.URL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {svc.ID}, "client_secret": {svc.Secret}, "scope": {"read:pets"}})
		if err != nil || cc.StatusCode != http.StatusOK {
			t.Fatalf("client_credentials: %v %v", cc, err)
		}
		var ccTok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(cc.Body).Decode(&ccTok)
		cc.Body.Close()

		for _, tc := range []struct {
			name, token string
			status      int
			challenge   string
		}{
			{"no token", "", http.StatusUnauthorized, `Bearer realm="petstore-auth"`},
			{"unknown token", "pat_nonsense", http.StatusUnauthorized, `error="invalid_token"`},
			{"revoked token", revoked.AccessToken, http.StatusUnauthorized, `error="invalid_token"`},
			{"client_credentials token", ccTok.AccessToken, http.StatusUnauthorized, `error="invalid_token"`},
			{"refresh token", live.RefreshToken, http.StatusUnauthorized, `error="invalid_token"`},
		} {
			resp := userInfoRaw(t, srv, http.MethodGet, tc.token, "")
			if resp.StatusCode != tc.status || !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.challenge) {
				t.Errorf("%s: %d %q; want %d with %s", tc.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), tc.status, tc.challenge)
			}
		}
		// Two Authorization headers, even both valid: one credential per
		// request (RFC 6750 §2).
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/oauth2/userinfo", nil)
		req.Header.Add("Authorization", "Bearer "+live.AccessToken)
		req.Header.Add("Authorization", "Bearer "+live.AccessToken)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
			t.Errorf("two Authorization headers: %v %v; want 400", resp.StatusCode, err)
		} else {
			resp.Body.Close()
		}
	})
}

func userInfoRaw(t *testing.T, srv *servertest.Server, method, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+"/oauth2/userinfo", strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestIDTokenHint: IDTokenHint accepts our ID tokens, expired ones too,
// and nothing else (other typ, other issuer, bad signature); SignJWT signs
// with the client's algorithm.
func TestIDTokenHint(t *testing.T) {
	srv, alice := oidcServer(t, servertest.SQLiteURL(t))
	c := oidcClient(t, srv, "")
	es := oidcClient(t, srv, "ES256")
	r := newRP(t, srv, c, "openid")
	tok := r.login(srv.Browser(t), alice)
	_, claims, _ := r.idToken(tok)
	ctx := context.Background()
	raw := tok.Extra("id_token").(string)
	got, err := srv.Provider.IDTokenHint(ctx, raw)
	if err != nil || got.Subject != alice.ID || got.ClientID != c.ID || got.SessionID != claims["sid"] ||
		got.AuthTime.Unix() != int64(claims["auth_time"].(float64)) {
		t.Fatalf("IDTokenHint(our ID token) = %+v, %v", got, err)
	}
	sign := func(client, typ string, claims map[string]any) string {
		t.Helper()
		s, err := srv.Provider.SignJWT(ctx, client, typ, claims)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	past := time.Now().Add(-24 * time.Hour).Unix()
	expired := sign(es.ID, "JWT", map[string]any{"iss": srv.URL, "sub": alice.ID, "aud": es.ID, "exp": past, "iat": past})
	if hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(expired, ".")[0]); !strings.Contains(string(hdr), `"alg":"ES256"`) {
		t.Errorf("SignJWT for an ES256 client: header %s", hdr)
	}
	if got, err := srv.Provider.IDTokenHint(ctx, expired); err != nil || got.Subject != alice.ID || got.ClientID != es.ID {
		t.Errorf("expired ID token refused: %+v %v", got, err)
	}
	for name, hint := range map[string]string{
		"logout token":  sign(c.ID, "logout+jwt", map[string]any{"iss": srv.URL, "sub": alice.ID}),
		"access token":  sign(c.ID, "at+jwt", map[string]any{"iss": srv.URL, "sub": alice.ID}),
		"other issuer":  sign(c.ID, "JWT", map[string]any{"iss": "https://evil.example", "sub": alice.ID}),
		"no subject":    sign(c.ID, "JWT", map[string]any{"iss": srv.URL}),
		"bad signature": raw[:len(raw)-4] + "AAAA",
		"not a JWT":     "hello",
		"empty":         "",
		"alg none": base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
			strings.Split(raw, ".")[1] + ".",
	} {
		if got, err := srv.Provider.IDTokenHint(ctx, hint); err == nil {
			t.Errorf("%s accepted as id_token_hint: %+v", name, got)
		}
	}
}

// TestOpenIDRequestAtRest: the OpenID Connect request of a code (with the
// nonce it must echo) is stored in the code's own row, under its signature
// (code_row.go), never the code or its random part, and is retired with the
// code once it is redeemed.
func TestOpenIDRequestAtRest(t *testing.T) {
	servertest.EachDatabase(t, func(t *testing.T, dbURL string) {
		srv, alice := oidcServer(t, dbURL)
		r := newRP(t, srv, oidcClient(t, srv, ""), "openid")
		v := oauth2.GenerateVerifier()
		code := r.code(srv.Browser(t), alice, v, oidc.Nonce("nonce-at-rest"))
		// active counts the live codes holding the nonce, and the rows of
		// the table the request had before.
		active := func() (n, old int) {
			if err := srv.Store.DB().QueryRow(`SELECT count(*) FROM authorize_codes WHERE active AND form LIKE '%nonce-at-rest%'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if err := srv.Store.DB().QueryRow(`SELECT count(*) FROM oidc_requests`).Scan(&old); err != nil {
				t.Fatal(err)
			}
			return n, old
		}
		if n, old := active(); n != 1 || old != 0 {
			t.Fatalf("%d live codes hold the nonce, %d oidc_requests rows; want 1 and 0", n, old)
		}
		dump := storetest.Dump(t, srv.Store.DB(), srv.DatabaseURL)
		key, _, _ := strings.Cut(strings.TrimPrefix(code, code[:min(len(code), 7)]), ".")
		if bytes.Contains(dump, []byte(code)) || len(key) < 16 || bytes.Contains(dump, []byte(key)) {
			t.Errorf("the database holds the code or its random part (%q)", key)
		}
		if _, err := r.conf.Exchange(context.Background(), code, oauth2.VerifierOption(v)); err != nil {
			t.Fatal(err)
		}
		if n, old := active(); n != 0 || old != 0 {
			t.Errorf("%d live codes hold the nonce after the redemption, %d oidc_requests rows; want none", n, old)
		}
	})
}
