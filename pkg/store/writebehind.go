package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Write-behind (PostgreSQL, flat transactions only): inserts and updates
// whose outcome the caller does not read back — the new token rows of a
// refresh, the sealed successor, the audit rows — wait in the transaction
// and go to the database at Commit as one statement of data-modifying CTEs,
// one round trip instead of one each. Each must change exactly one row, or
// Commit fails and rolls everything back. Any other statement in the
// transaction sends the queue first (flushQueue), so nothing ever reads
// around a queued write. SQLite is in-process and has no data-modifying
// CTEs: it sends them at once.

// queuedStmt is a statement waiting for Commit.
type queuedStmt struct {
	q    hotQuery
	args []any
}

// queuedResult is what execHot reports for a queued statement: the one
// row Commit will insist on.
type queuedResult struct{}

func (queuedResult) LastInsertId() (int64, error) { return 0, errors.New("store: queued statement") }
func (queuedResult) RowsAffected() (int64, error) { return 1, nil }

// queue takes q for Commit when ctx is in a write-behind transaction.
func (s *Store) queue(ctx context.Context, q hotQuery, args []any) (sql.Result, bool) {
	st, ok := ctx.Value(txKey{}).(*txState)
	if !ok || !q.deferrable || !st.rootState().writeBehind {
		return nil, false
	}
	root := st.rootState()
	root.mu.Lock()
	root.queued = append(root.queued, queuedStmt{q: q, args: args})
	root.mu.Unlock()
	return queuedResult{}, true
}

// flushQueue sends the queued statements of ctx's transaction, if any, as
// one statement, and checks that each changed one row. A failure is kept:
// the transaction is lost and Commit reports it.
func (s *Store) flushQueue(ctx context.Context, st *txState) error {
	root := st.rootState()
	root.mu.Lock()
	defer root.mu.Unlock()
	if root.failed != nil || len(root.queued) == 0 {
		return root.failed
	}
	stmt, args := joinQueued(root.queued)
	counts := make([]int64, len(root.queued))
	root.queued = nil
	dest := make([]any, len(counts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	q := hot("(write-behind)", stmt)
	if err := root.tx.Statement.ConnPool.QueryRowContext(ctx, s.sqlOf(q), args...).Scan(dest...); err != nil {
		root.failed = fmt.Errorf("store: queued writes: %w", err)
	}
	for i, n := range counts {
		if root.failed == nil && n != 1 {
			root.failed = fmt.Errorf("store: queued statement %d changed %d rows", i+1, n)
		}
	}
	return root.failed
}

// joinQueued is one statement doing all of queued, written with ?
// placeholders: WITH w1 AS (… RETURNING 1), … SELECT (SELECT count(*) FROM w1), ….
func joinQueued(queued []queuedStmt) (string, []any) {
	var with, sel strings.Builder
	var args []any
	for i, qs := range queued {
		name := "w" + strconv.Itoa(i+1)
		if i > 0 {
			with.WriteString(", ")
			sel.WriteString(", ")
		}
		with.WriteString(name + " AS (" + qs.q.sqlite + " RETURNING 1)")
		sel.WriteString("(SELECT count(*) FROM " + name + ")")
		args = append(args, qs.args...)
	}
	return "WITH " + with.String() + " SELECT " + sel.String(), args
}
