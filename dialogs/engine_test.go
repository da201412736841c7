package dialogs

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mfabot/dialogs/intent"
	"mfabot/graph"
	"mfabot/store"
)

func TestLanguageOrder(t *testing.T) {
	cases := []struct {
		s    State
		want string
	}{
		{State{}, "nl"},
		{State{LangLocale: "en-US"}, "en"},
		{State{LangLocale: "en-US", LangGraph: "nl-NL"}, "en"}, // the student's Teams beats the school's default
		{State{LangLocale: "nl-NL", LangGraph: "en-GB"}, "nl"},
		{State{LangLocale: "fr-FR", LangGraph: "en-GB"}, "en"}, // a locale without a language of ours: Graph's
		{State{LangText: "nl", LangLocale: "en-US", LangGraph: "en-GB"}, "nl"},
		{State{LangLocale: "nl-NL", LangGraph: "nl-NL", LangText: "en"}, "en"},
		{State{LangText: "en", LangChoice: "nl"}, "nl"},
		{State{LangGraph: "fr-FR", LangLocale: "de-DE"}, "nl"},
		{State{LangGraph: "fr-FR", LangLocale: "en-GB"}, "en"},
	}
	for _, c := range cases {
		if got := LanguageOf(c.s); got != c.want {
			t.Errorf("LanguageOf(%+v) = %s, want %s", c.s, got, c.want)
		}
	}
}

func TestStudentsOwnLanguageWins(t *testing.T) {
	h := newHarness(t, "sam", nil) // preferredLanguage nl-NL
	h.welcome()
	rs := h.say("I have a new phone and want to move the app")
	contains(t, rs, "Step 1 of 12", "Open the website")
	rs = h.say("Nederlands")
	contains(t, rs, "Stap 1 van 12")
	rs = h.say("this step doesn't work")
	contains(t, rs, "Stap 1 van 12") // an explicit choice beats the message language
}

func TestEngineIsPure(t *testing.T) {
	e := Engine{Settings: testSettings}
	s := State{FlowVersion: FlowVersion, Step: "step03", Route: RouteOldPhone, Failures: map[string]int{"step02": 1},
		History: []string{"welcome", "step01", "step02"}, Snapshot: samMethods, StartRead: true, MethodsKnown: true, SessionID: "c#1"}
	before := cloneState(s)
	in := Input{Kind: InButton, Step: "step03", Action: ActFailed, At: time.Unix(1, 0)}
	s1, outs1, effs1 := e.Step(s, in)
	s2, outs2, effs2 := e.Step(s, in)
	if !reflect.DeepEqual(s, before) {
		t.Fatal("Step changed its input state")
	}
	if !reflect.DeepEqual(s1, s2) || !reflect.DeepEqual(outs1, outs2) || !reflect.DeepEqual(effs1, effs2) {
		t.Fatal("Step is not deterministic")
	}
	if s1.Failures["step03"] != 1 || s1.Failures["step02"] != 1 {
		t.Fatalf("failures %v", s1.Failures)
	}
}

func TestTypedEquivalents(t *testing.T) {
	e := Engine{Settings: testSettings}
	s := State{FlowVersion: FlowVersion, Step: StepAskOldPhone, Situation: SitNewPhoneSame, SessionID: "c#1"}
	for text, want := range map[string]string{"ja": "step01", "Yes": "step01", "nee": "step01", "no": "step01"} {
		r := intent.Match(text, "nl")
		got, _, _ := e.Step(s, Input{Kind: InText, Text: text, Reading: r})
		if got.Step != want {
			t.Errorf("%q at ask_old_phone -> %s, want %s", text, got.Step, want)
		}
		if (text == "ja" || text == "Yes") != (got.Route == RouteOldPhone) {
			t.Errorf("%q: route %s", text, got.Route)
		}
	}
}

// conflictStore makes the first save of a turn lose the race.
type conflictStore struct {
	store.Store
	n atomic.Int32
}

func (c *conflictStore) SaveTurn(ctx context.Context, w store.TurnWrite) (int64, error) {
	if c.n.Add(1) == 1 {
		return 0, store.ErrConflict
	}
	return c.Store.SaveTurn(ctx, w)
}

func TestConflictRetriedOnce(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 2)
	h.st = &conflictStore{Store: h.st}
	h.r = h.newRunner(testSettings)
	rs := h.press("done")
	contains(t, rs, "Stap 3 van 12")
	h.wantStep("step03")
}

type alwaysConflict struct{ store.Store }

func (alwaysConflict) SaveTurn(ctx context.Context, w store.TurnWrite) (int64, error) {
	return 0, store.ErrConflict
}

func TestPersistentConflictIsAnError(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 2)
	h.st = alwaysConflict{h.st}
	h.r = h.newRunner(testSettings)
	_, err := h.r.Handle(context.Background(), Turn{Ref: h.ref, Kind: TurnMessage, Text: "gelukt"}, nil)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v", err)
	}
}

func TestConversationMadeBySaveRef(t *testing.T) {
	h := newHarness(t, "noor", nil)
	if err := h.st.SaveRef(context.Background(), h.ref); err != nil {
		t.Fatal(err)
	}
	contains(t, h.welcome(), "Hoi Noor!", "telefoonnummer +31 6 ** ** ** 21")
	h.press("lost_phone")
	h.wantStep("step01")
}

func TestTranscriptRedacted(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 2)
	h.say("mijn nummer is 06 12345678 en mail sam.devries@gmail.com")
	tr := h.transcript()
	if strings.Contains(tr, "12345678") || strings.Contains(tr, "sam.devries@gmail.com") {
		t.Fatalf("transcript not redacted:\n%s", tr)
	}
	if !strings.Contains(tr, "student: mijn nummer is") {
		t.Fatalf("student line missing:\n%s", tr)
	}
}

func TestTimerOfOlderSessionIgnored(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), hideReads: 100}
	h := newHarness(t, "sam", dir)
	toStep(h, 10)
	h.press("done")
	h.wantStep(StepVerifyNew)
	h.say("opnieuw") // restart: the pending re-check belongs to the old session
	h.wantStep(StepWelcome)
	if rs := h.fireTimers(RecheckDelay); len(rs) != 0 {
		t.Fatalf("old timer spoke: %s", all(rs))
	}
	h.wantStep(StepWelcome)
}

func TestDoubleWelcomeShownOnce(t *testing.T) {
	h := newHarness(t, "sam", nil)
	contains(t, h.welcome(), tr2("welcome.question"))
	if rs := h.welcome(); len(rs) != 0 {
		t.Fatalf("second welcome said: %s", all(rs))
	}
	h.now = h.now.Add(time.Hour)
	contains(t, h.welcome(), tr2("welcome.question"))
	h.press("move_phone")
	contains(t, h.welcome(), "Stap 1 van 12") // mid-flow: where you are
}

func TestQuestionsAnsweredInWords(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), fail: graph.ErrForbidden}
	h := newHarness(t, "sam", dir)
	h.welcome()
	h.press("lost_phone")
	h.wantStep(StepAskSameNumber)
	contains(t, h.say("ja, ik heb nog hetzelfde nummer"), "Stap 1 van 12")
	if h.state().Route != RouteCall {
		t.Fatal("not the call route")
	}
	h.say("opnieuw")
	h.press("new_phone_same_number")
	h.wantStep(StepAskOldPhone)
	h.say("ik ben mijn telefoon kwijt")
	h.wantStep("step01")
	if h.state().Route != RouteCall {
		t.Fatal("not the call route")
	}
}
