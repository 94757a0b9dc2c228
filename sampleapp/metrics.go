package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series of user requests. They live in a private
// registry so that tests can build many apps without duplicate registration.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// newMetrics labels every series with version, so that a dashboard can split
// stable from canary traffic when both versions scrape into one place.
func newMetrics(version string) *metrics {
	labels := prometheus.Labels{"version": version}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "sampleapp_http_requests_total",
			Help:        "User requests to / by status code.",
			ConstLabels: labels,
		}, []string{"code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "sampleapp_http_request_duration_seconds",
			Help:        "Latency of user requests to /, injected latency included.",
			ConstLabels: labels,
			Buckets:     prometheus.DefBuckets,
		}, nil),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "sampleapp_http_requests_in_flight",
			Help:        "User requests to / being served now.",
			ConstLabels: labels,
		}),
	}
	m.registry.MustRegister(
		m.requests, m.duration, m.inFlight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// instrument counts, times and tracks h.
func (m *metrics) instrument(h http.Handler) http.Handler {
	h = promhttp.InstrumentHandlerCounter(m.requests, h)
	h = promhttp.InstrumentHandlerDuration(m.duration, h)
	return promhttp.InstrumentHandlerInFlight(m.inFlight, h)
}

// handler serves the private registry in the Prometheus exposition format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
