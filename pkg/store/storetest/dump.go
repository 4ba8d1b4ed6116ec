package storetest

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Dump returns every row of every table of the database as text, and for
// SQLite also the raw database and WAL files: the material a "no secret at
// rest" test greps.
func Dump(t testing.TB, db *sql.DB, dbURL string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if strings.HasPrefix(dbURL, "sqlite://") {
		path := strings.TrimPrefix(dbURL, "sqlite://")
		for _, f := range []string{path, path + "-wal"} {
			b, _ := os.ReadFile(filepath.Clean(f))
			buf.Write(b)
		}
	}
	buf.Write(Rows(t, db, dbURL))
	if buf.Len() < 100 {
		t.Fatal("the dump is suspiciously empty")
	}
	return buf.Bytes()
}

// Rows returns every row of every table except the named ones, one line
// per row prefixed with its table and sorted, so that two calls compare
// equal exactly when no row was added, removed or changed: the state
// check of "a failed request changes nothing" (the raw files of Dump
// change with any write, an audit record included).
func Rows(t testing.TB, db *sql.DB, dbURL string, except ...string) []byte {
	t.Helper()
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	if strings.HasPrefix(dbURL, "sqlite://") {
		q = "SELECT name FROM sqlite_master WHERE type='table'"
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(except, n) {
			tables = append(tables, n)
		}
	}
	rows.Close()
	sort.Strings(tables)
	var buf bytes.Buffer
	for _, tbl := range tables {
		r, err := db.Query(`SELECT * FROM "` + tbl + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		var lines []string
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var line bytes.Buffer
			line.WriteString(tbl + ": ")
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					line.Write(v)
				case string:
					line.WriteString(v)
				case nil:
				default:
					line.WriteString(fmt.Sprint(v)) // times, numbers, flags: a changed one is a changed row
				}
				line.WriteByte('|')
			}
			lines = append(lines, line.String())
		}
		r.Close()
		sort.Strings(lines)
		for _, l := range lines {
			buf.WriteString(l)
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}
