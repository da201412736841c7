package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mfabot/config"
)

// serve runs the bot server until ctx ends (SIGINT/SIGTERM), then shuts
// down gracefully: the HTTP server stops accepting, in-flight turns finish.
func serve(ctx context.Context, configPath string, args []string, stderr io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("serve takes no arguments, got %q", args)}
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.Log.Level)
	for _, w := range cfg.ProductionWarnings() {
		log.Warn("configuration", "warning", w)
	}
	app, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	mln, err := net.Listen("tcp", cfg.HTTP.MetricsAddr)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listen on %s (http.metrics_addr): %w", cfg.HTTP.MetricsAddr, err)
	}
	return app.Serve(ctx, ln, mln)
}

// Serve runs the HTTP servers and the background workers on the given
// listeners until ctx ends.
func (a *app) Serve(ctx context.Context, ln, metricsLn net.Listener) error {
	log := a.log
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	metricsMux := http.NewServeMux()
	metricsMux.Handle("GET /metrics", promhttp.Handler())
	msrv := &http.Server{Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	workDone := make(chan error, 1)
	go func() { workDone <- a.RunWorkers(workCtx) }()

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	go func() { errc <- msrv.Serve(metricsLn) }()
	log.Info("mfabot started", "mode", a.cfg.Mode, "addr", ln.Addr().String(), "metrics", metricsLn.Addr().String(),
		"directory", a.cfg.Directory, "store", storeKind(a.cfg.Store.URL), "llm", a.cfg.LLM.Provider, "version", version)
	if a.cfg.Dev() {
		fmt.Fprintf(os.Stderr, "\nmfabot (dev mode) listens on http://%s/api/messages\n  staff dashboard: http://%s/staff/\n  metrics: http://%s/metrics\n  talk to it in this terminal: go run ./cmd/mfabot chat\n\n",
			ln.Addr(), ln.Addr(), metricsLn.Addr())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), turnTimeout+drainTimeout+10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	_ = msrv.Shutdown(shutCtx)
	stopWork()
	select {
	case err := <-workDone:
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("workers stopped with an error", "err", err)
		}
	case <-shutCtx.Done():
		log.Error("workers did not stop in time")
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	log.Info("stopped")
	return nil
}

func storeKind(url string) string {
	if len(url) >= 7 && url[:7] == "sqlite:" {
		return "sqlite"
	}
	return "postgres"
}
