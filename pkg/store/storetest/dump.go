package storetest

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Dump returns every row of every table of the database as text, and for
// SQLite also the raw database and WAL files: the material a "no secret at
// rest" test greps.
func Dump(t testing.TB, db *sql.DB, dbURL string) []byte {
	t.Helper()
	var buf bytes.Buffer
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	if strings.HasPrefix(dbURL, "sqlite://") {
		q = "SELECT name FROM sqlite_master WHERE type='table'"
		path := strings.TrimPrefix(dbURL, "sqlite://")
		for _, f := range []string{path, path + "-wal"} {
			b, _ := os.ReadFile(filepath.Clean(f))
			buf.Write(b)
		}
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
		tables = append(tables, n)
	}
	rows.Close()
	for _, tbl := range tables {
		r, err := db.Query(`SELECT * FROM "` + tbl + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					buf.Write(v)
				case string:
					buf.WriteString(v)
				}
				buf.WriteByte('|')
			}
		}
		r.Close()
	}
	if buf.Len() < 100 {
		t.Fatal("the dump is suspiciously empty")
	}
	return buf.Bytes()
}
