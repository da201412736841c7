package safe

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRecoverStopsAPanicOnAGoroutine(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	before := testutil.ToFloat64(panics.WithLabelValues("test"))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer Recover(log, "test")
		var m map[string]int
		m["x"] = 1 // panics: assignment to a nil map
	}()
	wg.Wait() // reached: the process is still alive
	if got := testutil.ToFloat64(panics.WithLabelValues("test")) - before; got != 1 {
		t.Errorf("panics counted %v, want 1", got)
	}
	if !strings.Contains(buf.String(), "assignment to entry in nil map") || !strings.Contains(buf.String(), `"where":"test"`) {
		t.Errorf("log does not name the panic: %s", buf.String())
	}
}
