// Package ratelimit spends per-client budgets: a leaky bucket per key in
// Redis (GCRA, shared by every instance), and the same rule in process when
// Redis is absent or down — it never fails open.
package ratelimit

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Rule is a bucket: Burst units at once, refilled at Rate units per Period.
type Rule struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// Limiter decides whether a key may spend n units now.
type Limiter struct {
	redis  *redis_rate.Limiter
	prefix string
	local  *localBuckets
	// downUntil (unix nanoseconds): after a Redis failure the in-process
	// buckets decide for a while, without a round trip per request.
	downUntil atomic.Int64
}

const redisBackoff = 2 * time.Second

// New uses client when not nil, and the in-process buckets otherwise or
// when it fails.
func New(client *redis.Client, prefix string) *Limiter {
	l := &Limiter{prefix: prefix, local: &localBuckets{buckets: map[string]*bucket{}}}
	if client != nil {
		l.redis = redis_rate.NewLimiter(client)
	}
	return l
}

// Allow spends n units of key's bucket; when refused, retryAfter says when
// n units will be there.
func (l *Limiter) Allow(ctx context.Context, key string, rule Rule, n int) (ok bool, retryAfter time.Duration) {
	if l.redis != nil && time.Now().UnixNano() >= l.downUntil.Load() {
		res, err := l.redis.AllowN(ctx, l.prefix+key, redis_rate.Limit{Rate: rule.Rate, Burst: rule.Burst, Period: rule.Period}, min(n, rule.Burst))
		if err == nil {
			return res.Allowed > 0, res.RetryAfter
		}
		if ctx.Err() != nil {
			// The client went away: that is no Redis outage, and the
			// other requests keep their shared budgets.
			return l.local.allow(key, rule, n, time.Now())
		}
		l.downUntil.Store(time.Now().Add(redisBackoff).UnixNano())
		slog.WarnContext(ctx, "rate limiter: redis unavailable, limiting in process", "err", err)
	}
	return l.local.allow(key, rule, n, time.Now())
}

// localBuckets is the in-process fallback: one token bucket per key,
// bounded in number.
type localBuckets struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

const maxLocalBuckets = 100_000

func (b *localBuckets) allow(key string, rule Rule, n int, now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	perSecond := float64(rule.Rate) / rule.Period.Seconds()
	k, ok := b.buckets[key]
	if !ok {
		if len(b.buckets) >= maxLocalBuckets {
			// Forgetting full buckets only ever lets clients start fresh:
			// drop the ones that have refilled.
			for kk, bb := range b.buckets {
				if bb.tokens+now.Sub(bb.at).Seconds()*perSecond >= float64(rule.Burst) {
					delete(b.buckets, kk)
				}
			}
		}
		k = &bucket{tokens: float64(rule.Burst), at: now}
		b.buckets[key] = k
	}
	k.tokens = math.Min(float64(rule.Burst), k.tokens+now.Sub(k.at).Seconds()*perSecond)
	k.at = now
	need := math.Min(float64(n), float64(rule.Burst))
	if k.tokens >= need {
		k.tokens -= need
		return true, 0
	}
	return false, time.Duration((need - k.tokens) / perSecond * float64(time.Second))
}
