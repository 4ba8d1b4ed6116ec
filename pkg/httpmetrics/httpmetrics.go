// Package httpmetrics is the request metrics all three programs expose:
// requests by route template, method and status, and a latency histogram by
// route template. It labels by the gorilla/mux route template, never the raw
// path, which would carry ids and codes and explode cardinality. It depends
// only on gorilla/mux and the Prometheus client, so the resource server can
// use it without importing anything of the authorization server.
package httpmetrics

import (
	"net/http"
	"strconv"

	"github.com/felixge/httpsnoop"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts one program's requests.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New makes the collectors, named prefix_http_requests_total and
// prefix_http_request_duration_seconds; register them with Collectors.
func New(prefix string) *Metrics {
	return &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: prefix + "_http_requests_total", Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: prefix + "_http_request_duration_seconds", Help: "HTTP request latency by route template.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
		}, []string{"route", "method"}),
	}
}

// Collectors returns what to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.latency}
}

// Middleware counts a request; install it with (*mux.Router).Use so that it
// runs after routing and sees the route template.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := "unmatched"
		if cr := mux.CurrentRoute(r); cr != nil {
			if t, err := cr.GetPathTemplate(); err == nil {
				route = t
			}
		}
		got := httpsnoop.CaptureMetrics(next, w, r)
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(got.Code)).Inc()
		m.latency.WithLabelValues(route, r.Method).Observe(got.Duration.Seconds())
	})
}
