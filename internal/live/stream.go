package live

import (
	"context"

	"configmarket/internal/apperr"
)

type slowReaderKey struct{}

// OnSlowReader attaches to a connection's context how to end the
// connection once one of its streams was dropped for reading too slowly.
// The transport that owns the socket sets it (internal/web); the streams
// only learn that they were dropped.
func OnSlowReader(ctx context.Context, closeConn func()) context.Context {
	return context.WithValue(ctx, slowReaderKey{}, closeConn)
}

// closeSlowReader ends the connection of ctx, if its transport said how,
// so that its client reconnects and starts from a fresh snapshot.
func closeSlowReader(ctx context.Context) {
	if closeConn, ok := ctx.Value(slowReaderKey{}).(func()); ok {
		closeConn()
	}
}

// Stream subscribes to the events of key for as long as ctx lives and sends
// the subscriber first's message (when first is not nil), then what next
// makes of each event (an event next refuses is skipped). The stream holds
// one subscription of the connection's budget (Take) until it ends. A
// subscriber that falls behind is dropped by the hub and its connection
// closed (OnSlowReader): the client resubscribes and starts from a fresh
// first message.
func Stream[T any](ctx context.Context, h *Hub, key Key, first func() (T, error), next func(Event) (T, bool)) (<-chan T, error) {
	release, ok := Take(ctx)
	if !ok {
		return nil, apperr.RateLimited("at most %d subscriptions per connection", MaxSubscriptionsPerConnection)
	}
	var head []T
	if first != nil {
		m, err := first()
		if err != nil {
			release()
			return nil, err
		}
		head = append(head, m)
	}
	sub := h.Subscribe(ctx, key)
	out := make(chan T, 1)
	go func() {
		defer release()
		defer close(out)
		send := func(m T) bool {
			select {
			case out <- m:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, m := range head {
			if !send(m) {
				return
			}
		}
		for ev := range sub.C {
			if m, ok := next(ev); ok && !send(m) {
				return
			}
		}
		if sub.Dropped() {
			closeSlowReader(ctx)
		}
	}()
	return out, nil
}
