package store

import (
	"context"
	"fmt"
	"time"
)

func (s *sqlStore) Purge(ctx context.Context, transcriptBefore, escalationBefore time.Time) error {
	inboxBefore := s.now().Add(-dedupWindow)
	tb, eb := ns(transcriptBefore), ns(escalationBefore)
	steps := []struct {
		what string
		q    string
		args []any
	}{
		{"transcripts", `DELETE FROM transcripts WHERE at < ?`, []any{tb}},
		{"escalation transcripts", `UPDATE escalations SET transcript = '[]'
			WHERE status = 'resolved' AND resolved_at < ? AND transcript <> '[]'`, []any{tb}},
		{"escalations", `DELETE FROM escalations WHERE status = 'resolved' AND resolved_at < ?`, []any{eb}},
		{"inbox", `DELETE FROM inbox WHERE status <> 'pending' AND received_at < ?`, []any{ns(inboxBefore)}},
		{"step events", `DELETE FROM step_events WHERE at < ?`, []any{eb}},
		{"sessions", `DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?`, []any{eb}},
		// The feedback text is the student's words: it goes with the
		// transcript; the counts stay with the sessions.
		{"answer feedback", `UPDATE answers SET feedback = '' WHERE sent_at < ? AND feedback <> ''`, []any{tb}},
		{"answers", `DELETE FROM answers WHERE sent_at < ?`, []any{eb}},
		// The dialog state holds the student's name and masked methods:
		// an idle conversation goes with the transcript retention.
		{"conversations", `DELETE FROM conversations WHERE updated_at < ?
			AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.conversation_id = conversations.id AND e.status <> 'resolved')
			AND NOT EXISTS (SELECT 1 FROM sessions se WHERE se.conversation_id = conversations.id AND se.ended_at IS NULL)
			AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.conversation_id = conversations.id)`, []any{tb}},
	}
	for _, st := range steps {
		if _, err := s.exec(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("store: purge %s: %w", st.what, err)
		}
	}
	return nil
}
