// Command petstore-api is the PetStore resource server: the /v1/pets API,
// protected by bearer credentials that it checks against the authorization
// server over HTTP only (introspection, JWKS, revoked-JWT list).
//
//	petstore-api --config config/petstore-api.yaml
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpmetrics"
	"github.com/petstore-auth/petstore-auth/pkg/petstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "petstore-api:", err)
		os.Exit(1)
	}
}

// run parses flags, loads the configuration and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, logOut io.Writer) error {
	fs := flag.NewFlagSet("petstore-api", flag.ContinueOnError)
	fs.SetOutput(logOut)
	path := fs.String("config", "config/petstore-api.yaml", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := loadConfig(*path, explicit, getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	slog.SetDefault(log)
	for _, w := range cfg.plainHTTPWarnings() {
		log.Warn("development mode: "+w, "listen", cfg.Listen, "issuer", cfg.Issuer)
	}

	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.cleanup()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	if cfg.MetricsListen != "" {
		// A metrics port already taken must not take the API down with it.
		if mln, err := net.Listen("tcp", cfg.MetricsListen); err != nil {
			log.Error("metrics listener not started", "addr", cfg.MetricsListen, "err", err)
		} else {
			msrv := metricsServer(a.metrics)
			log.Info("metrics listening", "addr", mln.Addr().String())
			go func() { _ = msrv.Serve(mln) }()
			defer msrv.Close()
		}
	}
	return serve(ctx, ln, a.handler, log, cfg)
}

// api is the assembled service: the public handler, the metrics handler
// (for metrics_listen) and what stops it.
type api struct {
	handler, metrics http.Handler
	cleanup          func()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// build opens the database and assembles the router. cleanup stops the
// revocation poller and closes the database.
func build(ctx context.Context, cfg config, log *slog.Logger) (api, error) {
	store, err := petstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return api{}, fmt.Errorf("database: %w", err)
	}
	v := &bearer.Verifier{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Audience: cfg.Audience,
		Mode: cfg.Mode, CacheTTL: cfg.CacheTTL, RevocationPollInterval: cfg.RevocationPollInterval, Logger: log,
	}
	limiter, err := newLimiter(ctx, cfg.RedisURL)
	if err != nil {
		store.Close()
		return api{}, err
	}
	m := newMetrics(v, store)
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { v.Run(pollCtx); close(done) }()

	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		petstore.WriteError(w, http.StatusNotFound, "Not found")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		petstore.WriteError(w, http.StatusMethodNotAllowed, "Method not allowed")
	})
	r.Use(m.http.Middleware,
		failureLimit(limiter, cfg.FailedPerIPPerMinute, v.Known, log, m.limited.Inc),
		credentialLimit(limiter, cfg.RateLimitPerMinute, log, m.limited.Inc))
	(&petstore.Handler{Store: store, Verifier: v, Logger: log}).Mount(r)
	if cfg.Dev {
		// Development only; in production /metrics is on metrics_listen.
		r.Handle("/metrics", m.handler()).Methods(http.MethodGet)
	}
	cleanup := func() {
		stopPolling()
		<-done
		store.Close()
	}
	// The client address middleware is outermost: the access log and the
	// rate limits read what it found.
	return api{handler: clientaddr.Middleware(cfg.trusted())(accessLog(log, hsts(recoverer(log, r)))), metrics: m.handler(), cleanup: cleanup}, nil
}

// serve runs the HTTP server on ln until ctx is done, then drains
// in-flight requests for up to 10 s.
func serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, cfg config) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10, // room for a 4 KiB Authorization header, not for abuse
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.TLS.enabled() {
		srv.TLSConfig = tlsConfig()
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLS.enabled() {
			errc <- srv.ServeTLS(ln, cfg.TLS.CertFile, cfg.TLS.KeyFile)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	log.Info("petstore-api listening", "addr", ln.Addr().String(), "config", cfg)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// accessLog logs one line per request with its request id (a well-formed
// X-Request-ID is kept, so one id follows a call through both servers):
// never headers or the query string, where credentials could be.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = base64.RawURLEncoding.EncodeToString(b)
		}
		w.Header().Set("X-Request-ID", id)
		sw := &httpmetrics.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", sw.Status(),
			"duration_ms", time.Since(start).Milliseconds(), "client", clientaddr.Of(r))
	})
}

// recoverer turns a panic into a 500 without a stack trace in the answer.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic", "value", fmt.Sprint(v), "path", r.URL.Path)
				petstore.WriteError(w, http.StatusInternalServerError, "Internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
