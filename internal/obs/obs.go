// Package obs is how the server observes itself: one structured log line
// per request, Prometheus metrics and OpenTelemetry traces across
// HTTP → GraphQL → SQL → Redis. It hooks into each layer through that
// layer's own extension point (an HTTP middleware, a gqlgen extension, a
// pgx tracer, a go-redis hook), so no domain package knows it exists.
package obs

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Telemetry holds the server's metrics, its tracer and the logger of
// request lines. The zero value is not usable; build it with New.
type Telemetry struct {
	log        *slog.Logger
	registry   *prometheus.Registry
	metrics    *metrics
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// Options configure New.
type Options struct {
	// Logger writes the request lines; nil means slog.Default().
	Logger *slog.Logger
	// Tracing provides the tracer; nil turns tracing off.
	Tracing trace.TracerProvider
}

// New builds a Telemetry with a registry of its own, so several servers in
// one process (tests) never share counters.
func New(o Options) *Telemetry {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Tracing == nil {
		o.Tracing = noop.NewTracerProvider()
	}
	reg := prometheus.NewRegistry()
	return &Telemetry{
		log:        o.Logger,
		registry:   reg,
		metrics:    newMetrics(reg),
		tracer:     o.Tracing.Tracer("configmarket"),
		propagator: propagation.TraceContext{},
	}
}
