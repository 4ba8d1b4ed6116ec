package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ory/fosite"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// The resources of the test server (RFC 8707): the API, the default, takes
// every non-admin scope; the photo service only read:pets.
const (
	apiResource    = "http://127.0.0.1:8081"
	photosResource = "https://photos.example/v1"
)

var testResources = identity.Resources{
	{Identifier: apiResource, Scopes: identity.ResourceScopes()},
	{Identifier: photosResource, Scopes: []string{"read:pets"}},
}

// authorizeFor runs the authorization endpoint in process as pkg/web does:
// the resource parameters resolve to the code's audience, or the error.
func (f *fixture) authorizeFor(verifier string, resources []string, scopes ...string) (string, error) {
	f.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {"web"}, "redirect_uri": {redirectURI},
		"scope": {strings.Join(scopes, " ")}, "state": {"state-12345678"}, "resource": resources,
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	req := httptest.NewRequest(http.MethodGet, "/oauth2/auth?"+q.Encode(), nil)
	ar, err := f.p.OAuth2.NewAuthorizeRequest(req.Context(), req)
	if err != nil {
		f.t.Fatalf("authorize request: %v", err)
	}
	aud, err := f.p.ResolveResources(ar.GetRequestForm()["resource"], scopes)
	if err != nil {
		return "", err
	}
	ar.(*fosite.AuthorizeRequest).RequestedAudience = aud
	for _, s := range scopes {
		ar.GrantScope(s)
	}
	resp, err := f.p.OAuth2.NewAuthorizeResponse(req.Context(), ar, NewSession(f.user.ID, f.grant.ID))
	if err != nil {
		f.t.Fatalf("authorize response: %v", err)
	}
	return resp.GetParameters().Get("code"), nil
}

// audiences are a token's aud: from the JWT itself when it is one, and
// from introspection always; both must agree.
func (f *fixture) audiences(token string) []string {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.rsID, f.rsSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	var m struct {
		Active bool     `json:"active"`
		Aud    []string `json:"aud"`
	}
	_ = json.NewDecoder(res.Body).Decode(&m)
	if !m.Active {
		f.t.Fatalf("token not active")
	}
	if parts := strings.Split(token, "."); len(parts) == 3 {
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct {
			Aud any `json:"aud"`
		}
		_ = json.Unmarshal(raw, &c)
		var jwtAud []string
		switch a := c.Aud.(type) {
		case string:
			jwtAud = []string{a}
		case []any:
			for _, x := range a {
				s, _ := x.(string)
				jwtAud = append(jwtAud, s)
			}
		}
		if !slices.Equal(jwtAud, m.Aud) {
			f.t.Errorf("JWT aud %v, introspection aud %v", jwtAud, m.Aud)
		}
	}
	return m.Aud
}

func wantTarget(t *testing.T, what string, status int, m map[string]any) {
	t.Helper()
	if status != http.StatusBadRequest || m["error"] != "invalid_target" {
		t.Errorf("%s: %d %v, want 400 invalid_target", what, status, m)
	}
}

// TestResourceIndicators: the resource parameter (RFC 8707) on the
// authorization and token requests decides the access token's audience
// (JWT aud and introspection aud alike); without one the default resource
// is the audience; a refresh may narrow it and never widen it; malformed,
// unknown and scope-refusing resources are invalid_target.
func TestResourceIndicators(t *testing.T) {
	for _, format := range []string{"opaque", "jwt"} {
		t.Run(format, func(t *testing.T) {
			eachDatabase(t, func(t *testing.T, dbURL string) { testResourceRoundTrips(t, newFixture(t, dbURL, format)) })
		})
	}
	t.Run("client_credentials", func(t *testing.T) {
		eachDatabase(t, func(t *testing.T, dbURL string) { testResourceClientCredentials(t, newFixture(t, dbURL, "opaque")) })
	})
}

