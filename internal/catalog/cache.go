package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"configmarket/internal/cache"
)

// entryTTL bounds staleness should an invalidation be lost with Redis.
const entryTTL = time.Minute

// invalidate makes every cached public answer stale after a committed write.
func (s *Service) invalidate(ctx context.Context) { s.public.Bump(ctx) }

// keyFor builds a generation-scoped key from a kind and any JSON-able parts.
func keyFor(gen int64, kind string, parts any) string {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return fmt.Sprintf("v1:catalog:%d:%s:%s", gen, kind, hex.EncodeToString(sum[:16]))
}

// remember serves a generation-keyed cached value, reading through when
// the cache is down or disabled.
func remember[T any](ctx context.Context, s *Service, kind string, parts any, load func(context.Context) (T, error)) (T, error) {
	gen, ok := s.public.Current(ctx)
	if !ok {
		return load(ctx)
	}
	return cache.Remember(ctx, s.cache, keyFor(gen, kind, parts), entryTTL, load)
}
