package public

import (
	"fmt"
	"testing"
	"time"

	"mfabot/dialogs"
)

// botCards walks the real dialog engine the way a student does whose
// methods cannot be read (the page knows nothing about the student
// either): pick sit, answer the questions, press "Gelukt" at every step.
// It returns the step card the bot shows at each of the twelve steps.
func botCards(t *testing.T, set dialogs.Settings, lang, sit string) map[int]dialogs.Card {
	t.Helper()
	return botCardsAt7(t, set, lang, sit, dialogs.ActDone)
}

// botCardsAt7 is botCards with the button pressed at step 7's choice
// (ActDone: scan the QR code; ActSignInPath: sign in in the app).
func botCardsAt7(t *testing.T, set dialogs.Settings, lang, sit string, step7 dialogs.Action) map[int]dialogs.Card {
	t.Helper()
	eng := dialogs.Engine{Settings: set}
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := dialogs.State{}
	plan := map[string]dialogs.Action{
		dialogs.StepWelcome: dialogs.Action(sit), dialogs.StepAskSameNumber: dialogs.ActYes, dialogs.StepAskOldPhone: dialogs.ActNo,
		dialogs.StepTroubleNotif: dialogs.ActNotSolved, dialogs.StepTroubleAccount: dialogs.ActNo,
	}
	cards := map[int]dialogs.Card{}
	in := dialogs.Input{Kind: dialogs.InStart, At: at, ConversationID: "a:walk", LangChoice: lang}
	for turn := 0; turn < 60; turn++ {
		var outs []dialogs.Out
		var effs []dialogs.Effect
		s, outs, effs = eng.Step(s, in)
		next := dialogs.Input{}
		for _, e := range effs {
			if e.Kind == dialogs.EffReadMethods {
				// The directory cannot be read: the bot asks instead.
				next = dialogs.Input{Kind: dialogs.InMethods, Point: e.Point, Failed: true}
			}
		}
		for _, o := range outs {
			if o.Card == nil || len(o.Card.Buttons) == 0 {
				continue
			}
			step := o.Card.Buttons[0].Step
			var n int
			if _, err := fmt.Sscanf(step, "step%02d", &n); err == nil {
				if _, seen := cards[n]; !seen {
					cards[n] = *o.Card
				}
			}
			action, ok := plan[step]
			if n > 0 {
				action, ok = dialogs.ActDone, true
				if n == 7 {
					action = step7
				}
			}
			if !ok || next.Kind == dialogs.InMethods {
				continue
			}
			for _, b := range o.Card.Buttons {
				if b.Action == action {
					next = dialogs.Input{Kind: dialogs.InButton, Step: b.Step, Action: b.Action, View: b.View}
				}
			}
		}
		if len(cards) == 12 && s.Step == dialogs.StepDone {
			return cards
		}
		if next.Kind == dialogs.InStart {
			t.Fatalf("%s/%s: the walk is stuck at %s (have %d step cards)", lang, sit, s.Step, len(cards))
		}
		next.At, next.ConversationID = at, "a:walk"
		in = next
	}
	t.Fatalf("%s/%s: no end after 60 turns, at %s", lang, sit, s.Step)
	return nil
}
