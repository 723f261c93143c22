package live

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
)

// A stream sends its first message, then each event; a subscriber dropped
// for falling behind has its connection closed and its subscription given
// back to the connection's budget.
func TestStreamClosesTheConnectionOfASlowReader(t *testing.T) {
	h := NewHub(nil)
	id := uuid.New()
	closed := make(chan struct{})
	ctx := OnSlowReader(WithBudget(context.Background()), func() { close(closed) })
	out, err := Stream(ctx, h, Key{Party: "partner", ID: id},
		func() (int64, error) { return 0, nil },
		func(e Event) (int64, bool) { return e.EntryID, e.EntryID%2 == 1 })
	if err != nil {
		t.Fatal(err)
	}
	if got := <-out; got != 0 {
		t.Fatalf("first message %d, want 0", got)
	}
	h.deliver(Event{EntryID: 2, Party: "partner", Partner: &id})
	h.deliver(Event{EntryID: 3, Party: "partner", Partner: &id})
	if got := <-out; got != 3 {
		t.Fatalf("message %d, want 3 (2 is skipped)", got)
	}

	// Nobody reads now: the hub drops the subscriber once its buffer is full.
	for i := range 3 * Buffer {
		h.deliver(Event{EntryID: int64(2*i + 5), Party: "partner", Partner: &id})
	}
	for range out { // the stream ends after what it had taken
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow reader's connection was not closed")
	}
	// The stream gives its subscription back as it ends, just after it
	// closes its channel.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		releases := make([]func(), 0, MaxSubscriptionsPerConnection)
		for range MaxSubscriptionsPerConnection {
			if release, ok := Take(ctx); ok {
				releases = append(releases, release)
			}
		}
		for _, release := range releases {
			release()
		}
		if len(releases) == MaxSubscriptionsPerConnection {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dropped stream kept its subscription")
		}
	}
}

// A connection holds at most MaxSubscriptionsPerConnection streams, and a
// stream whose first message fails gives its subscription back.
func TestStreamsPerConnectionAreCapped(t *testing.T) {
	h := NewHub(nil)
	ctx, cancel := context.WithCancel(WithBudget(context.Background()))
	defer cancel()
	failing := func() (int, error) { return 0, apperr.Forbidden("not yours") }
	if _, err := Stream(ctx, h, Key{Party: "partner"}, failing, nil); !apperr.Is(err, apperr.KindForbidden) {
		t.Fatalf("failing first message: %v", err)
	}
	for i := range MaxSubscriptionsPerConnection {
		if _, err := Stream[int](ctx, h, Key{Party: "partner"}, nil, nil); err != nil {
			t.Fatalf("stream %d: %v", i+1, err)
		}
	}
	if _, err := Stream[int](ctx, h, Key{Party: "partner"}, nil, nil); !apperr.Is(err, apperr.KindRateLimited) {
		t.Fatalf("one stream too many: %v", err)
	}
}
