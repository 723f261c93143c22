// Package cache is the only code that speaks Redis for caching. It offers a
// key-value cache with two implementations: Redis, shared by every
// instance, and in-process, for a single instance without Redis. The cache
// is an optimisation, never the authority: callers fall back to the
// database when it fails. (Live events cross instances through PostgreSQL
// NOTIFY instead, see package live.)
package cache

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"
)

// Cache stores opaque values with a mandatory TTL.
type Cache interface {
	// Get returns the value and whether it was found.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
	// Incr adds one to the integer at key (missing counts as 0), renews its
	// TTL and returns the new value.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Ping reports whether the backing store answers.
	Ping(ctx context.Context) error
	// Kind names the implementation for /readyz: "redis" or "memory".
	Kind() string
}

// ErrNoTTL refuses a Set without expiry: every key must age out.
var ErrNoTTL = errors.New("cache: ttl must be positive")

// Remember returns the cached value of key, or loads, caches and returns it.
// Cache failures are logged and bypassed; only load's error is returned.
// Call it outside transactions, and only for data every viewer may see.
func Remember[T any](ctx context.Context, c Cache, key string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	if c.Kind() == "none" {
		// CACHE_DISABLED: nothing would be kept, so nothing is encoded.
		return load(ctx)
	}
	if b, ok, err := c.Get(ctx, key); err != nil {
		slog.WarnContext(ctx, "cache get failed", "key", key, "err", err)
	} else if ok {
		var v T
		if err := json.Unmarshal(b, &v); err == nil {
			return v, nil
		}
		slog.WarnContext(ctx, "cache value undecodable", "key", key)
	}
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	if b, err := json.Marshal(v); err == nil {
		if err := c.Set(ctx, key, b, ttl); err != nil {
			slog.WarnContext(ctx, "cache set failed", "key", key, "err", err)
		}
	}
	return v, nil
}

// Invalidate deletes keys after a commit, logging rather than failing: the
// TTL bounds how long a missed invalidation can serve stale data.
func Invalidate(ctx context.Context, c Cache, keys ...string) {
	if err := c.Delete(ctx, keys...); err != nil {
		slog.WarnContext(ctx, "cache invalidation failed", "keys", keys, "err", err)
	}
}
