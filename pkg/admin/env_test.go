package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/admin"
	"github.com/petstore-auth/petstore-auth/pkg/audit"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/logtest"
	"github.com/petstore-auth/petstore-auth/pkg/password"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// fakeAuth maps bearer credentials to principals; anything else is
// rejected the way provider.Authenticate rejects it.
type fakeAuth map[string]*identity.Principal

func (f fakeAuth) Authenticate(_ context.Context, cred string) (*identity.Principal, error) {
	if p, ok := f[cred]; ok {
		return p, nil
	}
	return nil, identity.Errorf(identity.EUNAUTHORIZED, "Invalid or expired credential.")
}

// Credentials of the test environment.
const (
	credClient       = "cc-admin"       // client_credentials token of an admin client
	credAdminKey     = "sk_test_admin"  // API key of an admin user, admin scope
	credAdminToken   = "at-admin-user"  // user token of an admin, admin scope
	credNoScope      = "cc-reader"      // client token without the admin scope
	credUserKey      = "sk_test_user"   // admin scope, but its owner is no admin
	credDisabledKey  = "sk_test_gone"   // admin scope, owner is a disabled admin
	credOrphanKey    = "sk_test_orphan" // admin scope, owner does not exist
	adminClientID    = "ops-console"
	adminPassword    = "correct horse battery"
	ordinaryPassword = "ordinary password 1"
)

type env struct {
	t        *testing.T
	st       *store.Store
	h        *admin.Handler
	router   *mux.Router
	admin    *identity.User // an enabled admin user
	user     *identity.User // an ordinary user
	now      time.Time
	logs     *logtest.Buffer
	auditLog *audit.Log
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "admin.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, now: now, logs: &logtest.Buffer{}}
	e.admin = e.mustUser("root@example.com", adminPassword, true)
	e.user = e.mustUser("pat@example.com", ordinaryPassword, false)
	gone := e.mustUser("gone@example.com", ordinaryPassword, true)
	gone.Disabled = true
	if err := st.UpdateUser(ctx, gone); err != nil {
		t.Fatal(err)
	}
	adminScope := []string{identity.ScopeAdmin}
	auth := fakeAuth{
		credClient:      {Kind: "token", Subject: adminClientID, ClientID: adminClientID, Scopes: adminScope},
		credAdminKey:    {Kind: "api_key", Subject: e.admin.ID, Scopes: adminScope},
		credAdminToken:  {Kind: "token", Subject: e.admin.ID, ClientID: "cli", Scopes: []string{"offline_access", "admin"}},
		credNoScope:     {Kind: "token", Subject: "reader", ClientID: "reader", Scopes: []string{identity.ScopeReadPets}},
		credUserKey:     {Kind: "api_key", Subject: e.user.ID, Scopes: adminScope},
		credDisabledKey: {Kind: "api_key", Subject: gone.ID, Scopes: adminScope},
		credOrphanKey:   {Kind: "api_key", Subject: "usr_nobody", Scopes: adminScope},
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, nil))
	// The audit log as the server builds it: one slog line per event, rows
	// written in batches, flushed before every read.
	e.auditLog = audit.New(st, logger, func() time.Time { return e.now })
	t.Cleanup(func() { e.auditLog.Close(context.Background()) })
	e.h = &admin.Handler{
		Auth: auth, Users: st, Clients: st, Grants: st, APIKeys: st, Audit: e.auditLog,
		Stats: admin.StatsFunc(func(ctx context.Context, since time.Time) (admin.Counts, error) {
			s, err := st.Stats(ctx, since)
			return admin.Counts{Clients: s.Clients, Users: s.Users, ActiveGrants: s.ActiveGrants,
				TokensIssued: s.TokensIssuedSince, FailedLogins: s.FailedLoginsSince}, err
		}),
		Now:    func() time.Time { return e.now },
		Logger: logger,
	}
	e.router = mux.NewRouter()
	e.h.Mount(e.router)
	return e
}

func (e *env) mustUser(email, pw string, isAdmin bool) *identity.User {
	e.t.Helper()
	u := &identity.User{Email: email, PasswordHash: hashOnce(e.t, pw), Admin: isAdmin}
	if err := e.st.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) mustClient(id string) *identity.Client {
	e.t.Helper()
	c := &identity.Client{ID: id, Name: id, RedirectURIs: []string{"https://" + id + ".example/cb"},
		GrantTypes: []string{identity.GrantAuthorizationCode, identity.GrantRefreshToken},
		Scopes:     []string{identity.ScopeReadPets, identity.ScopeOfflineAccess}, TokenFormat: identity.TokenFormatOpaque}
	if err := e.st.CreateClient(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) mustGrant(userID, clientID string) *identity.Grant {
	e.t.Helper()
	g, err := e.st.UpsertGrant(context.Background(), userID, clientID, []string{identity.ScopeReadPets}, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

// hashes caches fixture password hashes: Argon2id is slow on purpose, and
// slower still under -race.
var hashes sync.Map

func hashOnce(t *testing.T, pw string) string {
	t.Helper()
	if h, ok := hashes.Load(pw); ok {
		return h.(string)
	}
	h, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	hashes.Store(pw, h)
	return h
}

// response is a recorded answer with its JSON body decoded.
type response struct {
	*httptest.ResponseRecorder
	json map[string]any
}

// do sends a request with a bearer credential ("" for none) and a JSON body
// (nil for none).
func (e *env) do(method, path, cred string, body any) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if cred != "" {
		r.Header.Set("Authorization", "Bearer "+cred)
	}
	return e.serve(r)
}

func (e *env) serve(r *http.Request) response {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	res := response{ResponseRecorder: w}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") && w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &res.json); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %v\n%s", r.Method, r.URL, err, w.Body)
		}
	}
	return res
}

// want fails the test unless the status matches, showing the body.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status %d, want %d; body: %s", r.Code, status, r.Body)
	}
	return r
}

// audit returns every audit event, oldest first.
func (e *env) audit() []*identity.AuditEvent {
	e.t.Helper()
	es, _, err := e.auditLog.ListAudit(context.Background(), identity.AuditFilter{Page: identity.Page{Limit: 500}})
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}
