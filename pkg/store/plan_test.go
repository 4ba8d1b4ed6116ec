package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
	"github.com/petstore-auth/petstore-auth/pkg/store"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
)

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

// TestRotationUpdatesInPlace: on PostgreSQL the rotation's updates of
// existing rows — retiring the refresh token, revoking the access token
// issued beside it — change no indexed column, so they are HOT updates that
// add no index entries (an index on refresh_tokens.active or rotated_at, or
// one mentioning access_tokens.active, would end that; migration 00014).
func TestRotationUpdatesInPlace(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skip("HOT updates are PostgreSQL's; set " + storetest.PostgresEnv)
	}
	s := openMigrated(t, storetest.PostgresURL(t))
	ctx := context.Background()
	if err := s.CreateClient(ctx, &identity.Client{ID: "app", Name: "App", Public: true,
		RedirectURIs: []string{"https://app.example/cb"}, TokenFormat: identity.TokenFormatOpaque}); err != nil {
		t.Fatal(err)
	}
	req := &fosite.Request{ID: "req-1", RequestedAt: time.Now(), Client: &fosite.DefaultClient{ID: "app"}, Session: &fosite.DefaultSession{}}
	if err := s.CreateAccessTokenSession(ctx, "at-1", req); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshTokenSession(ctx, "rt-1", "at-1", req); err != nil {
		t.Fatal(err)
	}
	sqlOf := map[string]string{}
	for _, st := range s.RotationSQL() {
		sqlOf[st.Name] = st.SQL
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // only counted, never kept
	var requestID, accessSignature string
	if err := tx.QueryRowContext(ctx, sqlOf["rotate"], false, time.Now(), "rt-1", true).Scan(&requestID, &accessSignature); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if _, err := tx.ExecContext(ctx, sqlOf["revoke"], false, accessSignature); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	for _, table := range []string{"refresh_tokens", "access_tokens"} {
		var updated, hot int
		err := tx.QueryRowContext(ctx, "SELECT pg_stat_get_xact_tuples_updated($1::regclass), pg_stat_get_xact_tuples_hot_updated($1::regclass)",
			table).Scan(&updated, &hot)
		if err != nil {
			t.Fatal(err)
		}
		if updated != 1 || hot != 1 {
			t.Errorf("%s: %d rows updated, %d of them HOT; want 1 and 1", table, updated, hot)
		}
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
