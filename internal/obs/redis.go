package obs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// RedisHook times every Redis command and, with tracing on, gives it a
// span. Keys and values are not recorded: a command's name says enough.
func (t *Telemetry) RedisHook() redis.Hook { return redisHook{t} }

type redisHook struct{ t *Telemetry }

func (redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := strings.ToUpper(cmd.Name())
		return h.observe(ctx, name, 1, func(ctx context.Context) error { return next(ctx, cmd) })
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		return h.observe(ctx, "PIPELINE", len(cmds), func(ctx context.Context) error { return next(ctx, cmds) })
	}
}

func (h redisHook) observe(ctx context.Context, name string, n int, run func(context.Context) error) error {
	start := time.Now()
	var span trace.Span
	if trace.SpanFromContext(ctx).IsRecording() {
		ctx, span = h.t.tracer.Start(ctx, "redis "+name, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(semconv.DBSystemNameRedis, semconv.DBOperationName(name), attribute.Int("db.operation.batch.size", n)))
	}
	err := run(ctx)
	outcome := "ok"
	switch {
	case errors.Is(err, redis.Nil):
		outcome = "nil" // a miss, not a failure
	case err != nil:
		outcome = "error"
	}
	h.t.metrics.redisDuration.WithLabelValues(name, outcome).Observe(time.Since(start).Seconds())
	if span != nil {
		if outcome == "error" {
			span.SetStatus(codes.Error, "redis command failed")
		}
		span.End()
	}
	return err
}
