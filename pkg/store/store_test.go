package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Storage {
		path := filepath.Join(t.TempDir(), "sub", "dir", "test.db") // parent created by Open
		return openMigrated(t, "sqlite://"+path)
	})
}

func TestPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("%s not set", storetest.PostgresEnv)
	}
	storetest.Run(t, func(t *testing.T) storetest.Storage {
		return openMigrated(t, storetest.PostgresURL(t))
	})
}

// openMigrated is a new, empty, migrated store, closed when t ends.
func openMigrated(t *testing.T, dbURL string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.MigrateUp(context.Background()); err != nil {
		t.Fatalf("MigrateUp: %v", err)
	}
	return s
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	tests := []struct{ name, url string }{
		{"mysql", "mysql://root:hunter2@localhost/db"},
		{"bare path", "data/petstore.db"},
		{"empty sqlite path", "sqlite://"},
		{"sqlite with parameters", "sqlite://x.db?_txlock=deferred"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := store.Open(context.Background(), tc.url, store.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded; want an error", tc.url)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestMigrationsCurrentOnFreshDatabase(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "fresh.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.MigrationsCurrent(ctx); err != nil || ok {
		t.Fatalf("MigrationsCurrent on an empty database = %v, %v; want false, nil", ok, err)
	}
	list, err := s.MigrationStatus(ctx)
	if err != nil || len(list) == 0 || list[0].Applied {
		t.Fatalf("MigrationStatus = %+v, %v; want pending migrations", list, err)
	}
	if err := s.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.MigrationsCurrent(ctx); err != nil || !ok {
		t.Fatalf("MigrationsCurrent after MigrateUp = %v, %v; want true", ok, err)
	}
	if s.Dialect() != store.DialectSQLite {
		t.Errorf("Dialect = %q", s.Dialect())
	}
}

func TestSQLiteInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://:memory:", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.MigrationsCurrent(ctx); err != nil || !ok {
		t.Fatalf("in-memory database lost its schema between connections: %v, %v", ok, err)
	}
}
