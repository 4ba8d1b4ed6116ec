package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/petstore-auth/petstore-auth/pkg/audit"
	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/clientmeta"
	"github.com/petstore-auth/petstore-auth/pkg/config"
	"github.com/petstore-auth/petstore-auth/pkg/dpop"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/httpx"
	"github.com/petstore-auth/petstore-auth/pkg/manage"
	"github.com/petstore-auth/petstore-auth/pkg/provider"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
	"github.com/petstore-auth/petstore-auth/pkg/store"
)

// Server is a running petstore-auth: its store, protocol core and router.
type Server struct {
	Config   config.Config
	Store    *store.Store
	Provider *provider.Provider
	Handler  http.Handler
	Logger   *slog.Logger
	// Limiter counts requests for rate limits: in process, or in Redis when
	// redis_url is set so that replicas share the counts.
	Limiter ratelimit.Limiter
	// Throttle counts failed sign-ins, in the same place as Limiter.
	Throttle ratelimit.Throttle
	// Audit writes security events in batches; Close flushes it.
	Audit *audit.Log

	// backchannel delivers queued logout tokens (Back-Channel Logout 1.0).
	backchannel *provider.BackchannelWorker
	metrics     *metrics
	guard       *dbGuard
	cancel      context.CancelFunc
	workers     sync.WaitGroup // the background loops New starts
	metricsAddr string
}

// Options are the optional parts of Open.
type Options struct {
	Logger *slog.Logger
	// Web holds templates/ and static/; nil means the files embedded in the
	// binary (or cfg.WebDir when set).
	Web fs.FS
	Now func() time.Time
	// ClientMetadata fetches client ID metadata documents; nil is a
	// fetcher with the defaults (development mode: loopback allowed).
	ClientMetadata *clientmeta.Fetcher
}

// Deps are the parts New assembles. The program opens them (OpenStore,
// ratelimit.FromURL) and New wires them; nothing in New reads the
// environment or opens a connection.
type Deps struct {
	// Config holds the values (issuer, lifespans, limits, listeners); it
	// must have passed Validate.
	Config config.Config
	// Store is the opened, current database; New takes it over and Close
	// closes it.
	Store   *store.Store
	Limiter interface {
		ratelimit.Limiter
		ratelimit.Throttle
	}
	Logger *slog.Logger
	// DPoPReplay remembers used DPoP proofs; nil: the database
	// (store.DPoPReplay), which every replica shares.
	DPoPReplay dpop.Replay
	// Web holds templates/ and static/ (nil: cfg.WebDir when set, else the
	// pages are not served).
	Web fs.FS
	Now func() time.Time
	// ClientMetadata as in Options.
	ClientMetadata *clientmeta.Fetcher
}

// Open is petstore-auth's builder as the programs use it: it opens the
// database (OpenStore), the limiter (ratelimit.FromURL) and assembles the
// server with New. Close releases it.
func Open(ctx context.Context, cfg config.Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	st, err := OpenStore(ctx, cfg, opts.Logger, opts.Now)
	if err != nil {
		return nil, err
	}
	limiter, err := ratelimit.FromURL(ctx, cfg.RedisURL, "petstore:rl:", opts.Now)
	if err != nil {
		st.Close()
		return nil, err
	}
	replay, err := dpop.ReplayFromURL(ctx, cfg.RedisURL, "petstore:dpop:")
	if err != nil {
		st.Close()
		return nil, err
	}
	return New(ctx, Deps{Config: cfg, Store: st, Limiter: limiter, DPoPReplay: replay, Logger: opts.Logger, Web: opts.Web, Now: opts.Now,
		ClientMetadata: opts.ClientMetadata})
}

