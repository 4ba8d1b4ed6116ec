package store

import "database/sql"

// DB exposes the underlying connection pool for read-only checks in tests
// and for pool statistics; application code goes through the Store methods.
func (s *Store) DB() *sql.DB { return s.sqlDB }
