package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/servertest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// databases returns the database URLs every end-to-end test runs against
// (servertest.Databases).
func databases(t *testing.T) map[string]string { return servertest.Databases(t) }

// env points the CLI and the server at one database for a test.
func setEnv(t *testing.T, dbURL string) {
	t.Setenv("PETSTORE_DATABASE_URL", dbURL)
	t.Setenv("PETSTORE_DEV", "true")
	t.Setenv("PETSTORE_SECRET", strings.Repeat("e2e-secret-", 4))
	t.Setenv("PETSTORE_DATA_DIR", t.TempDir())
	t.Setenv("PETSTORE_ISSUER", "http://127.0.0.1:8080")
}

// cli runs petstore-auth with args through the real command tree.
func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(strings.NewReader(stdin), &out, &errb)
	cmd.SetArgs(args) // the default config file does not exist here: defaults + PETSTORE_* apply
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

type created struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func createClient(t *testing.T, args ...string) created {
	t.Helper()
	out, err := cli(t, "", append([]string{"client", "create", "--output", "json"}, args...)...)
	if err != nil {
		t.Fatalf("client create: %v\n%s", err, out)
	}
	var c created
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID == "" {
		t.Fatalf("client create output %q: %v", out, err)
	}
	return c
}

// startServer opens the server on the test's database, configured from
// PETSTORE_* as the serve command is, logging JSON at debug level.
func startServer(t *testing.T) (*servertest.Server, *httptest.Server) {
	t.Helper()
	cfg, err := config.Load("", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := servertest.MustOpen(t, servertest.Options{Config: &cfg, JSONLogs: true})
	return s, s.HTTP
}

// postForm posts a form as client user (HTTP Basic) and decodes the JSON
// answer.
func postForm(t *testing.T, u, user, pass string, form url.Values) (int, map[string]any) {
	t.Helper()
	r := servertest.PostForm(t, nil, u, servertest.Client{ID: user, Secret: pass}, form)
	return r.Status, r.JSON
}

// TestClientCredentialsIntrospectRevoke is the core story of a backend
// service: a client made with the CLI gets a token, the resource server
// introspects it, a client that is no resource server may not, and after
// revocation the token is inactive.
func TestClientCredentialsIntrospectRevoke(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			setEnv(t, db)
			svc := createClient(t, "--name", "Nightly sync", "--grant-type", "client_credentials", "--scope", "read:pets")
			rs := createClient(t, "--name", "PetStore API", "--introspect", "--grant-type", "client_credentials")
			_, ts := startServer(t)

			cc := clientcredentials.Config{ClientID: svc.ClientID, ClientSecret: svc.ClientSecret, TokenURL: ts.URL + "/oauth2/token", Scopes: []string{"read:pets"}}
			tok, err := cc.Token(context.Background())
			if err != nil {
				t.Fatalf("client_credentials: %v", err)
			}
			if !strings.HasPrefix(tok.AccessToken, "pst_at_") {
				t.Fatalf("access token %q lacks the pst_at_ prefix", tok.AccessToken[:10])
			}

			status, body := postForm(t, ts.URL+"/oauth2/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {tok.AccessToken}})
			if status != 200 || body["active"] != true || body["scope"] != "read:pets" || body["client_id"] != svc.ClientID || body["token_use"] != "access_token" {
				t.Fatalf("introspection by the resource server: %d %v", status, body)
			}

			status, body = postForm(t, ts.URL+"/oauth2/introspect", svc.ClientID, svc.ClientSecret, url.Values{"token": {tok.AccessToken}})
			if status != http.StatusForbidden || body["active"] != nil {
				t.Fatalf("introspection by a non-resource-server client: %d %v", status, body)
			}
			status, _ = postForm(t, ts.URL+"/oauth2/introspect", rs.ClientID, "wrong", url.Values{"token": {tok.AccessToken}})
			if status != http.StatusUnauthorized {
				t.Fatalf("introspection with a wrong secret: %d", status)
			}

			status, _ = postForm(t, ts.URL+"/oauth2/revoke", svc.ClientID, svc.ClientSecret, url.Values{"token": {tok.AccessToken}})
			if status != 200 {
				t.Fatalf("revoke: %d", status)
			}
			status, body = postForm(t, ts.URL+"/oauth2/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {tok.AccessToken}})
			if status != 200 || len(body) != 1 || body["active"] != false {
				t.Fatalf("revoked token must introspect as exactly {\"active\":false}: %d %v", status, body)
			}
			status, body = postForm(t, ts.URL+"/oauth2/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {"pst_at_unknown.token"}})
			if status != 200 || len(body) != 1 || body["active"] != false {
				t.Fatalf("unknown token: %d %v", status, body)
			}
		})
	}
}

// TestMetadataGolden: the RFC 8414 document and the OpenID Connect
// Discovery document, each against its golden file; both promise only what
// the server does, and they agree on every member they share.
func TestMetadataGolden(t *testing.T) {
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	t.Setenv("PETSTORE_ISSUER", "http://127.0.0.1:8080")
	_, ts := startServer(t)
	docs := map[string]map[string]any{}
	for path, name := range map[string]string{
		"/.well-known/oauth-authorization-server": "metadata.golden.json",
		"/.well-known/openid-configuration":       "openid-configuration.golden.json",
	} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		golden := filepath.Join("testdata", name)
		if *update {
			os.MkdirAll("testdata", 0o755)
			os.WriteFile(golden, got, 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update once)", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs from %s:\n%s", path, golden, got)
		}
		var m map[string]any
		json.Unmarshal(got, &m)
		if fmt.Sprint(m["code_challenge_methods_supported"]) != "[S256]" || fmt.Sprint(m["response_types_supported"]) != "[code]" {
			t.Fatalf("%s promises more than the server does: %v", path, m)
		}
		docs[path] = m
	}
	oauth, oidc := docs["/.well-known/oauth-authorization-server"], docs["/.well-known/openid-configuration"]
	for k, v := range oauth {
		if !reflect.DeepEqual(oidc[k], v) {
			t.Errorf("the documents disagree on %s: %v (RFC 8414) vs %v (OpenID)", k, v, oidc[k])
		}
	}
	if fmt.Sprint(oidc["id_token_signing_alg_values_supported"]) != "[RS256 ES256]" || fmt.Sprint(oidc["subject_types_supported"]) != "[public]" ||
		oidc["userinfo_endpoint"] != "http://127.0.0.1:8080/oauth2/userinfo" || oidc["request_parameter_supported"] != false ||
		oidc["request_uri_parameter_supported"] != false || oidc["claims_parameter_supported"] != false {
		t.Errorf("OpenID Connect members: %v", oidc)
	}
}

// TestIssuerIgnoresHostHeaders (MD-06, WB-18): the issuer and every URL the
// server hands out come from configuration, never from Host or
// X-Forwarded-* headers an attacker controls.
func TestIssuerIgnoresHostHeaders(t *testing.T) {
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	_, ts := startServer(t)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/.well-known/oauth-authorization-server", nil)
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("Forwarded", "host=evil.example;proto=https")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if bytes.Contains(body, []byte("evil.example")) || !bytes.Contains(body, []byte(`"issuer": "http://127.0.0.1:8080"`)) {
		t.Fatalf("metadata follows forged host headers: %s", body)
	}
}
