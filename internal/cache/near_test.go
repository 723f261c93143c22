package cache

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestNearKeepsWhatItReadsAndWritesWithinItsBounds(t *testing.T) {
	ctx := context.Background()
	shared := NewMemory(100)
	near := NewNear(shared, 2, 8, time.Minute)

	if _, ok, _ := near.Get(ctx, "a"); ok {
		t.Fatal("hit on an empty cache")
	}
	if err := near.Set(ctx, "a", []byte("answer"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if b, ok, _ := shared.Get(ctx, "a"); !ok || string(b) != "answer" {
		t.Fatal("not written to the shared cache")
	}
	// Gone from the shared cache (expired there): still answered here.
	_ = shared.Delete(ctx, "a")
	if b, ok, _ := near.Get(ctx, "a"); !ok || string(b) != "answer" {
		t.Fatal("a written entry is not kept near")
	}
	// Read from the shared cache: kept too.
	_ = shared.Set(ctx, "b", []byte("other"), time.Minute)
	if _, ok, _ := near.Get(ctx, "b"); !ok {
		t.Fatal("shared entry not read")
	}
	_ = shared.Delete(ctx, "b")
	if _, ok, _ := near.Get(ctx, "b"); !ok {
		t.Fatal("a read entry is not kept near")
	}
	// Larger than maxBytes: only shared.
	big := []byte(strings.Repeat("x", 9))
	_ = near.Set(ctx, "c", big, time.Minute)
	_ = shared.Delete(ctx, "c")
	if _, ok, _ := near.Get(ctx, "c"); ok {
		t.Fatal("an entry over maxBytes was kept near")
	}
	// Deleting through it forgets the local copy.
	_ = near.Delete(ctx, "a")
	if _, ok, _ := near.Get(ctx, "a"); ok {
		t.Fatal("deleted entry still answered")
	}
}
