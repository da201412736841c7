package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

func (s *sqlStore) StartSession(ctx context.Context, se Session) error {
	return s.startSession(ctx, direct{s}, se)
}

func (s *sqlStore) startSession(ctx context.Context, w writer, se Session) error {
	if se.ID == "" {
		return errors.New("store: start session: empty id")
	}
	start := se.StartedAt
	if start.IsZero() {
		start = s.now()
	}
	last := se.LastActivityAt
	if last.Before(start) {
		last = start
	}
	_, err := w.exec(ctx, sqlStartSession,
		se.ID, se.ConversationID, se.UserID, se.Situation, ns(start), ns(last))
	if err != nil {
		return fmt.Errorf("store: start session: %w", err)
	}
	return nil
}

func updateOne(ctx context.Context, w writer, what, q string, args ...any) error {
	res, err := w.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := affected(res)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *sqlStore) TouchSession(ctx context.Context, id string, at time.Time) error {
	return touchSession(ctx, direct{s}, id, at)
}

func touchSession(ctx context.Context, w writer, id string, at time.Time) error {
	return updateOne(ctx, w, "touch session", sqlTouchSession, ns(at), ns(at), id)
}

func (s *sqlStore) EndSession(ctx context.Context, id, outcome string, at time.Time) error {
	return endSession(ctx, direct{s}, id, outcome, at)
}

func endSession(ctx context.Context, w writer, id, outcome string, at time.Time) error {
	if outcome == "" {
		return errors.New("store: end session: empty outcome")
	}
	return updateOne(ctx, w, "end session", sqlEndSession,
		outcome, ns(at), ns(at), ns(at), id)
}

func (s *sqlStore) SetSatisfaction(ctx context.Context, id string, score int) error {
	return setSatisfaction(ctx, direct{s}, id, score)
}

func setSatisfaction(ctx context.Context, w writer, id string, score int) error {
	if score < 1 || score > 5 {
		return fmt.Errorf("store: satisfaction %d out of range 1..5", score)
	}
	return updateOne(ctx, w, "set satisfaction", sqlSetSatisfaction, score, id)
}

func (s *sqlStore) AbandonIdle(ctx context.Context, cutoff, now time.Time) (int, error) {
	res, err := s.exec(ctx, `UPDATE sessions SET outcome = ?, ended_at = ?
		WHERE ended_at IS NULL AND last_activity_at < ?
		AND NOT EXISTS (SELECT 1 FROM escalations e
			WHERE e.conversation_id = sessions.conversation_id AND e.status <> 'resolved')`,
		OutcomeAbandoned, ns(now), ns(cutoff))
	if err != nil {
		return 0, fmt.Errorf("store: abandon idle: %w", err)
	}
	n, err := affected(res)
	if err != nil {
		return 0, fmt.Errorf("store: abandon idle: %w", err)
	}
	return int(n), nil
}

func (s *sqlStore) RecordStepEvent(ctx context.Context, e StepEvent) error {
	return s.recordStepEvent(ctx, direct{s}, e)
}

func (s *sqlStore) recordStepEvent(ctx context.Context, w writer, e StepEvent) error {
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	// Without a session id: the conversation's newest session started at
	// or before at (one the same transaction started included).
	_, err := w.exec(ctx, sqlInsertStepEvent, e.SessionID, e.ConversationID, ns(at), e.ConversationID,
		e.ConversationID, e.UserID, e.Situation, e.Step, e.Event, ns(at))
	if err != nil {
		return fmt.Errorf("store: record step event: %w", err)
	}
	return nil
}

func (s *sqlStore) AppendTranscript(ctx context.Context, l TranscriptLine) error {
	return s.appendTranscript(ctx, direct{s}, l)
}

func (s *sqlStore) appendTranscript(ctx context.Context, w writer, l TranscriptLine) error {
	at := l.At
	if at.IsZero() {
		at = s.now()
	}
	_, err := w.exec(ctx, sqlInsertTranscript,
		l.ConversationID, l.Role, l.Text, ns(at))
	if err != nil {
		return fmt.Errorf("store: append transcript: %w", err)
	}
	return nil
}

func (s *sqlStore) Transcript(ctx context.Context, conversationID string, since time.Time) ([]TranscriptLine, error) {
	rows, err := s.query(ctx, `SELECT conversation_id, role, text, at FROM transcripts
		WHERE conversation_id = ? AND at >= ? ORDER BY at, id`, conversationID, ns(since))
	if err != nil {
		return nil, fmt.Errorf("store: transcript: %w", err)
	}
	defer rows.Close()
	var out []TranscriptLine
	for rows.Next() {
		var l TranscriptLine
		var at int64
		if err := rows.Scan(&l.ConversationID, &l.Role, &l.Text, &at); err != nil {
			return nil, fmt.Errorf("store: transcript: %w", err)
		}
		l.At = fromNS(at)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: transcript: %w", err)
	}
	return out, nil
}
