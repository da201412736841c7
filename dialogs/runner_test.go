package dialogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/store"
)

// toStep walks sam's move_phone route up to guide step n.
func toStep(h *harness, n int) {
	h.welcome()
	h.press("move_phone")
	for i := 1; i < n; i++ {
		h.press("done")
	}
	h.wantStep(guideID(n))
}

func TestFailingTwiceAtEachStepHandsOff(t *testing.T) {
	for n := 1; n <= guideSteps; n++ {
		for _, lang := range []string{"nl", "en"} {
			t.Run(fmt.Sprintf("%s/step%02d", lang, n), func(t *testing.T) {
				h := newHarness(t, "sam", nil)
				if lang == "en" {
					h.ref.Locale = "en-US"
					h.dir = graph.NewDemo()
				}
				toStep(h, n)
				if lang == "en" {
					h.say("English please")
				}
				d := lookupStep(guideID(n))
				tt := &turn{set: testSettings, s: h.state()}
				help := tt.stepText(d, "help")
				rs := h.press("failed")
				contains(t, rs, tr(lang, "msg.failed_once", nil), help)
				h.wantStep(guideID(n))
				if len(h.esc.requests()) != 0 {
					t.Fatal("first failure escalated")
				}
				h.press("failed")
				h.wantStep(StepHandoff)
				contains(t, h.last, tr(lang, "handoff.reason.two_failures", nil), "CONTACT "+lang)
				reqs := h.esc.requests()
				if len(reqs) != 1 || reqs[0].FailedStep != guideID(n) || reqs[0].Reason != handoff.ReasonTwoFailures || reqs[0].Situation != SitMovePhone {
					t.Fatalf("escalations = %+v", reqs)
				}
				if h.state().Outcome != store.OutcomeEscalated {
					t.Fatalf("outcome %q", h.state().Outcome)
				}
			})
		}
	}
}

func TestFailuresCountPerStep(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	h.press("failed")
	h.press("done")
	h.press("failed") // a first failure at step 4: help, no hand-off
	h.wantStep("step04")
	if len(h.esc.requests()) != 0 {
		t.Fatal("failures at different steps escalated")
	}
}

func TestStaleCardClick(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	before := h.state()
	rs := h.click("step01", "done")
	contains(t, rs, tr("nl", "msg.stale", nil), "Stap 3 van 12")
	h.wantStep("step03")
	if after := h.state(); len(after.History) != len(before.History) {
		t.Fatal("stale click changed the history")
	}
	// also a stale "failed" never counts as a failure
	h.click("step01", "failed")
	h.click("step01", "failed")
	h.wantStep("step03")
	if len(h.esc.requests()) != 0 {
		t.Fatal("stale clicks escalated")
	}
}

func TestRestartInTheMiddleContinuesFromSQLite(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 5)
	// A new process: new store connection, new runner, same file.
	st2, err := store.Open(context.Background(), h.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	h.st = st2
	h.r = h.newRunner(testSettings)
	rs := h.press("done")
	contains(t, rs, "Stap 6 van 12")
	h.wantStep("step06")
	for i := 6; i <= 12; i++ {
		h.press("done")
	}
	h.wantStep(StepDone)
	if s := h.state(); s.Outcome != store.OutcomeVerifiedResolved {
		t.Fatalf("outcome %q", s.Outcome)
	}
}

func TestFlowVersionChangeResetsGracefully(t *testing.T) {
	for name, mutate := range map[string]func(*State){
		"older version":   func(s *State) { s.FlowVersion = FlowVersion + 7 },
		"removed step":    func(s *State) { s.Step = "step13" },
		"unreadable json": nil,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			toStep(h, 4)
			c, err := h.st.GetConversation(context.Background(), h.ref.ConversationID)
			if err != nil {
				t.Fatal(err)
			}
			if mutate != nil {
				s := DecodeState(c.State)
				mutate(&s)
				c.State, _ = json.Marshal(s)
			} else {
				c.State = []byte(`{"step": 12,`)
			}
			if _, err := h.st.SaveConversation(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			rs := h.click("step04", "done")
			contains(t, rs, tr("nl", "msg.reset", nil), tr("nl", "welcome.question", nil))
			s := h.state()
			if s.Step != StepWelcome || s.FlowVersion != FlowVersion {
				t.Fatalf("state after reset: %+v", s)
			}
			h.press("move_phone")
			h.wantStep("step01")
		})
	}
}