// OpenStore is the one place petstore-auth opens its database, shared by
// serve and every CLI command: it connects, migrates in development mode
// and refuses a schema that is not current.
func OpenStore(ctx context.Context, cfg config.Config, logger *slog.Logger, now func() time.Time) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{Now: now, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", cfg.RedactedDatabaseURL(), err)
	}
	if cfg.Dev {
		if err := st.MigrateUp(ctx); err != nil {
			st.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	if ok, err := st.MigrationsCurrent(ctx); err != nil || !ok {
		st.Close()
		return nil, fmt.Errorf("database schema is not current: run 'petstore-auth migrate up' (%v)", err)
	}
	return st, nil
}

// New is petstore-auth's composition root: from opened parts it builds the
// audit log, the protocol core (provider), the pages and admin, the
// router with its middleware, and starts the background work. Close stops
// it and closes the store.
func New(ctx context.Context, d Deps) (*Server, error) {
	cfg, st := d.Config, d.Store
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	secret, err := cfg.SecretBytes()
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("system secret: %w", err)
	}
	s := &Server{Config: cfg, Store: st, Logger: d.Logger, metrics: newMetrics(), guard: &dbGuard{ping: st.Ping}}
	fail := func(err error) (*Server, error) {
		if s.Audit != nil {
			_ = s.Audit.Close(ctx)
		}
		st.Close()
		return nil, err
	}
	s.Audit = audit.New(st, d.Logger, d.Now)
	s.Audit.Observe = s.metrics.observeEvent
	s.metrics.registry.MustRegister(collectors.NewDBStatsCollector(st.DB(), "petstore_auth"),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "petstore_auth_database_up", Help: "1 when the last database ping (every second) succeeded.",
		}, func() float64 {
			if s.guard.down.Load() {
				return 0
			}
			return 1
		}))
	s.Limiter, s.Throttle = d.Limiter, d.Limiter
	if d.DPoPReplay == nil {
		d.DPoPReplay = st.DPoPReplay()
	}
	s.Provider, err = provider.New(ctx, provider.Config{
		Issuer:                       cfg.Issuer,
		Secret:                       secret,
		PreviousSecrets:              cfg.PreviousSecretBytes(),
		AuthorizeCodeLifespan:        time.Duration(cfg.Tokens.AuthorizeCodeLifespan),
		AccessTokenLifespan:          time.Duration(cfg.Tokens.AccessTokenLifespan),
		RefreshTokenIdleLifespan:     time.Duration(cfg.Tokens.RefreshTokenIdleLifespan),
		RefreshTokenAbsoluteLifespan: time.Duration(cfg.Tokens.RefreshTokenAbsoluteLifespan),
		RefreshGraceWindow:           time.Duration(cfg.Tokens.RefreshGraceWindow),
		Resources:                    cfg.ResourceList(),
		RateLimitPerIP:               cfg.RateLimits.PerIP,
		RateLimitPerClient:           cfg.RateLimits.PerClient,
		RateLimitFailedAuthPerIP:     cfg.RateLimits.FailedAuthPerIP,
		RateLimitFailedAuthPerClient: cfg.RateLimits.FailedAuthPerClient,
		// In development a private_key_jwt client may publish its keys on
		// a loopback or private address.
		AllowPrivateJWKSURIs:      cfg.Dev,
		RegistrationPolicy:        cfg.RegistrationPolicy(),
		RegistrationPerHour:       cfg.RegistrationRateLimit,
		ClientIDMetadataDocuments: true,
		DPoPWindow:                time.Duration(cfg.Tokens.DPoPProofWindow),
		DPoPNonce:                 cfg.Tokens.DPoPNonce,
		RequirePAR:                cfg.RequirePushedAuthorizationRequests,
	}, st, provider.Options{Audit: s.Audit, Logger: d.Logger, Now: d.Now, Limiter: d.Limiter, DPoPReplay: d.DPoPReplay})
	if err != nil {
		return fail(err)
	}
	// Registration goes through the operator service like the CLI; client
	// changes drop the provider's cached CORS origins.
	registrar := &manage.Service{Users: st, Clients: clientsNotifying{ClientStore: st, changed: s.Provider.ClientsChanged},
		Grants: st, APIKeys: st, Registrations: st, Audit: s.Audit, Now: d.Now, Logger: d.Logger}
	s.Provider.SetRegistrar(registrar)
	fetcher := d.ClientMetadata
	if fetcher == nil {
		fetcher = &clientmeta.Fetcher{Dev: cfg.Dev}
	}
	st.SetClientResolver(documentClients(cfg.Dev, fetcher, registrar))
	s.backchannel = &provider.BackchannelWorker{Store: st, Sign: s.Provider.SignJWT, Issuer: cfg.Issuer, Audit: s.Audit,
		Now: d.Now, Logger: d.Logger}
	web := d.Web
	if web == nil && cfg.WebDir != "" {
		web = os.DirFS(cfg.WebDir)
	}
	s.Handler, err = s.routes(web, secret, d.Now)
	if err != nil {
		return fail(err)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	for _, work := range []func(){
		func() { s.Provider.Run(bg) },
		func() { s.backchannel.Run(bg, 5*time.Second) },
		func() { s.guard.run(bg, time.Second) },
		func() { s.housekeeping(bg, time.Minute, d.Now) },
	} {
		s.workers.Go(work)
	}
	return s, nil
}

