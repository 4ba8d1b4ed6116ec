package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/petstore-auth/petstore-auth/pkg/httpmetrics"
)

// metrics count MyApp's requests by route template and status.
type metrics struct {
	registry *prometheus.Registry
	http     *httpmetrics.Metrics
}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry(), http: httpmetrics.New("petstore_demo")}
	m.registry.MustRegister(m.http.Collectors()...)
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
