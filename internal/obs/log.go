package obs

import (
	"context"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"configmarket/internal/identity"
)

// NewLogHandler wraps h so that every record logged with a request's
// context names its request id and trace, and so that a value logged under
// a key that names a secret is never written.
func NewLogHandler(h slog.Handler) slog.Handler { return contextHandler{h} }

// LogOptions are the JSON handler's options: level and redaction.
func LogOptions(level slog.Leveler) *slog.HandlerOptions {
	return &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
}

// secretKeys are parts of attribute names whose values must not reach a
// log, should some caller ever pass them: credentials and contact data.
var secretKeys = []string{"password", "token", "authorization", "secret", "cookie", "email", "phone"}

func redact(_ []string, a slog.Attr) slog.Attr {
	key := strings.ToLower(a.Key)
	for _, s := range secretKeys {
		if strings.Contains(key, s) {
			return slog.String(a.Key, "[redacted]")
		}
	}
	return a
}

// has reports whether r already carries an attribute named key (some
// callers log the request id themselves).
func has(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := identity.OriginFrom(ctx).RequestID; id != "" && !has(r, "request_id") {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(as)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
