package dialogs

import (
	"fmt"
	"testing"
)

// The bot marks an inbox entry done after the turn's replies are sent; a
// process that dies (or a store write that fails) between the runner's
// save and that mark delivers the same activity again. It must not move
// the conversation a second time.
func TestRedeliveredActivityIsNotAppliedTwice(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	var done map[string]any
	for _, b := range buttons(h.last[len(h.last)-1].Card) {
		if b["action"] == "done" {
			done = b
		}
	}
	if done == nil {
		t.Fatalf("no done button at step 3:\n%s", all(h.last))
	}
	click := Turn{Kind: TurnMessage, ActivityID: "1700000000123", Value: done}
	rs := h.turn(click)
	contains(t, rs, "Stap 4 van 12")
	h.wantStep("step04")
	before := h.state()

	// The same activity again (a new process, the entry still pending).
	again := h.turn(click)
	if len(again) != 0 {
		t.Fatalf("redelivered activity answered again:\n%s", all(again))
	}
	h.wantStep("step04")
	if after := h.state(); len(after.History) != len(before.History) {
		t.Fatalf("redelivered activity changed the history: %v -> %v", before.History, after.History)
	}

	// Typed text the same: "gelukt" twice with one id is one step.
	h.turn(Turn{Kind: TurnMessage, ActivityID: "1700000000124", Text: "gelukt"})
	h.wantStep("step05")
	if rs := h.turn(Turn{Kind: TurnMessage, ActivityID: "1700000000124", Text: "gelukt"}); len(rs) != 0 {
		t.Fatalf("redelivered text answered again:\n%s", all(rs))
	}
	h.wantStep("step05")

	// A new activity still moves on, and turns without an id (timers,
	// the terminal chat) are never taken for repeats.
	h.turn(Turn{Kind: TurnMessage, ActivityID: "1700000000125", Text: "gelukt"})
	h.wantStep("step06")
	h.turn(Turn{Kind: TurnMessage, Text: "gelukt"})
	h.turn(Turn{Kind: TurnMessage, Text: "gelukt"})
	h.wantStep("step08")
}

func TestSeenActivitiesAreBounded(t *testing.T) {
	h := newHarness(t, "sam", nil)
	h.welcome()
	for i := range 2 * seenActivities {
		h.turn(Turn{Kind: TurnMessage, ActivityID: fmt.Sprintf("m-%d", i), Text: "hoi"})
	}
	s := h.state()
	if len(s.Seen) != seenActivities || s.Seen[len(s.Seen)-1] != fmt.Sprintf("m-%d", 2*seenActivities-1) {
		t.Fatalf("seen = %v", s.Seen)
	}
	// The oldest id fell out of the window: it counts as new again.
	if s.seen("m-0") {
		t.Fatal("oldest id still remembered")
	}
}
