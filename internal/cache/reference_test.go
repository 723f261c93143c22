package cache

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestReferenceKeepsAValueForItsTTL(t *testing.T) {
	ctx := context.Background()
	loads, fail := 0, false
	r := NewReference(50*time.Millisecond, func(context.Context) (int, error) {
		if fail {
			return 0, errors.New("database down")
		}
		loads++
		return loads, nil
	})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if v, err := r.Get(ctx); err != nil || v != 1 {
				t.Errorf("Get = %d, %v; want 1 from a single load", v, err)
			}
		})
	}
	wg.Wait()
	time.Sleep(60 * time.Millisecond)
	fail = true
	if _, err := r.Get(ctx); err == nil {
		t.Fatal("an expired value was served although reading it again failed")
	}
	fail = false
	if v, err := r.Get(ctx); err != nil || v != 2 || loads != 2 {
		t.Fatalf("after expiry Get = %d, %v with %d loads; want the second load", v, err, loads)
	}
}
