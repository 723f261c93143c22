package ratelimit

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/cache"
)

var rule = Rule{Rate: 10, Burst: 20, Period: time.Second}

func TestLocalBucket(t *testing.T) {
	b := &localBuckets{buckets: map[string]*bucket{}}
	now := time.Now()
	if ok, _ := b.allow("k", rule, 20, now); !ok {
		t.Fatal("a full bucket refused its burst")
	}
	ok, retry := b.allow("k", rule, 5, now)
	if ok || retry < 400*time.Millisecond || retry > 600*time.Millisecond {
		t.Fatalf("empty bucket: ok=%v retry=%v, want refused for 0.5 s", ok, retry)
	}
	if ok, _ := b.allow("k", rule, 5, now.Add(600*time.Millisecond)); !ok {
		t.Fatal("refilled bucket refused")
	}
	if ok, _ := b.allow("other", rule, 20, now); !ok {
		t.Fatal("buckets are per key")
	}
}

func TestRedisAndFallbackAgree(t *testing.T) {
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Fatal("REDIS_URL is not set: run the tests with `make test`")
	}
	client, err := cache.NewRedisClient(url)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	dead, _ := cache.NewRedisClient("redis://127.0.0.1:1/0")
	defer dead.Close()
	for name, l := range map[string]*Limiter{
		"redis": New(client, "test:"+uuid.NewString()+":"),
		// Redis down: limits still hold, in process.
		"redis down": New(dead, "test:"),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i := range 20 {
				if ok, _ := l.Allow(ctx, "key", rule, 1); !ok {
					t.Fatalf("request %d of the burst refused", i+1)
				}
			}
			ok, retry := l.Allow(ctx, "key", rule, 1)
			if ok || retry <= 0 {
				t.Fatalf("21st request allowed (retry %v): the limiter failed open", retry)
			}
		})
	}
}

// A request whose client went away mid-call does not put every other
// request on the in-process buckets (seen in the bench: each load run's
// end switched the shared budgets off for two seconds).
func TestCanceledRequestIsNoRedisOutage(t *testing.T) {
	client, err := cache.NewRedisClient(os.Getenv("REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	l := New(client, "test:"+uuid.NewString()+":")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l.Allow(ctx, "key", rule, 1)
	if l.downUntil.Load() != 0 {
		t.Fatal("a canceled request marked Redis down")
	}
}
