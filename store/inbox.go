package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

func (s *sqlStore) Enqueue(ctx context.Context, it InboxItem) (bool, error) {
	return s.enqueue(ctx, direct{s}, it)
}

func (s *sqlStore) EnqueueWithRef(ctx context.Context, ref ConversationRef, it InboxItem) (bool, error) {
	if it.ActivityID == "" {
		return false, errors.New("store: enqueue: empty activity id")
	}
	if s.d == dialectPostgres {
		// One statement, one round trip: the reference is written by a
		// data-modifying CTE of the entry's insert.
		refArgs, err := s.saveRefArgs(ref)
		if err != nil {
			return false, err
		}
		res, err := s.exec(ctx, `WITH saved AS (`+sqlSaveRef+`) `+sqlEnqueue, append(refArgs, s.enqueueArgs(it)...)...)
		if err != nil {
			return false, fmt.Errorf("store: enqueue: %w", err)
		}
		n, err := affected(res)
		if err != nil {
			return false, fmt.Errorf("store: enqueue: %w", err)
		}
		return n == 1, nil
	}
	s.prepare(ctx, sqlSaveRef, sqlEnqueue) // before the transaction: it holds SQLite's one writer connection
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: enqueue: %w", err)
	}
	defer tx.Rollback()
	w := txWriter{s, tx}
	if err := s.saveRef(ctx, w, ref); err != nil {
		return false, err
	}
	fresh, err := s.enqueue(ctx, w, it)
	if err != nil {
		return false, err
	}
	if err := s.commit(tx); err != nil {
		return false, fmt.Errorf("store: enqueue: commit: %w", err)
	}
	return fresh, nil
}

func (s *sqlStore) enqueueArgs(it InboxItem) []any {
	at := it.ReceivedAt
	if at.IsZero() {
		at = s.now()
	}
	return []any{it.ActivityID, it.ConversationID, nonNilBytes(it.Body), ns(at)}
}

func (s *sqlStore) enqueue(ctx context.Context, w writer, it InboxItem) (bool, error) {
	if it.ActivityID == "" {
		return false, errors.New("store: enqueue: empty activity id")
	}
	res, err := w.exec(ctx, sqlEnqueue, s.enqueueArgs(it)...)
	if err != nil {
		return false, fmt.Errorf("store: enqueue: %w", err)
	}
	n, err := affected(res)
	if err != nil {
		return false, fmt.Errorf("store: enqueue: %w", err)
	}
	return n == 1, nil
}

func (s *sqlStore) Pending(ctx context.Context, limit int) ([]InboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, `SELECT seq, activity_id, conversation_id, body, received_at, attempts
		FROM inbox WHERE status = 'pending' ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending: %w", err)
	}
	defer rows.Close()
	var out []InboxItem
	for rows.Next() {
		var it InboxItem
		var at int64
		if err := rows.Scan(&it.Seq, &it.ActivityID, &it.ConversationID, &it.Body, &at, &it.Attempts); err != nil {
			return nil, fmt.Errorf("store: pending: %w", err)
		}
		it.ReceivedAt = fromNS(at)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending: %w", err)
	}
	return out, nil
}

func (s *sqlStore) MarkDone(ctx context.Context, seq int64) error {
	return s.markDone(ctx, direct{s}, seq)
}

func (s *sqlStore) markDone(ctx context.Context, w writer, seq int64) error {
	res, err := w.exec(ctx, `UPDATE inbox SET status = 'done', body = NULL, finished_at = ?, claimed_by = '', claimed_until = 0 WHERE seq = ?`,
		ns(s.now()), seq)
	if err != nil {
		return fmt.Errorf("store: mark done: %w", err)
	}
	if n, err := affected(res); err != nil {
		return fmt.Errorf("store: mark done: %w", err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *sqlStore) MarkFailed(ctx context.Context, seq int64, reason string) error {
	res, err := s.exec(ctx, `UPDATE inbox SET attempts = attempts + 1, last_error = ?,
		status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE status END,
		finished_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE finished_at END,
		claimed_by = '', claimed_until = 0
		WHERE seq = ? AND status = 'pending'`,
		truncate(reason, 1000), MaxInboxAttempts, MaxInboxAttempts, ns(s.now()), seq)
	if err != nil {
		return fmt.Errorf("store: mark failed: %w", err)
	}
	if n, err := affected(res); err != nil {
		return fmt.Errorf("store: mark failed: %w", err)
	} else if n == 0 {
		var one int
		err := s.w.QueryRowContext(ctx, s.rebind(`SELECT 1 FROM inbox WHERE seq = ?`), seq).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: mark failed: %w", err)
		}
	}
	return nil
}
