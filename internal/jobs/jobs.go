// Package jobs runs the server's periodic work (billing, automatic
// updates) inside the server process. Every task must be safe to run on
// several instances at once; the tasks hold their own locks.
package jobs

import (
	"configmarket/internal/identity"

	"context"
	"log/slog"
	"time"
)

// Task is one piece of periodic work.
type Task struct {
	Name string
	Run  func(context.Context) error
}

// Run runs every task once per interval until ctx ends. A failing task is
// logged and retried on the next tick; it never stops the others.
func Run(ctx context.Context, interval time.Duration, tasks ...Task) {
	// Jobs are the platform acting on its own: every party's money rows.
	ctx = identity.AsSystem(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, task := range tasks {
			if ctx.Err() != nil {
				return
			}
			if err := task.Run(ctx); err != nil && ctx.Err() == nil {
				slog.ErrorContext(ctx, "job failed", "job", task.Name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
