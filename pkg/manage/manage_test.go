package manage_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// recorder is an audit sink that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []identity.AuditEvent
}

func (r *recorder) RecordAudit(_ context.Context, e *identity.AuditEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, *e)
	return nil
}

func (r *recorder) since(n int) []identity.AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events[n:])
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

type env struct {
	t     *testing.T
	st    *store.Store
	audit *recorder
	svc   *manage.Service
	now   time.Time
	ctx   context.Context
}

// admin is the actor of most steps: an admin through the admin API.
var admin = manage.Actor{ID: "usr_admin", Kind: manage.ActorUser, Channel: identity.ChannelAdminAPI, Credential: "token", IP: "192.0.2.7"}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "manage.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, audit: &recorder{}, now: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC), ctx: ctx}
	e.svc = &manage.Service{Users: st, Clients: st, Grants: st, APIKeys: st, Audit: e.audit, Now: func() time.Time { return e.now }}
	return e
}

// act runs one action and checks the one audit event it leaves: its type,
// its outcome (failure with the error's code when err is not nil), the
// actor and the channel.
func (e *env) act(typ string, a manage.Actor, f func() error) error {
	e.t.Helper()
	before := e.audit.len()
	err := f()
	evs := e.audit.since(before)
	if len(evs) != 1 {
		e.t.Fatalf("%d audit events, want 1: %+v", len(evs), evs)
	}
	ev := evs[0]
	wantOutcome := "success"
	if err != nil {
		wantOutcome = "failure"
	}
	if ev.Type != typ || ev.Outcome != wantOutcome || ev.ActorID != a.ID || ev.Details["via"] != a.Channel ||
		ev.Details["actor_kind"] != a.Kind || ev.IP != a.IP || !ev.Time.Equal(e.now) {
		e.t.Errorf("event %s/%s actor %s via %q kind %q ip %q at %v; want %s/%s actor %s via %q kind %q ip %q at %v",
			ev.Type, ev.Outcome, ev.ActorID, ev.Details["via"], ev.Details["actor_kind"], ev.IP, ev.Time,
			typ, wantOutcome, a.ID, a.Channel, a.Kind, a.IP, e.now)
	}
	if err != nil && ev.Details["error"] != identity.ErrorCode(err) {
		e.t.Errorf("failure event error %q, want %q", ev.Details["error"], identity.ErrorCode(err))
	}
	return err
}

func wantErr(t *testing.T, err error, code, text string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if identity.ErrorCode(err) != code || !strings.Contains(identity.ErrorMessage(err), text) {
		t.Fatalf("error %v; want %s containing %q", err, code, text)
	}
}

