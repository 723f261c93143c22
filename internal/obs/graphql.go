package obs

import (
	"context"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"configmarket/internal/identity"
)

// GraphQL is the gqlgen extension that names the operation in the
// request's line, metrics and trace. Add it before every other extension:
// the first one is the outermost, and it must see the final response
// (with the cost other extensions add).
func (t *Telemetry) GraphQL() graphql.HandlerExtension { return gqlExtension{t} }

// Presenter wraps the error presenter so that errors of documents that
// never run (parse and validation failures) still reach the request line.
func (t *Telemetry) Presenter(present graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := present(ctx, err)
		if rec := recordFrom(ctx); rec != nil {
			rec.mu.Lock()
			rec.presented = append(rec.presented, codeOf(e))
			rec.mu.Unlock()
		}
		return e
	}
}

type gqlExtension struct{ t *Telemetry }

var (
	_ graphql.OperationInterceptor      = gqlExtension{}
	_ graphql.OperationParameterMutator = gqlExtension{}
	_ graphql.RootFieldInterceptor      = gqlExtension{}
)

func (gqlExtension) ExtensionName() string                   { return "Observability" }
func (gqlExtension) Validate(graphql.ExecutableSchema) error { return nil }

// operationName is what a GraphQL name may be; anything else a client
// sends is not repeated into logs and metrics.
var operationName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,63}$`)

// leadingName finds the name of a document's first operation
// ("query Plans {…}") without parsing it.
var leadingName = regexp.MustCompile(`^\s*(?:#[^\n]*\n\s*)*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]{0,63})\b`)

// MutateOperationParameters notes the operation's name before the document
// is parsed, so a document that fails to validate is still named in the
// log. (An operation that runs is renamed from its parsed document.)
func (gqlExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	rec := recordFrom(ctx)
	if rec == nil || rec.stream {
		return nil
	}
	name := p.OperationName
	if name == "" {
		if m := leadingName.FindStringSubmatch(p.Query); m != nil {
			name = m[1]
		}
	}
	if operationName.MatchString(name) {
		rec.mu.Lock()
		rec.operation = name
		rec.mu.Unlock()
	}
	return nil
}

func (e gqlExtension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	start := time.Now()
	op := graphql.GetOperationContext(ctx)
	opType, name := "", op.OperationName
	if op.Operation != nil {
		opType = string(op.Operation.Operation)
		if name == "" {
			name = op.Operation.Name
		}
	}
	if !operationName.MatchString(name) {
		name = ""
	}
	rec := recordFrom(ctx)
	stream := rec == nil || rec.stream
	if stream {
		// Each operation on a WebSocket is a line and a count of its own.
		rec = &record{}
		ctx = context.WithValue(ctx, recordKey{}, rec)
	}
	rec.mu.Lock()
	rec.operation, rec.opType, rec.executed = name, opType, true
	if v := identity.FromContext(ctx); !v.Anonymous() {
		rec.role = string(v.Role)
	} else {
		rec.role = "anonymous"
	}
	rec.mu.Unlock()

	spanName := opType
	if name != "" {
		spanName += " " + name
	}
	ctx, span := e.t.tracer.Start(ctx, spanName, trace.WithAttributes(
		semconv.GraphQLOperationTypeKey.String(opType), semconv.GraphQLOperationName(name)))
	subscription := opType == "subscription"
	if subscription {
		e.t.metrics.subscriptions.Inc()
	}
	var once sync.Once
	finish := func(ctx context.Context) {
		once.Do(func() {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			span.SetAttributes(attribute.Int("graphql.cost", rec.cost))
			if len(rec.codes) > 0 {
				span.SetStatus(codes.Error, rec.codes[0])
			}
			span.End()
			if subscription {
				e.t.metrics.subscriptions.Dec()
			}
			if !stream {
				return // the HTTP line counts and logs it
			}
			elapsed := time.Since(start)
			e.t.metrics.operation(rec, elapsed)
			level := slog.LevelInfo
			if contains(rec.codes, "INTERNAL") {
				level = slog.LevelError
			}
			e.t.log.LogAttrs(ctx, level, "operation", append([]slog.Attr{durationAttr(elapsed)}, rec.attrs()...)...)
		})
	}
	responses := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := responses(ctx)
		if resp == nil {
			finish(ctx)
			return nil
		}
		rec.mu.Lock()
		rec.cost = costOf(resp)
		for _, err := range resp.Errors {
			rec.codes = append(rec.codes, codeOf(err))
		}
		rec.mu.Unlock()
		if !subscription {
			// A query or mutation answers once.
			finish(ctx)
		}
		return resp
	}
}

// InterceptRootField gives each top-level field a span: the SQL and Redis
// spans of its resolvers and loaders nest under it.
func (e gqlExtension) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return next(ctx)
	}
	parent := "Query"
	if d := fc.Field.ObjectDefinition; d != nil {
		parent = d.Name
	}
	ctx, span := e.t.tracer.Start(ctx, parent+"."+fc.Field.Name)
	defer span.End()
	return next(ctx)
}

// costOf reads the cost the limits extension reports in the response.
func costOf(resp *graphql.Response) int {
	c, _ := resp.Extensions["cost"].(map[string]any)
	n, _ := c["requestedQueryCost"].(int)
	return n
}

// errorCode is what an extensions.code looks like; anything else is
// counted as "UNKNOWN", so the metrics' label values stay a small set.
var errorCode = regexp.MustCompile(`^[A-Z][A-Z_]{0,39}$`)

func codeOf(e *gqlerror.Error) string {
	if e == nil {
		return "UNKNOWN"
	}
	c, _ := e.Extensions["code"].(string)
	if !errorCode.MatchString(c) {
		return "UNKNOWN"
	}
	return c
}
