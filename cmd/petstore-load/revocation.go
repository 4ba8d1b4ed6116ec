package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/apikey"
)

// The revocation scenario measures how long a revoked credential keeps
// working at petstore-api: for each kind it creates a credential, checks
// that the API accepts it, revokes it at the authorization server, then
// asks the API back to back until it refuses (401). The latency runs from
// the revocation's answer (the revocation is committed) to the first
// refusal. Kinds:
//
//	api_key  created and revoked by the signed-in user on /account
//	opaque   client_credentials token of -svc-client-id, revoked by RFC 7009
//	jwt      client_credentials token of -jwt-client-id, revoked by RFC 7009
//	grant    authorization code of -client-id for -email (consent each
//	         time), revoked by the user on /account (connected apps)
//
// Run it with the API's failed-credential limit off
// (PETSTORE_API_RATE_LIMIT_FAILED_PER_IP=0): every iteration ends in a 401.
type revocationOptions struct {
	n                            int
	kinds                        string
	svcClientID, svcClientSecret string
	jwtClientID, jwtClientSecret string
}

var revOpts revocationOptions

// revocationGiveUp bounds the wait for one refusal (the old bounds are 30 s).
const revocationGiveUp = 45 * time.Second

func init() {
	flag.IntVar(&revOpts.n, "revocations", 100, "revocation: credentials revoked per kind")
	flag.StringVar(&revOpts.kinds, "kinds", "api_key,opaque,jwt,grant", "revocation: kinds to measure")
	flag.StringVar(&revOpts.svcClientID, "svc-client-id", "", "revocation: client_credentials client with opaque tokens")
	flag.StringVar(&revOpts.svcClientSecret, "svc-client-secret", "", "its secret (or PETSTORE_LOAD_SVC_CLIENT_SECRET)")
	flag.StringVar(&revOpts.jwtClientID, "jwt-client-id", "", "revocation: client_credentials client with JWT access tokens")
	flag.StringVar(&revOpts.jwtClientSecret, "jwt-client-secret", "", "its secret (or PETSTORE_LOAD_JWT_CLIENT_SECRET)")
}

// revocationKind creates one credential and returns it with the function
// that revokes it.
type revocationKind func(ctx context.Context) (credential string, revoke func(context.Context) error, err error)

func runRevocation(o options, t http.RoundTripper) error {
	envDefault(&revOpts.svcClientSecret, "PETSTORE_LOAD_SVC_CLIENT_SECRET")
	envDefault(&revOpts.jwtClientSecret, "PETSTORE_LOAD_JWT_CLIENT_SECRET")
	if revOpts.n < 1 || revOpts.n > 10000 {
		return errors.New("-revocations must be 1-10000")
	}
	c := &http.Client{Transport: t, Timeout: 10 * time.Second}
	kinds := strings.Split(revOpts.kinds, ",")
	var u *user
	if slices.Contains(kinds, "api_key") || slices.Contains(kinds, "grant") {
		var err error
		if u, err = signIn(o, t); err != nil {
			return err
		}
	}
	fmt.Printf("scenario=revocation revocations=%d per kind\n", revOpts.n)
	for _, kind := range kinds {
		newCred, err := revocationKindOf(kind, o, c, u)
		if err != nil {
			return err
		}
		lat, failures, err := measureRevocations(c, o.apiURL, newCred)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		slices.Sort(lat)
		fmt.Printf("kind=%s revocations=%d refused-after p50=%s p90=%s p99=%s max=%s not-refused=%d\n", kind, len(lat),
			pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100), failures)
	}
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)].Round(10 * time.Microsecond)
}

func revocationKindOf(kind string, o options, c *http.Client, u *user) (revocationKind, error) {
	switch kind {
	case "opaque":
		return ccKind(o, c, revOpts.svcClientID, revOpts.svcClientSecret)
	case "jwt":
		return ccKind(o, c, revOpts.jwtClientID, revOpts.jwtClientSecret)
	case "api_key":
		return u.apiKeyKind(), nil
	case "grant":
		return u.grantKind(), nil
	}
	return nil, fmt.Errorf("unknown kind %q (api_key, opaque, jwt, grant)", kind)
}

// ccKind: a client_credentials token, revoked by its client (RFC 7009).
func ccKind(o options, c *http.Client, id, secret string) (revocationKind, error) {
	if id == "" || secret == "" {
		return nil, errors.New("opaque and jwt need -svc-client-id / -jwt-client-id and their secrets")
	}
	return func(ctx context.Context) (string, func(context.Context) error, error) {
		m, err := postForm(ctx, c, o.target+"/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:pets"}})
		if err != nil {
			return "", nil, err
		}
		tok, _ := m["access_token"].(string)
		return tok, func(ctx context.Context) error {
			_, err := postForm(ctx, c, o.target+"/oauth2/revoke", id, secret, url.Values{"token": {tok}})
			return err
		}, nil
	}, nil
}

var (
	apiKeyPattern = regexp.MustCompile(`sk_(?:live|test)_[A-Za-z0-9_-]+`)
	grantPattern  = regexp.MustCompile(`/account/grants/([A-Za-z0-9_-]+)/revoke`)
)

