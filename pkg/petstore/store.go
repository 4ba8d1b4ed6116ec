package petstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/glebarez/go-sqlite"  // driver "sqlite"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
)

// Store keeps pets in the API's own database.
type Store struct {
	db       *sql.DB
	postgres bool
	// Now is the clock for CreatedAt and ids.
	Now func() time.Time
}

// Open connects to a database URL — sqlite://path/to/file.db,
// sqlite://:memory:, or postgres://… — and creates the table if missing.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	s := &Store{Now: time.Now}
	var err error
	switch {
	case strings.HasPrefix(databaseURL, "sqlite://"):
		s.db, err = openSQLite(strings.TrimPrefix(databaseURL, "sqlite://"))
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		s.postgres = true
		s.db, err = sql.Open("pgx", databaseURL)
		if err == nil {
			s.db.SetMaxOpenConns(20)
			s.db.SetConnMaxIdleTime(5 * time.Minute)
		}
	default:
		return nil, fmt.Errorf("database URL must start with sqlite:// or postgres://")
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("sqlite:// needs a file path, e.g. sqlite://data/petstore-api.db")
	}
	memory := path == ":memory:"
	if !memory {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	if !memory {
		dsn += "&_pragma=journal_mode(WAL)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	if memory {
		db.SetMaxOpenConns(1) // each connection would be its own empty database
	} else {
		db.SetMaxOpenConns(4) // WAL: readers run in parallel, writers queue on busy_timeout
	}
	return db, nil
}

func (s *Store) migrate(ctx context.Context) error {
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS pets (
			id         VARCHAR(40)  PRIMARY KEY,
			owner      VARCHAR(255) NOT NULL,
			name       VARCHAR(400) NOT NULL,
			species    VARCHAR(16)  NOT NULL,
			age        INTEGER      NOT NULL,
			created_at BIGINT       NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS pets_owner_id ON pets (owner, id)`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create pets table: %w", err)
		}
	}
	return nil
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Store) rebind(q string) string {
	if !s.postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Stats returns the connection-pool statistics, for metrics.
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// Page selects part of a list: after a cursor (an id) or from an offset.
type Page struct {
	Limit  int
	After  string
	Offset int
}

const petColumns = `id, owner, name, species, age, created_at`

func scanPet(row interface{ Scan(...any) error }) (*Pet, error) {
	var p Pet
	var created int64
	if err := row.Scan(&p.ID, &p.Owner, &p.Name, &p.Species, &p.Age, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = time.UnixMilli(created).UTC()
	return &p, nil
}

// List returns owner's pets in creation order, and whether more follow.
func (s *Store) List(ctx context.Context, owner string, page Page) ([]*Pet, bool, error) {
	q := `SELECT ` + petColumns + ` FROM pets WHERE owner = ?`
	args := []any{owner}
	if page.After != "" {
		q += ` AND id > ?`
		args = append(args, page.After)
	}
	q += ` ORDER BY id LIMIT ? OFFSET ?`
	args = append(args, page.Limit+1, page.Offset)
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	pets := []*Pet{}
	for rows.Next() {
		p, err := scanPet(rows)
		if err != nil {
			return nil, false, err
		}
		pets = append(pets, p)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(pets) > page.Limit
	if more {
		pets = pets[:page.Limit]
	}
	return pets, more, nil
}

// Get returns owner's pet id, or ErrNotFound (also for other owners' pets).
func (s *Store) Get(ctx context.Context, owner, id string) (*Pet, error) {
	row := s.db.QueryRowContext(ctx, s.rebind(`SELECT `+petColumns+` FROM pets WHERE owner = ? AND id = ?`), owner, id)
	p, err := scanPet(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return p, err
}

// Create validates p, gives it an id and stores it.
func (s *Store) Create(ctx context.Context, p *Pet) error {
	if err := p.Normalize(); err != nil {
		return err
	}
	if p.Owner == "" {
		return errors.New("petstore: pet without owner")
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	p.ID, p.CreatedAt = newID(now), now
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO pets (`+petColumns+`) VALUES (?, ?, ?, ?, ?, ?)`),
		p.ID, p.Owner, p.Name, p.Species, p.Age, now.UnixMilli())
	return err
}

// Delete removes owner's pet id, or returns ErrNotFound.
func (s *Store) Delete(ctx context.Context, owner, id string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM pets WHERE owner = ? AND id = ?`), owner, id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Seed gives owner the pets it does not have yet (matched by name), so it
// can run on every start of a demo without creating duplicates.
func (s *Store) Seed(ctx context.Context, owner string, pets ...Pet) error {
	for _, p := range pets {
		p.Owner = owner
		if err := p.Normalize(); err != nil {
			return fmt.Errorf("seed %q: %w", p.Name, err)
		}
		var n int
		err := s.db.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM pets WHERE owner = ? AND name = ?`), owner, p.Name).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		if err := s.Create(ctx, &p); err != nil {
			return fmt.Errorf("seed %q: %w", p.Name, err)
		}
	}
	return nil
}
