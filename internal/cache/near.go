package cache

import (
	"context"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Near keeps a process-local copy of the entries it reads from or writes
// to a shared cache, so a repeated read costs no round trip and no copy
// off the wire. It is only for keys whose value never changes once
// written, such as response-cache keys that name their generation: an
// entry overwritten or deleted by another instance would live on here.
type Near struct {
	Cache
	local    *expirable.LRU[string, []byte]
	maxBytes int
}

// NewNear keeps up to entries values of at most maxBytes each for ttl.
func NewNear(shared Cache, entries, maxBytes int, ttl time.Duration) *Near {
	return &Near{Cache: shared, local: expirable.NewLRU[string, []byte](entries, nil, ttl), maxBytes: maxBytes}
}

func (n *Near) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if b, ok := n.local.Get(key); ok {
		return b, true, nil
	}
	b, ok, err := n.Cache.Get(ctx, key)
	if ok {
		n.keep(key, b)
	}
	return b, ok, err
}

func (n *Near) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := n.Cache.Set(ctx, key, value, ttl); err != nil {
		return err
	}
	n.keep(key, value)
	return nil
}

func (n *Near) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		n.local.Remove(k)
	}
	return n.Cache.Delete(ctx, keys...)
}

func (n *Near) keep(key string, value []byte) {
	if len(value) <= n.maxBytes {
		n.local.Add(key, value)
	}
}
