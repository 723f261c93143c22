package cache

import (
	"context"
	"sync/atomic"
	"time"
)

// None stores nothing: every Get misses, so every layer (the response
// cache, the generation-keyed catalog cache, the tariff plans) reads
// through to PostgreSQL. It measures the uncached cost (CACHE_DISABLED).
type None struct{ n atomic.Int64 }

var _ Cache = (*None)(nil)

func (*None) Get(context.Context, string) ([]byte, bool, error)        { return nil, false, nil }
func (*None) Set(context.Context, string, []byte, time.Duration) error { return nil }
func (*None) Delete(context.Context, ...string) error                  { return nil }

// Incr counts, so generations still move on writes.
func (c *None) Incr(context.Context, string, time.Duration) (int64, error) { return c.n.Add(1), nil }
func (*None) Ping(context.Context) error                                   { return nil }
func (*None) Kind() string                                                 { return "none" }
