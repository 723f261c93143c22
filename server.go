// Command configmarket serves the Config Market GraphQL API. This file reads
// the environment into an app.Config (no other file reads the environment)
// and runs the application; internal/app is the rest of the composition
// root: pools, services, the gqlgen server, HTTP, jobs and shutdown.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/caarlos0/env/v11"

	"configmarket/internal/app"
	"configmarket/internal/obs"
)

func main() {
	// An uncached storefront page allocates half a megabyte (a few MB for
	// documents gqlgen executes itself); on a small live heap Go's default
	// GOGC=100 collects many times a second. 400 trades some peak RSS for
	// CPU: still 15–30 % less time per uncached page than 100 after the
	// allocation work (docs/performance-history.md). An explicit GOGC still decides.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		slog.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context) error {
	cfg, err := env.ParseAs[app.Config]()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	slog.SetDefault(slog.New(obs.NewLogHandler(slog.NewJSONHandler(os.Stderr, obs.LogOptions(cfg.LogLevel)))))
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
