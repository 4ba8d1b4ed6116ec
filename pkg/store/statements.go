package store

import (
	"maps"
	"sync"

	"gorm.io/gorm"
)

// StatementCounter counts the SQL statements a Store sends, by table, so a
// test can pin how many round trips an endpoint costs: gorm's and the
// hand-written ones (hotsql.go). BEGIN and COMMIT are not counted;
// savepoints are, as "(raw)".
type StatementCounter struct {
	mu      sync.Mutex
	byTable map[string]int
	stop    func()
}

// CountStatements starts counting every statement the store sends, from any
// goroutine, until Stop. It is a test hook: counting costs a lock per
// statement.
func (s *Store) CountStatements() *StatementCounter {
	c := &StatementCounter{byTable: map[string]int{}}
	s.hotCounter.Store(c)
	c.stop = func() { s.hotCounter.CompareAndSwap(c, nil) }
	return c
}

// registerStatementCounter hooks the counter into gorm once, when the store
// opens: gorm's callback lists may not change while statements run (the
// server's background writers run them at any time), so the hooks stay
// and only the counter they report to comes and goes.
func (s *Store) registerStatementCounter() {
	record := func(db *gorm.DB) {
		table := db.Statement.Table
		if table == "" {
			table = "(raw)"
		}
		s.countHot(table)
	}
	const name = "petstore:count_statements"
	cb := s.db.Callback()
	_ = cb.Query().After("gorm:query").Register(name, record)
	_ = cb.Create().After("gorm:create").Register(name, record)
	_ = cb.Update().After("gorm:update").Register(name, record)
	_ = cb.Delete().After("gorm:delete").Register(name, record)
	_ = cb.Row().After("gorm:row").Register(name, record)
	_ = cb.Raw().After("gorm:raw").Register(name, record)
}

func (c *StatementCounter) add(table string) {
	c.mu.Lock()
	c.byTable[table]++
	c.mu.Unlock()
}

// countHot counts a hand-written statement when a counter runs.
func (s *Store) countHot(table string) {
	if c := s.hotCounter.Load(); c != nil {
		c.add(table)
	}
}

// Reset sets the counts back to zero.
func (c *StatementCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byTable = map[string]int{}
}

// Total is the number of statements counted since the start or Reset.
func (c *StatementCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.byTable {
		n += v
	}
	return n
}

// ByTable returns the counts per table.
func (c *StatementCounter) ByTable() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.byTable)
}

// Stop stops counting.
func (c *StatementCounter) Stop() { c.stop() }