func testResourceRoundTrips(t *testing.T, f *fixture) {
	v := oauth2.GenerateVerifier()
	// Without resource: the default.
	code, err := f.authorizeFor(v, nil, "read:pets", "offline_access")
	if err != nil {
		t.Fatal(err)
	}
	status, tok := f.exchange(code, v)
	if status != 200 {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	if aud := f.audiences(str(tok, "access_token")); !slices.Equal(aud, []string{apiResource}) {
		t.Errorf("no resource: aud %v, want the default %s", aud, apiResource)
	}

	// Both resources authorized; the token request repeats them.
	code, err = f.authorizeFor(v, []string{apiResource, photosResource}, "read:pets", "offline_access")
	if err != nil {
		t.Fatal(err)
	}
	status, tok = f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {v}, "resource": {apiResource, photosResource}})
	if status != 200 {
		t.Fatalf("exchange with both resources: %d %v", status, tok)
	}
	if aud := f.audiences(str(tok, "access_token")); !slices.Equal(aud, []string{apiResource, photosResource}) {
		t.Errorf("both resources: aud %v", aud)
	}
	rt := str(tok, "refresh_token")

	// A refresh narrows to one; the refresh token keeps both, so the next
	// refresh may name the other.
	status, tok = f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {photosResource}})
	if status != 200 {
		t.Fatalf("narrowing refresh: %d %v", status, tok)
	}
	if aud := f.audiences(str(tok, "access_token")); !slices.Equal(aud, []string{photosResource}) {
		t.Errorf("narrowed refresh: aud %v, want [%s]", aud, photosResource)
	}
	rt = str(tok, "refresh_token")
	status, tok = f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": {apiResource}})
	if status != 200 {
		t.Fatalf("second narrowing refresh: %d %v", status, tok)
	}
	if aud := f.audiences(str(tok, "access_token")); !slices.Equal(aud, []string{apiResource}) {
		t.Errorf("second narrowed refresh: aud %v", aud)
	}

	// Narrowed at the code exchange: the whole grant is narrowed, and a
	// refresh may not widen it again.
	code, _ = f.authorizeFor(v, []string{apiResource, photosResource}, "read:pets", "offline_access")
	status, tok = f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {v}, "resource": {photosResource}})
	if status != 200 {
		t.Fatalf("narrowing exchange: %d %v", status, tok)
	}
	if aud := f.audiences(str(tok, "access_token")); !slices.Equal(aud, []string{photosResource}) {
		t.Errorf("narrowed exchange: aud %v", aud)
	}
	status, m := f.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {str(tok, "refresh_token")}, "resource": {apiResource}})
	wantTarget(t, "widening refresh", status, m)

	// The token request may not name what the user did not authorize.
	code, _ = f.authorizeFor(v, []string{photosResource}, "read:pets")
	status, m = f.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"code_verifier": {v}, "resource": {apiResource}})
	wantTarget(t, "exchange naming another resource", status, m)

	// The authorization endpoint: unknown, fragment, relative, a scope the
	// resource does not accept.
	for name, c := range map[string]struct {
		resource string
		scopes   []string
	}{
		"unknown":       {"https://elsewhere.example/", []string{"read:pets"}},
		"fragment":      {apiResource + "#frag", []string{"read:pets"}},
		"relative":      {"/v1/pets", []string{"read:pets"}},
		"scope refused": {photosResource, []string{"read:pets", "write:pets"}},
	} {
		_, err := f.authorizeFor(v, []string{c.resource}, c.scopes...)
		if rfc := fosite.ErrorToRFC6749Error(err); err == nil || rfc.ErrorField != "invalid_target" {
			t.Errorf("authorize, %s resource: %v, want invalid_target", name, err)
		}
	}
}

func testResourceClientCredentials(t *testing.T, f *fixture) {
	secret, hash := identity.NewClientSecret()
	if err := f.st.CreateClient(context.Background(), &identity.Client{ID: "svc", Name: "Service", SecretHash: hash,
		GrantTypes: []string{"client_credentials"}, Scopes: []string{"read:pets", "write:pets"}, TokenFormat: "opaque"}); err != nil {
		t.Fatal(err)
	}
	cc := func(form url.Values) (int, map[string]any) {
		form.Set("grant_type", "client_credentials")
		req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("svc", secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	status, tok := cc(url.Values{"scope": {"read:pets"}, "resource": {photosResource}})
	if status != 200 {
		t.Fatalf("client_credentials with resource: %d %v", status, tok)
	}
	if aud := f.audiences(str(tok, "access_token")); !slices.Equal(aud, []string{photosResource}) {
		t.Errorf("client_credentials aud %v", aud)
	}
	status, tok = cc(url.Values{"scope": {"read:pets write:pets"}})
	if status != 200 {
		t.Fatalf("client_credentials without resource: %d %v", status, tok)
	}
	if aud := f.audiences(str(tok, "access_token")); !slices.Equal(aud, []string{apiResource}) {
		t.Errorf("client_credentials default aud %v", aud)
	}
	for name, form := range map[string]url.Values{
		"unknown":       {"scope": {"read:pets"}, "resource": {"https://elsewhere.example/"}},
		"fragment":      {"scope": {"read:pets"}, "resource": {apiResource + "#x"}},
		"relative":      {"scope": {"read:pets"}, "resource": {"v1/pets"}},
		"scope refused": {"scope": {"write:pets"}, "resource": {photosResource}},
	} {
		status, m := cc(form)
		wantTarget(t, "client_credentials, "+name, status, m)
	}
}
