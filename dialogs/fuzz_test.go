package dialogs

import (
	"testing"
	"time"

	"mfabot/dialogs/intent"
)

// FuzzEngineStep: whatever a student (or a forged card payload) sends,
// at whatever step, the engine answers and stays at a step that exists.
func FuzzEngineStep(f *testing.F) {
	for _, seed := range []struct {
		step, action, text string
		button             bool
	}{
		{"step03", "done", "", true},
		{"step09", "failed", "", true},
		{"welcome", "lost_phone", "", true},
		{"done", "rate", "", true},
		{"verify_new", "retry", "", true},
		{"step11", "skip", "", true},
		{"step01", "", "ik heb een nieuwe telefoon", false},
		{"ask_old_phone", "", "nee", false},
		{"handoff", "", "opnieuw", false},
		{"step05", "", "ik krijg verzoeken die ik niet heb aangevraagd", false},
		{"step13", "done", "", true},
		{"", "", "hallo", false},
	} {
		f.Add(seed.step, seed.action, seed.text, seed.button)
	}
	e := Engine{Settings: testSettings}
	f.Fuzz(func(t *testing.T, step, action, text string, button bool) {
		s := State{FlowVersion: FlowVersion, Step: step, SessionID: "c#1", Situation: SitMovePhone, Route: RouteOldPhone,
			StartRead: true, MethodsKnown: true, Snapshot: samMethods}
		if step == "" {
			s = State{}
		}
		in := Input{Kind: InText, Text: text, Reading: intent.Match(text, "nl"), At: time.Unix(0, 0), ConversationID: "c"}
		if button {
			in = Input{Kind: InButton, Step: step, Action: Action(action), Score: len(text), At: time.Unix(0, 0), ConversationID: "c"}
		}
		got, outs, effs := e.Step(s, in)
		if lookupStep(got.Step) == nil {
			t.Fatalf("step %q -> unknown step %q", step, got.Step)
		}
		if len(outs) == 0 && len(effs) == 0 {
			t.Fatalf("no answer at %q for %+v", step, in)
		}
	})
}
