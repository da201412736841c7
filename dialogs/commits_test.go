package dialogs

import (
	"strings"
	"testing"

	"mfabot/store"
)

// TestOneCommitPerTurn: every turn of the whole journey - the welcome
// with its directory read, the situation, the twelve steps with their
// verifications, a failure and an explanation, the rating - stores its
// state, transcript lines, step events, sessions and timers in exactly
// one transaction.
func TestOneCommitPerTurn(t *testing.T) {
	h := newHarness(t, "sam", nil)
	cc := h.st.(store.CommitCounter)
	check := func(what string, do func() []Reply) {
		t.Helper()
		before := cc.Commits()
		do()
		if n := cc.Commits() - before; n != 1 {
			t.Errorf("%s: %d commits, want 1", what, n)
		}
	}
	check("welcome", h.welcome)
	check("situation", func() []Reply { return h.say("ik wil de app naar een nieuwe telefoon overzetten") })
	check("failed", func() []Reply { return h.press("failed") })
	check("explain", func() []Reply { return h.press("explain") })
	for i := 1; i <= 12; i++ {
		check(h.state().Step+" done", func() []Reply { return h.press("done") })
	}
	h.wantStep(StepDone)
	check("rating", func() []Reply { return h.rate(4) })
	st, _ := h.st.Stats(t.Context(), h.now.AddDate(0, 0, -1))
	if st.SatisfactionCounts[4] != 1 || len(st.Funnel) < 12 {
		t.Errorf("the records of the turns are not all stored: %+v", st)
	}
}

// A turn that lost the race is run again; its records are written once.
func TestConflictWritesTheTurnOnce(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 2)
	h.st = &conflictStore{Store: h.st}
	h.r = h.newRunner(testSettings)
	h.say("gelukt")
	h.wantStep("step03")
	if n := strings.Count(h.transcript(), "student: gelukt"); n != 1 {
		t.Fatalf("the student's line is in the transcript %d times, want 1:\n%s", n, h.transcript())
	}
}
