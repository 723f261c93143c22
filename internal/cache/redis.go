package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// NewRedisClient connects with timeouts short enough that a hung Redis costs
// a request milliseconds, not the library's default seconds.
func NewRedisClient(url string) (*redis.Client, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout = time.Second
	opts.ReadTimeout = 100 * time.Millisecond
	opts.WriteTimeout = 100 * time.Millisecond
	opts.PoolTimeout = 200 * time.Millisecond
	// A cache miss costs one database read; a retry against a sick Redis
	// costs more than that.
	opts.MaxRetries = -1
	return redis.NewClient(opts), nil
}

// Redis is the shared cache of all instances.
type Redis struct {
	client *redis.Client
	// prefix namespaces every key, so deployments (or test databases)
	// sharing one Redis never read each other's entries.
	prefix string
	// downUntil (unix nanoseconds) is when to try Redis again after a
	// failure: while it is down, requests skip it at once instead of each
	// paying a timeout.
	downUntil atomic.Int64
}

// NewRedis wraps a client; every key is put under prefix.
func NewRedis(client *redis.Client, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// ErrUnavailable is returned without a round trip while Redis is considered down.
var ErrUnavailable = errors.New("cache: redis unavailable")

// backoff is how long a failed Redis is skipped.
const backoff = 2 * time.Second

func (r *Redis) available() error {
	if time.Now().UnixNano() < r.downUntil.Load() {
		return ErrUnavailable
	}
	return nil
}

// observe marks Redis down after a failure other than a miss.
func (r *Redis) observe(err error) error {
	if err != nil && !errors.Is(err, redis.Nil) && !errors.Is(err, context.Canceled) {
		r.downUntil.Store(time.Now().Add(backoff).UnixNano())
	}
	return err
}

func (r *Redis) Kind() string { return "redis" }

// Ping always asks Redis, so readiness reports its real state (and a
// recovered Redis is used again at once).
func (r *Redis) Ping(ctx context.Context) error {
	err := r.client.Ping(ctx).Err()
	if err == nil {
		r.downUntil.Store(0)
	}
	return r.observe(err)
}

func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := r.available(); err != nil {
		return nil, false, err
	}
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, r.observe(err)
	}
	return b, true, nil
}

func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return ErrNoTTL
	}
	if err := r.available(); err != nil {
		return err
	}
	return r.observe(r.client.Set(ctx, r.prefix+key, value, ttl).Err())
}

func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, ErrNoTTL
	}
	if err := r.available(); err != nil {
		return 0, err
	}
	pipe := r.client.TxPipeline()
	incr := pipe.Incr(ctx, r.prefix+key)
	pipe.Expire(ctx, r.prefix+key, ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, r.observe(err)
	}
	return incr.Val(), nil
}

func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := r.available(); err != nil {
		return err
	}
	prefixed := make([]string, len(keys))
	for i, k := range keys {
		prefixed[i] = r.prefix + k
	}
	return r.observe(r.client.Del(ctx, prefixed...).Err())
}
