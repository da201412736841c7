package dialogs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"mfabot/graph"
	"mfabot/store"
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
	contains(t, rs, "Gebruik de knoppen op de kaart hieronder", "Stap 3 van 12")
	lacks(t, rs, "Die stap ligt al achter je")
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

// The data of an Action.Submit is the client's to send: a crafted action
// or step is not written to the transcript, and no line is unbounded.
func TestCraftedButtonNotInTranscript(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 2)
	h.turn(Turn{Kind: TurnMessage, Value: map[string]any{"step": "step02", "action": "Welkom01! 0612345678 " + strings.Repeat("x", 5000)}})
	h.turn(Turn{Kind: TurnMessage, Value: map[string]any{"step": "Welkom01! 0612345678", "action": "done"}})
	h.press("done")
	h.say(strings.Repeat("hallo daar ", 1000))
	tr := h.transcript()
	for _, bad := range []string{"Welkom01!", "0612345678", "xxxxxxxx"} {
		if strings.Contains(tr, bad) {
			t.Errorf("transcript contains %q", bad)
		}
	}
	if n := strings.Count(tr, "student: [unknown button]"); n != 2 {
		t.Errorf("%d unknown-button lines, want 2:\n%.2000s", n, tr)
	}
	if !strings.Contains(tr, "student: [done @ step02]") {
		t.Errorf("a real click is not in the transcript")
	}
	lines, err := h.st.Transcript(context.Background(), h.ref.ConversationID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if len(l.Text) > maxTranscriptLine || !utf8.ValidString(l.Text) {
			t.Errorf("transcript line of %d bytes (valid UTF-8: %v)", len(l.Text), utf8.ValidString(l.Text))
		}
	}
	if got := capLine(strings.Repeat("é", maxTranscriptLine)); len(got) > maxTranscriptLine || !utf8.ValidString(got) {
		t.Errorf("capLine: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func escalatedCount(t *testing.T, h *harness) int {
	t.Helper()
	st, err := h.st.Stats(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range st.OutcomesPerDay {
		n += d.Counts[store.OutcomeEscalated]
	}
	return n
}

// Asking for a person again after the hand-off shows the contact details
// again: one session, one escalation request. Only a restart starts anew.
func TestRepeatedHumanAtHandoffIsOneSession(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	h.say("medewerker")
	h.wantStep(StepHandoff)
	s1 := h.state().SessionID
	for range 2 {
		rs := h.say("medewerker")
		contains(t, rs, "Je vraag ligt bij de servicedesk", "CONTACT nl")
	}
	if s := h.state(); s.SessionID != s1 || s.Step != StepHandoff || s.Outcome != store.OutcomeEscalated {
		t.Fatalf("session %s -> %s, step %s, outcome %s", s1, s.SessionID, s.Step, s.Outcome)
	}
	if n := len(h.esc.requests()); n != 1 {
		t.Fatalf("escalation requests = %d, want 1", n)
	}
	if n := escalatedCount(t, h); n != 1 {
		t.Fatalf("escalated sessions in the stats = %d, want 1", n)
	}
	// A real restart is a new session.
	h.say("opnieuw")
	h.press("move_phone")
	if s := h.state(); s.SessionID == s1 || s.Outcome != "" {
		t.Fatalf("after a restart: session %s (was %s), outcome %q", s.SessionID, s1, s.Outcome)
	}
}

// When the escalation could not be made, asking again tries it again,
// in the same session.
func TestHumanAgainRetriesFailedEscalation(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	h.esc.fail = errors.New("servicedesk down")
	rs := h.say("medewerker")
	contains(t, rs, "notqueued=true")
	s1 := h.state().SessionID
	h.esc.fail = nil
	rs = h.say("medewerker")
	contains(t, rs, "Ik heb doorgegeven", "CONTACT nl")
	lacks(t, rs, "notqueued=true")
	if n := len(h.esc.requests()); n != 1 {
		t.Fatalf("escalation requests = %d, want 1", n)
	}
	if r := h.esc.requests()[0]; r.SessionID != s1 {
		t.Fatalf("escalated session %s, want %s", r.SessionID, s1)
	}
	if s := h.state(); s.SessionID != s1 || s.HandoffNotQueued {
		t.Fatalf("session %s (was %s), not queued %v", s.SessionID, s1, s.HandoffNotQueued)
	}
	if n := escalatedCount(t, h); n != 1 {
		t.Fatalf("escalated sessions in the stats = %d, want 1", n)
	}
	rs = h.say("medewerker")
	contains(t, rs, "Je vraag ligt bij de servicedesk")
	if n := len(h.esc.requests()); n != 1 {
		t.Fatalf("escalation requests = %d, want 1", n)
	}
}

// The rating buttons of the done card still count after the student
// said something more at the end (a newer card was shown).
func TestRatingAfterAnotherCardCounts(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 12)
	h.press("done")
	h.wantStep(StepDone)
	four := lastButton(t, h, string(ActRate))
	four["score"] = float64(4)
	h.say("bedankt")
	rs := h.turn(Turn{Kind: TurnMessage, Value: four})
	lacks(t, rs, "Die stap ligt al achter je")
	st, err := h.st.Stats(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st.SatisfactionCounts[4] != 1 {
		t.Fatalf("satisfaction %v", st.SatisfactionCounts)
	}
}

// timersLeft counts the conversation's stored timers.
func timersLeft(t *testing.T, h *harness) int {
	t.Helper()
	due, err := h.st.DueTimersOf(context.Background(), h.ref.ConversationID, h.now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return len(due)
}

// When the bot's worker gives up a re-check (it deletes the timer after
// failed attempts), the student is still at the check step: a click on
// an old card or any message starts a new check, never "still checking"
// with no check coming. After the last check come the choices.
func TestCheckStepWithoutTimerChecksAgain(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), hideReads: 100}
	h := newHarness(t, "sam", dir)
	toStep(h, 10)
	old := lastButton(t, h, "done")
	h.press("done")
	h.wantStep(StepVerifyNew)
	if n := timersLeft(t, h); n != 1 {
		t.Fatalf("timers after step 10 = %d, want 1", n)
	}
	busy := tr2("verify_new.busy")
	// While the re-check is stored, the student hears it is coming.
	contains(t, h.say("hallo?"), busy)

	giveUp := func() {
		if err := h.st.DeleteTimers(context.Background(), h.ref.ConversationID); err != nil {
			t.Fatal(err)
		}
		h.now = h.now.Add(2 * time.Minute)
	}
	giveUp()
	rs := h.turn(Turn{Kind: TurnMessage, Value: old})
	contains(t, rs, tr2("verify_new.still"))
	lacks(t, rs, busy, "Die stap ligt al achter je")
	if s := h.state(); s.Checks != 2 || s.Step != StepVerifyNew {
		t.Fatalf("after the click: step %s, checks %d; want verify_new, 2", s.Step, s.Checks)
	}
	if n := timersLeft(t, h); n != 1 {
		t.Fatalf("timers after the new check = %d, want 1", n)
	}

	giveUp()
	rs = h.say("hallo?")
	contains(t, rs, tr2("verify_new.still"))
	lacks(t, rs, busy)

	giveUp()
	rs = h.say("gelukt")
	lacks(t, rs, busy)
	h.wantStep(StepVerifyNewFailed)
	contains(t, rs, tr2("verify_new.title"), tr2("button.retry"), tr2("button.continue"), tr2("button.human"))
	h.press("continue")
	h.wantStep("step11")
}

// A check asked for after the timers were given up can find the new
// phone, and the student moves on.
func TestCheckAfterGivenUpTimerFindsThePhone(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), hideReads: 1}
	h := newHarness(t, "sam", dir)
	toStep(h, 10)
	h.press("done")
	h.wantStep(StepVerifyNew)
	if err := h.st.DeleteTimers(context.Background(), h.ref.ConversationID); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(2 * time.Minute)
	rs := h.say("hallo?")
	contains(t, rs, "'iPhone 15'", "Stap 11 van 12")
	lacks(t, rs, tr2("verify_new.busy"))
	h.wantStep("step11")
	if !h.state().VerifiedNew {
		t.Fatal("not verified")
	}
}

