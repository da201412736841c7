package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// The outbox holds what must still be sent after an escalation changed.
// Rows are leased like inbox items and timers (see claims.go). Order is
// kept per escalation and kind: a failing student message does not hold
// up the staff card, nor the other way round. A card update shows the
// escalation's state when it is sent, so only the newest one of an
// escalation matters: ClaimOutbox deletes the older ones that nobody
// holds (a held one is being sent; the newer waits for it).

func (s *sqlStore) UpdateEscalationOutbox(ctx context.Context, e Escalation, items []OutboxItem) (int64, error) {
	for _, it := range items {
		if it.Kind == "" {
			return 0, errors.New("store: update escalation outbox: empty kind")
		}
	}
	tx, err := s.w.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE, the write lock
	if err != nil {
		return 0, fmt.Errorf("store: update escalation outbox: %w", err)
	}
	defer tx.Rollback()
	v, err := s.updateEscalation(ctx, tx, e)
	if err != nil {
		return 0, err
	}
	now := s.now()
	for _, it := range items {
		created := it.CreatedAt
		if created.IsZero() {
			created = now
		}
		due := it.Due
		if due.IsZero() {
			due = created
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO outbox (escalation_id, kind, payload, created_at, due)
			VALUES (?, ?, ?, ?, ?)`), e.ID, it.Kind, nonNilBytes(it.Payload), ns(created), ns(due)); err != nil {
			return 0, fmt.Errorf("store: update escalation outbox: %w", err)
		}
	}
	if err := s.commit(tx); err != nil {
		return 0, fmt.Errorf("store: update escalation outbox: commit: %w", err)
	}
	return v, nil
}

func (s *sqlStore) ClaimOutbox(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time) ([]OutboxItem, error) {
	if err := checkClaim("claim outbox", owner, lease); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	n := ns(now)
	superseded := `SELECT t.id FROM outbox t
		WHERE t.kind = ? AND t.claimed_until <= ?
		AND EXISTS (SELECT 1 FROM outbox o WHERE o.escalation_id = t.escalation_id AND o.kind = t.kind AND o.id > t.id)`
	sel := `SELECT t.id FROM outbox t
		WHERE t.due <= ? AND t.claimed_until <= ?
		AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.escalation_id = t.escalation_id AND o.kind = t.kind AND o.id < t.id)
		ORDER BY t.id LIMIT ?`
	if s.d == dialectPostgres {
		// Rows another claim holds locked are left to it (no waiting,
		// no deadlock between two claims).
		superseded += ` FOR UPDATE OF t SKIP LOCKED`
	}
	cols := `id, escalation_id, kind, payload, created_at, due, attempts`
	var q string
	var args []any
	if s.d == dialectPostgres {
		q = `WITH picked AS MATERIALIZED (` + sel + ` FOR UPDATE OF t SKIP LOCKED)
			UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = outbox.attempts + 1 FROM picked
			WHERE outbox.id = picked.id
			RETURNING ` + prefixed("outbox", cols)
		args = []any{n, n, limit, owner, ns(now.Add(lease))}
	} else {
		q = `UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1
			WHERE id IN (` + sel + `)
			RETURNING ` + cols
		args = []any{owner, ns(now.Add(lease)), n, n, limit}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM outbox WHERE id IN (`+superseded+`)`), OutboxCardUpdate, n); err != nil {
		return nil, fmt.Errorf("store: claim outbox: drop superseded card updates: %w", err)
	}
	rows, err := tx.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	var out []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var created, due int64
		var payload []byte
		if err := rows.Scan(&it.ID, &it.EscalationID, &it.Kind, &payload, &created, &due, &it.Attempts); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: claim outbox: %w", err)
		}
		it.Payload = payload
		it.CreatedAt, it.Due = fromNS(created), fromNS(due)
		out = append(out, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claim outbox: %w", err)
	}
	if err := s.commit(tx); err != nil {
		return nil, fmt.Errorf("store: claim outbox: commit: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *sqlStore) DeleteOutbox(ctx context.Context, id int64) error {
	if _, err := s.exec(ctx, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete outbox: %w", err)
	}
	return nil
}

func (s *sqlStore) RetryOutbox(ctx context.Context, id int64, owner string, due time.Time) error {
	if owner == "" {
		return errors.New("store: retry outbox: empty owner")
	}
	if _, err := s.exec(ctx, `UPDATE outbox SET claimed_by = '', claimed_until = 0, due = ?
		WHERE id = ? AND claimed_by = ?`, ns(due), id, owner); err != nil {
		return fmt.Errorf("store: retry outbox: %w", err)
	}
	return nil
}
