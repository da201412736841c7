package bot

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mfabot/dialogs"
)

// panicTurns panics in its first `left` turns, as a bug in a dependency
// of the turn (the Graph client, the LLM client) would.
type panicTurns struct {
	*echoTurns
	left atomic.Int32
}

func (p *panicTurns) Handle(ctx context.Context, t dialogs.Turn, typing func()) ([]dialogs.Reply, error) {
	if p.left.Add(-1) >= 0 {
		var m map[string]int
		m["graph"]++ // assignment to a nil map
	}
	return p.echoTurns.Handle(ctx, t, typing)
}

// TestTurnPanicIsRetriedThenApologisesWithTheDesk: a panicking turn is a
// failed attempt: retried, answered normally when the retry works, and
// after the last attempt the student gets the apology with the desk's
// phone number. The server stays up throughout.
func TestTurnPanicIsRetriedThenApologisesWithTheDesk(t *testing.T) {
	t.Run("once", func(t *testing.T) {
		pt := &panicTurns{echoTurns: &echoTurns{}}
		pt.left.Store(1)
		e := newEnv(t, envOpts{mutate: func(o *Options) { o.Turns = pt; o.PollInterval = 5 * time.Millisecond }})
		if resp, _ := e.postActivity(e.activity("p-1", "hallo")); resp.StatusCode != 200 {
			t.Fatal("not accepted")
		}
		e.sender.waitMessages(t, 1)
		if got := e.texts(); len(got) != 1 || got[0] != "echo: hallo" {
			t.Fatalf("texts %q, want the retried turn's answer", got)
		}
	})
	t.Run("always", func(t *testing.T) {
		pt := &panicTurns{echoTurns: &echoTurns{}}
		pt.left.Store(1000)
		e := newEnv(t, envOpts{mutate: func(o *Options) {
			o.Turns = pt
			o.PollInterval = 5 * time.Millisecond
			o.DeskName, o.DeskPhone = "ICT Servicedesk", "088 - 469 9070"
		}})
		if resp, _ := e.postActivity(e.activity("p-2", "hallo")); resp.StatusCode != 200 {
			t.Fatal("not accepted")
		}
		e.sender.waitMessages(t, 1)
		got := e.texts()
		if len(got) != 1 || !strings.HasPrefix(got[0], "Sorry") || !strings.Contains(got[0], "088 - 469 9070") {
			t.Fatalf("texts %q, want one apology with the desk's phone number", got)
		}
		if strings.Contains(got[0], "nil map") {
			t.Errorf("the apology leaks the panic: %q", got[0])
		}
	})
}
