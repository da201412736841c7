package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// sqlStore implements Store on database/sql for both dialects. Queries are
// written once with ? placeholders; rebind turns them into $n for
// PostgreSQL. Times are stored as Unix nanoseconds. Its methods are in a
// file per area of Store (inbox.go and accept.go, conversations.go,
// timers.go, history.go, escalations.go, outbox.go, audit.go, stats.go,
// feedback.go, retention.go); the leases of inbox items, timers and
// staff card posts in claims.go, SaveTurn in turn.go.
type sqlStore struct {
	d   dialect
	w   *sql.DB // writes (SQLite: the single writer connection)
	r   *sql.DB // reads (SQLite: a read-only pool; PostgreSQL: same as w)
	now func() time.Time
	// Prepared statements of w and r (SQLite only; nil: none kept).
	wstmts, rstmts *stmtCache
	commits        commits
}

// dedupWindow is how long a processed activity id is remembered; Teams
// retries within minutes.
const dedupWindow = 48 * time.Hour

func (s *sqlStore) rebind(q string) string {
	if s.d != dialectPostgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// exec runs one writing statement on its own (its own commit).
func (s *sqlStore) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s.commits.add()
	q = s.rebind(q)
	if st := s.wstmts.get(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.w.ExecContext(ctx, q, args...)
}

func (s *sqlStore) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = s.rebind(q)
	if st := s.rstmts.get(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, q, args...)
}

func (s *sqlStore) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = s.rebind(q)
	if st := s.rstmts.get(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, q, args...)
}

// commit commits a write transaction, counted.
func (s *sqlStore) commit(tx *sql.Tx) error {
	err := tx.Commit()
	if err == nil {
		s.commits.add()
	}
	return err
}

func ns(t time.Time) int64 { return t.UnixNano() }

func fromNS(v int64) time.Time { return time.Unix(0, v).UTC() }

func nullNS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

func fromNullNS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromNS(v.Int64)
	return &t
}

func affected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	return n, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// The statements of a turn (see turnStatements) and of accepting an
// activity, prepared before their transactions.
const (
	sqlInsertConversation = `INSERT INTO conversations (id, ref, service_url, state, version, updated_at) VALUES (?, ?, ?, ?, 1, ?)
			ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = 1, updated_at = excluded.updated_at,
				service_url = CASE WHEN conversations.ref = '' THEN excluded.service_url ELSE conversations.service_url END,
				ref = CASE WHEN conversations.ref = '' THEN excluded.ref ELSE conversations.ref END
			WHERE conversations.version = 0`
	sqlUpdateConversation = `UPDATE conversations SET state = ?, version = version + 1, updated_at = ?,
				service_url = CASE WHEN ref = '' THEN ? ELSE service_url END,
				ref = CASE WHEN ref = '' THEN ? ELSE ref END
			WHERE id = ? AND version = ?`
	sqlAddTimer     = `INSERT INTO timers (conversation_id, due, payload) VALUES (?, ?, ?) RETURNING id`
	sqlDeleteTimers = `DELETE FROM timers WHERE conversation_id = ?`
	sqlStartSession = `INSERT INTO sessions (id, conversation_id, user_id, situation, outcome, satisfaction, started_at, last_activity_at, ended_at)
		VALUES (?, ?, ?, ?, '', 0, ?, ?, NULL)
		ON CONFLICT (id) DO UPDATE SET situation = CASE WHEN sessions.situation = '' THEN excluded.situation ELSE sessions.situation END`
	sqlTouchSession = `UPDATE sessions SET last_activity_at =
		CASE WHEN last_activity_at < ? THEN ? ELSE last_activity_at END WHERE id = ?`
	sqlEndSession = `UPDATE sessions SET outcome = ?, ended_at = ?,
		last_activity_at = CASE WHEN last_activity_at < ? THEN ? ELSE last_activity_at END WHERE id = ?`
	sqlSetSatisfaction = `UPDATE sessions SET satisfaction = ? WHERE id = ?`
	sqlInsertStepEvent = `INSERT INTO step_events (session_key, conversation_id, user_id, situation, step, event, at)
		VALUES (COALESCE(NULLIF(?, ''), (SELECT id FROM sessions WHERE conversation_id = ? AND started_at <= ?
			ORDER BY started_at DESC LIMIT 1), 'conversation:' || ?), ?, ?, ?, ?, ?, ?)`
	sqlInsertTimer = `INSERT INTO timers (conversation_id, due, payload) VALUES (?, ?, ?)`
	sqlSaveRef     = `INSERT INTO conversations (id, ref, service_url, state, version, updated_at) VALUES (?, ?, ?, NULL, 0, ?)
		ON CONFLICT (id) DO UPDATE SET ref = excluded.ref, service_url = excluded.service_url, updated_at = excluded.updated_at`
	sqlEnqueue = `INSERT INTO inbox (activity_id, conversation_id, body, received_at, attempts, status)
		VALUES (?, ?, ?, ?, 0, 'pending') ON CONFLICT (activity_id) DO NOTHING`
	sqlInsertTranscript = `INSERT INTO transcripts (conversation_id, role, text, at) VALUES (?, ?, ?, ?)`
)

func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("store: ping: %w", err)
		}
	}
	var one int
	if err := s.queryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

func (s *sqlStore) Close() error {
	s.wstmts.close()
	s.rstmts.close()
	err := s.w.Close()
	if s.r != s.w {
		if rerr := s.r.Close(); err == nil {
			err = rerr
		}
	}
	return err
}
