package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// groupInsert combines inserts of one table made outside a transaction —
// the access tokens of client_credentials, the busiest write there is —
// into multi-row INSERTs (group commit): while a statement is in flight,
// the rows that arrive queue up, and the next writer sends them together,
// so a group pays one round trip, one commit and one WAL flush. A lone
// request is written at once: the idle latency is unchanged, and under
// load a request waits at most for the statement before its own.
//
// Every request still returns only once its own row is committed, with its
// own error: a group that fails is retried row by row (outside a
// transaction a failed statement inserts nothing), so a bad row fails only
// its request. A request whose context ends while queued is dropped from
// the group and gets the context's error; nothing of it is written.
type groupInsert struct {
	// exec writes rows (each the insert's arguments) in one statement.
	exec func(ctx context.Context, rows [][]any) error

	mu      sync.Mutex
	queue   []*queuedRow
	writers int // requests writing groups now (at most groupWriters)
}

// queuedRow is one request's row. done receives errLead when the request
// is to become a writer, then (or only) the row's result.
type queuedRow struct {
	ctx    context.Context
	args   []any
	done   chan error
	leader bool // the row's request is, or has been told to become, a writer
}

const (
	// groupWriters bounds the statements in flight at once, so groups form
	// instead of every request taking its own connection.
	groupWriters = 2
	// groupMaxRows bounds a statement: 64 rows of 15 columns stay far below
	// PostgreSQL's 65,535 parameters and SQLite's 32,766.
	groupMaxRows = 64
	// groupTimeout bounds a group's statement; requests in it may have
	// different deadlines, and one cancelled request must not fail the rest.
	groupTimeout = 10 * time.Second
)

var errLead = errors.New("store: lead the next group")

// insert writes args as one row, grouped with the rows of concurrent
// callers, and returns when it is committed; the error is the row's own.
func (g *groupInsert) insert(ctx context.Context, args []any) error {
	r := &queuedRow{ctx: ctx, args: args, done: make(chan error, 2)}
	g.mu.Lock()
	g.queue = append(g.queue, r)
	lead := g.writers < groupWriters
	if lead {
		g.writers++
		r.leader = true
	}
	g.mu.Unlock()
	if !lead {
		if err := <-r.done; !errors.Is(err, errLead) {
			return err
		}
	}
	// A writer writes groups from the head of the queue until its own row
	// has its result, then hands its place to the next queued row.
	defer g.handOff()
	for {
		select {
		case err := <-r.done:
			return err
		default:
		}
		if !g.writeGroup() {
			return <-r.done // own row is in another writer's group
		}
	}
}

// writeGroup writes up to groupMaxRows rows from the head of the queue and
// delivers each its result; false when the queue was empty.
func (g *groupInsert) writeGroup() bool {
	g.mu.Lock()
	n := min(len(g.queue), groupMaxRows)
	group := make([]*queuedRow, n)
	copy(group, g.queue)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	g.mu.Unlock()
	if n == 0 {
		return false
	}
	live := group[:0]
	for _, r := range group {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), groupTimeout)
	defer cancel()
	rows := make([][]any, len(live))
	for i, r := range live {
		rows[i] = r.args
	}
	err := g.exec(ctx, rows)
	if err != nil && len(live) > 1 {
		for _, r := range live {
			r.done <- g.exec(ctx, [][]any{r.args})
		}
		return true
	}
	for _, r := range live {
		r.done <- err
	}
	return true
}

// handOff passes a finishing writer's place to the first queued row that
// has no writer yet, or gives the place up when there is none.
func (g *groupInsert) handOff() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.queue {
		if !r.leader {
			r.leader = true
			r.done <- errLead
			return
		}
	}
	g.writers--
}

// multiRowInsert extends a single-row "INSERT … VALUES (?,…)" statement to
// n rows; the forms are built once per n.
type multiRowInsert struct {
	single hotQuery
	mu     sync.Mutex
	byRows map[int]hotQuery
}

func (m *multiRowInsert) rows(n int) hotQuery {
	if n == 1 {
		return m.single
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if q, ok := m.byRows[n]; ok {
		return q
	}
	values := m.single.sqlite[strings.LastIndex(m.single.sqlite, " VALUES ")+len(" VALUES "):]
	q := hot(m.single.table, m.single.sqlite+strings.Repeat(","+values, n-1))
	if m.byRows == nil {
		m.byRows = map[int]hotQuery{}
	}
	m.byRows[n] = q
	return q
}
