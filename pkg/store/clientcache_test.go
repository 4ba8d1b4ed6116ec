package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// TestClientCache: GetClient and the requests the store rebuilds load a
// client row once per ttl; an update through the store is seen at once,
// and a disabled client is refused at once; with the cache off every load
// reads the row.
func TestClientCache(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	open := func(ttl time.Duration) *store.Store {
		s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "c.db"), store.Options{Now: clock, ClientCacheTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateClient(ctx, &identity.Client{ID: "app", Name: "App", GrantTypes: []string{"client_credentials"}}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open(0)
	n := s.CountStatements()
	defer n.Stop()
	load := func() error { _, err := s.GetClient(ctx, "app"); return err }
	for range 3 {
		if err := load(); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.ByTable()["clients"]; got != 1 {
		t.Fatalf("3 loads within the ttl read the row %d times, want 1", got)
	}
	mu.Lock()
	now = now.Add(store.DefaultClientCacheTTL + time.Second)
	mu.Unlock()
	_ = load()
	if got := n.ByTable()["clients"]; got != 2 {
		t.Fatalf("a load after the ttl read the row %d times in all, want 2", got)
	}
	c, _ := s.ClientByID(ctx, "app")
	c.Disabled = true
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := load(); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("a client disabled through the store loads from the cache: %v", err)
	}

	off := open(-1)
	m := off.CountStatements()
	defer m.Stop()
	for range 2 {
		if _, err := off.GetClient(ctx, "app"); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.ByTable()["clients"]; got != 2 {
		t.Fatalf("without a cache 2 loads read the row %d times, want 2", got)
	}
}
