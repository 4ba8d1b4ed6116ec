// Command petstore-api is the PetStore resource server: the /v1/pets API,
// protected by bearer credentials that it checks against the authorization
// server over HTTP only (introspection, JWKS, revoked-JWT list).
//
//	petstore-api --config config/petstore-api.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/petstore"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "petstore-api:", err)
		os.Exit(1)
	}
}

// run parses flags, loads the configuration and serves until ctx is done.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), logOut io.Writer) error {
	fs := flag.NewFlagSet("petstore-api", flag.ContinueOnError)
	fs.SetOutput(logOut)
	path := fs.String("config", "config/petstore-api.yaml", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := loadConfig(*path, explicit, lookupEnv)
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
	if cfg.Pprof && cfg.MetricsListen == "" {
		log.Warn("pprof is on but there is no metrics listener to serve it (metrics_listen is empty)")
	}
	if cfg.MetricsListen != "" {
		// A metrics port already taken must not take the API down with it.
		if mln, err := net.Listen("tcp", cfg.MetricsListen); err != nil {
			log.Error("metrics listener not started", "addr", cfg.MetricsListen, "err", err)
		} else {
			msrv := httpkit.MetricsServer(a.metrics, cfg.Pprof)
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

// build opens the database, the verifier and the limiter and assembles the
// API with petstore.NewServer (the same builder petstore-dev uses). cleanup
// stops the revocation poller and the event receiver and closes the
// database.
func build(ctx context.Context, cfg config, log *slog.Logger) (api, error) {
	store, err := petstore.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return api{}, fmt.Errorf("database: %w", err)
	}
	v := &bearer.Verifier{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Audience: cfg.resource(), AcceptAudiences: cfg.acceptAudiences(), ResourceMetadata: petstore.MetadataURL(cfg.resource()),
		Mode: cfg.Mode, CacheTTL: cfg.CacheTTL, RevocationPollInterval: cfg.RevocationPollInterval, Logger: log,
		PublicURL: cfg.PublicURL,
	}
	limiter, err := ratelimit.FromURL(ctx, cfg.RedisURL, "petstore-api:rl:", nil)
	if err != nil {
		store.Close()
		return api{}, err
	}
	// DPoP proofs are remembered in Redis when replicas share one, so a
	// proof replayed to another replica is refused too.
	if replay, err := dpop.ReplayFromURL(ctx, cfg.RedisURL, "petstore-api:dpop:"); err != nil {
		store.Close()
		return api{}, err
	} else if replay != nil {
		v.DPoP = &dpop.Validator{Replay: replay}
	}
	srv := petstore.NewServer(petstore.ServerConfig{
		TrustedProxies:       cfg.trusted(),
		RateLimitPerMinute:   cfg.RateLimitPerMinute,
		FailedPerIPPerMinute: cfg.FailedPerIPPerMinute,
		// Development only; in production /metrics is on metrics_listen.
		MetricsOnRouter: cfg.Dev,
		PublicURL:       cfg.resource(), Issuer: cfg.Issuer,
	}, petstore.Deps{Store: store, Verifier: v, Limiter: limiter, Logger: log, Authenticator: benchAuthenticator(log)})
	pollCtx, stopPolling := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { v.Run(pollCtx) })
	if cfg.RevocationEvents {
		wg.Go(func() { v.ReceiveEvents(pollCtx) })
	}
	cleanup := func() {
		stopPolling()
		wg.Wait()
		store.Close()
	}
	return api{handler: srv.Handler, metrics: srv.Metrics, cleanup: cleanup}, nil
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
	var files httpkit.TLSFiles
	if cfg.TLS.enabled() {
		srv.TLSConfig = tlsConfig()
		files = httpkit.TLSFiles{CertFile: cfg.TLS.CertFile, KeyFile: cfg.TLS.KeyFile}
	}
	log.Info("petstore-api listening", "addr", ln.Addr().String(), "config", cfg)
	defer log.Info("shut down")
	return httpkit.Serve(ctx, srv, ln, files, 10*time.Second)
}
