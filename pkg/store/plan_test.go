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