// lagDirectory hides a newly registered Authenticator for the first
// hideReads method reads after step 10.
type lagDirectory struct {
	*graph.Demo
	mu        sync.Mutex
	armed     bool
	reads     int
	hideReads int
	fail      error
	removeNew bool // step 11/12 remove the new entry instead of the old
}

func (d *lagDirectory) Methods(ctx context.Context, id string) ([]graph.Method, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return nil, d.fail
	}
	ms, err := d.Demo.Methods(ctx, id)
	if !d.armed {
		return ms, err
	}
	d.reads++
	if d.reads <= d.hideReads {
		var out []graph.Method
		for _, m := range ms {
			if m.DisplayName != "iPhone 15" {
				out = append(out, m)
			}
		}
		return out, err
	}
	return ms, err
}

func (d *lagDirectory) SimulateStepDone(id, step string) {
	d.mu.Lock()
	if step == "step10" {
		d.armed = true
	}
	removeNew := d.removeNew
	d.mu.Unlock()
	if removeNew && (step == "step11" || step == "step12") {
		ms, _ := d.Demo.Methods(context.Background(), id)
		for _, m := range ms {
			if m.DisplayName == "iPhone 15" {
				d.Demo.SimulateRemove(id, m.ID)
			}
		}
		return
	}
	d.Demo.SimulateStepDone(id, step)
}

func TestVerificationLagNewMethodOnThirdCheck(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), hideReads: 2}
	h := newHarness(t, "sam", dir)
	toStep(h, 10)
	rs := h.press("done")
	contains(t, rs, tr("nl", "verify_new.still", nil))
	h.wantStep(StepVerifyNew)
	// a click while checking: the bot says it is still busy
	contains(t, h.say("gelukt"), tr("nl", "verify_new.busy", nil))
	// the first re-check is not due yet
	if rs := h.fireTimers(5 * time.Second); len(rs) != 0 {
		t.Fatalf("timer fired early: %s", all(rs))
	}
	rs = h.fireTimers(20 * time.Second) // 2nd check: still hidden, silent
	if len(rs) != 0 {
		t.Fatalf("second check said: %s", all(rs))
	}
	h.wantStep(StepVerifyNew)
	rs = h.fireTimers(20 * time.Second) // 3rd check: there it is
	contains(t, rs, "'iPhone 15'", "Stap 11 van 12")
	h.wantStep("step11")
	if s := h.state(); !s.VerifiedNew || s.Checks != 0 {
		t.Fatalf("state %+v", s)
	}
	// no timer left behind
	if due, _ := h.st.DueTimers(context.Background(), h.now.Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("timers left: %d", len(due))
	}
	h.press("done")
	h.press("done")
	h.wantStep(StepDone)
	if h.state().Outcome != store.OutcomeVerifiedResolved {
		t.Fatal("not verified")
	}
}

func TestVerificationNotConfirmed(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), hideReads: 100}
	h := newHarness(t, "sam", dir)
	toStep(h, 10)
	h.press("done")
	for i := 0; i < 3; i++ {
		h.fireTimers(RecheckDelay)
	}
	h.wantStep(StepVerifyNewFailed)
	contains(t, h.last, tr("nl", "verify_new.title", nil), tr("nl", "button.retry", nil), tr("nl", "button.continue", nil), tr("nl", "button.human", nil))
	// retry runs the checks again
	rs := h.press("retry")
	contains(t, rs, tr("nl", "verify_new.still", nil))
	for i := 0; i < 3; i++ {
		h.fireTimers(RecheckDelay)
	}
	h.wantStep(StepVerifyNewFailed)
	h.press("continue")
	h.wantStep("step11")
	h.press("done")
	h.press("done")
	h.wantStep(StepDone)
	if s := h.state(); s.Outcome != store.OutcomeSelfReportedResolved {
		t.Fatalf("outcome %q, want self-reported", s.Outcome)
	}
}

