package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

// TestTokenEndpointBadInput: every malformed request gets an RFC 6749 §5.2
// JSON error with the right status, and no token row is written.
func TestTokenEndpointBadInput(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			setEnv(t, db)
			svc := createClient(t, "--name", "Batch job", "--grant-type", "client_credentials", "--scope", "read:pets")
			s, ts := startServer(t)
			basic := func(r *http.Request) { r.SetBasicAuth(svc.ClientID, svc.ClientSecret) }
			form := "application/x-www-form-urlencoded"
			tests := []struct {
				name        string
				contentType string
				body        string
				auth        func(*http.Request)
				status      int
				errCode     string
			}{
				{"wrong secret", form, "grant_type=client_credentials", func(r *http.Request) { r.SetBasicAuth(svc.ClientID, "pst_cs_wrong") }, 401, "invalid_client"},
				{"unknown client", form, "grant_type=client_credentials", func(r *http.Request) { r.SetBasicAuth("nobody", "x") }, 401, "invalid_client"},
				{"no credentials", form, "grant_type=client_credentials", nil, 401, "invalid_client"},
				{"password grant", form, "grant_type=password&username=a&password=b", basic, 400, "unsupported_grant_type"},
				{"implicit-style grant", form, "grant_type=implicit", basic, 400, "unsupported_grant_type"},
				{"missing grant type", form, "scope=read:pets", basic, 400, "invalid_request"},
				{"duplicated grant_type", form, "grant_type=client_credentials&grant_type=client_credentials", basic, 400, "invalid_request"},
				{"duplicated scope", form, "grant_type=client_credentials&scope=read:pets&scope=admin", basic, 400, "invalid_request"},
				{"scope not allowed", form, "grant_type=client_credentials&scope=admin", basic, 400, "invalid_scope"},
				{"wildcard scope", form, "grant_type=client_credentials&scope=read:*", basic, 400, "invalid_scope"},
				{"json body", "application/json", `{"grant_type":"client_credentials"}`, basic, 400, "invalid_request"},
				{"malformed form", form, "grant_type=%zz", basic, 400, "invalid_request"},
				{"oversized body", form, "grant_type=client_credentials&pad=" + strings.Repeat("a", 1<<20+10), basic, 413, "invalid_request"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					req, _ := http.NewRequest(http.MethodPost, ts.URL+"/oauth2/token", strings.NewReader(tt.body))
					req.Header.Set("Content-Type", tt.contentType)
					if tt.auth != nil {
						tt.auth(req)
					}
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer res.Body.Close()
					var body map[string]any
					raw, _ := io.ReadAll(res.Body)
					if err := json.Unmarshal(raw, &body); err != nil {
						t.Fatalf("body is not JSON: %q", raw)
					}
					if res.StatusCode != tt.status || body["error"] != tt.errCode {
						t.Fatalf("got %d %v, want %d %s", res.StatusCode, body, tt.status, tt.errCode)
					}
					if _, ok := body["access_token"]; ok {
						t.Fatal("a token was issued")
					}
				})
			}
			if n := countAccessTokens(t, s.Store.DB()); n != 0 {
				t.Fatalf("%d access-token rows written by failed requests", n)
			}
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/oauth2/token?grant_type=client_credentials", nil)
			res, _ := http.DefaultClient.Do(req)
			if res.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("GET /oauth2/token: %d", res.StatusCode)
			}
		})
	}
}

func countAccessTokens(t *testing.T, db *sql.DB) int {
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM access_tokens").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestNoSecretsAtRest dumps every table and the server's debug log after a
// token round-trip and greps both for the secrets and tokens that passed
// through the server.
func TestNoSecretsAtRest(t *testing.T) {
	for name, db := range databases(t) {
		t.Run(name, func(t *testing.T) {
			setEnv(t, db)
			svc := createClient(t, "--name", "Reporter", "--grant-type", "client_credentials", "--scope", "read:pets")
			rs := createClient(t, "--name", "API", "--introspect", "--grant-type", "client_credentials")
			if out, err := cli(t, "a-long-user-password\n", "user", "create", "--email", "owner@example.com", "--password-stdin"); err != nil {
				t.Fatal(out, err)
			}
			out, err := cli(t, "", "apikey", "create", "--owner", "owner@example.com", "--scope", "read:pets", "--output", "json")
			if err != nil {
				t.Fatal(out, err)
			}
			var key struct{ Key string }
			json.Unmarshal([]byte(out), &key)
			s, ts := startServer(t)
			logs := s.Logs
			cc := clientcredentials.Config{ClientID: svc.ClientID, ClientSecret: svc.ClientSecret, TokenURL: ts.URL + "/oauth2/token", Scopes: []string{"read:pets"}}
			tok, err := cc.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st, body := postForm(t, ts.URL+"/oauth2/introspect", rs.ClientID, rs.ClientSecret, url.Values{"token": {key.Key}}); st != 200 || body["active"] != true || body["token_type"] != "api_key" {
				t.Fatalf("api key introspection: %d %v", st, body)
			}
			s.Audit.Flush(context.Background())
			if !strings.Contains(logs.String(), `"event":"token.issued"`) {
				t.Fatal("the log is empty: the test would prove nothing")
			}
			dump := storetest.Dump(t, s.Store.DB(), db)
			for what, secret := range map[string]string{"client secret": svc.ClientSecret, "resource server secret": rs.ClientSecret,
				"access token": tok.AccessToken, "api key": key.Key, "password": "a-long-user-password",
				"access token body": strings.SplitN(strings.TrimPrefix(tok.AccessToken, "pst_at_"), ".", 2)[0]} {
				if secret == "" {
					t.Fatalf("%s is empty", what)
				}
				if bytes.Contains(dump, []byte(secret)) {
					t.Errorf("the database holds the %s in plain form", what)
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("the log holds the %s", what)
				}
			}
		})
	}
}
