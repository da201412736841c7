package dialogs

import (
	"testing"
)

// lastButton returns the data of the button with action on the newest
// card that has one.
func lastButton(t *testing.T, h *harness, action string) map[string]any {
	t.Helper()
	for i := len(h.last) - 1; i >= 0; i-- {
		for _, b := range buttons(h.last[i].Card) {
			if b["action"] == action {
				return b
			}
		}
	}
	t.Fatalf("no %q button in:\n%s", action, all(h.last))
	return nil
}

// Two taps on "Lukt niet" of one card (two activities, as Teams sends
// them) are one failure: the second tap is on a card that is no longer
// the newest, so it is stale and does not hand off.
func TestDoubleTapOnOneCardIsOneClick(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	failed := lastButton(t, h, "failed")
	if failed["v"] == nil {
		t.Fatalf("button data has no view number: %v", failed)
	}
	h.turn(Turn{Kind: TurnMessage, ActivityID: "a1", Value: failed})
	rs := h.turn(Turn{Kind: TurnMessage, ActivityID: "a2", Value: failed})
	h.wantStep("step03")
	if n := len(h.esc.requests()); n != 0 {
		t.Fatalf("a double tap handed off (%d escalations)", n)
	}
	contains(t, rs, "Die stap ligt al achter je", "Stap 3 van 12")
	if f := h.state().Failures["step03"]; f != 1 {
		t.Fatalf("failures at step 3 = %d, want 1", f)
	}
	// "Lukt niet" on the newest card is the second failure: hand-off.
	h.press("failed")
	h.wantStep(StepHandoff)
	if n := len(h.esc.requests()); n != 1 {
		t.Fatalf("escalations = %d, want 1", n)
	}
}

// A card of an earlier session at the same step does not move the
// current session.
func TestCardOfEarlierSessionIsStale(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	old := lastButton(t, h, "done")
	h.say("opnieuw")
	h.press("move_phone")
	h.press("done")
	h.press("done")
	h.wantStep("step03")
	rs := h.turn(Turn{Kind: TurnMessage, Value: old})
	h.wantStep("step03")
	contains(t, rs, "Die stap ligt al achter je", "Stap 3 van 12")
	// The newest card still works, and so does typed text.
	h.press("done")
	h.wantStep("step04")
	h.say("gelukt")
	h.wantStep("step05")
}

// Cards sent before view numbers existed carry only step and action:
// they are judged by their step as before.
func TestButtonWithoutViewNumberByStep(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	h.click("step03", "done")
	h.wantStep("step04")
	rs := h.click("step03", "done")
	h.wantStep("step04")
	contains(t, rs, "Die stap ligt al achter je")
}