func TestVerificationNotConfirmedHandOff(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), hideReads: 100}
	h := newHarness(t, "sam", dir)
	toStep(h, 10)
	h.press("done")
	for i := 0; i < 3; i++ {
		h.fireTimers(RecheckDelay)
	}
	h.press("human")
	h.wantStep(StepHandoff)
	if r := h.esc.requests(); len(r) != 1 || r[0].Reason != handoff.ReasonNotConfirmed || r[0].FailedStep != StepVerifyNew {
		t.Fatalf("escalations %+v", r)
	}
	contains(t, h.last, tr2("handoff.reason.not_confirmed"))
}

func TestFirstMessageAsksForAPerson(t *testing.T) {
	h := newHarness(t, "sam", nil)
	rs := h.say("ik wil een medewerker spreken")
	contains(t, rs, "Je hebt de Authenticator-app op 'iPhone 12'", tr2("handoff.reason.asked_for_human"), "CONTACT nl")
	h.wantStep(StepHandoff)
	if r := h.esc.requests(); len(r) != 1 || r[0].StudentUPN != "sam@student.example.nl" || r[0].StudentName != "Sam de Vries" {
		t.Fatalf("%+v", r)
	}
}

func TestWrongEntryRemoved(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), removeNew: true}
	h := newHarness(t, "sam", dir)
	toStep(h, 11)
	h.press("done")
	rs := h.press("done")
	contains(t, rs, tr("nl", "wrong_entry.title", nil), tr("nl", "button.readd", nil))
	h.wantStep(StepWrongEntry)
	rs = h.press("readd")
	contains(t, rs, "Stap 3 van 12")
	dir.mu.Lock()
	dir.removeNew = false
	dir.mu.Unlock()
	for i := 3; i <= 12; i++ {
		h.press("done")
	}
	h.wantStep(StepDone)
	if s := h.state(); s.Outcome != store.OutcomeVerifiedResolved {
		t.Fatalf("outcome %q", s.Outcome)
	}
}

func TestGraphForbiddenAtStartAsksTheStudent(t *testing.T) {
	for _, cause := range []error{graph.ErrForbidden, graph.ErrNotFound, graph.ErrThrottled, graph.ErrUnavailable, context.DeadlineExceeded} {
		t.Run(cause.Error(), func(t *testing.T) {
			dir := &lagDirectory{Demo: graph.NewDemo(), fail: fmt.Errorf("graph: list methods for x: status 403: Authorization_RequestDenied: %w", cause)}
			h := newHarness(t, "sam", dir)
			rs := h.welcome()
			contains(t, rs, tr("nl", "summary.unknown", nil))
			lacks(t, rs, "403", "Authorization", "graph:", "permission", "throttled")
			h.press("new_phone_same_number")
			h.wantStep(StepAskOldPhone)
			h.press("no")
			h.wantStep("step01")
			if s := h.state(); s.Route != RouteCall {
				t.Fatalf("route %q", s.Route)
			}
			for i := 1; i <= 10; i++ {
				h.press("done")
			}
			// no snapshot: the check is skipped, said plainly, step 11 follows
			contains(t, h.last, tr("nl", "verify_new.unavailable", nil), tr("nl", "step11.do.unknown", nil))
			h.press("done")
			h.press("done")
			h.wantStep(StepDone)
			if s := h.state(); s.Outcome != store.OutcomeSelfReportedResolved {
				t.Fatalf("outcome %q", s.Outcome)
			}
		})
	}
}

