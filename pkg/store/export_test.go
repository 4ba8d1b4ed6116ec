package store

// RevokeAccessSQL is revokeAccessTokens' statement for the store's
// database, for the query-plan test.
func (s *Store) RevokeAccessSQL(cond string) string {
	q := revokeAccessSQL(cond)
	if s.dialect == DialectPostgres {
		return q.postgres
	}
	return q.sqlite
}
