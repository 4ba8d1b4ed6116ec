package servertest

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/clientmeta"
	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/logtest"
	"github.com/petstore-auth/petstore-auth/pkg/server"
	"github.com/petstore-auth/petstore-auth/pkg/store/storetest"
	"github.com/petstore-auth/petstore-auth/pkg/webtest"
)

// Secret is the system secret of the servers MustOpen builds from defaults.
const Secret = "servertest-system-secret-0123456789abcdef"

// Options say which server to start; the zero value is a development-mode
// server with default settings on a fresh SQLite file.
type Options struct {
	// DatabaseURL is the database; "" is a fresh SQLite file.
	DatabaseURL string
	// Config is the whole configuration (a replica's, or one loaded from
	// PETSTORE_* like the command does); nil is config.Default() in
	// development mode with Secret, a temporary data directory and the
	// listener's own URL as issuer.
	Config *config.Config
	// Configure changes the configuration last.
	Configure func(*config.Config)
	// Now is the server's clock; nil is time.Now.
	Now func() time.Time
	// JSONLogs writes the log as JSON (as the command does) rather than
	// text; both at debug level.
	JSONLogs bool
	// Cleanup and TempDir replace tb's for a server that outlives the test
	// that starts it (a suite's shared server).
	Cleanup func(func())
	TempDir func() string
	// ClientMetadata is the client ID metadata document fetcher (nil: the
	// server's default); tests inject one trusting their TLS server.
	ClientMetadata *clientmeta.Fetcher
}

// Server is a running petstore-auth.
type Server struct {
	*server.Server
	// URL is the listener's base URL (http://127.0.0.1:port).
	URL  string
	HTTP *httptest.Server
	// Logs holds everything the server logged.
	Logs *logtest.Buffer
	// DatabaseURL is the database the server runs on.
	DatabaseURL string
	Now         func() time.Time
	// APIURL is where StartAPI serves petstore-api first: a listener
	// reserved by MustOpen for a server built from defaults, whose one
	// resource (RFC 8707) it is, as in the shipped development
	// configuration. "" when Options.Config was given.
	APIURL string

	apiLn   net.Listener
	cleanup func(func())
	tempDir func() string
}

// MustOpen starts petstore-auth; the test fails when it cannot. It is
// closed when the test (or Options.Cleanup's owner) ends.
func MustOpen(tb testing.TB, o Options) *Server {
	tb.Helper()
	s := &Server{Logs: &logtest.Buffer{}, cleanup: o.Cleanup, tempDir: o.TempDir, Now: o.Now}
	if s.cleanup == nil {
		s.cleanup = tb.Cleanup
	}
	if s.tempDir == nil {
		s.tempDir = tb.TempDir
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.URL = "http://" + ln.Addr().String()
	var cfg config.Config
	if o.Config != nil {
		cfg = *o.Config
	} else {
		cfg = config.Default()
		cfg.Dev = true
		cfg.Issuer = s.URL
		cfg.Secret = Secret
		cfg.DataDir = s.tempDir()
		cfg.DatabaseURL = "sqlite://" + filepath.Join(s.tempDir(), "auth.db")
		apiLn, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		s.apiLn, s.APIURL = apiLn, "http://"+apiLn.Addr().String()
		cfg.Resources = []config.Resource{{Identifier: s.APIURL}}
		s.cleanup(func() { apiLn.Close() })
	}
	if o.DatabaseURL != "" {
		cfg.DatabaseURL = o.DatabaseURL
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	s.DatabaseURL = cfg.DatabaseURL
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	var h slog.Handler = slog.NewTextHandler(s.Logs, opts)
	if o.JSONLogs {
		h = slog.NewJSONHandler(s.Logs, opts)
	}
	s.Server, err = open(context.Background(), cfg, slog.New(h), o.Now, o.ClientMetadata)
	if err != nil {
		ln.Close()
		tb.Fatalf("open server: %v", err)
	}
	s.HTTP = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.Handler}}
	s.HTTP.Start()
	s.cleanup(func() { s.HTTP.Close(); s.Close() })
	return s
}

// open is the one place that builds the server, as cmd/petstore-auth serve
// does.
func open(ctx context.Context, cfg config.Config, logger *slog.Logger, now func() time.Time, cm *clientmeta.Fetcher) (*server.Server, error) {
	return server.Open(ctx, cfg, server.Options{Logger: logger, Web: webtest.Files(), Now: now, ClientMetadata: cm})
}

// Browser is a new user agent with its own cookie jar, failing tb. It
// follows redirects within the server, stops at any other site (a client's
// callback), and sends forms as from the server's own pages.
func (s *Server) Browser(tb testing.TB) *webtest.Browser { return s.BrowserWith(tb, nil) }

// BrowserWith is Browser on an existing cookie jar (the same user in
// another tab).
func (s *Server) BrowserWith(tb testing.TB, jar http.CookieJar) *webtest.Browser {
	return webtest.NewBrowser(tb, s.URL, webtest.BrowserOptions{Jar: jar, Follow: webtest.FollowWithin(s.URL), SameOrigin: true})
}

// SQLiteURL is a fresh SQLite database file for tb.
func SQLiteURL(tb testing.TB) string {
	return "sqlite://" + filepath.Join(tb.TempDir(), "auth.db")
}

// PostgresSet says whether the tests run on PostgreSQL too.
func PostgresSet() bool { return os.Getenv(storetest.PostgresEnv) != "" }

// Databases are the database URLs an end-to-end test runs against: a
// fresh SQLite file always, and a fresh PostgreSQL schema when
// PETSTORE_TEST_POSTGRES_DSN is set (failing, not skipping, when it is set
// but unreachable).
func Databases(tb testing.TB) map[string]string {
	tb.Helper()
	dbs := map[string]string{"sqlite": SQLiteURL(tb)}
	if PostgresSet() {
		dbs["postgres"] = storetest.PostgresURL(tb)
	}
	return dbs
}

// EachDatabase runs fn as a subtest per database of Databases, each with
// its own fresh database.
func EachDatabase(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteURL(t)) })
	if PostgresSet() {
		t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresURL(t)) })
	}
}

// Dialect is "postgres" or "sqlite".
func (s *Server) Dialect() string {
	if strings.HasPrefix(s.DatabaseURL, "postgres") {
		return "postgres"
	}
	return "sqlite"
}