func TestGraphUnknownLostPhone(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo(), fail: graph.ErrForbidden}
	h := newHarness(t, "sam", dir)
	h.welcome()
	h.press("lost_phone")
	h.wantStep(StepAskSameNumber)
	h.press("no")
	h.wantStep(StepHandoff)
	if r := h.esc.requests(); len(r) != 1 || r[0].Reason != handoff.ReasonNoUsableMethod {
		t.Fatalf("%+v", r)
	}
	contains(t, h.last, "lost=true")
}

func TestGraphFailsDuringVerification(t *testing.T) {
	dir := &lagDirectory{Demo: graph.NewDemo()}
	h := newHarness(t, "sam", dir)
	toStep(h, 10)
	dir.mu.Lock()
	dir.fail = fmt.Errorf("timeout: %w", graph.ErrUnavailable)
	dir.mu.Unlock()
	rs := h.press("done")
	contains(t, rs, tr("nl", "verify_new.unavailable", nil), "Stap 11 van 12")
	lacks(t, rs, "timeout", "graph:")
	h.press("done")
	rs = h.press("done")
	contains(t, rs, tr("nl", "verify_old.unavailable", nil), tr("nl", "done.self", nil))
}

func TestVoiceCallsOff(t *testing.T) {
	h := newHarness(t, "sam", nil)
	s := testSettings
	s.VoiceCalls = false
	h.r = h.newRunner(s)
	h.welcome()
	h.press("lost_phone")
	h.wantStep(StepHandoff)
}

func TestSecretsAreNotStored(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 9)
	rs := h.say("42")
	contains(t, rs, tr("nl", "msg.secret", nil), "Stap 9 van 12")
	rs = h.say("de code is 123 456")
	contains(t, rs, tr("nl", "msg.secret", nil))
	rs = h.say("mijn wachtwoord is Zomer2026!xq")
	contains(t, rs, tr("nl", "msg.secret", nil))
	h.wantStep("step09")
	tr := h.transcript()
	for _, bad := range []string{"42", "123 456", "123456", "Zomer2026"} {
		if strings.Contains(tr, "student: "+bad) || strings.Contains(tr, bad) && !strings.Contains(bad, "42") {
			t.Errorf("transcript contains %q:\n%s", bad, tr)
		}
	}
	if !strings.Contains(tr, "[withheld: number]") || !strings.Contains(tr, "[withheld: code]") {
		t.Errorf("transcript lacks the placeholders:\n%s", tr)
	}
	// at another step "42" is not the number of step 9
	h.press("done")
	rs = h.say("ik ben 42 minuten bezig")
	lacks(t, rs, tr2("msg.secret"))
}

func tr2(key string) string { return tr("nl", key, nil) }

func TestGlobalCommands(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 4)
	contains(t, h.say("terug"), "Stap 3 van 12")
	h.wantStep("step03")
	contains(t, h.say("help"), tr2("msg.help"), "Stap 3 van 12")
	contains(t, h.say("wat sla je op over mij?"), "Ik bewaar je naam")
	contains(t, h.say("banaan"), tr2("msg.unknown"), "Stap 3 van 12")
	contains(t, h.say("uitleg"), tr2("step03.explain"), "Stap 3 van 12")
	contains(t, h.say("gelukt"), "Stap 4 van 12")
	contains(t, h.say("English please"), tr("en", "msg.lang", nil), "Step 4 of 12", "Choose Microsoft Authenticator")
	contains(t, h.say("Nederlands"), "Stap 4 van 12")
	contains(t, h.say("nog eens"), tr2("msg.retry_nothing"))
	contains(t, h.say("opnieuw"), tr2("msg.restarted"), tr2("welcome.question"))
	h.wantStep(StepWelcome)
	contains(t, h.say("ik heb een nieuwe telefoon"), "Stap 1 van 12")
	contains(t, h.say("stop"), tr2("stopped.text"))
	h.wantStep(StepStopped)
	contains(t, h.say("medewerker"), tr2("handoff.reason.asked_for_human"), "CONTACT nl")
	h.wantStep(StepHandoff)
	contains(t, h.say("hallo?"), tr2("handoff.after"))
	contains(t, h.say("opnieuw"), tr2("welcome.question"))
}

