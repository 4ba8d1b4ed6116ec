package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIBadInput: every command refuses malformed, missing, duplicated and
// hostile input with a clear message and the right exit code, and writes
// nothing.
func TestCLIBadInput(t *testing.T) {
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	if out, err := cli(t, "correct horse battery\n", "user", "create", "--email", "alice@example.com", "--password-stdin"); err != nil {
		t.Fatal(out, err)
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int    // exit code main would use
		want  string // in the message
	}{
		{"javascript redirect", "", []string{"client", "create", "--name", "x", "--redirect-uri", "javascript://x/%0aalert(1)"}, 2, "redirect URI"},
		{"http redirect off loopback", "", []string{"client", "create", "--name", "x", "--redirect-uri", "http://app.example/cb"}, 2, "loopback"},
		{"fragment redirect", "", []string{"client", "create", "--name", "x", "--redirect-uri", "https://app.example/cb#x"}, 2, "fragment"},
		{"unknown scope", "", []string{"client", "create", "--name", "x", "--scope", "pets:*"}, 2, "unknown scope"},
		{"duplicated scope", "", []string{"client", "create", "--name", "x", "--scope", "read:pets read:pets"}, 2, "twice"},
		{"password grant", "", []string{"client", "create", "--name", "x", "--grant-type", "password"}, 2, "unsupported grant type"},
		{"public client_credentials", "", []string{"client", "create", "--name", "x", "--public", "--grant-type", "client_credentials"}, 2, "public client"},
		{"bad token format", "", []string{"client", "create", "--name", "x", "--token-format", "xml"}, 2, "token format"},
		{"missing name", "", []string{"client", "create"}, 1, "name"},
		{"origin with a path", "", []string{"client", "create", "--name", "x", "--public", "--redirect-uri", "https://spa.example/cb", "--allowed-origin", "https://spa.example/app"}, 2, "without path"},
		{"wildcard origin", "", []string{"client", "create", "--name", "x", "--public", "--redirect-uri", "https://spa.example/cb", "--allowed-origin", "*"}, 2, "wildcard"},
		{"http origin off loopback", "", []string{"client", "create", "--name", "x", "--public", "--redirect-uri", "https://spa.example/cb", "--allowed-origin", "http://spa.example"}, 2, "loopback"},
		{"origin for a confidential client", "", []string{"client", "create", "--name", "x", "--redirect-uri", "https://spa.example/cb", "--allowed-origin", "https://spa.example"}, 2, "public clients only"},
		{"jwks_uri over http", "", []string{"client", "create", "--name", "x", "--grant-type", "client_credentials", "--jwks-uri", "http://keys.example/jwks.json"}, 2, "https"},
		{"jwks file missing", "", []string{"client", "create", "--name", "x", "--grant-type", "client_credentials", "--jwks", "/nonexistent/jwks.json"}, 1, "--jwks"},
		{"jwks_uri and jwks", "", []string{"client", "create", "--name", "x", "--grant-type", "client_credentials", "--jwks-uri", "https://keys.example/jwks.json", "--jwks", "testdata/client-jwks.json"}, 2, "exactly one"},
		{"oversized name", "", []string{"client", "create", "--name", strings.Repeat("n", 500)}, 2, "name"},
		{"bad output", "", []string{"client", "list", "--output", "yaml"}, 2, "--output"},
		{"public introspection client", "", []string{"client", "create", "--name", "x", "--public", "--redirect-uri", "http://127.0.0.1/cb", "--introspect"}, 2, "cannot introspect"},
		{"unknown flag", "", []string{"user", "create", "--password", "x"}, 2, "unknown flag"},
		{"missing argument", "", []string{"client", "show"}, 2, "arg"},
		{"password in a flag", "", []string{"user", "create", "--email", "bob@example.com"}, 2, "--password-stdin"},
		{"short password", "short\n", []string{"user", "create", "--email", "bob@example.com", "--password-stdin"}, 2, "password"},
		{"two lines of password", "a-long-password\nanother-line\n", []string{"user", "create", "--email", "bob@example.com", "--password-stdin"}, 2, "one line"},
		{"bad email", "a-long-password\n", []string{"user", "create", "--email", "not-an-email", "--password-stdin"}, 2, "email"},
		{"duplicate email", "a-long-password\n", []string{"user", "create", "--email", "ALICE@example.com", "--password-stdin"}, 4, ""},
		{"unknown client", "", []string{"client", "show", "nope"}, 3, ""},
		{"api key for unknown owner", "", []string{"apikey", "create", "--owner", "nobody@example.com", "--scope", "read:pets"}, 3, ""},
		{"api key without scope", "", []string{"apikey", "create", "--owner", "alice@example.com"}, 2, "at least one scope"},
		{"api key bad env", "", []string{"apikey", "create", "--owner", "alice@example.com", "--scope", "read:pets", "--env", "prod"}, 2, "live or test"},
		{"api key bad expiry", "", []string{"apikey", "create", "--owner", "alice@example.com", "--scope", "read:pets", "--expires", "-5d"}, 2, "--expires"},
		{"revoke unknown key", "", []string{"apikey", "revoke", "sk_test_nothing"}, 3, ""},
		{"grant revoke without target", "", []string{"grant", "revoke"}, 2, "GRANT_ID"},
		{"grant revoke both", "", []string{"grant", "revoke", "grt_x", "--user", "alice@example.com"}, 2, "GRANT_ID"},
		{"revoke unknown grant", "", []string{"grant", "revoke", "grt_nope"}, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := cli(t, tt.stdin, tt.args...)
			if err == nil {
				t.Fatalf("accepted: %s", out)
			}
			if c := exitCode(err); tt.code != 1 && c != tt.code {
				t.Fatalf("exit code %d (%v), want %d", c, err, tt.code)
			}
			if !strings.Contains(friendly(err)+out, tt.want) {
				t.Fatalf("message %q does not mention %q", friendly(err), tt.want)
			}
		})
	}
	out, err := cli(t, "", "client", "list", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var clients []map[string]any
	if err := json.Unmarshal([]byte(out), &clients); err != nil || len(clients) != 0 {
		t.Fatalf("refused commands wrote clients: %s", out)
	}
	out, _ = cli(t, "", "user", "list", "--output", "json")
	var users []map[string]any
	json.Unmarshal([]byte(out), &users)
	if len(users) != 1 {
		t.Fatalf("refused commands wrote users: %s", out)
	}
}

