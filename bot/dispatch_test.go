package bot

import (
	"context"
	"fmt"
	"testing"
	"time"

	"mfabot/dialogs"
)

// slowFor blocks the turns of one conversation until released, as a turn
// waiting for its Teams rate-limit slot or a slow Graph would.
type slowFor struct {
	*echoTurns
	conv    string
	release chan struct{}
}

func (s *slowFor) Handle(ctx context.Context, t dialogs.Turn, typing func()) ([]dialogs.Reply, error) {
	if t.Ref.ConversationID == s.conv {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.echoTurns.Handle(ctx, t, typing)
}

// TestAWaitingTurnHoldsUpNoOtherConversation: while one conversation's
// turn waits, the turns of 12 other conversations all run - none of them
// queues behind it (with the old four hashed workers, about a quarter
// would have).
func TestAWaitingTurnHoldsUpNoOtherConversation(t *testing.T) {
	slow := &slowFor{echoTurns: &echoTurns{}, conv: "a:slow", release: make(chan struct{})}
	e := newEnv(t, envOpts{mutate: func(o *Options) { o.Turns = slow; o.Workers = 4; o.PollInterval = time.Hour }})
	a := e.activity("slow-1", "wacht")
	a["conversation"].(map[string]any)["id"] = "a:slow"
	if resp, _ := e.postActivity(a); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	for i := range 12 {
		act := e.activity(fmt.Sprintf("fast-%d", i), "hallo")
		act["conversation"].(map[string]any)["id"] = fmt.Sprintf("a:fast-%d", i)
		if resp, _ := e.postActivity(act); resp.StatusCode != 200 {
			t.Fatal("not accepted")
		}
		e.sender.waitMessages(t, 1) // answered while a:slow still waits
	}
	close(slow.release)
	e.sender.waitMessages(t, 1)
}

// TestTypingOnlyForASlowTurn: a turn that asks for the typing indicator
// and answers at once sends none; one still running after TypingDelay
// sends exactly one, before its reply.
func TestTypingOnlyForASlowTurn(t *testing.T) {
	slow := &slowFor{echoTurns: &echoTurns{}, conv: "a:slow", release: make(chan struct{})}
	e := newEnv(t, envOpts{mutate: func(o *Options) { o.Turns = &typingFirst{slow}; o.TypingDelay = 50 * time.Millisecond }})
	count := func() (typing, messages int) {
		for _, r := range e.conn.Requests() {
			switch r.Body["type"] {
			case "typing":
				typing++
			case "message":
				messages++
			}
		}
		return
	}
	if resp, _ := e.postActivity(e.activity("fast-1", "hallo")); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	e.sender.waitMessages(t, 1)
	time.Sleep(100 * time.Millisecond)
	if ty, _ := count(); ty != 0 {
		t.Fatalf("%d typing indicators for a turn that answered at once, want 0", ty)
	}
	a := e.activity("slow-1", "wacht")
	a["conversation"].(map[string]any)["id"] = "a:slow"
	if resp, _ := e.postActivity(a); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	deadline := time.Now().Add(10 * time.Second)
	for ty, _ := count(); ty == 0; ty, _ = count() {
		if time.Now().After(deadline) {
			t.Fatal("no typing indicator for a turn that waits")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(slow.release)
	e.sender.waitMessages(t, 1)
	if ty, msgs := count(); ty != 1 || msgs != 2 {
		t.Fatalf("%d typing indicators and %d messages, want 1 and 2", ty, msgs)
	}
}

// typingFirst asks for the typing indicator before the turn's work, as the
// runner does before a Graph read.
type typingFirst struct{ inner *slowFor }

func (f *typingFirst) Handle(ctx context.Context, t dialogs.Turn, typing func()) ([]dialogs.Reply, error) {
	typing()
	return f.inner.Handle(ctx, t, func() {})
}

// TestRushWaitsInOrderForFreeSlots: with every slot taken, conversations
// with new work wait in the order they came and get the slots as turns
// finish - without a poll (the poll interval is an hour).
func TestRushWaitsInOrderForFreeSlots(t *testing.T) {
	slow := &slowFor{echoTurns: &echoTurns{}, conv: "a:slow", release: make(chan struct{})}
	e := newEnv(t, envOpts{mutate: func(o *Options) { o.Turns = slow; o.Workers = 1; o.PollInterval = time.Hour }})
	post := func(id, conv string) {
		a := e.activity(id, "hallo")
		a["conversation"].(map[string]any)["id"] = conv
		if resp, _ := e.postActivity(a); resp.StatusCode != 200 {
			t.Fatal("not accepted")
		}
	}
	post("s-1", "a:slow")
	time.Sleep(200 * time.Millisecond) // a:slow takes the only slot
	for i := range 5 {
		post(fmt.Sprintf("q-%d", i), fmt.Sprintf("a:q-%d", i))
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(e.conn.Requests()); n != 0 {
		t.Fatalf("%d replies while the only slot is taken", n)
	}
	close(slow.release)
	e.sender.waitMessages(t, 6)
	var order []string
	for _, tn := range slow.Turns() {
		order = append(order, tn.Ref.ConversationID)
	}
	want := "[a:slow a:q-0 a:q-1 a:q-2 a:q-3 a:q-4]"
	if fmt.Sprint(order) != want {
		t.Fatalf("turns ran in the order %v, want %s", order, want)
	}
}
