package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSaveTurn: a turn's state and records in one commit; a lost race or
// a bad record writes nothing at all.
func TestSaveTurn(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			cc := s.(CommitCounter)
			ref := ConversationRef{ConversationID: "c", ServiceURL: "https://smba.example/", UserAADObjectID: "u"}
			turn := TurnWrite{
				Conversation: Conversation{ID: "c", Ref: ref, State: []byte(`{"step":"welcome"}`)},
				Ops: []TurnOp{
					{Transcript: &TranscriptLine{ConversationID: "c", Role: "student", Text: "hoi", At: t0}},
					{StartSession: &Session{ID: "s1", ConversationID: "c", UserID: "u", Situation: "new_phone", StartedAt: t0}},
					// No session id: the session started above, in the same transaction.
					{StepEvent: &StepEvent{ConversationID: "c", UserID: "u", Situation: "new_phone", Step: "step01", Event: "shown", At: t0}},
					{AddTimer: &Timer{ConversationID: "c", Due: t0.Add(time.Minute), Payload: []byte(`{"n":1}`)}},
					{CancelTimers: true},
					{AddTimer: &Timer{ConversationID: "c", Due: t0.Add(2 * time.Minute), Payload: []byte(`{"n":2}`)}},
					{TouchSession: &SessionChange{ID: "s1", At: t0.Add(time.Second)}},
					{TouchSession: &SessionChange{ID: "not-stored", At: t0}}, // changes nothing, no error
					{Transcript: &TranscriptLine{ConversationID: "c", Role: "bot", Text: "Stap 1", At: t0}},
				},
			}
			before := cc.Commits()
			v, err := s.SaveTurn(ctx, turn)
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.Commits() - before; got != 1 {
				t.Errorf("SaveTurn took %d commits, want 1", got)
			}
			c, err := s.GetConversation(ctx, "c")
			if err != nil || v != 1 || c.Version != 1 || string(c.State) != `{"step":"welcome"}` || c.Ref.ServiceURL != ref.ServiceURL {
				t.Fatalf("conversation %+v v=%d err=%v", c, v, err)
			}
			tr, _ := s.Transcript(ctx, "c", t0.Add(-time.Hour))
			if len(tr) != 2 || tr[0].Text != "hoi" || tr[1].Text != "Stap 1" {
				t.Errorf("transcript %+v", tr)
			}
			timers, _ := s.DueTimersOf(ctx, "c", t0.Add(time.Hour))
			if len(timers) != 1 || string(timers[0].Payload) != `{"n":2}` {
				t.Errorf("timers %+v, want only the one added after the cancel", timers)
			}
			st, err := s.Stats(ctx, t0.Add(-time.Hour))
			if err != nil || len(st.Funnel) != 1 || st.Funnel[0].Step != "step01" || st.Funnel[0].Reached != 1 {
				t.Errorf("funnel %+v err=%v: the step event belongs to session s1", st.Funnel, err)
			}

			// A lost race: nothing of the turn is written.
			stale := turn
			stale.Conversation.Version = 0 // stored is 1: insert refused
			stale.Conversation.State = []byte(`{"step":"stale"}`)
			stale.Ops = []TurnOp{{Transcript: &TranscriptLine{ConversationID: "c", Role: "bot", Text: "stale", At: t0}}}
			if _, err := s.SaveTurn(ctx, stale); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale turn: %v, want ErrConflict", err)
			}
			stale.Conversation.Version = 7
			if _, err := s.SaveTurn(ctx, stale); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale turn: %v, want ErrConflict", err)
			}
			// A bad record: refused before anything is written.
			bad := TurnWrite{Conversation: Conversation{ID: "c", Version: 1, State: []byte(`{"step":"bad"}`)},
				Ops: []TurnOp{
					{Transcript: &TranscriptLine{ConversationID: "c", Role: "bot", Text: "bad", At: t0}},
					{Satisfaction: &SessionChange{ID: "s1", Score: 9}},
				}}
			if _, err := s.SaveTurn(ctx, bad); err == nil || !strings.Contains(err.Error(), "out of range") {
				t.Fatalf("bad turn: %v", err)
			}
			if _, err := s.SaveTurn(ctx, TurnWrite{Conversation: Conversation{ID: "c", Version: 1}, Ops: []TurnOp{{}}}); err == nil {
				t.Fatal("an op with no field set was accepted")
			}
			c, _ = s.GetConversation(ctx, "c")
			tr, _ = s.Transcript(ctx, "c", t0.Add(-time.Hour))
			if c.Version != 1 || string(c.State) != `{"step":"welcome"}` || len(tr) != 2 {
				t.Fatalf("a refused turn wrote: %+v, %d transcript lines", c, len(tr))
			}

			// The next turn: version checked, session ended.
			next := TurnWrite{Conversation: Conversation{ID: "c", Version: 1, State: []byte(`{"step":"done"}`)},
				Ops: []TurnOp{
					{EndSession: &SessionChange{ID: "s1", Outcome: OutcomeVerifiedResolved, At: t0.Add(time.Minute)}},
					{Satisfaction: &SessionChange{ID: "s1", Score: 5}},
				}}
			if v, err := s.SaveTurn(ctx, next); err != nil || v != 2 {
				t.Fatalf("next turn: v=%d err=%v", v, err)
			}
			st, _ = s.Stats(ctx, t0.Add(-time.Hour))
			if st.SatisfactionCounts[5] != 1 || len(st.OutcomesPerDay) != 1 || st.OutcomesPerDay[0].Counts[OutcomeVerifiedResolved] != 1 {
				t.Errorf("stats after the end: %+v", st)
			}
		})
	}
}

