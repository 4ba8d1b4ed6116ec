package petstore

import (
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/gorilla/mux"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/clientaddr"
	"github.com/petstore-auth/petstore-auth/pkg/httpkit"
	"github.com/petstore-auth/petstore-auth/pkg/ratelimit"
)

// The API's default limits (petstore-api's configuration file overrides
// them; petstore-dev runs with them).
const (
	DefaultRateLimitPerMinute   = 6000
	DefaultFailedPerIPPerMinute = 100
)

// ServerConfig is what NewServer needs of the API's configuration.
type ServerConfig struct {
	// TrustedProxies may set X-Forwarded-For/-Proto (clientaddr).
	TrustedProxies []netip.Prefix
	// RateLimitPerMinute caps requests per credential (0: off);
	// FailedPerIPPerMinute caps refused credentials per address (0: off).
	RateLimitPerMinute, FailedPerIPPerMinute int
	// MetricsOnRouter serves /metrics on the public handler (development
	// only; in production it goes on its own listener).
	MetricsOnRouter bool
	// PublicURL is the API's resource identifier and the base of its RFC
	// 9728 metadata URL; Issuer is the authorization server it names.
	PublicURL, Issuer string
}

// Deps are the parts NewServer assembles; the caller opens and closes them
// and runs Verifier.Run.
type Deps struct {
	Store    *Store
	Verifier *bearer.Verifier
	Limiter  ratelimit.Limiter
	Logger   *slog.Logger
	// Authenticator, when set, guards the routes instead of Verifier
	// (which still serves the rate limits and the metrics): the bench
	// build's fixed principal (cmd/petstore-api, tag
	// petstore_bench_noauth). Shipped programs leave it nil.
	Authenticator Authenticator
}

// Server is the assembled PetStore API.
type Server struct {
	// Handler serves the API with its middleware.
	Handler http.Handler
	// Metrics serves the Prometheus metrics (for a metrics listener).
	Metrics http.Handler
}

// NewServer is the PetStore API's composition root: the one place the
// router and its middleware are put together, used by cmd/petstore-api and
// cmd/petstore-dev alike. From the outside in: client address (trusted
// proxies), request id + access log + panic recovery (httpkit), HSTS, then
// after routing the metrics, the refused-credential limit per address and
// the per-credential limit.
func NewServer(cfg ServerConfig, d Deps) *Server {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	if d.Verifier.ResourceMetadata == "" && cfg.PublicURL != "" {
		d.Verifier.ResourceMetadata = MetadataURL(cfg.PublicURL)
	}
	m := newMetrics(d.Verifier, d.Store)
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, httpkit.CodeNotFound, "Not found")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, httpkit.CodeMethodNotAllowed, "Method not allowed")
	})
	r.Use(m.http.Middleware,
		failureLimit(d.Limiter, cfg.FailedPerIPPerMinute, d.Verifier.Known, log, m.limited.Inc),
		credentialLimit(d.Limiter, cfg.RateLimitPerMinute, log, m.limited.Inc))
	var auth Authenticator = d.Verifier
	if d.Authenticator != nil {
		auth = d.Authenticator
	}
	(&Handler{Store: d.Store, Verifier: auth, Logger: log, PublicURL: cfg.PublicURL, Issuer: cfg.Issuer}).Mount(r)
	if cfg.MetricsOnRouter {
		r.Handle("/metrics", m.handler()).Methods(http.MethodGet)
	}
	// The client address middleware is outermost: the access log and the
	// rate limits read what it found.
	h := clientaddr.Middleware(cfg.TrustedProxies)(httpkit.Middleware(log)(hsts(r)))
	return &Server{Handler: h, Metrics: m.handler()}
}

// hsts tells browsers to use HTTPS only for two years, on responses to
// requests that came over HTTPS (directly or through a trusted proxy).
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if clientaddr.Scheme(r) == "https" {
			w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
