package staff

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mfabot/dialogs"
	"mfabot/dialogs/texts"
	"mfabot/handoff"
	"mfabot/store"
)

// chromium returns the browser to drive, or skips the test.
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("MFABOT_TEST_CHROMIUM")
	if path == "" {
		if os.Getenv("MFABOT_TEST_REQUIRE") == "1" {
			t.Fatal("MFABOT_TEST_CHROMIUM is not set and MFABOT_TEST_REQUIRE=1")
		}
		t.Skip("MFABOT_TEST_CHROMIUM not set")
	}
	return path
}

func artifactDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("MFABOT_TEST_ARTIFACTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// TestBrowserClaimAndResolve signs in through the developer sign-in in a
// real Chromium, sees an escalation appear without reloading, claims it
// and resolves it with a note.
func TestBrowserClaimAndResolve(t *testing.T) {
	exe := chromium(t)
	steps := dialogs.StepOrder()
	e := newDevEnv(t, steps)
	addEscalation(t, e.st, store.Escalation{StudentName: "Bram Jansen", StudentUPN: "bram.jansen@student.example",
		Situation: "move_phone", FailedStep: "step03", Reason: handoff.ReasonTwoFailures, CreatedAt: time.Now().Add(-47 * time.Minute), RepeatContact: true})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	dir := artifactDir(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}

	// Sign in: the dashboard sends us to the sign-in page first.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/staff/"),
		chromedp.WaitVisible(chromedp.CSS(`#dev-name`)),
	); err != nil {
		t.Fatalf("open dashboard: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(loc, "/staff/login") {
		t.Fatalf("not sent to the sign-in page: %s", loc)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#dev-name`), "Ine Docent"),
		chromedp.Click(chromedp.CSS(`form.devlogin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	// A marker that a reload would wipe.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__noReload = "still here"`)); err != nil {
		t.Fatalf("sign in: %v", err)
	}

	// A new escalation arrives after the page has loaded.
	id := addEscalation(t, e.st, store.Escalation{
		StudentName: "Sanne de Vries", StudentUPN: "sanne.devries@student.example", StudentObjectID: "6f1c0d2e-0000-4000-8000-000000000001",
		Situation: "suspicious_prompt", FailedStep: "step02", Reason: handoff.ReasonSuspicious, Security: true,
		Methods:   []string{"Microsoft Authenticator (iPhone 12)", "Mobiel +31 6 ** ** ** 78"},
		CreatedAt: time.Now().Add(-3 * time.Minute),
		Transcript: []store.TranscriptLine{
			{Role: "student", Text: "Ik krijg steeds meldingen om goed te keuren, maar ik probeer niet in te loggen.", At: time.Now().Add(-4 * time.Minute)},
			{Role: "bot", Text: "Keur die verzoeken niet goed. Wijzig nu je wachtwoord. Ik geef je zaak meteen door aan de servicedesk.", At: time.Now().Add(-3 * time.Minute)},
		},
	})
	row := `#esc-` + strconv.FormatInt(id, 10)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row+` .badge.security`))); err != nil {
		t.Fatalf("new escalation did not appear: %v", err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__noReload || ""`))
	if err != nil {
		t.Fatal(err)
	}
	if marker != "still here" {
		t.Fatal("the page was reloaded to show the new escalation")
	}
	first, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#queue tbody tr`), "id"))
	if err != nil {
		t.Fatal(err)
	}
	if firstRow := first.Value; firstRow != row[1:] {
		t.Errorf("first row is %s, want the security escalation %s", firstRow, row[1:])
	}
	shot("staff-queue.png")

	// Claim it on the detail page.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` a`)),
		chromedp.WaitVisible(chromedp.CSS(`#claim`)),
		chromedp.Click(chromedp.CSS(`#claim`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)),
	); err != nil {
		t.Fatalf("claim: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#status`)))
	if err != nil {
		t.Fatal(err)
	}
	if status != "In behandeling" {
		t.Errorf("status after claim = %q", status)
	}
	if got := mustEscalation(t, e.st, id); got.Status != store.StatusClaimed || got.ClaimedBy != "Ine Docent" {
		t.Errorf("stored after claim: %s by %q", got.Status, got.ClaimedBy)
	}

	// Resolve it with a note.
	note := "Wachtwoord gewijzigd en alle sessies ingetrokken; student geïnformeerd."
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#note`), note),
		chromedp.Click(chromedp.CSS(`#resolve`)),
		chromedp.WaitVisible(chromedp.CSS(`#reopen`)),
	); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	status, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#status`)))
	if err != nil {
		t.Fatal(err)
	}
	if status != "Opgelost" {
		t.Errorf("status after resolve = %q", status)
	}
	got := mustEscalation(t, e.st, id)
	if got.Status != store.StatusResolved || got.ResolvedBy != "Ine Docent" || got.ResolutionNote != note {
		t.Errorf("stored after resolve: %s by %q note %q", got.Status, got.ResolvedBy, got.ResolutionNote)
	}
	shot("staff-detail-resolved.png")

	// A colleague reopens it elsewhere: the open page says so, without
	// throwing away what is on screen.
	if _, err := (fakeActions{st: e.st, now: time.Now}).Reopen(context.Background(), id, "Joris Collega"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#changed`))); err != nil {
		t.Fatalf("change notice did not appear: %v", err)
	}

	// The statistics page shows the funnel in flow order.
	seedStats(t, e.st, steps)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav a[href="/staff/stats"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.funnel`)),
	); err != nil {
		t.Fatalf("statistics: %v", err)
	}
	// Every row is named as staff name it, never by the step's id.
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.funnel tbody th")].map(th => th.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(steps) {
		t.Fatalf("funnel rows %q, want one per step of the flow (%d)", rows, len(steps))
	}
	for i, id := range steps {
		if want := texts.Step("nl", id); rows[i] != want || rows[i] == id {
			t.Errorf("funnel row %d = %q, want %q (step %s)", i, rows[i], want, id)
		}
	}
	if rows[indexOf(steps, "step07")] != "Stap 7: Voeg je schoolaccount toe" {
		t.Errorf("step 7's row = %q", rows[indexOf(steps, "step07")])
	}
	shot("staff-stats.png")

	acts := auditActions(t, e.st, id)
	for _, want := range []string{"view:Ine Docent", "claim:Ine Docent", "resolve:Ine Docent"} {
		if !containsStr(acts, want) {
			t.Errorf("audit %v lacks %s", acts, want)
		}
	}
}

// seedStats records a few finished sessions with step events.
func seedStats(t *testing.T, st store.Store, steps []string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	outcomes := []string{store.OutcomeVerifiedResolved, store.OutcomeVerifiedResolved, store.OutcomeSelfReportedResolved,
		store.OutcomeEscalated, store.OutcomeAbandoned, store.OutcomeVerifiedResolved, store.OutcomeSecurityEscalated}
	for i, outcome := range outcomes {
		sid := "stats-" + strconv.Itoa(i)
		day := now.Add(-time.Duration(i%3) * 24 * time.Hour)
		if err := st.StartSession(ctx, store.Session{ID: sid, ConversationID: "c-" + sid, UserID: "u-" + sid, StartedAt: day.Add(-time.Hour), LastActivityAt: day.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		reach := len(steps) - i%len(steps)
		for j, step := range steps[:reach] {
			ev := store.StepEvent{ConversationID: "c-" + sid, UserID: "u-" + sid, Step: step, Event: "shown", At: day.Add(-time.Hour + time.Duration(j)*time.Minute)}
			if err := st.RecordStepEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
			if j == reach-1 && outcome != store.OutcomeVerifiedResolved {
				ev.Event = "failed"
				if err := st.RecordStepEvent(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := st.EndSession(ctx, sid, outcome, day.Add(-10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := st.SetSatisfaction(ctx, sid, 5-i%3); err != nil {
			t.Fatal(err)
		}
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
