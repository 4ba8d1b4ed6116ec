package petstore

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/petstore-auth/petstore-auth/pkg/bearer"
	"github.com/petstore-auth/petstore-auth/pkg/httpmetrics"
)

// metrics are the API's Prometheus collectors.
type metrics struct {
	registry *prometheus.Registry
	http     *httpmetrics.Metrics
	limited  prometheus.Counter
}

func newMetrics(v *bearer.Verifier, store *Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		http:     httpmetrics.New("petstore_api"),
		limited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "petstore_api_rate_limited_total", Help: "Requests answered 429 by the rate limits (per credential, and per address for refused credentials).",
		}),
	}
	counter := func(name, help string, f func(bearer.CacheStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f(v.Stats())) })
	}
	pool := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "petstore_api_db_" + name, Help: help}, f)
	}
	m.registry.MustRegister(m.http.Collectors()...)
	m.registry.MustRegister(m.limited,
		counter("petstore_api_introspection_cache_hits_total", "Credentials answered from the introspection cache.",
			func(s bearer.CacheStats) uint64 { return s.Hits }),
		counter("petstore_api_introspection_cache_misses_total", "Credentials not in the introspection cache.",
			func(s bearer.CacheStats) uint64 { return s.Misses }),
		counter("petstore_api_introspections_total", "Introspection calls to the authorization server.",
			func(s bearer.CacheStats) uint64 { return s.Introspections }),
		pool("open_connections", "Open database connections.", func() float64 { return float64(store.Stats().OpenConnections) }),
		pool("in_use_connections", "Database connections in use.", func() float64 { return float64(store.Stats().InUse) }),
		pool("idle_connections", "Idle database connections.", func() float64 { return float64(store.Stats().Idle) }),
		pool("wait_count", "Requests that waited for a database connection (cumulative).", func() float64 { return float64(store.Stats().WaitCount) }),
		pool("wait_seconds", "Time spent waiting for a database connection (cumulative).", func() float64 { return store.Stats().WaitDuration.Seconds() }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
