package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ---- Answer feedback ----

func (s *sqlStore) RecordAnswer(ctx context.Context, a Answer) error {
	if a.ConversationID == "" || a.ActivityID == "" {
		return fmt.Errorf("store: record answer: conversation and activity id are required")
	}
	_, err := s.exec(ctx, `INSERT INTO answers (conversation_id, activity_id, step, sent_at) VALUES (?, ?, ?, ?)`,
		a.ConversationID, a.ActivityID, truncate(a.Step, 100), ns(a.SentAt))
	if isUniqueViolation(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: record answer: %w", err)
	}
	return nil
}

func (s *sqlStore) SetAnswerFeedback(ctx context.Context, f AnswerFeedback) (bool, error) {
	if f.Reaction != ReactionLike && f.Reaction != ReactionDislike {
		return false, fmt.Errorf("store: answer feedback: unknown reaction %q", f.Reaction)
	}
	// One statement: the answer must be this conversation's, and the
	// same reaction again (a redelivered click) changes nothing, not even
	// the time.
	res, err := s.exec(ctx, `UPDATE answers SET reaction = ?, feedback = ?, feedback_at = ?
		WHERE conversation_id = ? AND activity_id = ? AND (reaction <> ? OR feedback <> ?)`,
		f.Reaction, f.Text, ns(f.At), f.ConversationID, f.ActivityID, f.Reaction, f.Text)
	if err != nil {
		return false, fmt.Errorf("store: answer feedback: %w", err)
	}
	n, err := affected(res)
	if err != nil {
		return false, fmt.Errorf("store: answer feedback: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	var one int
	err = s.queryRow(ctx, `SELECT 1 FROM answers WHERE conversation_id = ? AND activity_id = ?`, f.ConversationID, f.ActivityID).Scan(&one)
	switch {
	case err == sql.ErrNoRows:
		return false, ErrNotFound
	case err != nil:
		return false, fmt.Errorf("store: answer feedback: %w", err)
	}
	return false, nil
}

// feedbackRecent is how many reactions per conversation FeedbackStats
// returns.
const feedbackRecent = 3

func (s *sqlStore) FeedbackStats(ctx context.Context, since time.Time, limit int) (FeedbackStats, error) {
	var st FeedbackStats
	from := ns(since)
	if err := s.queryRow(ctx, `SELECT COUNT(*),
			COALESCE(SUM(CASE WHEN reaction = 'like' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN reaction = 'dislike' THEN 1 ELSE 0 END), 0)
		FROM answers WHERE sent_at >= ?`, from).Scan(&st.Answers, &st.Likes, &st.Dislikes); err != nil {
		return FeedbackStats{}, fmt.Errorf("store: feedback stats: %w", err)
	}
	if limit <= 0 {
		return st, nil
	}
	rows, err := s.query(ctx, `SELECT a.conversation_id, COUNT(*),
			COALESCE(SUM(CASE WHEN a.reaction = 'like' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN a.reaction = 'dislike' THEN 1 ELSE 0 END), 0),
			MAX(a.feedback_at),
			(SELECT COALESCE(MAX(e.id), 0) FROM escalations e WHERE e.conversation_id = a.conversation_id)
		FROM answers a WHERE a.sent_at >= ?
		GROUP BY a.conversation_id HAVING MAX(a.feedback_at) IS NOT NULL
		ORDER BY 5 DESC, 1 LIMIT ?`, from, limit)
	if err != nil {
		return FeedbackStats{}, fmt.Errorf("store: feedback stats: %w", err)
	}
	for rows.Next() {
		var c ConversationFeedback
		var last int64
		if err := rows.Scan(&c.ConversationID, &c.Answers, &c.Likes, &c.Dislikes, &last, &c.EscalationID); err != nil {
			rows.Close()
			return FeedbackStats{}, fmt.Errorf("store: feedback stats: %w", err)
		}
		c.LastAt = fromNS(last)
		st.Conversations = append(st.Conversations, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return FeedbackStats{}, fmt.Errorf("store: feedback stats: %w", err)
	}
	for i := range st.Conversations {
		c := &st.Conversations[i]
		rows, err := s.query(ctx, `SELECT step, reaction, feedback, feedback_at FROM answers
			WHERE conversation_id = ? AND sent_at >= ? AND feedback_at IS NOT NULL
			ORDER BY feedback_at DESC, activity_id LIMIT ?`, c.ConversationID, from, feedbackRecent)
		if err != nil {
			return FeedbackStats{}, fmt.Errorf("store: feedback stats: %w", err)
		}
		for rows.Next() {
			var l AnswerFeedbackLine
			var at int64
			if err := rows.Scan(&l.Step, &l.Reaction, &l.Text, &at); err != nil {
				rows.Close()
				return FeedbackStats{}, fmt.Errorf("store: feedback stats: %w", err)
			}
			l.At = fromNS(at)
			c.Recent = append(c.Recent, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return FeedbackStats{}, fmt.Errorf("store: feedback stats: %w", err)
		}
	}
	return st, nil
}
