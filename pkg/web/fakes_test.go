package web

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// In-memory fakes of the identity stores: just enough behaviour for the
// pages, guarded by one mutex each.

type fakeUsers struct {
	mu    sync.Mutex
	users map[string]*identity.User
}

func (f *fakeUsers) CreateUser(_ context.Context, u *identity.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := *u
	f.users[u.ID] = &cp
	return nil
}

func (f *fakeUsers) UserByID(_ context.Context, id string) (*identity.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.users[id]; ok {
		cp := *u
		return &cp, nil
	}
	return nil, identity.Errorf(identity.ENOTFOUND, "User not found.")
}

func (f *fakeUsers) UserByEmail(_ context.Context, email string) (*identity.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if u.Email == email {
			cp := *u
			return &cp, nil
		}
	}
	return nil, identity.Errorf(identity.ENOTFOUND, "User not found.")
}

func (f *fakeUsers) ListUsers(context.Context, identity.UserFilter) ([]*identity.User, int, error) {
	return nil, 0, nil
}

func (f *fakeUsers) UpdateUser(_ context.Context, u *identity.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cp := *u
	f.users[u.ID] = &cp
	return nil
}

type fakeClients struct{ clients map[string]*identity.Client }

func (f *fakeClients) CreateClient(context.Context, *identity.Client) error { return nil }
func (f *fakeClients) ClientByID(_ context.Context, id string) (*identity.Client, error) {
	if c, ok := f.clients[id]; ok {
		return c, nil
	}
	return nil, identity.Errorf(identity.ENOTFOUND, "Client not found.")
}
func (f *fakeClients) ListClients(context.Context, identity.ClientFilter) ([]*identity.Client, int, error) {
	return nil, 0, nil
}
func (f *fakeClients) UpdateClient(context.Context, *identity.Client) error { return nil }
func (f *fakeClients) DeleteClient(context.Context, string) error           { return nil }

type fakeGrants struct {
	mu     sync.Mutex
	now    func() time.Time
	grants []*identity.Grant
}

func (f *fakeGrants) UpsertGrant(_ context.Context, userID, clientID string, scopes []string, remember bool) (*identity.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.grants {
		if g.UserID == userID && g.ClientID == clientID && g.RevokedAt == nil {
			g.Scopes, g.Remember, g.UpdatedAt = scopes, remember, f.now()
			cp := *g
			return &cp, nil
		}
	}
	g := &identity.Grant{ID: fmt.Sprintf("grt_%d", len(f.grants)+1), UserID: userID, ClientID: clientID,
		Scopes: scopes, Remember: remember, CreatedAt: f.now(), UpdatedAt: f.now(), LastUsedAt: f.now()}
	f.grants = append(f.grants, g)
	cp := *g
	return &cp, nil
}

func (f *fakeGrants) GrantByID(_ context.Context, id string) (*identity.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.grants {
		if g.ID == id {
			cp := *g
			return &cp, nil
		}
	}
	return nil, identity.Errorf(identity.ENOTFOUND, "Grant not found.")
}

func (f *fakeGrants) ActiveGrant(_ context.Context, userID, clientID string) (*identity.Grant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.grants {
		if g.UserID == userID && g.ClientID == clientID && g.RevokedAt == nil {
			cp := *g
			return &cp, nil
		}
	}
	return nil, identity.Errorf(identity.ENOTFOUND, "Grant not found.")
}

func (f *fakeGrants) ListGrants(_ context.Context, flt identity.GrantFilter) ([]*identity.Grant, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*identity.Grant
	for _, g := range f.grants {
		if (flt.UserID == "" || g.UserID == flt.UserID) && (flt.IncludeRevoked || g.RevokedAt == nil) {
			cp := *g
			out = append(out, &cp)
		}
	}
	return out, len(out), nil
}

func (f *fakeGrants) RevokeGrant(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.grants {
		if g.ID == id {
			now := f.now()
			g.RevokedAt = &now
			return nil
		}
	}
	return identity.Errorf(identity.ENOTFOUND, "Grant not found.")
}

func (f *fakeGrants) RevokeGrants(context.Context, identity.GrantFilter) (int, error) { return 0, nil }

