package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// sqlAcceptLeased inserts an inbox entry leased to an owner when it may
// run at once: no other unfinished entry of its conversation, and no due
// timer of it held by another owner. One statement, under SQLite's write
// lock (the transaction is BEGIN IMMEDIATE), so the check and the insert
// cannot interleave with another writer. "WHERE true" keeps SQLite from
// reading ON CONFLICT as part of the SELECT.
const sqlAcceptLeased = `INSERT INTO inbox (activity_id, conversation_id, body, received_at, attempts, status, claimed_by, claimed_until)
	SELECT ?, ?, ?, ?, 0, 'pending', CASE WHEN free THEN ? ELSE '' END, CASE WHEN free THEN ? ELSE 0 END
	FROM (SELECT NOT EXISTS (SELECT 1 FROM inbox p WHERE p.conversation_id = ? AND p.status = 'pending')
		AND NOT EXISTS (SELECT 1 FROM timers o WHERE o.conversation_id = ? AND o.claimed_by <> ''
			AND o.claimed_by <> ? AND o.claimed_until > ?) AS free) WHERE true
	ON CONFLICT (activity_id) DO NOTHING
	RETURNING seq, claimed_by`

func (s *sqlStore) AcceptLeased(ctx context.Context, ref ConversationRef, it InboxItem, owner string, lease time.Duration, now time.Time) (InboxItem, bool, bool, error) {
	if s.d == dialectPostgres || owner == "" || lease <= 0 {
		fresh, err := s.EnqueueWithRef(ctx, ref, it)
		return it, fresh, false, err
	}
	if it.ActivityID == "" {
		return it, false, false, errors.New("store: accept: empty activity id")
	}
	if it.ReceivedAt.IsZero() {
		it.ReceivedAt = s.now()
	}
	n := ns(now)
	s.prepare(ctx, sqlSaveRef, sqlAcceptLeased) // before the transaction: it holds SQLite's one writer connection
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return it, false, false, fmt.Errorf("store: accept: %w", err)
	}
	defer tx.Rollback()
	w := txWriter{s, tx}
	if err := s.saveRef(ctx, w, ref); err != nil {
		return it, false, false, err
	}
	var by string
	err = w.queryRow(ctx, sqlAcceptLeased, it.ActivityID, it.ConversationID, nonNilBytes(it.Body), ns(it.ReceivedAt),
		owner, ns(now.Add(lease)), it.ConversationID, it.ConversationID, owner, n).Scan(&it.Seq, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return it, false, false, nil // seen before: a Teams retry
	}
	if err != nil {
		return it, false, false, fmt.Errorf("store: accept: %w", err)
	}
	if err := s.commit(tx); err != nil {
		return it, false, false, fmt.Errorf("store: accept: commit: %w", err)
	}
	return it, true, by == owner, nil
}