func TestBackToWelcomeAndChooseAgain(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 1)
	contains(t, h.say("terug"), tr2("welcome.question"))
	h.press("lost_phone")
	h.wantStep("step01")
	if s := h.state(); s.Situation != SitLostPhone || s.Route != RouteCall {
		t.Fatalf("state %+v", s)
	}
}

func TestSuspiciousFromTheMiddle(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 6)
	rs := h.say("ik krijg steeds meldingen om goed te keuren die ik niet zelf heb aangevraagd")
	contains(t, rs, tr2("suspicious.title"), "CONTACT nl lost=false security=true")
	if r := h.esc.requests(); len(r) != 1 || !r[0].Security {
		t.Fatalf("%+v", r)
	}
}

func TestTypedProblemMidStep(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 9)
	rs := h.say("ik krijg geen melding")
	contains(t, rs, tr2("msg.failed_once"), "Geen melding? Open de app", "Stap 9 van 12")
	h.wantStep("step09")
	rs = h.say("ik ben mijn telefoon kwijt")
	contains(t, rs, tr2("msg.midway"), "Stap 9 van 12")
	h.wantStep("step09")
	h.say("ik krijg nog steeds geen melding")
	h.wantStep(StepHandoff)
}

// Step 11 never asks to remove the phone number: it says to keep it
// when there is one (sam), and does not mention one that is not there
// (lars).
func TestStep11KeepsThePhoneNumber(t *testing.T) {
	for _, tc := range []struct {
		student string
		keep    bool
	}{{"sam", true}, {"lars", false}} {
		h := newHarness(t, tc.student, nil)
		toStep(h, 10)
		rs := h.press("done")
		h.wantStep("step11")
		if tc.keep {
			contains(t, rs, tr2("step11.keep_phone"))
		} else {
			lacks(t, rs, "telefoonnummer")
		}
	}
}

func TestFirstMessageWithoutWelcome(t *testing.T) {
	h := newHarness(t, "kim", nil)
	rs := h.say("I lost my phone")
	contains(t, rs, "You have the Authenticator app on 'Pixel 6'", "Step 1 of 12", "Open the website")
	h.wantStep("step01")
}

func TestPhonePlatformOffersPairByLink(t *testing.T) {
	h := newHarness(t, "sam", nil)
	h.plat = "iOS"
	h.welcome()
	rs := h.press("move_phone")
	contains(t, rs, tr2("step01.do.mobile")[:25], tr2("button.pair_link"))
	rs = h.press("pair_link")
	h.wantStep("step02")
	contains(t, rs, "in de browser van je telefoon", "Waar: Op je telefoon, in de browser.")
	lacks(t, rs, "laptop")
	for i := 2; i < 7; i++ {
		h.press("done")
	}
	contains(t, h.last, tr2("step07.do.link")[:40])
	h.press("done")
	contains(t, h.last, tr2("step08.do.link"))
}

