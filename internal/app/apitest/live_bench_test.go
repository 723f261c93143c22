package apitest

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"configmarket/internal/factory"
)

// BenchmarkIdleSubscriptions holds 1,000 idle commission subscriptions (50
// sockets × 20 subscriptions, 10 partners) and reports the heap and
// goroutines they cost, client side included (both run in this process).
func BenchmarkIdleSubscriptions(b *testing.B) {
	for range b.N {
		w := NewWithCache(b, NewCache(b))
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		goroutines := runtime.NumGoroutine()
		var clients []*wsClient
		for p := range 10 {
			token, _ := w.LogIn(b, factory.Partner(b, w.Store), nil)
			for range 5 {
				c := benchDial(b, w.URL)
				c.init(token)
				for i := range 20 {
					c.send(map[string]any{"id": fmt.Sprint(p, "-", i), "type": "subscribe", "payload": map[string]any{"query": commissionSubscription}})
				}
				for range 20 {
					if _, err := c.next(10 * time.Second); err != nil {
						b.Fatal(err)
					}
				}
				clients = append(clients, c)
			}
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if n := w.App.Hub().Subscribers(); n != 1000 {
			b.Fatalf("%d subscribers, want 1000", n)
		}
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/1000, "heap-bytes/subscription")
		b.ReportMetric(float64(runtime.NumGoroutine()-goroutines)/1000, "goroutines/subscription")
		_ = clients
	}
}
