package bot

import (
	"context"
	"testing"
	"time"

	"mfabot/store"
)

// timerEnv stores a conversation with one due timer.
func timerEnv(t *testing.T, fail int) *env {
	t.Helper()
	e := newEnv(t, envOpts{turns: &echoTurns{fail: fail}, mutate: func(o *Options) { o.PollInterval = 5 * time.Millisecond }})
	ctx := context.Background()
	ref := store.ConversationRef{ConversationID: "conv-retry", ServiceURL: e.conn.ServiceURL(), ChannelID: "msteams", Locale: "nl-NL"}
	if err := e.store.SaveRef(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddTimer(ctx, store.Timer{ConversationID: "conv-retry", Due: time.Now().Add(-time.Second), Payload: []byte("recheck")}); err != nil {
		t.Fatal(err)
	}
	return e
}

func dueTimers(t *testing.T, e *env) int {
	t.Helper()
	due, err := e.store.DueTimers(context.Background(), time.Now().Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	return len(due)
}

// A timer turn that fails (a database hiccup) is kept and tried again:
// the verification re-check still runs, and the student gets no apology.
func TestFailedTimerTurnIsRetried(t *testing.T) {
	e := timerEnv(t, timerAttempts-1)
	e.sender.waitMessages(t, 1)
	e.stop()
	if got := e.texts(); len(got) != 1 || got[0] != "timer recheck" {
		t.Fatalf("texts %q, want the re-check's reply only", got)
	}
	if n := len(e.turns.Turns()); n != timerAttempts {
		t.Fatalf("%d timer turns, want %d", n, timerAttempts)
	}
	if n := dueTimers(t, e); n != 0 {
		t.Fatalf("%d timers left after the re-check ran", n)
	}
}

// A timer turn that keeps failing is given up after timerAttempts: one
// apology, and the timer is dropped.
func TestTimerTurnGivenUpAfterAttempts(t *testing.T) {
	e := timerEnv(t, 100)
	e.sender.waitMessages(t, 1)
	e.stop()
	if got := e.texts(); len(got) != 1 || got[0] != apologyText("nl-NL") {
		t.Fatalf("texts %q, want one apology", got)
	}
	if n := len(e.turns.Turns()); n != timerAttempts {
		t.Fatalf("%d timer turns, want %d", n, timerAttempts)
	}
	if n := dueTimers(t, e); n != 0 {
		t.Fatalf("%d timers left after giving up", n)
	}
}
