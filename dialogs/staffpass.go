package dialogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mfabot/store"
)

// PointStaffPass is the timer point of "the service desk gave you a
// Temporary Access Pass": the staff dashboard stores it (StaffPassIssued)
// and the bot's timer worker runs it as a turn, so the message reaches the
// student through the same path, rate limits and retries as a re-check,
// and survives a restart.
const PointStaffPass = "staff_pass"

// StaffPassIssued tells the student's conversation that the service desk
// created a Temporary Access Pass for them: a timer due now, whose turn
// says how to use it and continues at step 3 (staff.StudentRoute). The
// pass itself never comes here.
func (r *Runner) StaffPassIssued(ctx context.Context, conversationID string) error {
	conv, err := r.o.Store.GetConversation(ctx, conversationID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("dialogs: staff pass: conversation %s: %w", shortID(conversationID), err)
		}
		return fmt.Errorf("dialogs: staff pass: load conversation: %w", err)
	}
	s := DecodeState(conv.State)
	payload, err := json.Marshal(TimerPayload{Point: PointStaffPass, Session: s.SessionID})
	if err != nil {
		return err
	}
	if _, err := r.o.Store.AddTimer(ctx, store.Timer{ConversationID: conversationID, Due: r.o.Now(), Payload: payload}); err != nil {
		return fmt.Errorf("dialogs: staff pass: add timer: %w", err)
	}
	return nil
}

// staffPass: the desk checked the student's identity and gave them a
// pass. A new session starts (so the outcome is measured again) and the
// student continues at step 3 after signing in with the pass; steps 10
// and 11 are verified through Graph against the start snapshot as usual.
func (t *turn) staffPass() {
	sit := t.s.Situation
	if sit == "" {
		sit = SitLostPhone
	}
	t.startSession(sit)
	t.s.History = nil
	t.s.Checks, t.s.CheckAsked = 0, false
	t.s.NewAuthID, t.s.NewAuthName, t.s.NewIDs, t.s.VerifiedNew, t.s.OldGone, t.s.SkippedRemoval = "", "", nil, false, false, false
	t.s.HandoffNotQueued = false
	t.say("staff_pass.route", nil)
	t.goTo(guideID(3))
}