// Close stops background work, waits (up to 5 s) for it to finish its
// last writes — the API keys' last-used times are flushed on the way out —
// and closes the database.
func (s *Server) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stopped := make(chan struct{})
	go func() { s.workers.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		s.Logger.Warn("background work still running at shutdown")
	}
	if err := s.Audit.Close(ctx); err != nil {
		s.Logger.Warn("audit events not written at shutdown", "err", err)
	}
	return s.Store.Close()
}

func (s *Server) routes(web fs.FS, secret []byte, now func() time.Time) (http.Handler, error) {
	r := mux.NewRouter()
	r.Use(s.metrics.http.Middleware, s.guard.middleware)
	s.Provider.Mount(r)
	if err := s.mountPages(r, web, secret, now); err != nil {
		return nil, err
	}
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpx.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.handleReady).Methods(http.MethodGet)
	if s.Config.Dev {
		// Development only: in production the public listener does not
		// reveal traffic, client and database figures (metrics_listen).
		r.Handle("/metrics", s.MetricsHandler()).Methods(http.MethodGet)
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpkit.Error(w, httpkit.CodeNotFound, "No such endpoint.")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		httpkit.Error(w, httpkit.CodeMethodNotAllowed, "The endpoint does not support this method.")
	})
	var h http.Handler = r
	h = httpx.Deadline(time.Duration(s.Config.Limits.RequestTimeout))(h)
	h = httpx.SecurityHeaders()(h)
	h = httpx.MaxInFlight(s.Config.Limits.MaxInFlight, func(r *http.Request) bool {
		return r.URL.Path == "/healthz" || r.URL.Path == "/metrics"
	})(h)
	h = httpx.Middleware(s.Logger)(h)
	// Outermost: everything inside reads the client address and scheme
	// through clientaddr, which believes forwarded headers only from
	// trusted_proxies.
	h = clientaddr.Middleware(s.Config.TrustedProxyPrefixes())(h)
	return h, nil
}

// MetricsHandler serves the Prometheus metrics; Serve puts it on the
// metrics_listen address.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}

// MetricsAddr is the address the metrics listener is bound to once Serve
// has called ready ("" when it is off).
func (s *Server) MetricsAddr() string { return s.metricsAddr }

// handleReady reports ready when the database answers and its schema is
// current.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		httpx.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database unreachable"})
		return
	}
	if ok, err := s.Store.MigrationsCurrent(ctx); err != nil || !ok {
		httpx.JSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "migrations pending"})
		return
	}
	httpx.JSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// HTTPServer returns an http.Server with production limits around h.
func HTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TLSConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			CipherSuites: []uint16{ // TLS 1.2 AEAD suites with forward secrecy; 1.3 suites are fixed
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
				tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
				tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305,
			},
		},
	}
}

// Serve listens on the configured address until ctx ends, then drains
// in-flight requests for up to 20 s.
func (s *Server) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.Config.Listen)
	if err != nil {
		return err
	}
	srv := HTTPServer(s.Handler)
	srv.RegisterOnShutdown(s.Provider.ReleasePolls)
	if s.Config.Pprof && s.Config.MetricsListen == "" {
		s.Logger.Warn("pprof is on but there is no metrics listener to serve it (metrics_listen is empty)")
	}
	if s.Config.MetricsListen != "" {
		// A metrics port already taken must not take the server down with
		// it: the error is logged and serving goes on without metrics.
		if mln, err := net.Listen("tcp", s.Config.MetricsListen); err != nil {
			s.Logger.Error("metrics listener not started", "addr", s.Config.MetricsListen, "err", err)
		} else {
			msrv := httpkit.MetricsServer(s.MetricsHandler(), s.Config.Pprof)
			s.metricsAddr = mln.Addr().String()
			s.Logger.Info("metrics listening", "addr", s.metricsAddr)
			go func() { _ = msrv.Serve(mln) }()
			defer msrv.Close()
		}
	}
	var files httpkit.TLSFiles
	if s.Config.TLS.Enabled() {
		files = httpkit.TLSFiles{CertFile: s.Config.TLS.CertFile, KeyFile: s.Config.TLS.KeyFile}
	}
	if ready != nil {
		// Serve below starts accepting at once; connections made before
		// that wait in the listener's backlog.
		ready(ln.Addr().String())
	}
	return httpkit.Serve(ctx, srv, ln, files, 20*time.Second)
}
