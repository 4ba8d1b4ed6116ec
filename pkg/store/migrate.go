package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// MigrationStatus describes one schema migration.
type MigrationStatus struct {
	Version   int64
	Name      string // file name, e.g. "00001_init.sql"
	Applied   bool
	AppliedAt time.Time // zero when not applied
}

func (s *Store) migrations() (*goose.Provider, error) {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
	}
	fsys, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, s.sqlDB, fsys)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// MigrateUp applies every pending migration.
func (s *Store) MigrateUp(ctx context.Context) error {
	p, err := s.migrations()
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate up: %w", err)
	}
	for _, r := range results {
		s.log.InfoContext(ctx, "applied migration",
			"version", r.Source.Version, "file", path.Base(r.Source.Path), "duration", r.Duration)
	}
	return nil
}

// MigrateUpTo applies pending migrations up to and including version; the
// upgrade tests use it to build the schema of an earlier release.
func (s *Store) MigrateUpTo(ctx context.Context, version int64) error {
	p, err := s.migrations()
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("store: migrate up to %d: %w", version, err)
	}
	return nil
}

// MigrationStatus lists every known migration and whether it is applied.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.migrations()
	if err != nil {
		return nil, err
	}
	list, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(list))
	for _, m := range list {
		st := MigrationStatus{
			Version: m.Source.Version,
			Name:    path.Base(m.Source.Path),
			Applied: m.State == goose.StateApplied,
		}
		if st.Applied {
			st.AppliedAt = m.AppliedAt.UTC()
		}
		out = append(out, st)
	}
	return out, nil
}

// MigrationsCurrent reports whether every migration is applied; /readyz
// uses it to refuse traffic on a stale schema.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	p, err := s.migrations()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		// A database that was never migrated has no version table yet.
		if strings.Contains(err.Error(), "no such table") || strings.Contains(err.Error(), "does not exist") {
			return false, nil
		}
		return false, fmt.Errorf("store: migration check: %w", err)
	}
	return !pending, nil
}
