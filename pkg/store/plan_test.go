package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

// TestRotationRevokeUsesActiveIndex: the access-token revoke of a refresh
// rotation goes through the partial index of active tokens, so its cost
// does not grow with the length of the refresh chain (every token of a
// chain shares its request id).
func TestRotationRevokeUsesActiveIndex(t *testing.T) {
	dbs := map[string]string{"sqlite": "sqlite://" + filepath.Join(t.TempDir(), "plan.db")}
	if os.Getenv(storetest.PostgresEnv) != "" {
		dbs["postgres"] = storetest.PostgresURL(t)
	}
	for name, u := range dbs {
		t.Run(name, func(t *testing.T) {
			s := openMigrated(t, u)
			ctx := context.Background()
			conn, err := s.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			explain := "EXPLAIN QUERY PLAN "
			if s.Dialect() == store.DialectPostgres {
				// Tiny tables: make the planner show the index it can use.
				if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
					t.Fatal(err)
				}
				explain = "EXPLAIN "
			}
			plan := queryPlan(t, conn, explain+s.RevokeAccessSQL("request_id = ?"), false, "req-1")
			if !strings.Contains(plan, "access_tokens_active_request_idx") {
				t.Errorf("revoke by request id does not use the partial index of active tokens:\n%s", plan)
			}
		})
	}
}

// TestRotationUsesPrimaryKeys: each statement of a refresh rotation that
// names one token finds it by primary key, also in the generic plan
// PostgreSQL caches for a prepared statement (pgx prepares every statement)
// while the tables are still empty and never analysed, as after a
// deployment. A plan chosen then is kept for the connection's life; one that
// walks an index shared by a whole refresh chain (request id) or by every
// token (client, subject) makes each rotation cost more than the last.
func TestRotationUsesPrimaryKeys(t *testing.T) {
	dbs := map[string]string{"sqlite": "sqlite://" + filepath.Join(t.TempDir(), "plan.db")}
	if os.Getenv(storetest.PostgresEnv) != "" {
		dbs["postgres"] = storetest.PostgresURL(t)
	}
	for name, u := range dbs {
		t.Run(name, func(t *testing.T) {
			s := openMigrated(t, u)
			ctx := context.Background()
			conn, err := s.DB().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			pg := s.Dialect() == store.DialectPostgres
			if pg {
				if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
					t.Fatal(err)
				}
			}
			for _, st := range s.RotationSQL() {
				plan, key := "", st.Table+"_pkey"
				if pg {
					plan = genericPlan(t, conn, st.SQL)
				} else {
					key = "sqlite_autoindex_" + st.Table + "_1"
					plan = queryPlan(t, conn, "EXPLAIN QUERY PLAN "+st.SQL, make([]any, strings.Count(st.SQL, "?"))...)
				}
				if !strings.Contains(plan, key) || strings.Count(strings.ToLower(plan), " using ") != 1 {
					t.Errorf("%s does not find its row by %s alone:\n%s\n%s", st.Name, key, st.SQL, plan)
				}
			}
		})
	}
}

// genericPlan is the plan PostgreSQL caches for q once prepared (the
// session must force generic plans).
func genericPlan(t *testing.T, conn *sql.Conn, q string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, "PREPARE plan_stmt AS "+q); err != nil {
		t.Fatalf("prepare %s: %v", q, err)
	}
	defer conn.ExecContext(ctx, "DEALLOCATE plan_stmt") //nolint:errcheck // the connection ends with the test
	nulls := strings.TrimSuffix(strings.Repeat("NULL,", strings.Count(q, "$")), ",")
	return queryPlan(t, conn, "EXPLAIN EXECUTE plan_stmt("+nulls+")")
}

func queryPlan(t *testing.T, conn *sql.Conn, q string, args ...any) string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return strings.Join(out, "\n")
}
