package public

import (
	"os"
	"testing"
)

func TestSmokeDump(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	h := newTestHandler(t, c, nil)
	w := get(h, "/hulp", "203.0.113.5:1234", nil)
	os.WriteFile("/tmp/hulp.html", w.Body.Bytes(), 0o644)
	t.Log(w.Code, w.Header())
}
