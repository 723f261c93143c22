package live

import (
	"context"
	"sync/atomic"
)

// MaxSubscriptionsPerConnection caps the streams one socket may hold.
const MaxSubscriptionsPerConnection = 20

type budgetKey struct{}

// WithBudget gives a connection its subscription budget.
func WithBudget(ctx context.Context) context.Context {
	return context.WithValue(ctx, budgetKey{}, new(atomic.Int32))
}

// Take claims one subscription of the connection's budget; release gives
// it back. A context without a budget (not a socket) is not limited.
func Take(ctx context.Context) (release func(), ok bool) {
	n, _ := ctx.Value(budgetKey{}).(*atomic.Int32)
	if n == nil {
		return func() {}, true
	}
	if n.Add(1) > MaxSubscriptionsPerConnection {
		n.Add(-1)
		return nil, false
	}
	return func() { n.Add(-1) }, true
}
