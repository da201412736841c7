package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

func (s *sqlStore) AddTimer(ctx context.Context, t Timer) (int64, error) {
	return s.addTimer(ctx, direct{s}, t)
}

func (s *sqlStore) addTimer(ctx context.Context, w writer, t Timer) (int64, error) {
	var id int64
	err := w.queryRow(ctx, sqlAddTimer,
		t.ConversationID, ns(t.Due), nonNilBytes(t.Payload)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: add timer: %w", err)
	}
	return id, nil
}

func (s *sqlStore) DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, `SELECT id, conversation_id, due, payload FROM timers WHERE due <= ? ORDER BY due, id LIMIT ?`,
		ns(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due timers: %w", err)
	}
	out, err := scanTimers(rows)
	if err != nil {
		return nil, fmt.Errorf("store: due timers: %w", err)
	}
	return out, nil
}

func (s *sqlStore) DueTimersOf(ctx context.Context, conversationID string, now time.Time) ([]Timer, error) {
	rows, err := s.query(ctx, `SELECT id, conversation_id, due, payload FROM timers
		WHERE conversation_id = ? AND due <= ? ORDER BY due, id`, conversationID, ns(now))
	if err != nil {
		return nil, fmt.Errorf("store: due timers of: %w", err)
	}
	out, err := scanTimers(rows)
	if err != nil {
		return nil, fmt.Errorf("store: due timers of: %w", err)
	}
	return out, nil
}

// scanTimers reads rows of (id, conversation_id, due, payload) and closes them.
func scanTimers(rows *sql.Rows) ([]Timer, error) {
	defer rows.Close()
	var out []Timer
	for rows.Next() {
		var t Timer
		var due int64
		if err := rows.Scan(&t.ID, &t.ConversationID, &due, &t.Payload); err != nil {
			return nil, err
		}
		t.Due = fromNS(due)
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *sqlStore) DeleteTimer(ctx context.Context, id int64) error {
	return s.deleteTimer(ctx, direct{s}, id)
}

func (s *sqlStore) deleteTimer(ctx context.Context, w writer, id int64) error {
	if _, err := w.exec(ctx, `DELETE FROM timers WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete timer: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteTimers(ctx context.Context, conversationID string) error {
	return s.deleteTimers(ctx, direct{s}, conversationID)
}

func (s *sqlStore) deleteTimers(ctx context.Context, w writer, conversationID string) error {
	if _, err := w.exec(ctx, sqlDeleteTimers, conversationID); err != nil {
		return fmt.Errorf("store: delete timers: %w", err)
	}
	return nil
}
