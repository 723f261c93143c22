package cache

import (
	"context"
	"sync"
	"time"
)

// Reference keeps, in this process, a small value that many requests read
// and only migrations write (the tariff plans), and reads it again through
// load once it is older than ttl. It is not shared: after an operator
// changes such a value by hand, instances may disagree for up to ttl, as
// they may with an entry of the shared cache. Errors are not kept.
type Reference[T any] struct {
	ttl  time.Duration
	load func(context.Context) (T, error)

	mu      sync.Mutex
	value   T
	expires time.Time
}

// NewReference returns an empty Reference over load.
func NewReference[T any](ttl time.Duration, load func(context.Context) (T, error)) *Reference[T] {
	return &Reference[T]{ttl: ttl, load: load}
}

// Get returns the kept value, loading it first when it is missing or old;
// callers arriving during a load wait for it rather than load again.
func (r *Reference[T]) Get(ctx context.Context) (T, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Before(r.expires) {
		return r.value, nil
	}
	v, err := r.load(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	r.value, r.expires = v, time.Now().Add(r.ttl)
	return v, nil
}
