package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// Upgrade checks that a database made by an earlier release keeps working
// after the current migrations run on it. Every schema change extends it:
// Seed writes what users have (run the real flows), Check proves they still
// work afterwards.
//
// The earlier database is built by migrating an empty one only up to From
// (goose UpTo). Seed runs on a scratch store at the latest schema, so the
// current code can write; its rows are then copied into the old schema,
// each table restricted to the columns both schemas have (a column a later
// migration added must have a default, or the copy fails, as the real
// upgrade would; one it dropped keeps its old default). A migration that rewrites existing values should insert
// rows in their old form itself, in BeforeUpgrade.
type Upgrade struct {
	// From is the schema version of the release before the change.
	From int64
	// NewURL returns the URL of a new, empty database (called twice).
	NewURL func(t testing.TB) string
	// Seed writes data through the current code into s (latest schema).
	Seed func(t *testing.T, s *store.Store)
	// BeforeUpgrade, if set, runs on the old-schema database after the
	// copy and before the migrations.
	BeforeUpgrade func(t *testing.T, db *sql.DB)
	// Check runs on the upgraded store.
	Check func(t *testing.T, s *store.Store)
}

// Run builds the old database, seeds it, migrates it up and checks it.
func (u Upgrade) Run(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	open := func() *store.Store {
		s, err := store.Open(ctx, u.NewURL(t), store.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	src := open()
	if err := src.MigrateUp(ctx); err != nil {
		t.Fatalf("MigrateUp (scratch): %v", err)
	}
	u.Seed(t, src)

	dst := open()
	if err := dst.MigrateUpTo(ctx, u.From); err != nil {
		t.Fatalf("MigrateUpTo(%d): %v", u.From, err)
	}
	if cur, err := dst.MigrationsCurrent(ctx); err != nil || cur {
		t.Fatalf("the database at version %d already has every migration (%v): nothing to upgrade", u.From, err)
	}
	copyRows(t, src, dst)
	if u.BeforeUpgrade != nil {
		u.BeforeUpgrade(t, dst.DB())
	}
	if err := dst.MigrateUp(ctx); err != nil {
		t.Fatalf("MigrateUp from version %d: %v", u.From, err)
	}
	u.Check(t, dst)
}

// copyRows copies every row of every table dst has from src, limited to
// dst's columns. Tables are retried until their foreign keys are satisfied,
// so no dependency order needs to be written down.
func copyRows(t *testing.T, src, dst *store.Store) {
	t.Helper()
	pg := dst.Dialect() == store.DialectPostgres
	var pending []string
	for _, tbl := range tables(t, dst.DB(), pg) {
		if tbl != "goose_db_version" {
			pending = append(pending, tbl)
		}
	}
	for len(pending) > 0 {
		var failed []string
		var lastErr error
		for _, tbl := range pending {
			if err := copyTable(src.DB(), dst.DB(), tbl, pg); err != nil {
				failed, lastErr = append(failed, tbl), err
			}
		}
		if len(failed) == len(pending) {
			t.Fatalf("cannot copy tables %v into the old schema: %v", failed, lastErr)
		}
		pending = failed
	}
}

func tables(t *testing.T, db *sql.DB, pg bool) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if pg {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// columns lists the columns of tbl to copy: all but generated ids
// (PostgreSQL sequences would not advance past copied values).
func columns(db *sql.DB, tbl string, pg bool) ([]string, error) {
	q := `SELECT name, CASE WHEN pk = 1 AND lower(type) = 'integer' THEN 1 ELSE 0 END FROM pragma_table_info(?) ORDER BY cid`
	if pg {
		q = `SELECT column_name, CASE WHEN column_default LIKE 'nextval%' OR is_identity = 'YES' THEN 1 ELSE 0 END
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`
	}
	rows, err := db.Query(q, tbl)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		var generated int
		if err := rows.Scan(&n, &generated); err != nil {
			return nil, err
		}
		if generated == 0 {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

func copyTable(src, dst *sql.DB, tbl string, pg bool) error {
	cols, err := columns(dst, tbl, pg)
	if err != nil || len(cols) == 0 {
		return fmt.Errorf("columns of %s: %v", tbl, err)
	}
	// A column a later migration dropped has no value to copy: the old
	// schema's rows keep its default.
	current, err := columns(src, tbl, pg)
	if err != nil {
		return fmt.Errorf("columns of %s: %v", tbl, err)
	}
	cols = slices.DeleteFunc(cols, func(c string) bool { return !slices.Contains(current, c) })
	quoted := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
		marks[i] = "?"
		if pg {
			marks[i] = fmt.Sprintf("$%d", i+1)
		}
	}
	list := strings.Join(quoted, ", ")
	rows, err := src.Query(`SELECT ` + list + ` FROM "` + tbl + `"`)
	if err != nil {
		return fmt.Errorf("read %s from the new schema: %w", tbl, err)
	}
	defer rows.Close()
	var data [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		data = append(data, vals)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	tx, err := dst.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insert := `INSERT INTO "` + tbl + `" (` + list + `) VALUES (` + strings.Join(marks, ", ") + `)`
	for _, vals := range data {
		if _, err := tx.Exec(insert, vals...); err != nil {
			return fmt.Errorf("insert into %s: %w", tbl, err)
		}
	}
	return tx.Commit()
}