// After "Uitleg" or one "Lukt niet", the step card above is still this
// step's: "Gelukt" on it (on a phone, after scrolling up) counts.
func TestOriginalCardOfCurrentStepCounts(t *testing.T) {
	for _, first := range []string{"explain", "failed"} {
		t.Run(first, func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			toStep(h, 3)
			done := lastButton(t, h, "done")
			h.press(first)
			h.wantStep("step03")
			rs := h.turn(Turn{Kind: TurnMessage, ActivityID: "a1", Value: done})
			h.wantStep("step04")
			contains(t, rs, "Stap 4 van 12")
			lacks(t, rs, "Die stap ligt al achter je", "Gebruik de knoppen")
			// A second tap on it is one click: step 4 stays.
			rs = h.turn(Turn{Kind: TurnMessage, ActivityID: "a2", Value: done})
			h.wantStep("step04")
			contains(t, rs, "Die stap ligt al achter je", "Stap 4 van 12")
		})
	}
}

// "Uitleg" on the original card after a help card explains; a failure
// from an older card is not counted (it may be a second tap), and the
// student is pointed to the newest card.
func TestOlderCardOfCurrentStepExplainsButDoesNotFail(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	explain := lastButton(t, h, "explain")
	failed := lastButton(t, h, "failed")
	h.press("failed")
	rs := h.turn(Turn{Kind: TurnMessage, Value: explain})
	h.wantStep("step03")
	contains(t, rs, tr2("step03.explain"))
	lacks(t, rs, "Die stap ligt al achter je", "Gebruik de knoppen")
	rs = h.turn(Turn{Kind: TurnMessage, Value: failed})
	h.wantStep("step03")
	contains(t, rs, "Gebruik de knoppen op de kaart hieronder", "Stap 3 van 12")
	if f := h.state().Failures["step03"]; f != 1 {
		t.Fatalf("failures at step 3 = %d, want 1", f)
	}
	if n := len(h.esc.requests()); n != 0 {
		t.Fatalf("escalations = %d, want 0", n)
	}
}

// A welcome card shown again (after "help") still takes a choice from
// the one above it; the welcome of an earlier start does not.
func TestOlderWelcomeCardOfThisVisit(t *testing.T) {
	h := newHarness(t, "sam", nil)
	h.welcome()
	move := lastButton(t, h, "move_phone")
	h.say("help")
	if lastButton(t, h, "move_phone")["v"] == move["v"] {
		t.Fatal("no newer welcome card after 'help'")
	}
	h.turn(Turn{Kind: TurnMessage, Value: move})
	h.wantStep("step01")

	h.say("opnieuw")
	h.wantStep(StepWelcome)
	rs := h.turn(Turn{Kind: TurnMessage, Value: move})
	h.wantStep(StepWelcome)
	contains(t, rs, "Die stap ligt al achter je")
}
