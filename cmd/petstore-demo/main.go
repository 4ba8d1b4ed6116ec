// Command petstore-demo runs "MyApp", a third-party web app that connects
// to PetStore with OAuth 2.0 (authorization code + PKCE).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gorilla/mux"

	petstoreauth "github.com/petstore-auth/petstore-auth"
	"github.com/petstore-auth/petstore-auth/pkg/demo"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "petstore-demo:", err)
		os.Exit(1)
	}
}

func run() error {
	configPath := flag.String("config", "config/petstore-demo.yaml", "configuration file (\"\" for defaults and environment only)")
	webDir := flag.String("web-dir", "", "directory holding templates/demo and static/demo (default: the files built into the binary)")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// Like petstore-auth and petstore-api: the default file may be absent
	// (a binary run elsewhere, a container); a file named with -config may not.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	if _, err := os.Stat(*configPath); !explicit && errors.Is(err, os.ErrNotExist) {
		*configPath = ""
	}
	cfg, err := demo.Load(*configPath, os.Getenv)
	if err != nil {
		return err
	}
	var web fs.FS = petstoreauth.Web
	if *webDir != "" {
		web = os.DirFS(*webDir)
	}
	pages, err := demo.LoadPages(web)
	if err != nil {
		return err
	}
	static, err := fs.Sub(web, "static/demo")
	if err != nil {
		return err
	}
	h := &demo.Handler{Config: cfg, Pages: pages, Static: static, Logger: logger, Now: time.Now}
	r := mux.NewRouter()
	m := newMetrics()
	r.Use(m.http.Middleware)
	h.Mount(r)
	if !cfg.SecureCookies() {
		// Local development (plain-http loopback) only; otherwise
		// /metrics is on metrics_listen alone.
		r.Handle("/metrics", m.handler()).Methods(http.MethodGet)
	}
	if cfg.MetricsListen != "" {
		// A metrics port already taken must not take MyApp down with it.
		if mln, err := net.Listen("tcp", cfg.MetricsListen); err != nil {
			logger.Error("metrics listener not started", "addr", cfg.MetricsListen, "err", err)
		} else {
			mux := http.NewServeMux()
			mux.Handle("GET /metrics", m.handler())
			msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
				WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 16 << 10}
			logger.Info("metrics listening", "addr", mln.Addr().String())
			go func() { _ = msrv.Serve(mln) }()
			defer msrv.Close()
		}
	}

	srv := &http.Server{
		Addr:              cfg.Listen,
		Handler:           r,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		// Above the 15 s the handlers allow each call to PetStore, twice.
		WriteTimeout:   45 * time.Second,
		IdleTimeout:    60 * time.Second,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("MyApp listening", "config", cfg)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
