// Package metrics holds genguard's Prometheus collectors on a registry of its
// own (no global default registry), handed to whoever records.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the collectors the gateway records into.
type Metrics struct {
	reg *prometheus.Registry

	Requests       *prometheus.CounterVec   // route, code
	Latency        *prometheus.HistogramVec // route
	Decisions      *prometheus.CounterVec   // stage, decision
	UpstreamErrors *prometheus.CounterVec   // upstream, kind
	UpstreamTTFB   *prometheus.HistogramVec // upstream
	BreakerState   *prometheus.GaugeVec     // upstream: 0 closed, 1 half-open, 2 open
	InFlight       prometheus.Gauge
}

// New creates and registers the collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "genguard_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "genguard_http_request_duration_seconds", Help: "Time to the end of the response, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"route"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "genguard_moderation_decisions_total", Help: "Moderation decisions by stage (input, output) and decision.",
		}, []string{"stage", "decision"}),
		UpstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "genguard_upstream_errors_total", Help: "Upstream failures by upstream and kind (connect, status_5xx, timeout, breaker_open, stream).",
		}, []string{"upstream", "kind"}),
		UpstreamTTFB: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "genguard_upstream_response_header_seconds", Help: "Time until the upstream's response headers.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
		}, []string{"upstream"}),
		BreakerState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "genguard_upstream_breaker_state", Help: "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.",
		}, []string{"upstream"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "genguard_http_in_flight_requests", Help: "Requests being served.",
		}),
	}
	m.reg.MustRegister(m.Requests, m.Latency, m.Decisions, m.UpstreamErrors, m.UpstreamTTFB, m.BreakerState, m.InFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds further collectors (e.g. the audit queue gauges).
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
