package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Claims let several instances share one database: an inbox item or a
// timer is leased to one owner (claimed_by) until claimed_until. A lease
// that ran out is free again, so the work of an instance that died is
// taken over. PostgreSQL picks the rows with FOR UPDATE SKIP LOCKED, so
// that concurrent claims never wait for or hand out the same row; SQLite
// runs the claim in its immediate (single-writer) transaction.

func checkClaim(what, owner string, lease time.Duration) error {
	if owner == "" {
		return fmt.Errorf("store: %s: empty owner", what)
	}
	if lease <= 0 {
		return fmt.Errorf("store: %s: lease must be positive", what)
	}
	return nil
}

// claim leases the rows of table (primary key key) that sel selects (sel
// returns that key and ends with ORDER BY ... LIMIT ?) and returns cols of
// them. The lease columns are set to owner and until.
func (s *sqlStore) claim(ctx context.Context, what, table, key, sel string, selArgs []any, cols string,
	owner string, until time.Time, scan func(*sql.Rows) error) error {
	var q string
	var args []any
	if s.d == dialectPostgres {
		q = `WITH picked AS MATERIALIZED (` + sel + ` FOR UPDATE OF t SKIP LOCKED)
			UPDATE ` + table + ` SET claimed_by = ?, claimed_until = ? FROM picked
			WHERE ` + table + `.` + key + ` = picked.` + key + `
			RETURNING ` + prefixed(table, cols)
		args = append(append(args, selArgs...), owner, ns(until))
	} else {
		q = `UPDATE ` + table + ` SET claimed_by = ?, claimed_until = ?
			WHERE ` + key + ` IN (` + sel + `)
			RETURNING ` + cols
		args = append(append(args, owner, ns(until)), selArgs...)
	}
	s.prepare(ctx, q)                // before the transaction: it holds SQLite's one writer connection
	tx, err := s.w.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE, the write lock
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer tx.Rollback()
	rows, err := txWriter{s, tx}.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	for rows.Next() {
		if err := scan(rows); err != nil {
			rows.Close()
			return fmt.Errorf("store: %s: %w", what, err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if err := s.commit(tx); err != nil {
		return fmt.Errorf("store: %s: commit: %w", what, err)
	}
	return nil
}

// prefixed qualifies a comma-separated column list with a table name.
func prefixed(table, cols string) string {
	out := ""
	start := 0
	for i := 0; i <= len(cols); i++ {
		if i == len(cols) || cols[i] == ',' {
			c := cols[start:i]
			for len(c) > 0 && c[0] == ' ' {
				c = c[1:]
			}
			if out != "" {
				out += ", "
			}
			out += table + "." + c
			start = i + 1
		}
	}
	return out
}

func (s *sqlStore) ClaimPending(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time) ([]InboxItem, error) {
	if err := checkClaim("claim pending", owner, lease); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	n := ns(now)
	// Only the oldest unfinished item of a conversation, and none of a
	// conversation whose timer another owner is running.
	sel := `SELECT t.seq FROM inbox t
		WHERE t.status = 'pending' AND (t.claimed_until <= ? OR t.claimed_by = ?)
		AND NOT EXISTS (SELECT 1 FROM inbox p WHERE p.conversation_id = t.conversation_id
			AND p.status = 'pending' AND p.seq < t.seq)
		AND NOT EXISTS (SELECT 1 FROM timers o WHERE o.conversation_id = t.conversation_id
			AND o.claimed_by <> '' AND o.claimed_by <> ? AND o.claimed_until > ?)
		ORDER BY t.seq LIMIT ?`
	var out []InboxItem
	err := s.claim(ctx, "claim pending", "inbox", "seq", sel, []any{n, owner, owner, n, limit},
		"seq, activity_id, conversation_id, body, received_at, attempts", owner, now.Add(lease),
		func(rows *sql.Rows) error {
			var it InboxItem
			var at int64
			if err := rows.Scan(&it.Seq, &it.ActivityID, &it.ConversationID, &it.Body, &at, &it.Attempts); err != nil {
				return err
			}
			it.ReceivedAt = fromNS(at)
			out = append(out, it)
			return nil
		})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

func (s *sqlStore) ClaimPendingOf(ctx context.Context, owner, conversationID string, lease time.Duration, now time.Time) (InboxItem, bool, error) {
	if err := checkClaim("claim pending of", owner, lease); err != nil {
		return InboxItem{}, false, err
	}
	if s.d == dialectSQLite {
		// Most asks find nothing (a turn just ended and the student has
		// not answered yet): a read on the reader pool says so without
		// taking the write lock. An item committed after this read comes
		// with its own ask.
		var one int
		err := s.queryRow(ctx, `SELECT 1 FROM inbox WHERE conversation_id = ? AND status = 'pending' LIMIT 1`, conversationID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return InboxItem{}, false, nil
		}
		if err != nil {
			return InboxItem{}, false, fmt.Errorf("store: claim pending of: %w", err)
		}
	}
	n := ns(now)
	// The conversation's oldest unfinished item (by the conversation
	// index), if its lease is free or owner's, and no other owner runs a
	// timer of the conversation.
	sel := `SELECT t.seq FROM inbox t
		WHERE t.seq = (SELECT MIN(p.seq) FROM inbox p WHERE p.conversation_id = ? AND p.status = 'pending')
		AND (t.claimed_until <= ? OR t.claimed_by = ?)
		AND NOT EXISTS (SELECT 1 FROM timers o WHERE o.conversation_id = t.conversation_id
			AND o.claimed_by <> '' AND o.claimed_by <> ? AND o.claimed_until > ?)
		ORDER BY t.seq LIMIT 1`
	var it InboxItem
	found := false
	err := s.claim(ctx, "claim pending of", "inbox", "seq", sel, []any{conversationID, n, owner, owner, n},
		"seq, activity_id, conversation_id, body, received_at, attempts", owner, now.Add(lease),
		func(rows *sql.Rows) error {
			var at int64
			if err := rows.Scan(&it.Seq, &it.ActivityID, &it.ConversationID, &it.Body, &at, &it.Attempts); err != nil {
				return err
			}
			it.ReceivedAt = fromNS(at)
			found = true
			return nil
		})
	if err != nil {
		return InboxItem{}, false, err
	}
	return it, found, nil
}

func (s *sqlStore) ClaimDueTimers(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time) ([]Timer, error) {
	if err := checkClaim("claim due timers", owner, lease); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	n := ns(now)
	// Timers of a conversation without a service URL belong to the
	// terminal chat: never claimed. A timer whose conversation is gone is
	// handed out (its owner drops it).
	sel := `SELECT t.id FROM timers t LEFT JOIN conversations cv ON cv.id = t.conversation_id
		WHERE t.due <= ? AND (t.claimed_until <= ? OR t.claimed_by = ?)
		AND (cv.id IS NULL OR cv.service_url <> '')
		AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.conversation_id = t.conversation_id
			AND i.status = 'pending' AND i.claimed_by <> '' AND i.claimed_by <> ? AND i.claimed_until > ?)
		ORDER BY t.due, t.id LIMIT ?`
	var out []Timer
	err := s.claim(ctx, "claim due timers", "timers", "id", sel, []any{n, n, owner, owner, n, limit},
		"id, conversation_id, due, payload", owner, now.Add(lease),
		func(rows *sql.Rows) error {
			var t Timer
			var due int64
			if err := rows.Scan(&t.ID, &t.ConversationID, &due, &t.Payload); err != nil {
				return err
			}
			t.Due = fromNS(due)
			out = append(out, t)
			return nil
		})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due) {
			return out[i].Due.Before(out[j].Due)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (s *sqlStore) ReleaseClaims(ctx context.Context, owner string) error {
	if owner == "" {
		return errors.New("store: release claims: empty owner")
	}
	if _, err := s.exec(ctx, `UPDATE inbox SET claimed_by = '', claimed_until = 0 WHERE claimed_by = ? AND status = 'pending'`, owner); err != nil {
		return fmt.Errorf("store: release claims: %w", err)
	}
	if _, err := s.exec(ctx, `UPDATE timers SET claimed_by = '', claimed_until = 0 WHERE claimed_by = ?`, owner); err != nil {
		return fmt.Errorf("store: release claims: %w", err)
	}
	return nil
}

func (s *sqlStore) PendingEscalationPosts(ctx context.Context, createdBefore time.Time, limit int) ([]int64, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.query(ctx, `SELECT id FROM escalations
		WHERE staff_activity_id = '' AND post_attempted_at = 0 AND status <> 'resolved' AND created_at < ?
		ORDER BY id LIMIT ?`, ns(createdBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending escalation posts: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: pending escalation posts: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending escalation posts: %w", err)
	}
	return out, nil
}

func (s *sqlStore) ClaimEscalationPost(ctx context.Context, id int64, owner string, now time.Time) (bool, error) {
	if owner == "" {
		return false, errors.New("store: claim escalation post: empty owner")
	}
	at := ns(now)
	if at == 0 {
		at = 1 // 0 means "no attempt"
	}
	res, err := s.exec(ctx, `UPDATE escalations SET post_attempted_by = ?, post_attempted_at = ?
		WHERE id = ? AND staff_activity_id = '' AND post_attempted_at = 0 AND status <> 'resolved'`, owner, at, id)
	if err != nil {
		return false, fmt.Errorf("store: claim escalation post: %w", err)
	}
	n, err := affected(res)
	if err != nil {
		return false, fmt.Errorf("store: claim escalation post: %w", err)
	}
	return n == 1, nil
}

func (s *sqlStore) ReleaseEscalationPost(ctx context.Context, id int64, owner string) error {
	if owner == "" {
		return errors.New("store: release escalation post: empty owner")
	}
	if _, err := s.exec(ctx, `UPDATE escalations SET post_attempted_by = '', post_attempted_at = 0
		WHERE id = ? AND post_attempted_by = ? AND staff_activity_id = ''`, id, owner); err != nil {
		return fmt.Errorf("store: release escalation post: %w", err)
	}
	return nil
}
