package dialogs

import (
	"fmt"
	"strings"
	"testing"

	"mfabot/handoff"
	"mfabot/store"
)

// A script line: "press:ACTION", "say:TEXT", "rate:N", "done*N" (press
// done N times), "see:TEXT" (the last replies contain TEXT), "step:ID".
type situationCase struct {
	name     string
	student  string
	script   []string
	endStep  string
	outcome  string
	reason   string // hand-off reason, "" for none
	security bool
	lost     bool
}

var situationCases = []situationCase{
	{name: "move_phone", student: "sam", script: []string{"press:move_phone", "done*1", "see:{step02.do.old_phone}", "done*9",
		"see:'iPhone 15'", "step:step11", "see:'iPhone 12'", "done*2", "see:{verify_old.gone}", "rate:5"},
		endStep: StepDone, outcome: store.OutcomeVerifiedResolved},
	{name: "new_phone_same_number", student: "sam", script: []string{"press:new_phone_same_number", "done*1", "see:{step02.title}", "see:+31 6 ** ** ** 78", "done*11", "rate:4"},
		endStep: StepDone, outcome: store.OutcomeVerifiedResolved},
	{name: "lost_phone_call_route", student: "sam", script: []string{"press:lost_phone", "done*1", "see:+31 6 ** ** ** 78", "done*11", "rate:3"},
		endStep: StepDone, outcome: store.OutcomeVerifiedResolved},
	{name: "signin_problem_resetup", student: "sam", script: []string{"press:signin_problem", "see:{trouble_notification.title}", "press:not_solved",
		"see:{trouble_account_missing.title}", "press:no", "see:{resetup.intro}", "done*1", "see:{step02.do.either}", "done*11", "rate:5"},
		endStep: StepDone, outcome: store.OutcomeVerifiedResolved},
	{name: "signin_problem_number_matching_helped", student: "sam", script: []string{"press:signin_problem", "press:not_solved", "press:yes",
		"see:{trouble_number_matching.title}", "press:solved", "see:{done.solved}", "rate:5"},
		endStep: StepDone, outcome: store.OutcomeSelfReportedResolved},
	{name: "suspicious_prompt", student: "sam", script: []string{"press:suspicious_prompt", "see:{suspicious.title}", "see:passwordreset.microsoftonline.com", "see:{handoff.queued}"},
		endStep: StepHandoff, outcome: store.OutcomeSecurityEscalated, reason: handoff.ReasonSuspicious, security: true},
	{name: "lost_phone_no_phone_method", student: "lars", script: []string{"press:lost_phone", "see:{handoff.reason.no_usable_method}", "see:CONTACT"},
		endStep: StepHandoff, outcome: store.OutcomeEscalated, reason: handoff.ReasonNoUsableMethod, lost: true},
	{name: "new_phone_same_number_without_phone_method", student: "lars", script: []string{"press:new_phone_same_number", "see:{ask_old_phone.title}", "press:yes",
		"done*1", "see:{step02.do.old_phone}", "done*11", "rate:5"},
		endStep: StepDone, outcome: store.OutcomeVerifiedResolved},
	{name: "move_phone_number_only", student: "noor", script: []string{"press:move_phone", "done*1", "see:+31 6 ** ** ** 21", "done*9", "see:{done.verified}", "rate:5"},
		endStep: StepDone, outcome: store.OutcomeVerifiedResolved},
	{name: "move_phone_password_only", student: "eva", script: []string{"press:move_phone", "see:{handoff.reason.no_usable_method}"},
		endStep: StepHandoff, outcome: store.OutcomeEscalated, reason: handoff.ReasonNoUsableMethod},
	{name: "two_devices", student: "kim", script: []string{"press:move_phone", "done*10", "see:('Pixel 6' ", "see: 'iPad')", "press:skip", "see:{done.reminder}", "rate:2"},
		endStep: StepDone, outcome: store.OutcomeVerifiedResolved},
}

