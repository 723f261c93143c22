package cache

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// Generation is a counter that every committed write to some data bumps.
// Entries keyed by it are invalidated all at once by one increment, and a
// write is visible on the very next read.
type Generation struct {
	cache Cache
	key   string
}

// The counter outlives every entry keyed by it, so it never resets under a
// live entry.
const generationTTL = 7 * 24 * time.Hour

// NewGeneration names a counter in c.
func NewGeneration(c Cache, name string) *Generation {
	return &Generation{cache: c, key: "v1:generation:" + name}
}

// Current returns the counter; ok is false when nothing can be cached —
// the cache is disabled (CACHE_DISABLED) or cannot be read — and callers
// then skip caching, without building keys for entries nobody keeps.
func (g *Generation) Current(ctx context.Context) (gen int64, ok bool) {
	if g.cache.Kind() == "none" {
		return 0, false
	}
	b, found, err := g.cache.Get(ctx, g.key)
	if err != nil {
		// A client that went away is not a cache outage.
		if ctx.Err() == nil {
			slog.WarnContext(ctx, "cache unavailable; reading through", "err", err)
		}
		return 0, false
	}
	if !found {
		return 0, true
	}
	gen, err = strconv.ParseInt(string(b), 10, 64)
	return gen, err == nil
}

// Bump invalidates every entry of the current generation. Call it after the
// write committed.
func (g *Generation) Bump(ctx context.Context) {
	if _, err := g.cache.Incr(ctx, g.key, generationTTL); err != nil {
		slog.ErrorContext(ctx, "cache invalidation failed; entries expire within their TTL", "key", g.key, "err", err)
	}
}

// Cache is the cache the generation lives in.
func (g *Generation) Cache() Cache { return g.cache }
