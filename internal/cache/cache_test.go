package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// implementations runs each contract test against the in-process cache and
// a real Redis (REDIS_URL, set by `make test`).
func implementations(t *testing.T) map[string]struct{ cache Cache } {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Fatal("REDIS_URL is not set: run the tests with `make test`")
	}
	client, err := NewRedisClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return map[string]struct{ cache Cache }{
		"memory": {NewMemory(1000)},
		"redis":  {NewRedis(client, "test:")},
	}
}

// key keeps parallel test runs on one Redis apart.
func key(name string) string { return "test:" + uuid.NewString() + ":" + name }

func TestCacheContract(t *testing.T) {
	ctx := context.Background()
	for name, impl := range implementations(t) {
		t.Run(name, func(t *testing.T) {
			c := impl.cache
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			k := key("a")
			if _, ok, err := c.Get(ctx, k); ok || err != nil {
				t.Fatalf("missing key: ok=%v err=%v", ok, err)
			}
			if err := c.Set(ctx, k, []byte("v1"), time.Minute); err != nil {
				t.Fatal(err)
			}
			if v, ok, err := c.Get(ctx, k); !ok || err != nil || string(v) != "v1" {
				t.Fatalf("get = %q %v %v", v, ok, err)
			}
			if err := c.Set(ctx, k, []byte("v"), 0); !errors.Is(err, ErrNoTTL) {
				t.Fatalf("zero ttl: %v", err)
			}
			if err := c.Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := c.Get(ctx, k); ok {
				t.Fatal("deleted key still there")
			}
			counter := key("counter")
			for want := int64(1); want <= 3; want++ {
				if n, err := c.Incr(ctx, counter, time.Minute); err != nil || n != want {
					t.Fatalf("incr = %d %v, want %d", n, err, want)
				}
			}
			if v, ok, _ := c.Get(ctx, counter); !ok || string(v) != "3" {
				t.Fatalf("counter reads back %q", v)
			}
			short := key("short")
			if err := c.Set(ctx, short, []byte("x"), 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(120 * time.Millisecond)
			if _, ok, _ := c.Get(ctx, short); ok {
				t.Fatal("expired key still there")
			}
		})
	}
}

func TestRememberLoadsOnceThenServesCache(t *testing.T) {
	ctx := context.Background()
	for name, impl := range implementations(t) {
		t.Run(name, func(t *testing.T) {
			k := key("remember")
			var loads atomic.Int32
			load := func(context.Context) ([]string, error) {
				loads.Add(1)
				return []string{"A", "B"}, nil
			}
			for range 3 {
				v, err := Remember(ctx, impl.cache, k, time.Minute, load)
				if err != nil || len(v) != 2 || v[1] != "B" {
					t.Fatalf("v=%v err=%v", v, err)
				}
			}
			if loads.Load() != 1 {
				t.Fatalf("loaded %d times, want 1", loads.Load())
			}
			Invalidate(ctx, impl.cache, k)
			if _, err := Remember(ctx, impl.cache, k, time.Minute, load); err != nil || loads.Load() != 2 {
				t.Fatalf("after invalidation loads=%d err=%v", loads.Load(), err)
			}
		})
	}
}

func TestRememberBypassesABrokenCache(t *testing.T) {
	client, err := NewRedisClient("redis://127.0.0.1:1/0") // nothing listens on port 1
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	v, err := Remember(context.Background(), NewRedis(client, "test:"), "k", time.Minute,
		func(context.Context) (int, error) { return 42, nil })
	if err != nil || v != 42 {
		t.Fatalf("v=%d err=%v: a dead cache must fall back to the loader", v, err)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	m := NewMemory(10)
	ctx := context.Background()
	for i := range 100 {
		_ = m.Set(ctx, fmt.Sprint(i), []byte("x"), time.Minute)
	}
	if len(m.entries) > 10 {
		t.Fatalf("%d entries, bound is 10", len(m.entries))
	}
}

func TestRedisPrefixesKeepDeploymentsApart(t *testing.T) {
	impl := implementations(t)["redis"].cache.(*Redis)
	a, b := NewRedis(impl.client, "a:"), NewRedis(impl.client, "b:")
	ctx := context.Background()
	k := key("shared")
	if err := a.Set(ctx, k, []byte("from a"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(ctx, k); ok {
		t.Fatal("prefix b read prefix a's key")
	}
}

func TestDeadRedisIsSkippedAfterAFailure(t *testing.T) {
	client, err := NewRedisClient("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	r := NewRedis(client, "test:")
	ctx := context.Background()
	if _, _, err := r.Get(ctx, "k"); err == nil || errors.Is(err, ErrUnavailable) {
		t.Fatalf("first call must try Redis and fail: %v", err)
	}
	if _, _, err := r.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("second call must skip the dead Redis: %v", err)
	}
	if err := r.Set(ctx, "k", []byte("v"), time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("set must skip too: %v", err)
	}
}

// With the cache disabled there is no generation: callers skip caching
// rather than build keys for entries nobody keeps.
func TestDisabledCacheHasNoGeneration(t *testing.T) {
	ctx := context.Background()
	if _, ok := NewGeneration(&None{}, "public").Current(ctx); ok {
		t.Error("a disabled cache reported a generation")
	}
	if _, ok := NewGeneration(NewMemory(10), "public").Current(ctx); !ok {
		t.Error("a working cache reported none")
	}
}
