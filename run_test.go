package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"configmarket/internal/app/apitest"
	"configmarket/internal/dbtest"
)

// TestRunServesAndShutsDownOnSignal runs the real composition root from its
// environment: migrations (already applied: a no-op), demo data, serving,
// then a graceful stop when the signal context ends.
func TestRunServesAndShutsDownOnSignal(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", apitest.FreePort(t))
	t.Setenv("DATABASE_URL", dbtest.URL(t))
	t.Setenv("APP_DATABASE_PASSWORD", dbtest.AppPassword)
	t.Setenv("HTTP_ADDR", addr)
	t.Setenv("DEMO_DATA", "true")
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("REDIS_URL", "") // single-instance mode

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()

	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				ready = true
				break
			}
		}
	}
	if !ready {
		stop()
		t.Fatalf("server never became ready: %v", <-done)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v on shutdown", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("server did not stop within its grace period")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
