package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestAnswerFeedback(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("Feedback", func(t *testing.T) { testAnswerFeedback(t, b.open(t)) })
			t.Run("Stats", func(t *testing.T) { testFeedbackStats(t, b.open(t)) })
			t.Run("Purge", func(t *testing.T) { testFeedbackPurge(t, b.open(t)) })
		})
	}
}

func mustRecordAnswer(t *testing.T, s Store, conv, id, step string, at time.Time) {
	t.Helper()
	if err := s.RecordAnswer(context.Background(), Answer{ConversationID: conv, ActivityID: id, Step: step, SentAt: at}); err != nil {
		t.Fatalf("RecordAnswer: %v", err)
	}
}

// A reaction is stored for the conversation's own answer only; the same
// click again changes nothing; a changed mind replaces it.
func testAnswerFeedback(t *testing.T, s Store) {
	ctx := context.Background()
	mustRecordAnswer(t, s, "a:conv-1", "act-1", "step03", t0)
	mustRecordAnswer(t, s, "a:conv-2", "act-2", "step05", t0)
	// Recording the same answer again (a resent reply) is no error.
	mustRecordAnswer(t, s, "a:conv-1", "act-1", "step03", t0.Add(time.Minute))
	if err := s.RecordAnswer(ctx, Answer{ConversationID: "a:conv-1"}); err == nil {
		t.Error("an answer without an activity id was recorded")
	}

	like := AnswerFeedback{ConversationID: "a:conv-1", ActivityID: "act-1", Reaction: ReactionLike, Text: "duidelijk", At: t0.Add(2 * time.Minute)}
	changed, err := s.SetAnswerFeedback(ctx, like)
	if err != nil || !changed {
		t.Fatalf("first like: changed %v, %v", changed, err)
	}
	again := like
	again.At = t0.Add(3 * time.Minute)
	if changed, err := s.SetAnswerFeedback(ctx, again); err != nil || changed {
		t.Errorf("the same like again: changed %v, %v; want unchanged", changed, err)
	}
	// Another conversation's answer, an unknown answer: not found, and
	// nothing written.
	for _, f := range []AnswerFeedback{
		{ConversationID: "a:conv-1", ActivityID: "act-2", Reaction: ReactionDislike, At: t0},
		{ConversationID: "a:conv-1", ActivityID: "nope", Reaction: ReactionDislike, At: t0},
		{ConversationID: "a:conv-3", ActivityID: "act-1", Reaction: ReactionDislike, At: t0},
	} {
		if _, err := s.SetAnswerFeedback(ctx, f); !errors.Is(err, ErrNotFound) {
			t.Errorf("feedback %+v: %v, want ErrNotFound", f, err)
		}
	}
	if _, err := s.SetAnswerFeedback(ctx, AnswerFeedback{ConversationID: "a:conv-1", ActivityID: "act-1", Reaction: "love", At: t0}); err == nil {
		t.Error("an unknown reaction was stored")
	}
	st, err := s.FeedbackStats(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if st.Answers != 2 || st.Likes != 1 || st.Dislikes != 0 || len(st.Conversations) != 1 {
		t.Fatalf("stats %+v", st)
	}
	want := []AnswerFeedbackLine{{Step: "step03", Reaction: ReactionLike, Text: "duidelijk", At: like.At}}
	if c := st.Conversations[0]; c.ConversationID != "a:conv-1" || !c.LastAt.Equal(like.At) || !reflect.DeepEqual(c.Recent, want) {
		t.Errorf("conversation %+v, want the first like's time %v and %+v", c, like.At, want)
	}

	// A changed mind replaces the reaction.
	dislike := AnswerFeedback{ConversationID: "a:conv-1", ActivityID: "act-1", Reaction: ReactionDislike, Text: "klopte niet", At: t0.Add(4 * time.Minute)}
	if changed, err := s.SetAnswerFeedback(ctx, dislike); err != nil || !changed {
		t.Fatalf("dislike: changed %v, %v", changed, err)
	}
	st, err = s.FeedbackStats(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if st.Likes != 0 || st.Dislikes != 1 || st.Conversations[0].Recent[0].Text != "klopte niet" {
		t.Errorf("after the dislike: %+v", st)
	}
}

// The counts cover the answers sent in the period; the conversations
// come newest feedback first, each with its newest reactions and its
// escalation.
func testFeedbackStats(t *testing.T, s Store) {
	ctx := context.Background()
	escID, err := s.CreateEscalation(ctx, Escalation{ConversationID: "a:b", StudentName: "B", Status: StatusOpen, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	fb := func(conv, id, reaction, text string, at time.Time) {
		t.Helper()
		if _, err := s.SetAnswerFeedback(ctx, AnswerFeedback{ConversationID: conv, ActivityID: id, Reaction: reaction, Text: text, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	old := t0.Add(-40 * 24 * time.Hour)
	mustRecordAnswer(t, s, "a:a", "old", "step01", old) // before the period
	fb("a:a", "old", ReactionDislike, "oud", old.Add(time.Minute))
	for i, id := range []string{"a1", "a2", "a3", "a4", "a5"} {
		mustRecordAnswer(t, s, "a:a", id, "step0"+string(rune('1'+i)), t0.Add(time.Duration(i)*time.Minute))
	}
	fb("a:a", "a1", ReactionLike, "", t0.Add(10*time.Minute))
	fb("a:a", "a2", ReactionDislike, "te lang", t0.Add(11*time.Minute))
	fb("a:a", "a3", ReactionLike, "top", t0.Add(12*time.Minute))
	fb("a:a", "a4", ReactionLike, "", t0.Add(13*time.Minute))
	mustRecordAnswer(t, s, "a:b", "b1", "step07", t0)
	fb("a:b", "b1", ReactionDislike, "snap het niet", t0.Add(20*time.Minute))
	mustRecordAnswer(t, s, "a:c", "c1", "step02", t0) // no feedback

	st, err := s.FeedbackStats(ctx, t0.Add(-24*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if st.Answers != 7 || st.Likes != 3 || st.Dislikes != 2 {
		t.Errorf("counts: %d answers, %d likes, %d dislikes; want 7, 3, 2", st.Answers, st.Likes, st.Dislikes)
	}
	if len(st.Conversations) != 2 {
		t.Fatalf("conversations %+v", st.Conversations)
	}
	b, a := st.Conversations[0], st.Conversations[1]
	if b.ConversationID != "a:b" || b.Dislikes != 1 || b.Answers != 1 || b.EscalationID != escID {
		t.Errorf("first conversation %+v, want a:b with escalation %d", b, escID)
	}
	if a.ConversationID != "a:a" || a.Answers != 5 || a.Likes != 3 || a.Dislikes != 1 || a.EscalationID != 0 || len(a.Recent) != 3 {
		t.Fatalf("second conversation %+v", a)
	}
	if a.Recent[0].Step != "step04" || a.Recent[1].Text != "top" || a.Recent[2].Reaction != ReactionDislike {
		t.Errorf("recent %+v, want newest first", a.Recent)
	}
	if st, err := s.FeedbackStats(ctx, time.Time{}, 1); err != nil || len(st.Conversations) != 1 || st.Dislikes != 3 {
		t.Errorf("limit 1 over all time: %+v, %v", st, err)
	}
}

// The feedback text goes with the transcripts, the counts with the
// sessions.
func testFeedbackPurge(t *testing.T, s Store) {
	ctx := context.Background()
	oldest, old := t0.Add(-200*24*time.Hour), t0.Add(-40*24*time.Hour)
	for _, a := range []struct {
		id string
		at time.Time
	}{{"oldest", oldest}, {"old", old}, {"new", t0}} {
		mustRecordAnswer(t, s, "a:p", a.id, "step01", a.at)
		if _, err := s.SetAnswerFeedback(ctx, AnswerFeedback{ConversationID: "a:p", ActivityID: a.id, Reaction: ReactionDislike, Text: "tekst " + a.id, At: a.at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Purge(ctx, t0.Add(-30*24*time.Hour), t0.Add(-180*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, err := s.FeedbackStats(ctx, time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if st.Answers != 2 || st.Dislikes != 2 || len(st.Conversations) != 1 {
		t.Fatalf("after purge: %+v", st)
	}
	texts := map[string]bool{}
	for _, l := range st.Conversations[0].Recent {
		texts[l.Text] = true
	}
	if !texts["tekst new"] || !texts[""] || texts["tekst old"] {
		t.Errorf("after purge the texts are %v; want the old one cleared, the new one kept", texts)
	}
}
