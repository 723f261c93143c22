package obs

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// record gathers what the layers below learn about one request (or one
// operation on a WebSocket) for its log line and metrics.
type record struct {
	mu        sync.Mutex
	operation string
	opType    string
	role      string
	cost      int
	// executed is set once the operation ran; its response's error codes
	// are then authoritative. Before that (a document that does not parse
	// or validate) the codes come from the error presenter.
	executed  bool
	codes     []string
	presented []string
	// stream marks a WebSocket: its operations get lines of their own.
	stream bool
}

type recordKey struct{}

func recordFrom(ctx context.Context) *record {
	r, _ := ctx.Value(recordKey{}).(*record)
	return r
}

func (r *record) errorCodes() []string {
	if r.executed {
		return r.codes
	}
	return r.presented
}

// HTTP traces, logs and counts each request. Put it inside the middleware
// that assigns request ids, so the line carries the id.
func (t *Telemetry) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// A caller's trace id is joined, but its sampling flag decides
		// nothing: the sampler does (see NewTracerProvider).
		ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
		defer span.End()
		rec := &record{stream: r.Header.Get("Upgrade") != ""}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		req := r.WithContext(context.WithValue(ctx, recordKey{}, rec))
		next.ServeHTTP(sw, req)

		// ServeMux records the pattern it routed to on the request it got.
		route := req.Pattern
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		span.SetName(r.Method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route), semconv.HTTPResponseStatusCode(sw.status))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
		t.metrics.httpRequest(route, sw.status, elapsed)
		if rec.stream {
			t.log.LogAttrs(ctx, slog.LevelInfo, "websocket closed", slog.String("route", route),
				slog.Int("status", sw.status), durationAttr(elapsed))
			return
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.operation != "" || len(rec.errorCodes()) > 0 {
			t.metrics.operation(rec, elapsed)
		}
		level := slog.LevelInfo
		switch {
		case sw.status >= 500 || contains(rec.errorCodes(), "INTERNAL"):
			level = slog.LevelError
		case route == "GET /healthz" || route == "GET /readyz" || strings.HasPrefix(route, "GET /graphiql"):
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", sw.status), durationAttr(elapsed),
		}
		t.log.LogAttrs(ctx, level, "request", append(attrs, rec.attrs()...)...)
	})
}

// attrs are the GraphQL facts of a line: never variables, documents or
// who the viewer is beyond their role.
func (r *record) attrs() []slog.Attr {
	var as []slog.Attr
	if r.operation != "" || r.opType != "" {
		as = append(as, slog.String("operation", r.operation), slog.String("operation_type", r.opType),
			slog.Int("cost", r.cost))
	}
	if r.role != "" {
		as = append(as, slog.String("role", r.role))
	}
	if codes := r.errorCodes(); len(codes) > 0 {
		as = append(as, slog.Any("error_codes", codes))
	}
	return as
}

func durationAttr(d time.Duration) slog.Attr {
	return slog.Float64("duration_ms", float64(d.Microseconds())/1000)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// statusWriter remembers the status; Unwrap keeps Hijack (WebSocket) and
// Flush reachable through http.ResponseController and coder/websocket.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
