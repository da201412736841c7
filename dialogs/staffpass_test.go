package dialogs

import (
	"context"
	"strings"
	"testing"
	"time"

	"mfabot/graph"
)

// The lost-phone loop after the desk's pass: the student's conversation
// is told how to use it (never the pass), continues at step 3, and the
// new phone is verified through the directory as usual.
func TestStaffPassContinuesAtStep3AndVerifies(t *testing.T) {
	// lars (nl) has his old phone's Authenticator, eva (en) only a password.
	for lang, student := range map[string]string{"nl": "lars", "en": "eva"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, student, graph.NewDemo())
			h.welcome()
			h.press("lost_phone")
			h.wantStep(StepHandoff)
			before := h.state().SessionID

			if err := h.r.StaffPassIssued(context.Background(), h.ref.ConversationID); err != nil {
				t.Fatal(err)
			}
			rs := h.fireTimers(time.Second)
			contains(t, rs, tr(lang, "staff_pass.route", map[string]string{"setup_link": "[aka.ms/mfasetup](https://aka.ms/mfasetup)"}))
			h.wantStep(guideID(3))
			if s := h.state(); s.SessionID == before || s.Outcome != "" {
				t.Fatalf("a new running session was expected: %q -> %q (outcome %q)", before, s.SessionID, s.Outcome)
			}
			h.last = rs
			for h.state().Step != StepVerifyNew && h.state().Step != StepDone {
				if !strings.HasPrefix(h.state().Step, stepPrefix) {
					t.Fatalf("left the guide at %s", h.state().Step)
				}
				h.press("done")
			}
			for i := 0; i < 20 && h.state().Step != StepDone; i++ {
				if h.state().Step == guideID(11) || h.state().Step == guideID(12) {
					h.press("done")
					continue
				}
				h.fireTimers(30 * time.Second)
			}
			h.wantStep(StepDone)
			if s := h.state(); !s.VerifiedNew || s.Outcome != "verified_resolved" {
				t.Fatalf("verified=%v outcome=%q", s.VerifiedNew, s.Outcome)
			}
		})
	}
}

// A pass for a conversation that does not exist is an error, not a
// silent nothing (the dashboard then tells the staff member).
func TestStaffPassUnknownConversation(t *testing.T) {
	h := newHarness(t, "sam", nil)
	if err := h.r.StaffPassIssued(context.Background(), "a:nobody"); err == nil {
		t.Fatal("no error for an unknown conversation")
	}
}
