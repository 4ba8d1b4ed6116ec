package admin_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// TestEachActionRecordsOneAuditEvent runs every admin action through the
// API and checks the one event it leaves: type, actor, target, outcome.
// Then it dumps the whole audit table, and the slog output, and looks for
// every secret that went through the API.
func TestEachActionRecordsOneAuditEvent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.mustClient("app")
	g := e.mustGrant(e.user.ID, "app")
	key := &identity.APIKey{OwnerID: e.user.ID, Name: "ci", Env: identity.EnvTest, Prefix: "sk_test_zz99", Hash: []byte("kh"), Scopes: []string{"read:pets"}}
	if err := e.st.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	var secrets []string // everything that must never be stored or logged
	secrets = append(secrets, credClient, credAdminKey, adminPassword, ordinaryPassword)

	type step struct {
		name, method, path string
		body               any
		status             int
		wantType           string
		wantOutcome        string
		wantUser           string
		wantClient         string
	}
	var newUserID string
	steps := []step{
		{"create client", "POST", "/clients", map[string]any{"id": "audited", "name": "Audited", "redirect_uris": []string{"https://a.example/cb"}}, 201,
			"client.created", "success", "", "audited"},
		{"create client with bad URI", "POST", "/clients", map[string]any{"id": "bad", "name": "Bad", "redirect_uris": []string{"javascript:x"}}, 400,
			"client.created", "failure", "", "bad"},
		{"update client", "PATCH", "/clients/audited", map[string]any{"scopes": []string{"read:pets"}}, 200,
			"client.updated", "success", "", "audited"},
		{"rotate secret", "POST", "/clients/audited/rotate-secret", nil, 200, "client.secret_rotated", "success", "", "audited"},
		{"disable client", "POST", "/clients/audited/disable", nil, 200, "client.disabled", "success", "", "audited"},
		{"enable client", "POST", "/clients/audited/enable", nil, 200, "client.enabled", "success", "", "audited"},
		{"delete client", "DELETE", "/clients/audited", nil, 204, "client.deleted", "success", "", "audited"},
		{"delete missing client", "DELETE", "/clients/audited", nil, 404, "client.deleted", "failure", "", "audited"},
		{"create user", "POST", "/users", map[string]any{"email": "fresh@example.com", "password": "s3cret passphrase one"}, 201,
			"user.created", "success", "*", ""},
		{"reset password", "POST", "/users/" + e.user.ID + "/password", map[string]any{"password": "s3cret passphrase two"}, 204,
			"user.password_reset", "success", e.user.ID, ""},
		{"revoke grant", "POST", "/grants/" + g.ID + "/revoke", nil, 200, "grant.revoked", "success", e.user.ID, "app"},
		{"revoke grants of client", "POST", "/grants/revoke", map[string]any{"client_id": "app"}, 200, "grants.revoked", "success", "", "app"},
		{"revoke key", "POST", "/api-keys/" + key.ID + "/revoke", nil, 200, "apikey.revoked", "success", e.user.ID, ""},
		{"disable user", "POST", "/users/" + e.user.ID + "/disable", nil, 200, "user.disabled", "success", e.user.ID, ""},
		{"enable user", "POST", "/users/" + e.user.ID + "/enable", nil, 200, "user.enabled", "success", e.user.ID, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := len(e.audit())
			res := e.do(s.method, api+s.path, credClient, s.body).want(t, s.status)
			if v, ok := res.json["client_secret"].(string); ok {
				secrets = append(secrets, v)
			}
			if m, ok := s.body.(map[string]any); ok {
				if pw, ok := m["password"].(string); ok {
					secrets = append(secrets, pw)
				}
			}
			events := e.audit()[before:]
			if len(events) != 1 {
				t.Fatalf("%d audit events, want 1: %+v", len(events), events)
			}
			ev := events[0]
			if ev.Type != s.wantType || ev.Outcome != s.wantOutcome || ev.ActorID != adminClientID || ev.ClientID != s.wantClient {
				t.Errorf("event %s/%s actor %q client %q; want %s/%s actor %q client %q",
					ev.Type, ev.Outcome, ev.ActorID, ev.ClientID, s.wantType, s.wantOutcome, adminClientID, s.wantClient)
			}
			if s.wantUser == "*" {
				newUserID, _ = res.json["id"].(string)
				s.wantUser = newUserID
			}
			if ev.UserID != s.wantUser {
				t.Errorf("event user %q, want %q", ev.UserID, s.wantUser)
			}
			if ev.Details["actor_kind"] != "client" || ev.Details["via"] != "admin_api" || ev.IP == "" {
				t.Errorf("event lacks actor kind, channel or IP: %+v", ev)
			}
			if !ev.Time.Equal(e.now) {
				t.Errorf("event time %v, want the handler's clock %v", ev.Time, e.now)
			}
			if s.wantOutcome == "failure" && ev.Details["error"] == "" {
				t.Errorf("a failure without its error code: %+v", ev.Details)
			}
		})
	}
	if newUserID == "" {
		t.Fatal("user creation did not run")
	}

	dump := e.dumpAuditTable()
	logs := e.logs.String()
	if !strings.Contains(dump, "grant.revoked") || !strings.Contains(logs, "grant.revoked") {
		t.Fatal("the dump or the log misses events; the search below would prove nothing")
	}
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Errorf("the audit table contains the secret %q", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}
	for _, marker := range []string{"pst_cs_", "$argon2id$", "passphrase"} {
		if strings.Contains(dump, marker) || strings.Contains(logs, marker) {
			t.Errorf("audit table or log contains %q", marker)
		}
	}
	if n := strings.Count(logs, `"msg":"audit"`); n != len(steps) {
		t.Errorf("%d audit log lines, want one per action (%d)", n, len(steps))
	}
}

// dumpAuditTable returns every column of every audit row as text.
func (e *env) dumpAuditTable() string {
	e.t.Helper()
	if err := e.auditLog.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	rows, err := e.st.DB().QueryContext(context.Background(), "SELECT * FROM audit_events")
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			e.t.Fatal(err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%v\t", v)
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return b.String()
}