// apiKeyKind: a key made on /account, revoked there by its display prefix.
func (u *user) apiKeyKind() revocationKind {
	return func(ctx context.Context) (string, func(context.Context) error, error) {
		form, err := u.accountForm(ctx)
		if err != nil {
			return "", nil, err
		}
		form.Set("name", "revocation-"+randomString(6))
		form.Set("env", "test")
		form.Set("expiry", "30")
		form.Set("scope", "read:pets")
		_, body, err := u.fetch(ctx, http.MethodPost, u.o.target+"/account/keys", form)
		if err != nil {
			return "", nil, err
		}
		key := apiKeyPattern.FindString(body)
		if key == "" {
			return "", nil, errors.New("no API key on the page after creating one")
		}
		return key, func(ctx context.Context) error {
			return u.accountPost(ctx, "/account/keys/"+apikey.DisplayPrefix(key)+"/revoke")
		}, nil
	}
}

// grantKind: consent (the grant was revoked last time) and a code
// exchange; the user revokes the app on /account. The user's other
// connected apps are revoked first (not measured), so the one app on the
// page is the grant just made.
func (u *user) grantKind() revocationKind {
	cleared := false
	return func(ctx context.Context) (string, func(context.Context) error, error) {
		if !cleared {
			if err := u.revokeConnectedApps(ctx); err != nil {
				return "", nil, err
			}
			cleared = true
		}
		m, err := u.consent(ctx)
		if err != nil {
			return "", nil, err
		}
		tok, _ := m["access_token"].(string)
		grants, err := u.connectedApps(ctx)
		if err != nil {
			return "", nil, err
		}
		if len(grants) != 1 {
			return "", nil, fmt.Errorf("%d connected apps on /account, want the one just made", len(grants))
		}
		return tok, func(ctx context.Context) error { return u.accountPost(ctx, grants[0]) }, nil
	}
}

// connectedApps returns the revoke paths of the apps on /account.
func (u *user) connectedApps(ctx context.Context) ([]string, error) {
	_, body, err := u.fetch(ctx, http.MethodGet, u.o.target+"/account", nil)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, m := range grantPattern.FindAllStringSubmatch(body, -1) {
		paths = append(paths, m[0])
	}
	return paths, nil
}

// revokeConnectedApps revokes every app on /account.
func (u *user) revokeConnectedApps(ctx context.Context) error {
	grants, err := u.connectedApps(ctx)
	if err != nil {
		return err
	}
	for _, g := range grants {
		if err := u.accountPost(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// consent runs the authorization with the consent page and redeems the
// code.
func (u *user) consent(ctx context.Context) (map[string]any, error) {
	authURL, state, verifier := u.authURL()
	res, body, err := u.fetch(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	if strings.Contains(body, `name="decision"`) {
		form := hiddenInputs(body)
		form.Set("decision", "allow")
		for _, s := range strings.Fields(u.o.scope) {
			form.Add("scope", s)
		}
		if res, _, err = u.fetch(ctx, http.MethodPost, u.o.target+"/oauth2/consent", form); err != nil {
			return nil, err
		}
	}
	code, err := u.codeOf(res, state)
	if err != nil {
		return nil, err
	}
	return u.exchange(ctx, code, verifier)
}

// accountForm returns the hidden fields (CSRF) of the account page.
func (u *user) accountForm(ctx context.Context) (url.Values, error) {
	_, body, err := u.fetch(ctx, http.MethodGet, u.o.target+"/account", nil)
	if err != nil {
		return nil, err
	}
	return hiddenInputs(body), nil
}

// accountPost posts the account page's form to path.
func (u *user) accountPost(ctx context.Context, path string) error {
	form, err := u.accountForm(ctx)
	if err != nil {
		return err
	}
	res, _, err := u.fetch(ctx, http.MethodPost, u.o.target+path, form)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", path, res.Status)
	}
	return nil
}

// measureRevocations runs revOpts.n revocations of one kind.
func measureRevocations(c *http.Client, api string, newCred revocationKind) (lat []time.Duration, notRefused int, err error) {
	ctx := context.Background()
	for range revOpts.n {
		cred, revoke, err := newCred(ctx)
		if err != nil {
			return nil, 0, err
		}
		if st, err := apiStatus(ctx, c, api, cred); err != nil || st != http.StatusOK {
			return nil, 0, fmt.Errorf("the API did not accept a fresh credential: %d %v", st, err)
		}
		if err := revoke(ctx); err != nil {
			return nil, 0, fmt.Errorf("revoke: %w", err)
		}
		t0 := time.Now()
		for {
			st, err := apiStatus(ctx, c, api, cred)
			if err != nil {
				return nil, 0, err
			}
			if st == http.StatusUnauthorized {
				lat = append(lat, time.Since(t0))
				break
			}
			if st != http.StatusOK {
				return nil, 0, fmt.Errorf("the API answered %d (is its failed-credential limit off?)", st)
			}
			if time.Since(t0) > revocationGiveUp {
				notRefused++
				break
			}
		}
	}
	return lat, notRefused, nil
}

func apiStatus(ctx context.Context, c *http.Client, api, cred string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/v1/pets", nil)
	req.Header.Set("Authorization", "Bearer "+cred)
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body) // keep the connection for the next one
	res.Body.Close()
	return res.StatusCode, nil
}
