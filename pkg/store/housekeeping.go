package store

import (
	"context"
	"fmt"
	"time"
)

// DefaultDeleteBatch is the batch size DeleteExpired uses when given <= 0.
const DefaultDeleteBatch = 500

// DeleteExpired deletes rows that can no longer matter at now: expired
// codes, PKCE requests, access and refresh tokens, revocation-list entries
// and client-assertion ids, security event streams idle for
// StreamIdleLimit (with their events), and audit events older than the
// retention. It
// deletes at most batch rows per statement, looping until a table is clean,
// so no statement holds the write lock for long. It returns the rows removed
// per table (tables with nothing to delete are left out).
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, batch int) (map[string]int64, error) {
	if batch <= 0 {
		batch = DefaultDeleteBatch
	}
	now = dbTime(now)
	jobs := []struct{ table, key, cond string }{
		{tableCodes, "signature", "expires_at < ?"},
		{tablePKCE, "signature", "expires_at < ?"},
		{tableOIDC, "signature", "expires_at < ?"},
		{tableAccess, "signature", "expires_at < ?"},
		{tableRefresh, "signature", "expires_at < ?"},
		{"revoked_jwts", "jti", "expires_at < ?"},
		{"client_assertion_jtis", "jti", "expires_at < ?"},
		{"dpop_proofs", "key_hash", "expires_at < ?"},
		{"par_requests", "request_uri_hash", "expires_at < ?"},
		{"browser_sessions", "id_hash", "expires_at < ?"},
		{"oidc_session_clients", "sid", "expires_at < ?"},
		{"device_codes", "device_code_hash", "expires_at < ?"},
		{"ssf_streams", "id", "polled_at < ?"},
		{"audit_events", "id", "time < ?"},
	}
	out := map[string]int64{}
	for _, j := range jobs {
		cutoff := now
		switch j.table {
		case "audit_events":
			cutoff = now.Add(-s.auditRetention)
		case "device_codes":
			// Kept a day past expiry so a device still polling is told
			// expired_token, not that its code is unknown.
			cutoff = now.Add(-24 * time.Hour)
		case "ssf_streams":
			cutoff = now.Add(-StreamIdleLimit)
		}
		// DELETE … WHERE key IN (SELECT … LIMIT n) works on both dialects;
		// neither supports DELETE … LIMIT portably.
		stmt := fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s LIMIT ?)",
			j.table, j.key, j.key, j.table, j.cond)
		for {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			res := s.conn(ctx).Exec(stmt, cutoff, batch)
			if res.Error != nil {
				return out, fmt.Errorf("store: delete expired %s: %w", j.table, res.Error)
			}
			if res.RowsAffected > 0 {
				out[j.table] += res.RowsAffected
			}
			if res.RowsAffected < int64(batch) {
				break
			}
		}
	}
	return out, nil
}

// Stats are the counters of the admin dashboard.
type Stats struct {
	Clients           int64
	Users             int64
	ActiveGrants      int64
	TokensIssuedSince int64 // access tokens requested at or after since
	FailedLoginsSince int64 // "login.failure" audit events at or after since
}

// Stats counts clients, users, active grants, and access tokens and failed
// logins since the given time.
func (s *Store) Stats(ctx context.Context, since time.Time) (Stats, error) {
	since = dbTime(since)
	var st Stats
	counts := []struct {
		dst   *int64
		table string
		cond  string
		args  []any
	}{
		{&st.Clients, "clients", "", nil},
		{&st.Users, "users", "", nil},
		{&st.ActiveGrants, "grants", "revoked_at IS NULL", nil},
		{&st.TokensIssuedSince, tableAccess, "requested_at >= ?", []any{since}},
		{&st.FailedLoginsSince, "audit_events", "type = ? AND time >= ?", []any{"login.failure", since}},
	}
	for _, c := range counts {
		q := s.conn(ctx).Table(c.table)
		if c.cond != "" {
			q = q.Where(c.cond, c.args...)
		}
		if err := q.Count(c.dst).Error; err != nil {
			return Stats{}, fmt.Errorf("store: count %s: %w", c.table, err)
		}
	}
	return st, nil
}

// Exclusive runs fn only where this process holds the named cluster-wide
// lock, so that one replica at a time does housekeeping: a PostgreSQL
// session-level advisory lock taken with pg_try_advisory_lock (never
// waiting). On SQLite, whose file lives on one host, fn always runs; its
// writes are serialised anyway. It reports whether fn ran.
func (s *Store) Exclusive(ctx context.Context, lockID int64, fn func(ctx context.Context) error) (bool, error) {
	if s.dialect != DialectPostgres {
		return true, fn(ctx)
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: lock connection: %w", err)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", lockID).Scan(&got); err != nil {
		return false, fmt.Errorf("store: advisory lock: %w", err)
	}
	if !got {
		return false, nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockID) //nolint:errcheck // the session ends with the connection anyway
	return true, fn(ctx)
}
