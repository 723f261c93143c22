package obs

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// SQLTracer is a pgx tracer that times every statement and, with tracing
// on, gives it a span. The span carries the statement text, which is a
// constant with placeholders (values travel as arguments and are never
// recorded).
func (t *Telemetry) SQLTracer() pgx.QueryTracer { return sqlTracer{t} }

type sqlTracer struct{ t *Telemetry }

type sqlStartKey struct{}

type sqlStart struct {
	at   time.Time
	verb string
	span trace.Span
}

func (s sqlTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	st := &sqlStart{at: time.Now(), verb: verb(data.SQL)}
	if trace.SpanFromContext(ctx).IsRecording() {
		ctx, st.span = s.t.tracer.Start(ctx, st.verb, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(semconv.DBSystemNamePostgreSQL, semconv.DBOperationName(st.verb), semconv.DBQueryText(data.SQL)))
	}
	return context.WithValue(ctx, sqlStartKey{}, st)
}

func (s sqlTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	st, ok := ctx.Value(sqlStartKey{}).(*sqlStart)
	if !ok {
		return
	}
	outcome := "ok"
	if data.Err != nil {
		outcome = "error"
	}
	s.t.metrics.sqlDuration.WithLabelValues(st.verb, outcome).Observe(time.Since(st.at).Seconds())
	if st.span != nil {
		if data.Err != nil {
			st.span.SetStatus(codes.Error, "statement failed")
		}
		st.span.End()
	}
}

// Money reads go out as batches (the row-level-security subject, then the
// statement): a batch is timed as a whole under its statement's verb.
func (s sqlTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	st := &sqlStart{at: time.Now(), verb: "BATCH"}
	if trace.SpanFromContext(ctx).IsRecording() {
		ctx, st.span = s.t.tracer.Start(ctx, "BATCH", trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(semconv.DBSystemNamePostgreSQL))
	}
	return context.WithValue(ctx, sqlStartKey{}, st)
}

func (s sqlTracer) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	if st, ok := ctx.Value(sqlStartKey{}).(*sqlStart); ok {
		st.verb = verb(data.SQL)
		if st.span != nil {
			st.span.SetAttributes(semconv.DBQueryText(data.SQL))
		}
	}
}

func (s sqlTracer) TraceBatchEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceBatchEndData) {
	s.TraceQueryEnd(ctx, conn, pgx.TraceQueryEndData{Err: data.Err})
}

// verbs are the statement kinds the store sends; others count as "other".
var verbs = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "WITH": true,
	"BEGIN": true, "COMMIT": true, "ROLLBACK": true, "LISTEN": true, "NOTIFY": true, "SET": true,
}

func verb(sql string) string {
	sql = strings.TrimSpace(sql)
	// Skip leading "-- comment" lines.
	for strings.HasPrefix(sql, "--") {
		_, rest, _ := strings.Cut(sql, "\n")
		sql = strings.TrimSpace(rest)
	}
	end := strings.IndexFunc(sql, func(r rune) bool { return r == ' ' || r == '\n' || r == '\t' || r == '(' || r == ';' })
	if end < 0 {
		end = len(sql)
	}
	v := strings.ToUpper(sql[:end])
	if !verbs[v] {
		return "OTHER"
	}
	return v
}
