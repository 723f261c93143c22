package live

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A subscriber that never reads is dropped when its buffer is full; the
// others get every event, and delivery never blocks on the slow one.
func TestSlowSubscriberIsDroppedWithoutDelayingOthers(t *testing.T) {
	h := NewHub(nil)
	id := uuid.New()
	key := Key{Party: "partner", ID: id}
	ctx := context.Background()
	slow := h.Subscribe(ctx, key)
	fast := h.Subscribe(ctx, key)
	other := h.Subscribe(ctx, Key{Party: "partner", ID: uuid.New()})

	// The fast reader keeps up (it takes each event before the next is
	// sent); the slow one never reads.
	start := time.Now()
	for i := range 3 * Buffer {
		h.deliver(Event{EntryID: int64(i + 1), Party: "partner", Partner: &id})
		select {
		case e, ok := <-fast.C:
			if !ok || e.EntryID != int64(i+1) {
				t.Fatalf("fast subscriber lost event %d", i+1)
			}
		case <-time.After(time.Second):
			t.Fatalf("fast subscriber starved at event %d", i+1)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("delivery took %v: the slow subscriber held it up", d)
	}
	if !slow.Dropped() {
		t.Fatal("slow subscriber was not dropped")
	}
	if len(other.C) != 0 {
		t.Fatal("another party's subscriber got events")
	}
}

func TestCancelUnsubscribes(t *testing.T) {
	h := NewHub(nil)
	ctx, cancel := context.WithCancel(context.Background())
	s := h.Subscribe(ctx, Key{Party: "developer", ID: uuid.New()})
	cancel()
	if _, open := <-s.C; open {
		t.Fatal("channel still open after cancel")
	}
	if h.Subscribers() != 0 {
		t.Fatalf("%d subscribers left", h.Subscribers())
	}
}

func TestParseNotifications(t *testing.T) {
	e, err := parse(`{"id": 42, "party": "partner", "partner": "0b7f3c1e-3a70-4c4e-9d6f-2f7e1f0c8a11", "developer": null}`)
	if err != nil || e.EntryID != 42 || e.Kind != "" {
		t.Fatalf("ledger: %+v %v", e, err)
	}
	e, err = parse(`{"kind": "APPROVED", "id": "0b7f3c1e-3a70-4c4e-9d6f-2f7e1f0c8a11", "developer": "1b7f3c1e-3a70-4c4e-9d6f-2f7e1f0c8a11", "configuration": null, "version": null}`)
	if err != nil || e.Kind != "APPROVED" || len(e.keys()) != 2 {
		t.Fatalf("activity: %+v %v keys %v", e, err, e.keys())
	}
}
