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
