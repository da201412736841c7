package dialogs

import (
	"context"
	"encoding/json"
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

// The staff card of an escalation at a guide step names the step, the
// situation, the reason and the methods as staff read them (the same
// names as the dashboard's), never by the engine's ids.
func TestStaffCardNamesTheStepNotItsID(t *testing.T) {
	h := newHarness(t, "sam", nil)
	svc, err := handoff.NewService(handoff.Options{Store: h.st, Now: func() time.Time { return h.now },
		Institution: handoff.Institution{Name: "ICT Servicedesk", Phone: "088 - 469 9070"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(RunnerOptions{Store: h.st, Directory: h.dir, Escalator: svc, Settings: testSettings, Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	toStep(h, 7)
	h.press("failed")
	h.press("failed")
	es, err := h.st.ListEscalations(context.Background(), store.EscalationFilter{})
	if err != nil || len(es) != 1 {
		t.Fatalf("escalations %v %v", es, err)
	}
	if es[0].FailedStep != "step07" {
		t.Fatalf("failed step %q, want step07", es[0].FailedStep)
	}
	card := svc.StaffCard(es[0], h.now)
	var parsed struct {
		Body []struct {
			Facts []struct{ Title, Value string } `json:"facts"`
		} `json:"body"`
	}
	if err := json.Unmarshal(card, &parsed); err != nil {
		t.Fatal(err)
	}
	facts := map[string]string{}
	for _, b := range parsed.Body {
		for _, f := range b.Facts {
			facts[f.Title] = f.Value
		}
	}
	for title, want := range map[string]string{
		"Mislukte stap": "Stap 7: Voeg je schoolaccount toe",
		"Situatie":      "Overzetten naar andere telefoon",
		"Reden":         "Stap twee keer mislukt",
		"Taal":          "Nederlands",
	} {
		if facts[title] != want {
			t.Errorf("staff card %s = %q, want %q", title, facts[title], want)
		}
	}
	if m := facts["Methoden"]; !strings.Contains(m, "Microsoft Authenticator: ") || !strings.Contains(m, "Telefoonnummer (mobiel): +31 6 ** ** ** 78") {
		t.Errorf("staff card methods %q: want them named for staff", m)
	}
	ids := []string{"step07", SitMovePhone, handoff.ReasonTwoFailures}
	for _, d := range flow {
		ids = append(ids, d.ID)
	}
	for title, v := range facts {
		for _, id := range ids {
			if v == id {
				t.Errorf("staff card %s shows the id %q", title, v)
			}
		}
	}
	// The dashboard's name for the step is the card's.
	if got := StepLabels("nl")["step07"]; got != facts["Mislukte stap"] {
		t.Errorf("dashboard calls step07 %q, the card %q", got, facts["Mislukte stap"])
	}
}
