package dialogs

import (
	"context"
	"strings"
	"testing"

	"time"

	"mfabot/handoff"
	"mfabot/store"
)

var _ Escalator = (*handoff.Service)(nil)

// TestHandOffThroughTheRealService: two failures create one escalation
// in the store, with the redacted transcript and the masked methods; a
// repeated "medewerker" does not create a second one.
func TestHandOffThroughTheRealService(t *testing.T) {
	h := newHarness(t, "sam", nil)
	svc, err := handoff.NewService(handoff.Options{Store: h.st, Now: func() time.Time { return h.now },
		Institution: handoff.Institution{Name: "ICT Servicedesk", Phone: "088 - 469 9070",
			Desks: []handoff.Desk{{Name: "Zwolle", Location: "F2.03", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "08:00", Close: "16:00"}}}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(RunnerOptions{Store: h.st, Directory: h.dir, Escalator: svc, Settings: testSettings, Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	toStep(h, 9)
	h.say("het nummer is 42")
	h.press("failed")
	rs := h.press("failed")
	contains(t, rs, tr2("handoff.reason.two_failures"), "088")
	h.say("medewerker")
	es, err := h.st.ListEscalations(context.Background(), store.EscalationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("%d escalations, want 1", len(es))
	}
	e := es[0]
	if e.FailedStep != "step09" || e.Reason != handoff.ReasonTwoFailures || e.Situation != SitMovePhone || e.StudentUPN != "sam@student.example.nl" {
		t.Errorf("escalation %+v", e)
	}
	joined := strings.Join(e.Methods, "; ")
	if !strings.Contains(joined, "+31 6 ** ** ** 78") || strings.Contains(joined, "612345678") {
		t.Errorf("methods %q", joined)
	}
	var student []string
	for _, l := range e.Transcript {
		if l.Role == "student" {
			student = append(student, l.Text)
		}
	}
	got := strings.Join(student, " | ")
	if strings.Contains(got, "42") || !strings.Contains(got, "[withheld: number]") || !strings.Contains(got, "[failed @ step09]") {
		t.Errorf("student lines in the escalation: %q", got)
	}
}
