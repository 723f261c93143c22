package commerce

import (
	"context"
	"time"

	"configmarket/internal/idempotency"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// charge runs a money-moving request once per idempotency key (see
// package idempotency); a charge changes what the storefront shows.
func (s *Service) charge(ctx context.Context, v identity.Viewer, key, operation string, input any,
	run func(q *store.Queries, now time.Time) (Charge, error)) (Charge, error) {
	out, err := idempotency.Once(ctx, s.store, v.UserID, key, operation, input,
		func(q *store.Queries) (Charge, error) { return run(q, s.clock.Now()) }, nil)
	if err == nil {
		s.public.Bump(ctx)
	}
	return out, err
}