func TestExplainQuestionUsesAnswerer(t *testing.T) {
	h := newHarness(t, "sam", nil)
	ans := &fakeAnswerer{answer: "Omdat je met je telefoon de QR-code scant.", ok: true}
	r, err := NewRunner(RunnerOptions{Store: h.st, Directory: h.dir, Escalator: h.esc, Answerer: ans, Settings: testSettings, Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	toStep(h, 1)
	rs := h.say("waarom moet ik dit op een laptop doen?")
	contains(t, rs, "Omdat je met je telefoon de QR-code scant.", "Stap 1 van 12")
	if !strings.Contains(ans.material, "CURRENT STEP") || !strings.Contains(ans.material, "088 - 469 9070") || !strings.Contains(ans.material, "QR-code scannen") {
		t.Errorf("material:\n%s", ans.material)
	}
	ans.ok = false
	rs = h.say("waarom moet ik dit op een laptop doen?")
	contains(t, rs, tr2("msg.no_answer"), tr2("step01.explain"))
	ans.err = errors.New("llm down")
	rs = h.say("waarom moet ik dit op een laptop doen?")
	contains(t, rs, tr2("step01.explain"))
	lacks(t, rs, "llm down")
}

type fakeAnswerer struct {
	answer, material string
	ok               bool
	err              error
}

func (f *fakeAnswerer) Answer(ctx context.Context, lang, q, material string) (string, bool, error) {
	f.material = material
	return f.answer, f.ok, f.err
}

func TestEscalationFailureStillShowsContact(t *testing.T) {
	h := newHarness(t, "sam", nil)
	h.esc.fail = errors.New("db down")
	h.welcome()
	rs := h.say("medewerker")
	// The card must not claim the request is queued when it is not.
	contains(t, rs, tr2("handoff.failed"), "CONTACT nl lost=false security=false notqueued=true")
	lacks(t, rs, "db down")
}

func TestSessionsAndStepEventsRecorded(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 3)
	h.press("failed")
	h.press("explain")
	for i := 3; i <= 12; i++ {
		h.press("done")
	}
	h.rate(4)
	st, err := h.st.Stats(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st.SatisfactionCounts[4] != 1 {
		t.Errorf("satisfaction %v", st.SatisfactionCounts)
	}
	got := 0
	for _, d := range st.OutcomesPerDay {
		got += d.Counts[store.OutcomeVerifiedResolved]
	}
	if got != 1 {
		t.Errorf("outcomes %+v", st.OutcomesPerDay)
	}
	rows := map[string]store.FunnelRow{}
	for _, r := range st.Funnel {
		rows[r.Step] = r
	}
	if rows["step03"].Failed != 1 || rows["step12"].Reached != 1 {
		t.Errorf("funnel %+v", st.Funnel)
	}
}

// TestVerificationSaysOnlyTheResult: the check after step 10 and the one
// after step 12 run within their turn, so the student gets what came of
// them with the next step: one activity, no "checking..." before it.
func TestVerificationSaysOnlyTheResult(t *testing.T) {
	h := newHarness(t, "sam", nil)
	toStep(h, 10)
	rs := h.press("done")
	contains(t, rs, "Gelukt: ik zie de Authenticator-app op 'iPhone 15'")
	if len(rs) != 2 || rs[0].Text == "" || rs[1].Card == nil {
		t.Fatalf("want the result and the next step's card (one activity on the wire), got %d replies:\n%s", len(rs), all(rs))
	}
	h.wantStep(guideID(11))
	h.press("done")
	h.wantStep(guideID(12))
	rs = h.press("done")
	contains(t, rs, tr("nl", "verify_old.gone", nil))
}

// meetDirectory answers the user only once the methods were asked for,
// and the methods only once the user was: a start read that asks one
// after the other waits for ever (here: until the deadline) and gets no
// user.
type meetDirectory struct {
	*graph.Demo
	userAsked, methodsAsked chan struct{}
	once1, once2            sync.Once
}

func (d *meetDirectory) User(ctx context.Context, id string) (graph.User, error) {
	d.once1.Do(func() { close(d.userAsked) })
	select {
	case <-d.methodsAsked:
	case <-ctx.Done():
		return graph.User{}, ctx.Err()
	}
	return d.Demo.User(ctx, id)
}

func (d *meetDirectory) Methods(ctx context.Context, id string) ([]graph.Method, error) {
	d.once2.Do(func() { close(d.methodsAsked) })
	select {
	case <-d.userAsked:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return d.Demo.Methods(ctx, id)
}

// TestStartReadsUserAndMethodsAtOnce: the welcome's two Graph reads run
// at the same time (one round trip of waiting, not two).
func TestStartReadsUserAndMethodsAtOnce(t *testing.T) {
	dir := &meetDirectory{Demo: graph.NewDemo(), userAsked: make(chan struct{}), methodsAsked: make(chan struct{})}
	h := newHarness(t, "sam", dir)
	h.welcome()
	s := h.state()
	if !s.MethodsKnown || s.UserName == "" {
		t.Fatalf("after the welcome: methods known %v, user %q; the reads did not run at once", s.MethodsKnown, s.UserName)
	}
}
