package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for schema setup
)

// PostgresEnv names the variable that points the tests at PostgreSQL.
const PostgresEnv = "PETSTORE_TEST_POSTGRES_DSN"

// PostgresURL creates a fresh schema in the database named by
// PETSTORE_TEST_POSTGRES_DSN and returns a URL whose search_path points at
// it; the schema is dropped when the test ends. Test packages run in
// parallel on one database, so each test gets its own schema. It fails the
// test — never skips — when the variable is set but PostgreSQL cannot be
// reached; callers skip when the variable is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u, drop := newSchema(t)
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return u
}

// PostgresSchema is PostgresURL for a database that outlives one test (a
// suite's shared server): the schema is dropped by the function handed to
// cleanup, which runs after t has ended and so reports nothing.
func PostgresSchema(t testing.TB, cleanup func(func())) string {
	t.Helper()
	u, drop := newSchema(t)
	cleanup(func() { _ = drop() })
	return u
}

func newSchema(t testing.TB) (string, func() error) {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Fatalf("%s is not set", PostgresEnv)
	}
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is unreachable: %v", PostgresEnv, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	drop := func() error {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("bad %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop
}
