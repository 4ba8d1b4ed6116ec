package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// Dialect names returned by (*Store).Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DefaultAuditRetention is how long audit events are kept when
// Options.AuditRetention is zero.
const DefaultAuditRetention = 90 * 24 * time.Hour

// SQLite tuning; see doc.go for why.
const (
	sqliteBusyTimeout  = 10 * time.Second
	sqliteMaxOpenConns = 8
	postgresMaxOpen    = 20
	postgresMaxIdle    = 10
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives operational messages (never SQL or its arguments).
	Logger *slog.Logger
	// AuditRetention is how long DeleteExpired keeps audit events;
	// DefaultAuditRetention when zero.
	AuditRetention time.Duration
	// ClientCacheTTL is how long GetClient answers from memory
	// (clientcache.go); DefaultClientCacheTTL when zero, no cache when
	// negative.
	ClientCacheTTL time.Duration
}

// Store is the gorm-backed storage of the authorization server. It is safe
// for concurrent use.
type Store struct {
	db             *gorm.DB
	sqlDB          *sql.DB
	dialect        string
	clock          func() time.Time
	log            *slog.Logger
	auditRetention time.Duration
	clients        clientLoader
	clientCache    *clientCache // nil without a cache
	events         eventSignal  // wakes this process's event-stream waiters (secevents.go)
	grantTouches   touchMemo    // CreateAccessTokenSession
	sessionClients recordedSet  // RecordSessionClient
	clientTouches  touchMemo    // TouchClient
	accessInserts  groupInsert  // CreateAccessTokenSession outside a transaction
	// hotCounter counts hand-written statements (CountStatements).
	hotCounter atomic.Pointer[StatementCounter]
	// resolveURLClient loads clients whose id is a URL (client ID
	// metadata documents); nil: such ids are looked up like any other.
	resolveURLClient func(ctx context.Context, id string) (*identity.Client, error)
}

// Open connects to databaseURL: sqlite://PATH (a relative or absolute file
// path whose directory is created if missing) or postgres://… /
// postgresql://…. It does not migrate; call MigrateUp.
//
// sqlite://:memory: is for quick experiments only: it has a single
// connection, so a call without the context of an open transaction waits
// for that transaction forever.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	s := &Store{
		clock:          opts.Now,
		log:            opts.Logger,
		auditRetention: opts.AuditRetention,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.accessInserts.exec = s.insertAccessRows
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.auditRetention <= 0 {
		s.auditRetention = DefaultAuditRetention
	}
	s.clients = uncachedClients{s}
	if ttl := cmp.Or(opts.ClientCacheTTL, DefaultClientCacheTTL); ttl > 0 {
		s.clientCache = newClientCache(s.clients, ttl, s.now)
		s.clients = s.clientCache
	}
	cfg := &gorm.Config{
		// SQL arguments hold token signatures and hashes: never log them.
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true, // single statements are atomic already
		TranslateError:         true, // unique/foreign-key violations as gorm errors
		NowFunc:                s.now,
	}

	var (
		dialector gorm.Dialector
		memory    bool
	)
	switch {
	case strings.HasPrefix(databaseURL, "sqlite://"):
		path := strings.TrimPrefix(databaseURL, "sqlite://")
		dsn, mem, err := sqliteDSN(path)
		if err != nil {
			return nil, err
		}
		memory = mem
		dialector = sqlite.Open(dsn)
		s.dialect = DialectSQLite
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		dialector = postgres.Open(databaseURL)
		s.dialect = DialectPostgres
	default:
		return nil, fmt.Errorf("store: unsupported database URL %q: want sqlite://PATH or postgres://…", redactURL(databaseURL))
	}

	db, err := gorm.Open(dialector, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s database: %w", s.dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	switch {
	case memory:
		// Every connection to :memory: is a separate, empty database.
		sqlDB.SetMaxOpenConns(1)
	case s.dialect == DialectSQLite:
		sqlDB.SetMaxOpenConns(sqliteMaxOpenConns)
		sqlDB.SetMaxIdleConns(sqliteMaxOpenConns)
	default:
		sqlDB.SetMaxOpenConns(postgresMaxOpen)
		sqlDB.SetMaxIdleConns(postgresMaxIdle)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	s.db, s.sqlDB = db, sqlDB
	s.registerStatementCounter()
	if err := s.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN turns the path of a sqlite:// URL into a driver DSN with the
// pragmas the store relies on, creating the file's directory if needed.
func sqliteDSN(path string) (dsn string, memory bool, err error) {
	if path == "" {
		return "", false, errors.New("store: sqlite:// URL without a path")
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return "", false, errors.New("store: sqlite:// URL must not carry parameters; the store sets them")
	}
	memory = path == ":memory:"
	if !memory {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return "", false, fmt.Errorf("store: create database directory: %w", err)
			}
		}
	}
	q := url.Values{}
	// busy_timeout first: the other pragmas may already need a lock.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	// BEGIN IMMEDIATE: a transaction takes the write lock up front, waiting
	// under busy_timeout, instead of failing with SQLITE_BUSY when it later
	// upgrades a read lock. Do not add _time_format: the driver stops reading
	// parameters after it.
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode(), memory, nil
}

// redactURL drops the password of a database URL for error messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", s.dialect, err)
	}
	return nil
}

// Dialect returns DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// now is the store clock in the form every column holds: UTC, microseconds.
func (s *Store) now() time.Time { return dbTime(s.clock()) }

// dbTime normalises a time for storage. SQLite keeps times as text, which
// only sorts correctly when every value has the same offset; PostgreSQL keeps
// microseconds.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// fromDBTimePtr returns a UTC copy of a nullable column.
func fromDBTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}

// newID returns a random, url-safe id with a readable prefix.
func newID(prefix string) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Page defaults.
const (
	defaultLimit = 50
	maxLimit     = 500
)

func pageBounds(offset, limit int) (int, int) {
	if offset < 0 {
		offset = 0
	}
	switch {
	case limit <= 0:
		limit = defaultLimit
	case limit > maxLimit:
		limit = maxLimit
	}
	return offset, limit
}