func (f *fakeGrants) get(id string) identity.Grant {
	g, _ := f.GrantByID(context.Background(), id)
	if g == nil {
		return identity.Grant{}
	}
	return *g
}

type fakeKeys struct {
	mu   sync.Mutex
	now  func() time.Time
	keys []*identity.APIKey
}

func (f *fakeKeys) CreateAPIKey(_ context.Context, k *identity.APIKey) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k.ID = fmt.Sprintf("key_%d", len(f.keys)+1)
	cp := *k
	f.keys = append(f.keys, &cp)
	return nil
}

func (f *fakeKeys) APIKeyByHash(context.Context, []byte) (*identity.APIKey, error) {
	return nil, identity.Errorf(identity.ENOTFOUND, "API key not found.")
}

func (f *fakeKeys) APIKeyByID(_ context.Context, id string) (*identity.APIKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if k.ID == id {
			cp := *k
			return &cp, nil
		}
	}
	return nil, identity.Errorf(identity.ENOTFOUND, "API key not found.")
}

func (f *fakeKeys) ListAPIKeys(_ context.Context, flt identity.APIKeyFilter) ([]*identity.APIKey, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*identity.APIKey
	for _, k := range f.keys {
		if k.OwnerID == flt.OwnerID && (flt.IncludeRevoked || k.RevokedAt == nil) {
			cp := *k
			out = append(out, &cp)
		}
	}
	return out, len(out), nil
}

func (f *fakeKeys) RevokeAPIKey(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if k.ID == id {
			now := f.now()
			k.RevokedAt = &now
			return nil
		}
	}
	return identity.Errorf(identity.ENOTFOUND, "API key not found.")
}

func (f *fakeKeys) TouchAPIKeys(context.Context, map[string]time.Time) error { return nil }

type fakeAudit struct {
	mu     sync.Mutex
	events []identity.AuditEvent
}

func (f *fakeAudit) RecordAudit(_ context.Context, e *identity.AuditEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, *e)
	return nil
}

func (f *fakeAudit) ListAudit(context.Context, identity.AuditFilter) ([]*identity.AuditEvent, int, error) {
	return nil, 0, nil
}

// count returns how many events of typ were recorded with the given
// details reason ("" matches any).
func (f *fakeAudit) count(typ, reason string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.events {
		if e.Type == typ && (reason == "" || e.Details["reason"] == reason) {
			n++
		}
	}
	return n
}

func (f *fakeAudit) types() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.events {
		if !slices.Contains(out, e.Type) {
			out = append(out, e.Type)
		}
	}
	return out
}

// fakeSessions is the session registry and the account page's session
// store in one, as pkg/store is.
type fakeSessions struct {
	mu   sync.Mutex
	now  func() time.Time
	byID map[string]*identity.BrowserSession
}

func (f *fakeSessions) CreateSession(_ context.Context, id string, b identity.BrowserSession) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b.CreatedAt, b.LastSeenAt = f.now(), f.now()
	f.byID[id] = &b
	return nil
}

func (f *fakeSessions) SessionActive(_ context.Context, id string) (time.Time, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.byID[id]; ok {
		return b.LastSeenAt, true, nil
	}
	return time.Time{}, false, nil
}

func (f *fakeSessions) TouchSession(_ context.Context, id string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.byID[id]; ok {
		b.LastSeenAt = at
	}
	return nil
}

func (f *fakeSessions) DeleteSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.byID, id)
	return nil
}

func (f *fakeSessions) UserSessions(_ context.Context, userID string) ([]identity.BrowserSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []identity.BrowserSession
	for _, b := range f.byID {
		if b.UserID == userID {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b identity.BrowserSession) int { return b.LastSeenAt.Compare(a.LastSeenAt) })
	return out, nil
}

func (f *fakeSessions) DeleteUserSession(_ context.Context, userID, sid string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, b := range f.byID {
		if b.UserID == userID && b.SID == sid {
			delete(f.byID, id)
			return nil
		}
	}
	return identity.Errorf(identity.ENOTFOUND, "Session not found.")
}

func (f *fakeSessions) DeleteUserSessions(_ context.Context, userID string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var sids []string
	for id, b := range f.byID {
		if b.UserID == userID {
			sids = append(sids, b.SID)
			delete(f.byID, id)
		}
	}
	return sids, nil
}