func (e *env) user(email string, disabled bool) *identity.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(e.ctx, manage.CLI, manage.UserInput{Email: email, Password: "a long enough passphrase"})
	if err != nil {
		e.t.Fatal(err)
	}
	if disabled {
		if u, _, err = e.svc.SetUserDisabled(e.ctx, manage.CLI, u.ID, true); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

func (e *env) client(id string) *identity.Client {
	e.t.Helper()
	c, _, err := e.svc.CreateClient(e.ctx, manage.CLI, manage.ClientInput{ID: id, Name: id, RedirectURIs: []string{"https://" + id + ".example/cb"},
		Scopes: []string{identity.ScopeReadPets, identity.ScopeOfflineAccess}})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) grant(userID, clientID string) *identity.Grant {
	e.t.Helper()
	g, err := e.st.UpsertGrant(e.ctx, userID, clientID, []string{identity.ScopeReadPets}, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

func TestDefaultGrantTypes(t *testing.T) {
	for _, tt := range []struct {
		name      string
		redirects []string
		scopes    []string
		public    bool
		want      []string
	}{
		{"web app without offline_access", []string{"https://a.example/cb"}, []string{"read:pets"}, false, []string{"authorization_code"}},
		{"web app with offline_access", []string{"https://a.example/cb"}, []string{"read:pets", "offline_access"}, false, []string{"authorization_code", "refresh_token"}},
		{"public app with offline_access", []string{"http://127.0.0.1/cb"}, []string{"offline_access"}, true, []string{"authorization_code", "refresh_token"}},
		{"public app without redirect URIs", nil, nil, true, []string{"authorization_code"}},
		{"service", nil, []string{"read:pets", "offline_access"}, false, []string{"client_credentials"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := manage.DefaultGrantTypes(tt.redirects, tt.scopes, tt.public); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCreateClient(t *testing.T) {
	e := newEnv(t)
	// A user whose id is a valid client id (an imported account; the
	// store's own ids start with usr_, which client ids may not).
	taken := &identity.User{ID: "legacy-user", Email: "taken@example.com"}
	if err := e.st.CreateUser(e.ctx, taken); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		in         manage.ClientInput
		code, text string
		wantGrants []string
	}{
		{"web app, defaults", manage.ClientInput{ID: "web", Name: " Web ", RedirectURIs: []string{"https://web.example/cb"}, Scopes: []string{"read:pets"}}, "", "", []string{"authorization_code"}},
		{"web app with offline_access", manage.ClientInput{Name: "Offline", RedirectURIs: []string{"https://o.example/cb"}, Scopes: []string{"read:pets", "offline_access"}}, "", "", []string{"authorization_code", "refresh_token"}},
		{"service, defaults", manage.ClientInput{ID: "svc", Name: "Service", Scopes: []string{"read:pets"}}, "", "", []string{"client_credentials"}},
		{"public app", manage.ClientInput{ID: "spa", Name: "SPA", Public: true, RedirectURIs: []string{"https://spa.example/cb"}}, "", "", []string{"authorization_code"}},
		{"explicit grant types win", manage.ClientInput{ID: "both", Name: "Both", RedirectURIs: []string{"https://b.example/cb"}, GrantTypes: []string{"authorization_code", "refresh_token"}}, "", "", []string{"authorization_code", "refresh_token"}},
		{"no name", manage.ClientInput{ID: "noname"}, identity.EINVALID, "name", nil},
		{"javascript redirect", manage.ClientInput{Name: "x", RedirectURIs: []string{"javascript:alert(1)"}}, identity.EINVALID, "redirect URI", nil},
		{"password grant", manage.ClientInput{Name: "x", GrantTypes: []string{"password"}}, identity.EINVALID, "unsupported grant type", nil},
		{"bad token format", manage.ClientInput{Name: "x", TokenFormat: "xml"}, identity.EINVALID, "token format", nil},
		{"id of a user (AT-08)", manage.ClientInput{ID: taken.ID, Name: "x"}, identity.ECONFLICT, "is taken", nil},
		{"id of a client", manage.ClientInput{ID: "web", Name: "again"}, identity.ECONFLICT, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var c *identity.Client
			var secret string
			err := e.act(identity.EventClientCreated, admin, func() (err error) {
				c, secret, err = e.svc.CreateClient(e.ctx, admin, tt.in)
				return err
			})
			wantErr(t, err, tt.code, tt.text)
			if err != nil {
				return
			}
			if !slices.Equal(c.GrantTypes, tt.wantGrants) || c.TokenFormat != identity.TokenFormatOpaque || c.Name != strings.TrimSpace(tt.in.Name) {
				t.Errorf("client %+v; want grant types %v, opaque tokens, a trimmed name", c, tt.wantGrants)
			}
			if tt.in.Public != (secret == "") || (secret != "" && !strings.HasPrefix(secret, "pst_cs_")) {
				t.Errorf("secret %q for public=%v", secret, tt.in.Public)
			}
			stored, err := e.st.ClientByID(e.ctx, c.ID)
			if err != nil || !slices.Equal(stored.GrantTypes, tt.wantGrants) {
				t.Errorf("stored %+v, %v", stored, err)
			}
		})
	}
}

func TestChangeClient(t *testing.T) {
	e := newEnv(t)
	e.client("app")
	pub, _, err := e.svc.CreateClient(e.ctx, manage.CLI, manage.ClientInput{ID: "pub", Name: "Pub", Public: true, RedirectURIs: []string{"https://p.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{"javascript:x"}
	name := "Renamed"
	t.Run("update: nothing to change", func(t *testing.T) {
		wantErr(t, e.act(identity.EventClientUpdated, admin, func() error { _, err := e.svc.UpdateClient(e.ctx, admin, "app", manage.ClientPatch{}); return err }),
			identity.EINVALID, "Nothing to change")
	})
	t.Run("update: invalid result is not stored", func(t *testing.T) {
		wantErr(t, e.act(identity.EventClientUpdated, admin, func() error {
			_, err := e.svc.UpdateClient(e.ctx, admin, "app", manage.ClientPatch{RedirectURIs: &bad})
			return err
		}), identity.EINVALID, "redirect URI")
		if c, _ := e.st.ClientByID(e.ctx, "app"); c.RedirectURIs[0] != "https://app.example/cb" {
			t.Fatalf("stored %v", c.RedirectURIs)
		}
	})
	t.Run("update: unknown client", func(t *testing.T) {
		wantErr(t, e.act(identity.EventClientUpdated, admin, func() error {
			_, err := e.svc.UpdateClient(e.ctx, admin, "nope", manage.ClientPatch{Name: &name})
			return err
		}), identity.ENOTFOUND, "")
	})
	t.Run("update", func(t *testing.T) {
		wantErr(t, e.act(identity.EventClientUpdated, admin, func() error {
			_, err := e.svc.UpdateClient(e.ctx, admin, "app", manage.ClientPatch{Name: &name})
			return err
		}), "", "")
		if c, _ := e.st.ClientByID(e.ctx, "app"); c.Name != name {
			t.Fatalf("name %q", c.Name)
		}
	})
	t.Run("update: offline_access brings refresh_token", func(t *testing.T) {
		web, _, err := e.svc.CreateClient(e.ctx, manage.CLI, manage.ClientInput{ID: "web", Name: "Web", RedirectURIs: []string{"https://w.example/cb"},
			Scopes: []string{identity.ScopeReadPets}})
		if err != nil || !slices.Equal(web.GrantTypes, []string{"authorization_code"}) {
			t.Fatalf("%v %v", web, err)
		}
		scopes := []string{identity.ScopeReadPets, identity.ScopeOfflineAccess}
		wantErr(t, e.act(identity.EventClientUpdated, admin, func() error {
			_, err := e.svc.UpdateClient(e.ctx, admin, "web", manage.ClientPatch{Scopes: &scopes})
			return err
		}), "", "")
		if c, _ := e.st.ClientByID(e.ctx, "web"); !slices.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) {
			t.Fatalf("grant types %v", c.GrantTypes)
		}
		if d := e.audit.since(e.audit.len() - 1)[0].Details; d["fields"] != "scopes grant_types" {
			t.Errorf("fields %q", d["fields"])
		}
	})
	t.Run("rotate: public client", func(t *testing.T) {
		wantErr(t, e.act(identity.EventClientSecretRotated, admin, func() error { _, _, err := e.svc.RotateClientSecret(e.ctx, admin, pub.ID, "", 0); return err }),
			identity.EINVALID, "no secret")
	})
	t.Run("rotate", func(t *testing.T) {
		old, _ := e.st.ClientByID(e.ctx, "app")
		var secret string
		wantErr(t, e.act(identity.EventClientSecretRotated, admin, func() (err error) { _, secret, err = e.svc.RotateClientSecret(e.ctx, admin, "app", "", 0); return err }), "", "")
		now, _ := e.st.ClientByID(e.ctx, "app")
		if secret == "" || string(now.SecretHash) == string(old.SecretHash) {
			t.Fatal("the secret did not change")
		}
	})
	t.Run("disable and enable", func(t *testing.T) {
		wantErr(t, e.act(identity.EventClientDisabled, admin, func() error { _, err := e.svc.SetClientDisabled(e.ctx, admin, "app", true); return err }), "", "")
		if c, _ := e.st.ClientByID(e.ctx, "app"); !c.Disabled {
			t.Fatal("not disabled")
		}
		wantErr(t, e.act(identity.EventClientEnabled, admin, func() error { _, err := e.svc.SetClientDisabled(e.ctx, admin, "app", false); return err }), "", "")
		wantErr(t, e.act(identity.EventClientDisabled, admin, func() error { _, err := e.svc.SetClientDisabled(e.ctx, admin, "nope", true); return err }), identity.ENOTFOUND, "")
	})
	t.Run("delete", func(t *testing.T) {
		wantErr(t, e.act(identity.EventClientDeleted, admin, func() error { return e.svc.DeleteClient(e.ctx, admin, "app", "") }), "", "")
		wantErr(t, e.act(identity.EventClientDeleted, admin, func() error { return e.svc.DeleteClient(e.ctx, admin, "app", "") }), identity.ENOTFOUND, "")
	})
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name       string
		in         manage.UserInput
		code, text string
	}{
		{"created, email normalised", manage.UserInput{Email: " Pat@Example.COM ", Password: "a long enough passphrase"}, "", ""},
		{"password is the email", manage.UserInput{Email: "sam@example.com", Password: "SAM@example.com"}, identity.EINVALID, "must not be the email"},
		{"short password", manage.UserInput{Email: "sam@example.com", Password: "short"}, identity.EINVALID, "at least"},
		{"bad email", manage.UserInput{Email: "not-an-email", Password: "a long enough passphrase"}, identity.EINVALID, "email"},
		{"taken email", manage.UserInput{Email: "PAT@example.com", Password: "a long enough passphrase"}, identity.ECONFLICT, "An account with this email exists."},
	} {
		t.Run("create: "+tt.name, func(t *testing.T) {
			var u *identity.User
			err := e.act(identity.EventUserCreated, manage.CLI, func() (err error) { u, err = e.svc.CreateUser(e.ctx, manage.CLI, tt.in); return err })
			wantErr(t, err, tt.code, tt.text)
			if err == nil && (u.Email != "pat@example.com" || !strings.HasPrefix(u.PasswordHash, "$argon2id$")) {
				t.Fatalf("user %+v", u)
			}
		})
	}
	for _, ev := range e.audit.since(0) {
		for k, v := range ev.Details {
			if strings.Contains(v, "passphrase") || strings.Contains(v, "argon2") {
				t.Errorf("audit detail %s holds the password or its hash", k)
			}
		}
	}

	u, _ := e.st.UserByEmail(e.ctx, "pat@example.com")
	e.client("app")
	self := manage.Actor{ID: u.ID, Kind: manage.ActorUser, Channel: identity.ChannelConsole}
	t.Run("reset password: the email refused", func(t *testing.T) {
		wantErr(t, e.act(identity.EventUserPasswordReset, admin, func() error { return e.svc.ResetPassword(e.ctx, admin, u.ID, "pat@example.com") }),
			identity.EINVALID, "must not be the email")
	})
	t.Run("reset password ends grants", func(t *testing.T) {
		g := e.grant(u.ID, "app")
		wantErr(t, e.act(identity.EventUserPasswordReset, admin, func() error { return e.svc.ResetPassword(e.ctx, admin, u.ID, "another long passphrase") }), "", "")
		if g, _ := e.st.GrantByID(e.ctx, g.ID); g.RevokedAt == nil {
			t.Fatal("grant survived the reset")
		}
	})
	t.Run("disable self", func(t *testing.T) {
		wantErr(t, e.act(identity.EventUserDisabled, self, func() error { _, _, err := e.svc.SetUserDisabled(e.ctx, self, u.ID, true); return err }),
			identity.EINVALID, "your own account")
	})
	t.Run("disable revokes grants and keys", func(t *testing.T) {
		g := e.grant(u.ID, "app")
		k, _, err := e.svc.CreateAPIKey(e.ctx, manage.CLI, manage.APIKeyInput{OwnerID: u.ID, Env: "test", Scopes: []string{"read:pets"}})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		wantErr(t, e.act(identity.EventUserDisabled, admin, func() (err error) { _, n, err = e.svc.SetUserDisabled(e.ctx, admin, u.ID, true); return err }), "", "")
		if g, _ := e.st.GrantByID(e.ctx, g.ID); n != 1 || g.RevokedAt == nil {
			t.Fatalf("%d grants revoked", n)
		}
		if k, _ := e.st.APIKeyByID(e.ctx, k.ID); k.RevokedAt == nil {
			t.Fatal("the API key survived")
		}
		wantErr(t, e.act(identity.EventUserEnabled, admin, func() error { _, _, err := e.svc.SetUserDisabled(e.ctx, admin, u.ID, false); return err }), "", "")
	})
}

func TestCreateAPIKey(t *testing.T) {
	e := newEnv(t)
	u := e.user("owner@example.com", false)
	gone := e.user("gone@example.com", true)
	past, future := e.now.Add(-time.Hour), e.now.Add(24*time.Hour)
	ok := func(f func(*manage.APIKeyInput)) manage.APIKeyInput {
		in := manage.APIKeyInput{OwnerID: u.ID, Name: "Nightly sync", Env: identity.EnvTest, Scopes: []string{"read:pets"}, ExpiresAt: &future}
		f(&in)
		return in
	}
	var keys []string
	for _, tt := range []struct {
		name       string
		in         manage.APIKeyInput
		code, text string
	}{
		{"named", ok(func(*manage.APIKeyInput) {}), "", ""},
		{"no name", ok(func(in *manage.APIKeyInput) { in.Name = "" }), "", ""},
		{"64 characters", ok(func(in *manage.APIKeyInput) { in.Name = strings.Repeat("é", 64) }), "", ""},
		{"65 characters", ok(func(in *manage.APIKeyInput) { in.Name = strings.Repeat("é", 65) }), identity.EINVALID, "The key name has more than 64 characters."},
		{"control character", ok(func(in *manage.APIKeyInput) { in.Name = "a\nb" }), identity.EINVALID, "control characters"},
		{"bad env", ok(func(in *manage.APIKeyInput) { in.Env = "prod" }), identity.EINVALID, "live or test"},
		{"no scope", ok(func(in *manage.APIKeyInput) { in.Scopes = nil }), identity.EINVALID, "at least one scope"},
		{"unknown scope", ok(func(in *manage.APIKeyInput) { in.Scopes = []string{"pets:*"} }), identity.EINVALID, "unknown scope"},
		{"scope twice", ok(func(in *manage.APIKeyInput) { in.Scopes = []string{"read:pets", "read:pets"} }), identity.EINVALID, "twice"},
		{"expired", ok(func(in *manage.APIKeyInput) { in.ExpiresAt = &past }), identity.EINVALID, "expire"},
		{"unknown owner", ok(func(in *manage.APIKeyInput) { in.OwnerID = "usr_nobody" }), identity.ENOTFOUND, ""},
		{"disabled owner", ok(func(in *manage.APIKeyInput) { in.OwnerID = gone.ID }), identity.EINVALID, "disabled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var k *identity.APIKey
			var key string
			err := e.act(identity.EventAPIKeyCreated, manage.CLI, func() (err error) { k, key, err = e.svc.CreateAPIKey(e.ctx, manage.CLI, tt.in); return err })
			wantErr(t, err, tt.code, tt.text)
			if err != nil {
				return
			}
			keys = append(keys, key)
			if !strings.HasPrefix(key, "sk_test_") || !strings.HasPrefix(key, k.Prefix) || k.OwnerID != u.ID {
				t.Fatalf("key %q, %+v", key, k)
			}
			if stored, err := e.st.APIKeyByID(e.ctx, k.ID); err != nil || stored.Name != tt.in.Name {
				t.Fatalf("stored %+v, %v", stored, err)
			}
		})
	}
	for _, ev := range e.audit.since(0) {
		for _, v := range ev.Details {
			for _, key := range keys {
				if strings.Contains(v, key) {
					t.Errorf("audit event %s holds a key", ev.Type)
				}
			}
		}
	}
}

// TestRevokeOwn: with an owner (the account page) only the owner's active
// grants and keys can be revoked; the rest is "not found", the same as
// what does not exist. An operator revokes any.
func TestRevokeOwn(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.user("alice@example.com", false), e.user("bob@example.com", false)
	e.client("app")
	acct := manage.Actor{ID: alice.ID, Kind: manage.ActorUser, Channel: identity.ChannelAccount, Credential: "session"}
	ga, gb := e.grant(alice.ID, "app"), e.grant(bob.ID, "app")
	ka, _, _ := e.svc.CreateAPIKey(e.ctx, manage.CLI, manage.APIKeyInput{OwnerID: alice.ID, Env: "test", Scopes: []string{"read:pets"}})
	kb, _, _ := e.svc.CreateAPIKey(e.ctx, manage.CLI, manage.APIKeyInput{OwnerID: bob.ID, Env: "test", Scopes: []string{"read:pets"}})
	for _, tt := range []struct {
		name, typ, id, owner string
		a                    manage.Actor
		code                 string
	}{
		{"someone else's grant", identity.EventGrantRevoked, gb.ID, alice.ID, acct, identity.ENOTFOUND},
		{"no such grant", identity.EventGrantRevoked, "grt_nope", alice.ID, acct, identity.ENOTFOUND},
		{"own grant", identity.EventGrantRevoked, ga.ID, alice.ID, acct, ""},
		{"own grant again", identity.EventGrantRevoked, ga.ID, alice.ID, acct, identity.ENOTFOUND},
		{"operator, any grant", identity.EventGrantRevoked, gb.ID, "", admin, ""},
		{"someone else's key", identity.EventAPIKeyRevoked, kb.ID, alice.ID, acct, identity.ENOTFOUND},
		{"no such key", identity.EventAPIKeyRevoked, "key_nope", alice.ID, acct, identity.ENOTFOUND},
		{"own key by prefix", identity.EventAPIKeyRevoked, ka.Prefix, alice.ID, acct, ""},
		{"own key again", identity.EventAPIKeyRevoked, ka.ID, alice.ID, acct, identity.ENOTFOUND},
		{"operator, any key", identity.EventAPIKeyRevoked, kb.ID, "", manage.CLI, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := e.act(tt.typ, tt.a, func() error {
				if tt.typ == identity.EventGrantRevoked {
					_, err := e.svc.RevokeGrant(e.ctx, tt.a, tt.id, tt.owner)
					return err
				}
				_, err := e.svc.RevokeAPIKey(e.ctx, tt.a, tt.id, tt.owner)
				return err
			})
			wantErr(t, err, tt.code, "")
		})
	}
	if g, _ := e.st.GrantByID(e.ctx, gb.ID); g.RevokedAt == nil {
		t.Fatal("the operator's revoke did not happen")
	}
}

func TestRevokeGrants(t *testing.T) {
	e := newEnv(t)
	u := e.user("alice@example.com", false)
	e.client("app")
	e.client("other")
	e.grant(u.ID, "app")
	e.grant(u.ID, "other")
	var n int
	wantErr(t, e.act(identity.EventGrantsRevoked, admin, func() (err error) { n, err = e.svc.RevokeGrants(e.ctx, admin, "", ""); return err }),
		identity.EINVALID, "A user or a client is required")
	wantErr(t, e.act(identity.EventGrantsRevoked, admin, func() (err error) { n, err = e.svc.RevokeGrants(e.ctx, admin, u.ID, "app"); return err }), "", "")
	if n != 1 {
		t.Fatalf("revoked %d for one user and client, want 1", n)
	}
	wantErr(t, e.act(identity.EventGrantsRevoked, admin, func() (err error) { n, err = e.svc.RevokeGrants(e.ctx, admin, u.ID, ""); return err }), "", "")
	if n != 1 {
		t.Fatalf("revoked %d of the user's remaining grants, want 1", n)
	}
	// A typo is "not found" on every channel, not a silent zero.
	wantErr(t, e.act(identity.EventGrantsRevoked, admin, func() (err error) { n, err = e.svc.RevokeGrants(e.ctx, admin, "usr_nope", ""); return err }),
		identity.ENOTFOUND, "")
	wantErr(t, e.act(identity.EventGrantsRevoked, admin, func() (err error) { n, err = e.svc.RevokeGrants(e.ctx, admin, "", "nope"); return err }),
		identity.ENOTFOUND, "")
}

type rotator struct{ err error }

func (r rotator) RotateKeys(context.Context) ([]*identity.SigningKey, error) {
	if r.err != nil {
		return nil, r.err
	}
	return []*identity.SigningKey{{ID: "kid-2", Algorithm: "ES256"}, {ID: "kid-r", Algorithm: "RS256"}}, nil
}

func TestRotateSigningKey(t *testing.T) {
	e := newEnv(t)
	wantErr(t, e.act(identity.EventSigningKeyRotated, manage.CLI, func() error { _, err := e.svc.RotateSigningKey(e.ctx, manage.CLI, rotator{}); return err }), "", "")
	if d := e.audit.since(0)[0].Details; d["kid_ES256"] != "kid-2" || d["kid_RS256"] != "kid-r" {
		t.Fatalf("details %v", d)
	}
	err := e.act(identity.EventSigningKeyRotated, manage.CLI, func() error {
		_, err := e.svc.RotateSigningKey(e.ctx, manage.CLI, rotator{errors.New("disk full")})
		return err
	})
	wantErr(t, err, identity.EINTERNAL, "")
}

// TestAuditEventTypesListed: every type the actions record is offered by
// the audit log's filter.
func TestAuditEventTypesListed(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range identity.AuditEventTypes {
		if seen[typ] {
			t.Errorf("%s listed twice", typ)
		}
		seen[typ] = true
	}
	for _, typ := range []string{identity.EventClientCreated, identity.EventClientUpdated, identity.EventClientSecretRotated,
		identity.EventClientDisabled, identity.EventClientEnabled, identity.EventClientDeleted, identity.EventUserCreated,
		identity.EventUserDisabled, identity.EventUserEnabled, identity.EventUserPasswordReset, identity.EventAPIKeyCreated,
		identity.EventAPIKeyRevoked, identity.EventGrantRevoked, identity.EventGrantsRevoked, identity.EventSigningKeyRotated} {
		if !seen[typ] {
			t.Errorf("%s is not in identity.AuditEventTypes", typ)
		}
	}
}

// TestUserProfile: the display name and verified-email flag (the OpenID
// Connect name and email_verified claims) are set at creation and changed
// by UpdateUser; a name that is too long or not one line of text is
// refused and changes nothing.
func TestUserProfile(t *testing.T) {
	e := newEnv(t)
	var u *identity.User
	wantErr(t, e.act(identity.EventUserCreated, manage.CLI, func() (err error) {
		u, err = e.svc.CreateUser(e.ctx, manage.CLI, manage.UserInput{Email: "ann@example.com", Password: "a long enough passphrase",
			Name: "  Ann Example ", EmailVerified: true})
		return err
	}), "", "")
	if got, _ := e.st.UserByID(e.ctx, u.ID); got.Name != "Ann Example" || !got.EmailVerified {
		t.Fatalf("created user %+v; want the trimmed name and a verified email", got)
	}
	wantErr(t, e.act(identity.EventUserCreated, manage.CLI, func() error {
		_, err := e.svc.CreateUser(e.ctx, manage.CLI, manage.UserInput{Email: "bob@example.com", Password: "a long enough passphrase",
			Name: strings.Repeat("é", 101)})
		return err
	}), identity.EINVALID, "longer than 100")
	name, no := "Ann B. Example", false
	for _, tt := range []struct {
		name       string
		patch      manage.UserPatch
		code, text string
	}{
		{"nothing", manage.UserPatch{}, identity.EINVALID, "Nothing to change"},
		{"two lines", manage.UserPatch{Name: new("Ann\nAdmin")}, identity.EINVALID, "one line"},
		{"too long", manage.UserPatch{Name: new(strings.Repeat("x", 101))}, identity.EINVALID, "longer than 100"},
		{"name and flag", manage.UserPatch{Name: &name, EmailVerified: &no}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := e.act(identity.EventUserUpdated, manage.CLI, func() error { _, err := e.svc.UpdateUser(e.ctx, manage.CLI, u.ID, tt.patch); return err })
			wantErr(t, err, tt.code, tt.text)
			got, _ := e.st.UserByID(e.ctx, u.ID)
			want := "Ann Example"
			if err == nil {
				want = name
			}
			if got.Name != want || got.EmailVerified != (err != nil) {
				t.Errorf("after %s: name %q verified %v", tt.name, got.Name, got.EmailVerified)
			}
		})
	}
	wantErr(t, e.act(identity.EventUserUpdated, manage.CLI, func() error {
		_, err := e.svc.UpdateUser(e.ctx, manage.CLI, "usr_nobody", manage.UserPatch{Name: &name})
		return err
	}), identity.ENOTFOUND, "")
}

// TestClientIDTokenAlg: a client's ID token algorithm is RS256 by default,
// ES256 on request, and nothing else.
func TestClientIDTokenAlg(t *testing.T) {
	e := newEnv(t)
	in := manage.ClientInput{Name: "RP", RedirectURIs: []string{"https://rp.example/cb"}, Scopes: []string{"openid"}}
	var c *identity.Client
	wantErr(t, e.act(identity.EventClientCreated, manage.CLI, func() (err error) { c, _, err = e.svc.CreateClient(e.ctx, manage.CLI, in); return err }), "", "")
	if v := manage.ViewClient(c); v.IDTokenSignedResponseAlg != "RS256" {
		t.Errorf("default ID token alg %q; want RS256", v.IDTokenSignedResponseAlg)
	}
	wantErr(t, e.act(identity.EventClientUpdated, manage.CLI, func() error {
		_, err := e.svc.UpdateClient(e.ctx, manage.CLI, c.ID, manage.ClientPatch{IDTokenSignedResponseAlg: new("HS256")})
		return err
	}), identity.EINVALID, "id_token_signed_response_alg")
	wantErr(t, e.act(identity.EventClientUpdated, manage.CLI, func() error {
		_, err := e.svc.UpdateClient(e.ctx, manage.CLI, c.ID, manage.ClientPatch{IDTokenSignedResponseAlg: new("ES256")})
		return err
	}), "", "")
	if got, _ := e.st.ClientByID(e.ctx, c.ID); got.IDTokenSignedResponseAlg != "ES256" {
		t.Errorf("stored alg %q; want ES256", got.IDTokenSignedResponseAlg)
	}
}
