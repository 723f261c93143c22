package obs

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// TracingConfig says where spans go. An empty Endpoint means no tracing.
type TracingConfig struct {
	// Endpoint is the OTLP/HTTP collector's base URL
	// (http://collector:4318); spans are posted to its /v1/traces.
	Endpoint    string
	ServiceName string
	// SampleRatio is the share of traces kept, 0 to 1.
	SampleRatio float64
}

// NewTracerProvider exports spans in batches over OTLP/HTTP. Sampling is
// decided here for every new trace, including one a caller continues with
// a traceparent header: a client cannot make the server trace everything
// by setting the sampled flag. Call Shutdown to flush at exit.
func NewTracerProvider(ctx context.Context, c TracingConfig) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(c.Endpoint+"/v1/traces"))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	ratio := sdktrace.TraceIDRatioBased(c.SampleRatio)
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(c.ServiceName))),
		sdktrace.WithSampler(sdktrace.ParentBased(ratio,
			sdktrace.WithRemoteParentSampled(ratio), sdktrace.WithRemoteParentNotSampled(ratio))),
	), nil
}
