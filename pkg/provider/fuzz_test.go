package provider

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ory/fosite"
	"golang.org/x/oauth2"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// fuzzFixture is a provider on a temporary SQLite store with a live access
// and refresh token of the web client and an access token of the resource
// server, for the fuzz targets to aim at.
type fuzzFixture struct {
	*fixture
	handler http.Handler
	live    map[string]string // placeholder → real value
}

func newFuzzFixture(f *testing.F) *fuzzFixture {
	fx := newFixture(f, "sqlite://"+filepath.Join(f.TempDir(), "p.db"), "opaque")
	v := oauth2.GenerateVerifier()
	st, tok := fx.exchange(fx.authorize(v, "read:pets", "offline_access"), v)
	if st != http.StatusOK {
		f.Fatalf("exchange: %d %v", st, tok)
	}
	return &fuzzFixture{fixture: fx, handler: fx.ts.Config.Handler, live: map[string]string{
		"$WEB_SECRET":    fx.secret,
		"$RS_SECRET":     fx.rsSecret,
		"$ACCESS_TOKEN":  str(tok, "access_token"),
		"$REFRESH_TOKEN": str(tok, "refresh_token"),
	}}
}

// expand replaces the placeholders of the seed corpus with live values, so
// that the fuzzer also reaches the paths behind successful authentication.
func (fx *fuzzFixture) expand(s string) string {
	for k, v := range fx.live {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// post sends body to path with either the raw Authorization header or, when
// that is empty and user or pass is set, Basic credentials.
func (fx *fuzzFixture) post(path, body, authorization, user, pass string) (*http.Request, *httptest.ResponseRecorder) {
	body = fx.expand(body)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch {
	case authorization != "":
		req.Header.Set("Authorization", fx.expand(authorization))
	case user != "" || pass != "":
		req.SetBasicAuth(fx.expand(user), fx.expand(pass))
	}
	rec := httptest.NewRecorder()
	fx.handler.ServeHTTP(rec, req)
	// The router serves a copy of req; parse the body here for the checks.
	req.PostForm, _ = url.ParseQuery(body)
	return req, rec
}

// authenticatedAs reports whether req carries the right secret of client id,
// in the Basic header (form-encoded, RFC 6749 §2.3.1) or in the body.
func (fx *fuzzFixture) authenticatedAs(req *http.Request, id string) bool {
	secret := map[string]string{"web": fx.secret, fx.rsID: fx.rsSecret}[id]
	if u, p, ok := req.BasicAuth(); ok {
		u, _ = url.QueryUnescape(u)
		p, _ = url.QueryUnescape(p)
		if u == id && p == secret {
			return true
		}
	}
	return req.PostForm.Get("client_id") == id && req.PostForm.Get("client_secret") == secret
}

// checkOAuthError: never a 5xx, always JSON, never cacheable, and every
// refusal carries an RFC 6749 §5.2 error member.
func checkOAuthError(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("HTTP %d with Content-Type %q: %s", rec.Code, ct, rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("HTTP %d with Cache-Control %q", rec.Code, cc)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("HTTP %d, body is not a JSON object: %v\n%s", rec.Code, err, rec.Body)
	}
	if e, _ := m["error"].(string); rec.Code != http.StatusOK && e == "" {
		t.Fatalf("HTTP %d without an error member: %s", rec.Code, rec.Body)
	}
	return m
}

// FuzzTokenRequest posts arbitrary form bodies and credentials to
// /oauth2/token: never a 5xx, always RFC 6749 JSON, and never a token
// unless the request carried a client's real secret.
// Seeds: testdata/fuzz/FuzzTokenRequest (TK-01..TK-09, RD-10, V3, V11).
func FuzzTokenRequest(f *testing.F) {
	fx := newFuzzFixture(f)
	f.Add("grant_type=client_credentials&scope=read:pets", "", "rs", "$RS_SECRET")
	f.Fuzz(func(t *testing.T, body, authorization, user, pass string) {
		req, rec := fx.post("/oauth2/token", body, authorization, user, pass)
		m := checkOAuthError(t, rec)
		if rec.Code != http.StatusOK {
			return
		}
		if str(m, "access_token") == "" {
			t.Fatalf("HTTP 200 without an access token: %s", rec.Body)
		}
		if !fx.authenticatedAs(req, "web") && !fx.authenticatedAs(req, fx.rsID) {
			t.Fatalf("token issued without a client's secret: body %q, Authorization %q", req.PostForm.Encode(), req.Header.Get("Authorization"))
		}
	})
}

// FuzzIntrospect posts arbitrary bodies and credentials to
// /oauth2/introspect: never a 5xx, answers only the resource server with its
// real secret, and says active only for a token the server issued.
// Seeds: testdata/fuzz/FuzzIntrospect (IN-01..IN-03, IN-09, AK-03).
func FuzzIntrospect(f *testing.F) {
	fx := newFuzzFixture(f)
	f.Add("token=$ACCESS_TOKEN", "", "rs", "$RS_SECRET")
	f.Fuzz(func(t *testing.T, body, authorization, user, pass string) {
		req, rec := fx.post("/oauth2/introspect", body, authorization, user, pass)
		m := checkOAuthError(t, rec)
		if rec.Code != http.StatusOK {
			return
		}
		if !fx.authenticatedAs(req, fx.rsID) {
			t.Fatalf("introspection answered a caller without the resource server's secret: %q", req.Header.Get("Authorization"))
		}
		if m["active"] != true {
			if strings.TrimSpace(rec.Body.String()) != `{"active":false}` {
				t.Fatalf("an inactive answer reveals more than active:false: %s", rec.Body)
			}
			return
		}
		if tok := req.PostForm.Get("token"); tok != fx.live["$ACCESS_TOKEN"] && tok != fx.live["$REFRESH_TOKEN"] {
			t.Fatalf("token %q, which the server never issued, is active: %s", tok, rec.Body)
		}
	})
}

// FuzzRedirectURIMatch: for any redirect URI that passes registration, the
// authorization endpoint's matching (fosite's matcher, then our stricter
// identity.RedirectURIMatches, as pkg/web applies them) accepts a requested
// redirect_uri only when it is byte-identical, absent, or, for a public
// client only, the same loopback IP URI on another port (RFC 8252 §7.3).
// Seeds: testdata/fuzz/FuzzRedirectURIMatch (RD-01, RD-02, RD-03, V4).
func FuzzRedirectURIMatch(f *testing.F) {
	f.Add("https://app.example/cb", "https://app.example/cb/")
	f.Fuzz(func(t *testing.T, registered, requested string) {
		if identity.ValidateRedirectURI(registered) != nil {
			return
		}
		for _, public := range []bool{true, false} {
			got, err := fosite.MatchRedirectURIWithClientRedirectURIs(requested, &fosite.DefaultClient{RedirectURIs: []string{registered}, Public: public})
			if err != nil || (requested != "" && !identity.RedirectURIMatches(registered, requested, public)) {
				continue
			}
			if !allowedMatch(registered, requested, got.String(), public) {
				t.Fatalf("registered %q, requested %q, public %v: accepted as %q", registered, requested, public, got)
			}
		}
	})
}

// allowedMatch reports whether accepting requested as got is one of the
// three allowed outcomes.
func allowedMatch(registered, requested, got string, public bool) bool {
	switch {
	case requested == "" && got == registered:
	case requested == registered && got == registered:
	case public && loopbackPortOnly(registered, requested) && got == requested:
	default:
		return false
	}
	return true
}

// loopbackPortOnly reports whether b is a, an http URI on a loopback IP
// literal, with only the port changed.
func loopbackPortOnly(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil {
		return false
	}
	ub, err := url.Parse(b)
	if err != nil {
		return false
	}
	ip := net.ParseIP(ua.Hostname())
	return ua.Scheme == "http" && ip != nil && ip.IsLoopback() && samePlaceOtherPort(ua, ub) && !strings.Contains(b, "#")
}

// samePlaceOtherPort reports whether b is a with at most a numeric port
// changed.
func samePlaceOtherPort(a, b *url.URL) bool {
	return b.Scheme == a.Scheme && b.Hostname() == a.Hostname() && b.User == nil &&
		b.EscapedPath() == a.EscapedPath() && b.RawQuery == a.RawQuery && b.Fragment == "" &&
		b.Opaque == "" && strings.Trim(b.Port(), "0123456789") == ""
}

// FuzzDuplicated: the duplicate-parameter check names a parameter exactly
// when one appears more than once across the query and the body (RD-10,
// TK-08).
// Seeds: testdata/fuzz/FuzzDuplicated.
func FuzzDuplicated(f *testing.F) {
	f.Add("", "grant_type=client_credentials&grant_type=client_credentials")
	f.Fuzz(func(t *testing.T, query, body string) {
		q, _ := url.ParseQuery(query)
		b, _ := url.ParseQuery(body)
		count := map[string]int{}
		for _, set := range []url.Values{q, b} {
			for k, v := range set {
				count[k] += len(v)
			}
		}
		name, dup := duplicated(q, b)
		if dup && count[name] < 2 {
			t.Fatalf("duplicated(%q, %q) = %q, which appears %d time(s)", query, body, name, count[name])
		}
		if !dup {
			for k, n := range count {
				if n > 1 {
					t.Fatalf("duplicated(%q, %q) missed %q, which appears %d times", query, body, k, n)
				}
			}
		}
	})
}
