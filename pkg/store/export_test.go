package store

// KeyedStatement is a statement that names one row of Table by its key.
type KeyedStatement struct{ Name, Table, SQL string }

// RotationSQL are the statements of a refresh rotation that name one row,
// for the query-plan test: each must find its row by primary key.
func (s *Store) RotationSQL() []KeyedStatement {
	var out []KeyedStatement
	for name, q := range map[string]hotQuery{
		"read":   selectRequestRow[tableRefresh],
		"rotate": rotateRefreshRow,
		"revoke": revokeAccessSQL("signature = ?"),
		"seal":   saveRotation, // reads the rotated row, inserts elsewhere
	} {
		table := q.table
		if name == "seal" {
			table = tableRefresh
		}
		out = append(out, KeyedStatement{Name: name, Table: table, SQL: s.sqlOf(q)})
	}
	return out
}
