package staff

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mfabot/store"
)

// TestBrowserFeedbackSection: in a real Chromium, the statistics page
// shows the reactions to the model's answers under the satisfaction
// scores, and what a student typed is shown as text, never run.
func TestBrowserFeedbackSection(t *testing.T) {
	exe := chromium(t)
	steps := []string{"step01", "step02", "step10"}
	e := newDevEnv(t, steps)
	addEscalation(t, e.st, store.Escalation{StudentName: "Bram", ConversationID: "a:fb-esc", CreatedAt: time.Now().Add(-time.Hour)})
	seedFeedback(t, e.st, "a:fb-esc")
	ctx := context.Background()
	if err := e.st.RecordAnswer(ctx, store.Answer{ConversationID: "a:fb-x", ActivityID: "x", Step: "step02", SentAt: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SetAnswerFeedback(ctx, store.AnswerFeedback{ConversationID: "a:fb-x", ActivityID: "x", Reaction: store.ReactionDislike,
		Text: `<img src=x onerror="window.__xss=1">`, At: time.Now()}); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelC := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelC()
	bctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	defer cancelT()

	if err := chromedp.Do(bctx,
		chromedp.Navigate(e.srv.URL+"/staff/stats"),
		chromedp.WaitVisible(chromedp.CSS(`#dev-name`)),
		chromedp.SendKeys(chromedp.CSS(`#dev-name`), "Ine Docent"),
		chromedp.Click(chromedp.CSS(`form.devlogin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.fb-conversations`)),
	); err != nil {
		t.Fatalf("statistics page: %v", err)
	}
	likes, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#fb-likes`)))
	if err != nil {
		t.Fatal(err)
	}
	dislikes, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`#fb-dislikes`)))
	if err != nil {
		t.Fatal(err)
	}
	if likes != "1" || dislikes != "3" {
		t.Errorf("shown %s up, %s down; want 1 and 3", likes, dislikes)
	}
	// The newest reaction is first, its text shown as text.
	first, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`table.fb-conversations tbody tr td .fb-line`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first, `<img src=x onerror="window.__xss=1">`) || !strings.Contains(first, "Stap 2: Log in") {
		t.Errorf("first reaction shown as %q", first)
	}
	xss, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`window.__xss === 1`))
	if err != nil {
		t.Fatal(err)
	}
	if xss {
		t.Error("a student's feedback text ran as HTML")
	}
	// Below the satisfaction scores.
	below, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.querySelector('#h-sat').getBoundingClientRect().top < document.querySelector('#h-feedback').getBoundingClientRect().top`))
	if err != nil {
		t.Fatal(err)
	}
	if !below {
		t.Error("the feedback section is not below the satisfaction scores")
	}
	if err := chromedp.Do(bctx, chromedp.ScrollIntoView(chromedp.CSS(`#feedback`))); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(artifactDir(t), "staff-stats-feedback.png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}
