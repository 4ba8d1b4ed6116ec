package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// user is one browser signed in to the authorization server, with consent
// to the client remembered, so that each authorize is a redirect with a code.
type user struct {
	o      options
	c      *http.Client
	client *http.Client // without cookies, for the token endpoint
}

// signIn signs in through the login form and grants (and remembers)
// consent once, the way a person would.
func signIn(o options, t http.RoundTripper) (*user, error) {
	if o.email == "" || o.password == "" || o.clientID == "" {
		return nil, errors.New("authcode needs -email, -password (or PETSTORE_LOAD_PASSWORD) and -client-id")
	}
	jar, _ := cookiejar.New(nil)
	u := &user{o: o, client: &http.Client{Transport: t, Timeout: 10 * time.Second}}
	u.c = &http.Client{Transport: t, Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), o.target) {
				return nil
			}
			return http.ErrUseLastResponse // the app's callback: stop, read the code
		}}
	ctx := context.Background()
	authURL, state, verifier := u.authURL()
	res, body, err := u.fetch(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	if strings.Contains(res.Request.URL.Path, "/login") {
		form := hiddenInputs(body)
		form.Set("email", o.email)
		form.Set("password", o.password)
		if res, body, err = u.fetch(ctx, http.MethodPost, o.target+"/login", form); err != nil {
			return nil, err
		}
	}
	if strings.Contains(body, `name="decision"`) {
		form := hiddenInputs(body)
		form.Set("decision", "allow")
		for _, s := range strings.Fields(o.scope) {
			form.Add("scope", s)
		}
		form.Set("remember", "on")
		if res, _, err = u.fetch(ctx, http.MethodPost, o.target+"/oauth2/consent", form); err != nil {
			return nil, err
		}
	}
	code, err := u.codeOf(res, state)
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	if _, err := u.exchange(ctx, code, verifier); err != nil {
		return nil, fmt.Errorf("first exchange: %w", err)
	}
	return u, nil
}

// authorize runs one authorization (a redirect with a code, consent being
// remembered) and redeems the code.
func (u *user) authorize(ctx context.Context) (map[string]any, error) {
	authURL, state, verifier := u.authURL()
	res, _, err := u.fetch(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	code, err := u.codeOf(res, state)
	if err != nil {
		return nil, err
	}
	return u.exchange(ctx, code, verifier)
}

// authURL is a new authorization request with its state and PKCE verifier.
func (u *user) authURL() (authURL, state, verifier string) {
	verifier, state = randomString(32), randomString(12)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {u.o.clientID}, "redirect_uri": {u.o.redirectURI},
		"scope": {u.o.scope}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	return u.o.target + "/oauth2/auth?" + q.Encode(), state, verifier
}

func (u *user) exchange(ctx context.Context, code, verifier string) (map[string]any, error) {
	return postForm(ctx, u.client, u.o.target+"/oauth2/token", u.o.clientID, u.o.clientSecret, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {u.o.redirectURI}, "code_verifier": {verifier}})
}

func (u *user) fetch(ctx context.Context, method, target string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequestWithContext(ctx, method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", u.o.target)
	}
	res, err := u.c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return res, string(b), nil
}

// codeOf reads the code from the redirect to the app's callback, as a
// client must: only with the state it sent (RFC 6749 §10.12) and from the
// issuer it asked (RFC 9207 §2.4).
func (u *user) codeOf(res *http.Response, state string) (string, error) {
	if res.StatusCode/100 != 3 {
		return "", fmt.Errorf("expected a redirect to the app, got HTTP %d at %s", res.StatusCode, res.Request.URL.Path)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		return "", err
	}
	q := loc.Query()
	switch {
	case q.Get("iss") != u.o.issuer():
		return "", fmt.Errorf("redirect from issuer %q, not %q", q.Get("iss"), u.o.issuer())
	case q.Get("error") != "":
		return "", fmt.Errorf("authorization error %s", q.Get("error"))
	case q.Get("state") != state:
		return "", errors.New("the redirect's state is not the request's")
	case q.Get("code") == "":
		return "", errors.New("no code in the redirect")
	}
	return q.Get("code"), nil
}

var (
	hiddenRe = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
	nameRe   = regexp.MustCompile(`name="([^"]*)"`)
	valueRe  = regexp.MustCompile(`value="([^"]*)"`)
)

// hiddenInputs returns a page's hidden form fields (CSRF token, request).
func hiddenInputs(body string) url.Values {
	v := url.Values{}
	for _, in := range hiddenRe.FindAllString(body, -1) {
		n, val := nameRe.FindStringSubmatch(in), valueRe.FindStringSubmatch(in)
		if n != nil && val != nil {
			v.Set(n[1], html.UnescapeString(val[1]))
		}
	}
	return v
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issuer is the issuer identifier authorization responses must carry.
func (o options) issuer() string {
	if o.iss != "" {
		return o.iss
	}
	return o.target
}