// TestSituations walks every situation from the welcome to its end, in
// Dutch and in English.
func TestSituations(t *testing.T) {
	for _, lang := range []string{"nl", "en"} {
		for _, c := range situationCases {
			t.Run(lang+"/"+c.name, func(t *testing.T) {
				h := newHarness(t, c.student, nil)
				contains(t, h.welcome(), tr(startLang(c.student), "welcome.question", nil))
				if lang != startLang(c.student) {
					sw := map[string]string{"nl": "Nederlands graag", "en": "English please"}[lang]
					contains(t, h.say(sw), tr(lang, "msg.lang", nil), tr(lang, "welcome.question", nil))
				}
				runScript(t, h, lang, c.script)
				s := h.state()
				if s.Step != c.endStep || s.Outcome != c.outcome {
					t.Fatalf("ended at %s with outcome %q, want %s / %q\n%s", s.Step, s.Outcome, c.endStep, c.outcome, all(h.last))
				}
				reqs := h.esc.requests()
				if c.reason == "" {
					if len(reqs) != 0 {
						t.Fatalf("unexpected escalation %+v", reqs)
					}
					return
				}
				if len(reqs) != 1 {
					t.Fatalf("escalations = %d, want 1", len(reqs))
				}
				r := reqs[0]
				if r.Reason != c.reason || r.Security != c.security || r.Language != lang || r.StudentObjectID != h.ref.UserAADObjectID || r.SessionID == "" {
					t.Errorf("escalation = %+v", r)
				}
				contains(t, h.last, fmt.Sprintf("CONTACT %s lost=%v security=%v", lang, c.lost, c.security))
				for _, m := range r.Methods {
					if strings.HasPrefix(m, "Phone") && !strings.Contains(m, "** ** **") {
						t.Errorf("unmasked phone in escalation: %q", m)
					}
				}
			})
		}
	}
}

// startLang is the demo student's preferredLanguage, which the harness
// gives the student's Teams too (the locale beats preferredLanguage).
func startLang(student string) string {
	if student == "eva" || student == "kim" || student == "ben" {
		return "en"
	}
	return "nl"
}

func runScript(t *testing.T, h *harness, lang string, script []string) {
	t.Helper()
	for _, line := range script {
		verb, arg, _ := strings.Cut(line, ":")
		switch {
		case verb == "press":
			h.press(arg)
		case verb == "say":
			h.say(arg)
		case verb == "rate":
			var n int
			fmt.Sscan(arg, &n)
			h.rate(n)
			contains(t, h.last, tr(lang, "done.thanks", nil))
		case strings.HasPrefix(verb, "done*"):
			var n int
			fmt.Sscan(strings.TrimPrefix(verb, "done*"), &n)
			for i := 0; i < n; i++ {
				h.press("done")
			}
		case verb == "see":
			want := arg
			if strings.HasPrefix(arg, "{") {
				want = strings.TrimSuffix(strings.TrimPrefix(arg, "{"), "}")
				want = tr(lang, want, nil)
				if i := strings.Index(want, "{"); i > 0 {
					want = want[:i] // only the fixed start of a template
				}
			}
			contains(t, h.last, want)
		case verb == "step":
			h.wantStep(arg)
		default:
			t.Fatalf("bad script line %q", line)
		}
	}
}

// TestHappyPathTurns counts the student's turns of the happy path.
func TestHappyPathTurns(t *testing.T) {
	h := newHarness(t, "sam", nil)
	h.welcome()
	h.press("move_phone")
	for i := 0; i < 12; i++ {
		h.press("done")
	}
	h.wantStep(StepDone)
	if s := h.state(); s.Outcome != store.OutcomeVerifiedResolved {
		t.Fatalf("outcome %q", s.Outcome)
	}
	h.rate(5)
	// welcome (the bot's) + situation + 12 steps + rating
	if h.turns != 15 {
		t.Fatalf("happy path took %d turns, want 15", h.turns)
	}
	t.Logf("happy path: %d turns (1 welcome, 1 situation, 12 steps, 1 rating); %d typing indicators", h.turns, h.typing)
	if h.typing < 3 {
		t.Errorf("typing indicator sent %d times, want one per directory read (3)", h.typing)
	}
}
