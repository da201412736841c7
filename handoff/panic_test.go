package handoff

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
)

// panicOnceNotifier panics on its first message to a student, as a bug
// in the Connector client could, on the outbox's own goroutine.
type panicOnceNotifier struct {
	*recNotifier
	panicked atomic.Bool
}

func (n *panicOnceNotifier) NotifyStudent(ctx context.Context, conversationID, text string) error {
	if n.panicked.CompareAndSwap(false, true) {
		panic("notifier bug")
	}
	return n.recNotifier.NotifyStudent(ctx, conversationID, text)
}

// TestOutboxSurvivesAPanickingNotifier: the panic is recovered (the
// process lives on), the message stays stored, and it is sent once its
// lease runs out; later actions still wake the sender.
func TestOutboxSurvivesAPanickingNotifier(t *testing.T) {
	ctx := context.Background()
	st := testStores(t)["sqlite"](t)
	clk := &testClock{t: ams(2026, 11, 25, 10, 30)}
	rec := &recorder{}
	n := &panicOnceNotifier{recNotifier: newRecNotifier("a", rec)}
	svc := instance(t, st, n, clk, "a")
	res, err := svc.Escalate(ctx, samRequest("a:sam"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.HandleStaffAction(ctx, staffClick(VerbClaim, res.Escalation.ID)); err != nil {
		t.Fatal(err)
	}
	waitSvc(t, svc)
	if !n.panicked.Load() {
		t.Fatal("the notifier was not called")
	}
	if ms := rec.messages(); len(ms) != 0 {
		t.Fatalf("sent despite the panic: %s", sentTexts(ms))
	}
	clk.Set(clk.Now().Add(outboxLease + outboxFirstRetry))
	if _, err := svc.HandleStaffAction(ctx, staffClick(VerbResolve, res.Escalation.ID)); err != nil {
		t.Fatal(err)
	}
	waitSvc(t, svc)
	if _, err := svc.SendOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	ms := rec.messages()
	if len(ms) != 2 || !strings.Contains(ms[0].Text, "opgepakt") || !strings.Contains(ms[1].Text, "opgelost") {
		t.Fatalf("student messages %q; want the claim's (after its lease), then the resolve's", sentTexts(ms))
	}
}
