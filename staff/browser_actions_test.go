package staff

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mfabot/dialogs"
	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/store"
)

// TestBrowserLostPhoneLoop runs the lost-phone loop in dev mode with a
// real Chromium on the dashboard: demo student lars (only the lost
// phone's Authenticator) is handed off by the real dialogs runner; the
// staff member claims the escalation, records the identity check and
// creates a Temporary Access Pass, which the page shows; the student's
// conversation gets the route (the timer the bot's worker would run) and
// walks steps 3-12 against the demo directory to a verified end.
func TestBrowserLostPhoneLoop(t *testing.T) {
	exe := chromium(t)
	st := openStore(t)
	demo := graph.NewDemo()
	svc, err := handoff.NewService(handoff.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := dialogs.NewRunner(dialogs.RunnerOptions{Store: st, Directory: demo, Escalator: svc,
		Settings: dialogs.Settings{VoiceCalls: true, SetupURL: "https://aka.ms/mfasetup", InstitutionName: "ICT Servicedesk"}})
	if err != nil {
		t.Fatal(err)
	}
	e := newDevEnvWith(t, st, Options{Store: st, Actions: svc, Dev: true, Account: demo, Route: runner,
		StepOrder: dialogs.StepOrder()})

	// The student, through the runner (as the bot's worker would).
	ref := store.ConversationRef{ConversationID: "a:conv-lars", ChannelID: "msteams", UserID: "29:lars",
		UserAADObjectID: graph.DemoUserID("lars"), UserName: "Lars", Locale: "nl-NL", ConversationType: "personal"}
	var last []dialogs.Reply
	turn := func(tn dialogs.Turn) {
		t.Helper()
		tn.Ref = ref
		rs, err := runner.Handle(context.Background(), tn, nil)
		if err != nil {
			t.Fatal(err)
		}
		last = rs
	}
	press := func(action string) {
		t.Helper()
		for i := len(last) - 1; i >= 0; i-- {
			if b := submitData(last[i].Card, action); b != nil {
				turn(dialogs.Turn{Kind: dialogs.TurnMessage, Value: b})
				return
			}
		}
		t.Fatalf("no %q button in:\n%s", action, repliesText(last))
	}
	turn(dialogs.Turn{Kind: dialogs.TurnWelcome})
	press("lost_phone")
	escs, err := st.ListEscalations(context.Background(), store.EscalationFilter{})
	if err != nil || len(escs) != 1 {
		t.Fatalf("escalations %v %v:\n%s", escs, err, repliesText(last))
	}
	id := escs[0].ID

	ctx := browser(t, exe)
	detail := e.srv.URL + "/staff/escalations/" + itoa(id)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(e.srv.URL + "/staff/login?next=" + "/staff/escalations/" + itoa(id)),
		chromedp.WaitVisible(chromedp.CSS(`#dev-name`)),
		chromedp.SendKeys(chromedp.CSS(`#dev-name`), "Ine Docent"),
		chromedp.Click(chromedp.CSS(`form.devlogin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#claim`)),
		chromedp.Click(chromedp.CSS(`#claim`)),
		chromedp.WaitVisible(chromedp.CSS(`#identity-form`)),
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("sign in and claim: %v", err)
	}
	warning, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#acties`)))
	if err != nil || !strings.Contains(warning, "geen bewijs") {
		t.Fatalf("the identity warning is missing: %v %q", err, warning)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=how][value=document]`)),
		chromedp.Click(chromedp.CSS(`#identity-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#identity-done`)),
		chromedp.Click(chromedp.CSS(`#do-tap`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
	); err != nil {
		t.Fatalf("identity check and confirmation: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#h-confirm`)))
	if err != nil || !strings.Contains(heading, "Lars Jansen") {
		t.Fatalf("the confirmation does not name the student: %v %q", err, heading)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#confirm`)), chromedp.WaitVisible(chromedp.CSS(`#tap-pass`))); err != nil {
		t.Fatalf("create the pass: %v", err)
	}
	pass, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#tap-pass code`)))
	if err != nil || len(strings.TrimSpace(pass)) != 8 {
		t.Fatalf("pass shown: %v %q", err, pass)
	}
	pass = strings.TrimSpace(pass)
	shotTo(t, ctx, "staff-tap.png")

	// The route: the timer the dashboard stored, run as the worker would.
	due, err := st.DueTimers(context.Background(), time.Now().Add(time.Second), 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("timers: %v %v", due, err)
	}
	if _, rs, err := runner.HandleTimer(context.Background(), due[0], nil); err != nil {
		t.Fatal(err)
	} else {
		last = rs
	}
	if got := repliesText(last); !strings.Contains(got, "tijdelijke toegangspas") || !strings.Contains(got, "Stap 3 van 12") || strings.Contains(got, pass) {
		t.Fatalf("route:\n%s", got)
	}
	for i := 0; submitData(last[len(last)-1].Card, "rate") == nil; i++ {
		if i > 30 {
			t.Fatalf("no end:\n%s", repliesText(last))
		}
		if rs := last; submitData(rs[len(rs)-1].Card, "done") == nil && submitData(rs[len(rs)-1].Card, "continue") != nil {
			press("continue")
			continue
		}
		press("done")
	}
	state, err := runner.State(context.Background(), ref.ConversationID)
	if err != nil || !state.VerifiedNew || state.Outcome != store.OutcomeVerifiedResolved {
		t.Fatalf("not verified: %+v %v", state, err)
	}

	// Back on the dashboard: the log shows the pass was made, not the pass.
	if err := chromedp.Do(ctx, chromedp.Navigate(detail), chromedp.WaitVisible(chromedp.CSS(`table.audit`))); err != nil {
		t.Fatal(err)
	}
	log, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`table.audit`)))
	if err != nil || !strings.Contains(log, "tijdelijke toegangspas gemaakt") || strings.Contains(log, pass) {
		t.Fatalf("audit on the page: %v\n%s", err, log)
	}
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(page, pass) {
		t.Fatal("the detail page shows the pass")
	}
	shotTo(t, ctx, "staff-after-tap.png")
}

// submitData returns the Action.Submit data of the card's button with action.
func submitData(card json.RawMessage, action string) map[string]any {
	if len(card) == 0 {
		return nil
	}
	var found map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if d, ok := x["data"].(map[string]any); ok && x["type"] == "Action.Submit" && d["action"] == action && found == nil {
				found = d
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	var v any
	_ = json.Unmarshal(card, &v)
	walk(v)
	return found
}

func repliesText(rs []dialogs.Reply) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(r.Text + "\n" + dialogs.CardText(r.Card) + "\n--\n")
	}
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// newDevEnvWith serves a dashboard built from o (dev mode, loopback).
func newDevEnvWith(t *testing.T, st store.Store, o Options) *env {
	t.Helper()
	o.Logger = testLogger(t)
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{st: st, srv: srv}
}

// browser starts a headless Chromium for the test.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

func shotTo(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}
