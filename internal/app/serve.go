package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"configmarket/internal/jobs"
	"configmarket/internal/obs"
)

// Run serves an App from Open until ctx ends: the live hub, the periodic
// jobs, the metrics listener and the public HTTP server, which then drains.
func (a *App) Run(ctx context.Context) error {
	if a.opened == nil {
		return errors.New("app: Run serves an App from Open")
	}
	cfg := a.opened.cfg
	go a.hub.Run(ctx)
	if cfg.JobsEnabled {
		go jobs.Run(ctx, cfg.JobsInterval, a.jobs()...)
	}
	if cfg.MetricsAddr != "" {
		go serveMetrics(ctx, cfg.MetricsAddr, a.tel)
	}
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	return a.Serve(ctx, srv, cfg.ShutdownTimeout)
}

// serveMetrics serves /metrics on its own listener: operation names, error
// rates and pool sizes are for the operators' network, not the internet,
// and scraping must keep working while the public listener drains.
func serveMetrics(ctx context.Context, addr string, tel *obs.Telemetry) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tel.MetricsHandler())
	// Profiles on the operators' listener only, never the public one: how
	// docs/performance-history.md's profiles of a loaded server were taken.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	slog.Info("serving metrics", "addr", addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		slog.Error("metrics listener stopped", "err", err)
	}
}

// Serve runs srv (serving the App's handler) until ctx ends, then drains
// within grace: /readyz turns 503 first so a load balancer stops routing
// here, then in-flight requests finish.
func (a *App) Serve(ctx context.Context, srv *http.Server, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		slog.Info("serving", "addr", srv.Addr)
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	a.health.Drain()
	// Shutdown does not touch hijacked connections: end the streams
	// ourselves so subscribers get a normal close, not a reset.
	a.streams.CloseAll()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
