package dialogs

import (
	"context"
	"fmt"
	"strings"
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

	// The same activity again (a new process, the entry still pending):
	// not applied again, but its replies are sent again (the first
	// sending may never have happened).
	again := h.turn(click)
	if all(again) != all(rs) {
		t.Fatalf("redelivered activity: replies\n%s\nwant the first ones again:\n%s", all(again), all(rs))
	}
	h.wantStep("step04")
	if after := h.state(); len(after.History) != len(before.History) {
		t.Fatalf("redelivered activity changed the history: %v -> %v", before.History, after.History)
	}

	// Typed text the same: "gelukt" twice with one id is one step.
	first := h.turn(Turn{Kind: TurnMessage, ActivityID: "1700000000124", Text: "gelukt"})
	h.wantStep("step05")
	if rs := h.turn(Turn{Kind: TurnMessage, ActivityID: "1700000000124", Text: "gelukt"}); all(rs) != all(first) {
		t.Fatalf("redelivered text: replies\n%s\nwant\n%s", all(rs), all(first))
	}
	h.wantStep("step05")
	// An older activity (not the newest) is not answered again.
	if rs := h.turn(click); len(rs) != 0 {
		t.Fatalf("older redelivered activity answered again:\n%s", all(rs))
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

// A hand-off turn delivered again (the process died after the save,
// before sending) sends the hand-off and the contact card again, without
// a second escalation.
func TestRedeliveredHandoffSendsContactCardAgain(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	human := Turn{Kind: TurnMessage, ActivityID: "act-human", Text: "medewerker"}
	rs := h.turn(human)
	contains(t, rs, "CONTACT nl")
	again := h.turn(human)
	contains(t, again, "CONTACT nl")
	if all(again) != all(rs) {
		t.Fatalf("replies\n%s\nwant\n%s", all(again), all(rs))
	}
	if n := len(h.esc.requests()); n != 1 {
		t.Fatalf("escalations = %d, want 1", n)
	}
}

func TestLastRepliesAreBounded(t *testing.T) {
	big := Reply{Text: strings.Repeat("x", maxLastReplies/2)}
	got := boundReplies([]Reply{big, big, big})
	if len(got) != 1 {
		t.Fatalf("kept %d replies of %d bytes each", len(got), len(big.Text))
	}
	if got := boundReplies([]Reply{{Text: "a"}, {Text: "b"}}); len(got) != 2 {
		t.Fatalf("small replies dropped: %v", got)
	}
}

// The replies kept for a redelivery carry the student's name, device
// names and a masked number: they stay only while a session runs and
// are gone when it is done, rated, stopped or restarted.
func TestLastRepliesClearedWhenTheSessionEnds(t *testing.T) {
	n := 0
	act := func(h *harness, tn Turn) []Reply {
		n++
		tn.ActivityID = fmt.Sprintf("act-%d", n)
		return h.turn(tn)
	}
	press := func(h *harness, action string) []Reply {
		h.t.Helper()
		return act(h, Turn{Kind: TurnMessage, Value: lastButton(h.t, h, action)})
	}
	running := func(h *harness) {
		t := h.t
		t.Helper()
		s := h.state()
		if s.LastActivityID != fmt.Sprintf("act-%d", n) || len(s.LastReplies) == 0 {
			t.Fatalf("running session at %s: last activity %q with %d replies, want act-%d with its replies", s.Step, s.LastActivityID, len(s.LastReplies), n)
		}
	}
	cleared := func(h *harness) {
		t := h.t
		t.Helper()
		s := h.state()
		if s.LastActivityID != "" || len(s.LastReplies) != 0 {
			t.Fatalf("after the session (step %s): last activity %q, %d replies kept", s.Step, s.LastActivityID, len(s.LastReplies))
		}
		c, err := h.st.GetConversation(context.Background(), h.ref.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"lastReplies", "lastActivityId", "Stap ", "CONTACT"} {
			if strings.Contains(string(c.State), bad) {
				t.Fatalf("stored state still holds %q after the session:\n%s", bad, c.State)
			}
		}
	}

	t.Run("done and rated", func(t *testing.T) {
		h := newHarness(t, "sam", nil)
		act(h, Turn{Kind: TurnWelcome})
		press(h, "move_phone")
		running(h)
		for i := 1; i < 12; i++ {
			press(h, "done")
		}
		last := lastButton(t, h, "done")
		act(h, Turn{Kind: TurnMessage, Value: last})
		h.wantStep(StepDone)
		cleared(h)
		rate := lastButton(t, h, string(ActRate))
		// The done turn itself is recognised when delivered again, and
		// not applied twice (its replies are not kept to send again).
		if rs := h.turn(Turn{Kind: TurnMessage, ActivityID: fmt.Sprintf("act-%d", n), Value: last}); len(rs) != 0 {
			t.Fatalf("redelivered done turn answered: %s", all(rs))
		}
		act(h, Turn{Kind: TurnMessage, Value: rate})
		contains(t, h.last, tr2("done.thanks"))
		cleared(h)
	})
	t.Run("stopped", func(t *testing.T) {
		h := newHarness(t, "sam", nil)
		act(h, Turn{Kind: TurnWelcome})
		press(h, "move_phone")
		press(h, "done")
		running(h)
		act(h, Turn{Kind: TurnMessage, Text: "stop"})
		h.wantStep(StepStopped)
		cleared(h)
	})
	t.Run("restarted", func(t *testing.T) {
		h := newHarness(t, "sam", nil)
		act(h, Turn{Kind: TurnWelcome})
		press(h, "move_phone")
		press(h, "done")
		running(h)
		act(h, Turn{Kind: TurnMessage, Text: "opnieuw"})
		h.wantStep(StepWelcome)
		cleared(h)
	})
}