// TestCLIAllowedOrigins: --allowed-origin is repeatable and shows in
// client show and list, as text and JSON.
func TestCLIAllowedOrigins(t *testing.T) {
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	out, err := cli(t, "", "client", "create", "--name", "SPA", "--id", "spa", "--public", "--redirect-uri", "https://spa.example/cb",
		"--scope", "read:pets", "--allowed-origin", "https://static.example", "--allowed-origin", "http://127.0.0.1:5173")
	if err != nil {
		t.Fatal(out, err)
	}
	if !strings.Contains(out, "https://spa.example https://static.example http://127.0.0.1:5173") {
		t.Errorf("create does not list the CORS origins:\n%s", out)
	}
	out, err = cli(t, "", "client", "show", "spa", "--output", "json")
	if err != nil {
		t.Fatal(out, err)
	}
	var v struct {
		AllowedOrigins []string `json:"allowed_origins"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || strings.Join(v.AllowedOrigins, " ") != "https://static.example http://127.0.0.1:5173" {
		t.Fatalf("show --output json: %s (%v)", out, err)
	}
	out, _ = cli(t, "", "client", "show", "spa")
	if !strings.Contains(out, "allowed_origins:") || !strings.Contains(out, "http://127.0.0.1:5173") {
		t.Errorf("show text:\n%s", out)
	}
	out, _ = cli(t, "", "client", "list")
	if !strings.Contains(out, "ALLOWED ORIGINS") || !strings.Contains(out, "https://static.example http://127.0.0.1:5173") {
		t.Errorf("list text:\n%s", out)
	}
	out, _ = cli(t, "", "client", "list", "--output", "json")
	if !strings.Contains(out, `"allowed_origins"`) {
		t.Errorf("list json:\n%s", out)
	}
}

// TestCLIActionsHonourOutputJSON: every command that prints something
// prints JSON with --output json, the actions that report a sentence too.
func TestCLIActionsHonourOutputJSON(t *testing.T) {
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, err := cli(t, stdin, append(args, "--output", "json")...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v --output json is not JSON: %v\n%s", args, err, out)
		}
		return out
	}
	must("a long passphrase\n", "user", "create", "--email", "json@example.com", "--password-stdin")
	must("another long passphrase\n", "user", "set-password", "json@example.com", "--password-stdin")
	must("", "client", "create", "--name", "Gone", "--id", "gone", "--grant-type", "client_credentials", "--scope", "read:pets")
	if out := must("", "client", "delete", "gone"); !strings.Contains(out, `"deleted": true`) {
		t.Errorf("client delete: %s", out)
	}
	var key struct {
		ID string `json:"id"`
	}
	json.Unmarshal([]byte(must("", "apikey", "create", "--owner", "json@example.com", "--scope", "read:pets")), &key)
	must("", "apikey", "revoke", key.ID)
	if out := must("", "grant", "revoke", "--user", "json@example.com"); !strings.Contains(out, `"revoked": 0`) {
		t.Errorf("grant revoke: %s", out)
	}
	if out := must("", "keys", "rotate"); !strings.Contains(out, `"alg": "ES256"`) || !strings.Contains(out, `"alg": "RS256"`) {
		t.Errorf("keys rotate: %s; want a new ES256 and a new RS256 key", out)
	}
	// OpenID Connect: user name and verified email, client ID token alg.
	out := must("a long passphrase\n", "user", "create", "--email", "oidc@example.com", "--name", "Olive Idc", "--email-verified", "--password-stdin")
	if !strings.Contains(out, `"name": "Olive Idc"`) || !strings.Contains(out, `"email_verified": true`) {
		t.Errorf("user create --name --email-verified: %s", out)
	}
	out = must("", "user", "update", "oidc@example.com", "--name", "Olive I.", "--email-verified=false")
	if !strings.Contains(out, `"name": "Olive I."`) || !strings.Contains(out, `"email_verified": false`) {
		t.Errorf("user update: %s", out)
	}
	out = must("", "client", "create", "--name", "RP", "--id", "rp", "--redirect-uri", "https://rp.example/cb", "--scope", "openid profile", "--id-token-alg", "ES256")
	if !strings.Contains(out, `"id_token_signed_response_alg": "ES256"`) {
		t.Errorf("client create --id-token-alg: %s", out)
	}
	if out := must("", "client", "update", "rp", "--id-token-alg", "RS256"); !strings.Contains(out, `"id_token_signed_response_alg": "RS256"`) {
		t.Errorf("client update --id-token-alg: %s", out)
	}
}

// TestCLIPrivateKeyJWTClient: client create --jwks FILE registers a
// private_key_jwt client: no secret is printed, and show --output json
// gives the method and the keys.
func TestCLIPrivateKeyJWTClient(t *testing.T) {
	setEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "auth.db"))
	out, err := cli(t, "", "client", "create", "--name", "Signer", "--id", "signer", "--grant-type", "client_credentials",
		"--scope", "read:pets", "--jwks", "testdata/client-jwks.json", "--output", "json")
	if err != nil {
		t.Fatal(out, err)
	}
	var v struct {
		Method string          `json:"token_endpoint_auth_method"`
		Secret string          `json:"client_secret"`
		JWKS   json.RawMessage `json:"jwks"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Method != "private_key_jwt" || v.Secret != "" || !strings.Contains(string(v.JWKS), `"k1"`) {
		t.Fatalf("create --jwks --output json: %s (%v)", out, err)
	}
	if out, err := cli(t, "", "client", "rotate-secret", "signer"); err == nil {
		t.Fatalf("a private_key_jwt client got a secret: %s", out)
	}
	out, err = cli(t, "", "client", "create", "--name", "Fetcher", "--grant-type", "client_credentials", "--jwks-uri", "https://keys.example/jwks.json")
	if err != nil || !strings.Contains(out, "private_key_jwt") || strings.Contains(out, "client_secret:") {
		t.Fatalf("create --jwks-uri: %s (%v)", out, err)
	}
}
