package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/petstore-auth/petstore-auth/pkg/httpmetrics"
	"github.com/petstore-auth/petstore-auth/pkg/identity"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	registry *prometheus.Registry
	http     *httpmetrics.Metrics
	// housekeeping counts rows removed by table.
	housekeeping *prometheus.CounterVec
	// events counts audit events: tokens issued by grant type, refresh
	// reuse detected, failed logins, revocations…
	events *prometheus.CounterVec
}

// observeEvent counts one audit event.
func (m *metrics) observeEvent(e *identity.AuditEvent) {
	m.events.WithLabelValues(e.Type, e.Outcome, e.Details["grant_type"]).Inc()
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		http:     httpmetrics.New("petstore_auth"),
	}
	m.housekeeping = housekeepingCounter()
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "petstore_auth_events_total", Help: "Security events by type (token.issued, token.reuse_detected, login.failure, …), outcome and grant type.",
	}, []string{"type", "outcome", "grant_type"})
	m.registry.MustRegister(m.http.Collectors()...)
	m.registry.MustRegister(m.housekeeping, m.events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
