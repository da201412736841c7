package dialogs

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"mfabot/dialogs/intent"
)

// askedClassifier answers every question with one reading and counts
// what it was asked.
type askedClassifier struct {
	intent string
	asked  []string
}

func (c *askedClassifier) Classify(ctx context.Context, text, lang string) (string, float64, error) {
	c.asked = append(c.asked, text)
	return c.intent, 0.95, nil
}

func (h *harness) withClassifier(c *askedClassifier) {
	h.t.Helper()
	r, err := NewRunner(RunnerOptions{Store: h.st, Directory: h.dir, Escalator: h.esc, Settings: testSettings,
		Classifier: c, LLMTimeout: time.Second, Now: func() time.Time { return h.now }})
	if err != nil {
		h.t.Fatal(err)
	}
	h.r = r
}

// TestReadInContext: a message is read against what the bot asked, and
// the LLM is asked only about a message that would not move the
// conversation where the student is.
func TestReadInContext(t *testing.T) {
	t.Run("a bare ja at a step that asks nothing is not done", func(t *testing.T) {
		h := newHarness(t, "sam", nil)
		h.welcome()
		h.click(StepWelcome, SitMovePhone)
		h.wantStep(guideID(1))
		contains(t, h.say("ja"), "Kies **Gelukt** als hij gelukt is")
		h.wantStep(guideID(1))
		h.say("gelukt")
		h.wantStep(guideID(2))
	})
	t.Run("ja answers a yes/no question", func(t *testing.T) {
		h := newHarness(t, "lars", nil)
		h.welcome()
		h.click(StepWelcome, SitNewPhoneSame)
		h.wantStep(StepAskOldPhone)
		h.say("ja hoor, ligt hier naast me")
		if s := h.state().Step; s == StepAskOldPhone {
			t.Fatalf("'ja' did not answer the question")
		}
	})
	t.Run("at the welcome a phone that stopped is a situation", func(t *testing.T) {
		h := newHarness(t, "sam", nil)
		h.welcome()
		rs := h.say("hij doet het niet meer")
		lacks(t, rs, "begrijp ik niet")
		if h.state().Situation != SitSigninProblem {
			t.Fatalf("situation = %q, want %s", h.state().Situation, SitSigninProblem)
		}
	})
	t.Run("the LLM is asked only when the keywords do not move", func(t *testing.T) {
		h := newHarness(t, "sam", nil)
		c := &askedClassifier{intent: "lost_phone"}
		h.withClassifier(c)
		h.welcome()
		h.say("mijn broertje heeft hem geruild voor een fiets")
		if len(c.asked) != 1 || h.state().Situation != SitLostPhone {
			t.Fatalf("asked %q, situation %q: the model's reading should have chosen lost_phone", c.asked, h.state().Situation)
		}
		h.click(StepAskOldPhone, string(ActNo))
		n := len(c.asked)
		h.say("gelukt") // a step's answer: no question for the model
		h.say("ik krijg geen melding")
		if len(c.asked) != n {
			t.Fatalf("the model was asked about messages the keywords read: %q", c.asked[n:])
		}
	})
	t.Run("the model cannot move a step", func(t *testing.T) {
		h := newHarness(t, "sam", nil)
		c := &askedClassifier{intent: "done"}
		h.withClassifier(c)
		h.welcome()
		h.click(StepWelcome, SitMovePhone)
		h.say("ja") // the engine's own answer: no question for the model
		h.say("mijn broer zit naast me")
		if len(c.asked) != 1 {
			t.Fatalf("asked %q, want once, for the message that names nothing", c.asked)
		}
		h.wantStep(guideID(1))
	})
	t.Run("step 7's choice is not a question for the model", func(t *testing.T) {
		h := newHarness(t, "sam", nil)
		c := &askedClassifier{intent: "explain"}
		h.withClassifier(c)
		h.welcome()
		h.click(StepWelcome, SitMovePhone)
		for n := 1; n < 7; n++ {
			h.click(guideID(n), string(ActDone))
		}
		h.wantStep(guideID(7))
		before := len(c.asked)
		h.say("Aanmelden")
		if len(c.asked) != before {
			t.Fatalf("the model was asked about step 7's choice: %q", c.asked[before:])
		}
		h.wantStep(guideID(8))
	})
}

// TestClassifyIsAnEffect: the engine, not the runner, decides that the
// classifier is needed (EffClassify, nothing said yet), and acts on its
// reading when the text comes back as InClassified.
func TestClassifyIsAnEffect(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	s := State{FlowVersion: FlowVersion, Step: guideID(1), SessionID: "s1", Situation: SitMovePhone}
	in := Input{Kind: InText, Text: "mijn broer zit naast me", At: at}
	_, outs, effs := Engine{Settings: testSettings, Classify: true}.Step(s, in)
	if len(outs) != 0 || len(effs) != 1 || effs[0].Kind != EffClassify || effs[0].Where.Step != guideID(1) {
		t.Fatalf("want one EffClassify at step01 and nothing said, got outs %v effects %+v", outs, effs)
	}
	_, outs, _ = Engine{Settings: testSettings}.Step(s, in)
	if len(outs) == 0 || !strings.Contains(outs[0].Text, "begrijp ik niet") {
		t.Fatalf("without a classifier the keyword reading stands: %v", outs)
	}
	// "gelukt" moves the step: no classifier.
	next, _, effs := Engine{Settings: testSettings, Classify: true}.Step(s, Input{Kind: InText, Text: "gelukt", At: at})
	if next.Step != guideID(2) || slices.ContainsFunc(effs, func(e Effect) bool { return e.Kind == EffClassify }) {
		t.Fatalf("'gelukt' asked the classifier or did not move: step %s", next.Step)
	}
	// The classifier's reading comes back.
	back := in
	back.Kind, back.Reading = InClassified, intent.Reading{Text: in.Text, Intent: intent.IntentHelp, Confidence: 0.9, Source: intent.SourceLLM}
	_, outs, effs = Engine{Settings: testSettings, Classify: true}.Step(s, back)
	if slices.ContainsFunc(effs, func(e Effect) bool { return e.Kind == EffClassify }) || len(outs) == 0 {
		t.Fatalf("InClassified asked again or said nothing: outs %v effects %+v", outs, effs)
	}
}
