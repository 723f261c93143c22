package obs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// TestTracerProviderExportsOverOTLP: spans reach the collector's
// /v1/traces, and the server's sampler, not the caller's sampled flag,
// decides whether a continued trace is kept.
func TestTracerProviderExportsOverOTLP(t *testing.T) {
	var posts atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	// The caller says "sampled" on a trace the server would not keep.
	remote := trace.ContextWithRemoteSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 1}, SpanID: trace.SpanID{0x00, 0xf0, 1},
		TraceFlags: trace.FlagsSampled, Remote: true,
	}))
	for _, c := range []struct {
		ratio float64
		posts int64
	}{{0, 0}, {1, 1}} {
		posts.Store(0)
		tp, err := NewTracerProvider(context.Background(), TracingConfig{Endpoint: collector.URL, ServiceName: "test", SampleRatio: c.ratio})
		if err != nil {
			t.Fatal(err)
		}
		_, span := tp.Tracer("test").Start(remote, "POST /graphql")
		span.End()
		if err := tp.Shutdown(context.Background()); err != nil { // flushes
			t.Fatal(err)
		}
		if got := posts.Load(); got != c.posts {
			t.Errorf("sample ratio %v: %d exports, want %d", c.ratio, got, c.posts)
		}
	}
}
