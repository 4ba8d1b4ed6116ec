package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// The hottest statements — the token rows every issuance writes and every
// introspection or refresh reads — are hand-written SQL sent through
// database/sql, not gorm: gorm's reflection and callbacks cost about as much
// CPU as the database round trip itself. Everything else stays on gorm.

// hotQuery is one statement, written with ? placeholders, in the form of
// each dialect.
type hotQuery struct {
	table            string // for the statement counter
	sqlite, postgres string
}

// hot makes a hotQuery; PostgreSQL's form numbers the placeholders ($1, …).
func hot(table, q string) hotQuery {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return hotQuery{table: table, sqlite: q, postgres: b.String()}
}

// requestColumns are requestRow's columns, in the order of requestRow.fields.
const requestColumns = "signature, request_id, client_id, subject, grant_id, requested_at, expires_at, " +
	"requested_scopes, granted_scopes, requested_audience, granted_audience, form, session, active"

// fields are the values of requestRow in requestColumns order, for an
// insert.
func (r *requestRow) fields() []any {
	return []any{r.Signature, r.RequestID, r.ClientID, r.Subject, r.GrantID, r.RequestedAt, r.ExpiresAt,
		r.RequestedScopes, r.GrantedScopes, r.RequestedAudience, r.GrantedAudience, r.Form, r.Session, r.Active}
}

// scanDest are pointers to requestRow's fields in requestColumns order.
func (r *requestRow) scanDest() []any {
	return []any{&r.Signature, &r.RequestID, &r.ClientID, &r.Subject, &r.GrantID, &r.RequestedAt, &r.ExpiresAt,
		&r.RequestedScopes, &r.GrantedScopes, &r.RequestedAudience, &r.GrantedAudience, &r.Form, &r.Session, &r.Active}
}

var (
	insertAccessRow  = hot(tableAccess, "INSERT INTO "+tableAccess+" ("+requestColumns+", jti) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	insertRefreshRow = hot(tableRefresh, "INSERT INTO "+tableRefresh+" ("+requestColumns+
		", access_token_signature) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	// The rotation names its row by primary key alone: with request_id in
	// the WHERE clause too, PostgreSQL's generic plan for a table that
	// started empty walks the request id index, that is the whole refresh
	// chain (TestRotationUsesPrimaryKeys).
	rotateRefreshRow = hot(tableRefresh, "UPDATE "+tableRefresh+
		" SET active = ?, rotated_at = ? WHERE signature = ? AND active = ? RETURNING request_id, access_token_signature")
	// Keeping the successor pair is an insert into a table without foreign
	// keys: a second update of the row just rotated would re-run its
	// foreign-key checks (migration 00014).
	saveRotation = hot(tableRotations, "INSERT INTO "+tableRotations+" (signature, rotated_at, sealed) SELECT signature, rotated_at, ? FROM "+
		tableRefresh+" WHERE signature = ? AND rotated_at IS NOT NULL")
	selectRotation = hot(tableRotations, "SELECT t.request_id, t.client_id, r.rotated_at, r.sealed FROM "+tableRotations+" r JOIN "+
		tableRefresh+" t ON t.signature = r.signature WHERE r.signature = ? AND t.rotated_at IS NOT NULL")
	selectRequestRow = map[string]hotQuery{}
	// insertAccessRows is insertAccessRow for a group of rows (groupinsert.go).
	insertAccessRows = multiRowInsert{single: insertAccessRow}
)

func init() {
	for _, t := range []string{tableCodes, tablePKCE, tableOIDC, tableAccess, tableRefresh} {
		selectRequestRow[t] = hot(t, "SELECT "+requestColumns+" FROM "+t+" WHERE signature = ?")
	}
}

// connPool is the transaction carried by ctx, or the pool.
func (s *Store) connPool(ctx context.Context) gorm.ConnPool {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.tx.Statement.ConnPool
	}
	return s.sqlDB
}

func (s *Store) sqlOf(q hotQuery) string {
	s.countHot(q.table)
	if s.dialect == DialectPostgres {
		return q.postgres
	}
	return q.sqlite
}

// inTransaction reports whether ctx carries an open transaction.
func inTransaction(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*txState)
	return ok
}

// insertAccessRows inserts access-token rows (each insertAccessRow's
// arguments) in one statement.
func (s *Store) insertAccessRows(ctx context.Context, rows [][]any) error {
	args := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		args = append(args, r...)
	}
	_, err := s.sqlDB.ExecContext(ctx, s.sqlOf(insertAccessRows.rows(len(rows))), args...)
	return err
}

// execHot runs a hot statement in the transaction of ctx, if any.
func (s *Store) execHot(ctx context.Context, q hotQuery, args ...any) (sql.Result, error) {
	return s.connPool(ctx).ExecContext(ctx, s.sqlOf(q), args...)
}

// queryRowHot runs a hot query returning at most one row into dest;
// gorm.ErrRecordNotFound when there is none (isNotFound).
func (s *Store) queryRowHot(ctx context.Context, q hotQuery, args []any, dest ...any) error {
	err := s.connPool(ctx).QueryRowContext(ctx, s.sqlOf(q), args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return gorm.ErrRecordNotFound
	}
	if err != nil {
		return fmt.Errorf("%s: %w", q.table, err)
	}
	return nil
}