// TestEnqueueWithRef: the reference and the entry in one commit; a
// retried activity id is not enqueued again; a bad reference stores
// neither.
func TestEnqueueWithRef(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			cc := s.(CommitCounter)
			ref := ConversationRef{ConversationID: "c", ServiceURL: "https://smba.example/", UserName: "Sam"}
			before := cc.Commits()
			fresh, err := s.EnqueueWithRef(ctx, ref, InboxItem{ActivityID: "c|1", ConversationID: "c", Body: []byte(`{}`)})
			if err != nil || !fresh {
				t.Fatalf("fresh=%v err=%v", fresh, err)
			}
			if n := cc.Commits() - before; n != 1 {
				t.Errorf("%d commits, want 1", n)
			}
			c, err := s.GetConversation(ctx, "c")
			if err != nil || c.Ref.UserName != "Sam" || c.Version != 0 {
				t.Fatalf("conversation %+v err=%v", c, err)
			}
			ref.UserName = "Sam de Vries"
			if fresh, err := s.EnqueueWithRef(ctx, ref, InboxItem{ActivityID: "c|1", ConversationID: "c", Body: []byte(`{}`)}); err != nil || fresh {
				t.Fatalf("retry: fresh=%v err=%v", fresh, err)
			}
			if c, _ := s.GetConversation(ctx, "c"); c.Ref.UserName != "Sam de Vries" {
				t.Errorf("the retry's reference was not saved (as SaveRef does): %+v", c.Ref)
			}
			if _, err := s.EnqueueWithRef(ctx, ConversationRef{}, InboxItem{ActivityID: "d|1", ConversationID: "d", Body: []byte(`{}`)}); err == nil {
				t.Fatal("an empty reference was accepted")
			}
			if _, err := s.EnqueueWithRef(ctx, ConversationRef{ConversationID: "e"}, InboxItem{ConversationID: "e"}); err == nil {
				t.Fatal("an entry without an activity id was accepted")
			}
			if _, err := s.GetConversation(ctx, "e"); !errors.Is(err, ErrNotFound) {
				t.Errorf("a refused entry stored its reference: %v", err)
			}
			items, _ := s.Pending(ctx, 10)
			if len(items) != 1 || items[0].ActivityID != "c|1" {
				t.Fatalf("pending %+v", items)
			}
		})
	}
}
