// Package safe keeps a panic on one of the bot's own background
// goroutines (token refresh, outbox, staff actions, sweeps) from ending
// the process: Go cannot recover a panic from another goroutine, so each
// one defers Recover itself.
package safe

import (
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var panics = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "mfabot_panics_recovered_total",
	Help: "Panics recovered on background goroutines, by where they happened.",
}, []string{"where"})

// Recover, deferred directly (`defer safe.Recover(log, "outbox")`), stops a
// panic, logs it with its stack and counts it. The work it interrupted is
// left as it was: stored work is retried by its owner (lease, outbox).
func Recover(log *slog.Logger, where string) {
	if v := recover(); v != nil {
		Report(log, where, v)
	}
}

// Report logs and counts a panic value recovered elsewhere.
func Report(log *slog.Logger, where string, v any) {
	panics.WithLabelValues(where).Inc()
	if log == nil {
		log = slog.Default()
	}
	log.Error("recovered from a panic", "where", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}
