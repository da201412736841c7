package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sqlStore implements Store on database/sql for both dialects. Queries are
// written once with ? placeholders; rebind turns them into $n for
// PostgreSQL. Times are stored as Unix nanoseconds.
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

// ---- Inbox ----

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

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
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

// ---- Conversations ----

func (s *sqlStore) GetConversation(ctx context.Context, id string) (Conversation, error) {
	var c Conversation
	var ref string
	var updated int64
	err := s.queryRow(ctx, `SELECT id, ref, state, version, updated_at FROM conversations WHERE id = ?`, id).
		Scan(&c.ID, &ref, &c.State, &c.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Conversation{}, ErrNotFound
	}
	if err != nil {
		return Conversation{}, fmt.Errorf("store: get conversation: %w", err)
	}
	if ref != "" {
		if err := json.Unmarshal([]byte(ref), &c.Ref); err != nil {
			return Conversation{}, fmt.Errorf("store: get conversation: decode ref: %w", err)
		}
	}
	c.UpdatedAt = fromNS(updated)
	return c, nil
}

// serviceURLOf is the service_url column for an encoded reference (empty
// when there is none).
func serviceURLOf(encoded string, ref ConversationRef) string {
	if encoded == "" {
		return ""
	}
	return ref.ServiceURL
}

func encodeRef(ref ConversationRef) (string, error) {
	if ref == (ConversationRef{}) {
		return "", nil
	}
	b, err := json.Marshal(ref)
	return string(b), err
}

func (s *sqlStore) SaveConversation(ctx context.Context, c Conversation) (int64, error) {
	return s.saveConversation(ctx, direct{s}, c)
}

func (s *sqlStore) saveConversation(ctx context.Context, w writer, c Conversation) (int64, error) {
	if c.ID == "" {
		return 0, errors.New("store: save conversation: empty id")
	}
	ref, err := encodeRef(c.Ref)
	if err != nil {
		return 0, fmt.Errorf("store: save conversation: %w", err)
	}
	now := ns(s.now())
	var res sql.Result
	if c.Version == 0 {
		// A row SaveRef made alone has version 0 and may be taken over.
		res, err = w.exec(ctx, sqlInsertConversation, c.ID, ref, serviceURLOf(ref, c.Ref), nonNilBytes(c.State), now)
	} else {
		res, err = w.exec(ctx, sqlUpdateConversation, nonNilBytes(c.State), now, serviceURLOf(ref, c.Ref), ref, c.ID, c.Version)
	}
	if err != nil {
		return 0, fmt.Errorf("store: save conversation: %w", err)
	}
	n, err := affected(res)
	if err != nil {
		return 0, fmt.Errorf("store: save conversation: %w", err)
	}
	if n == 0 {
		return 0, ErrConflict
	}
	return c.Version + 1, nil
}

func (s *sqlStore) SaveRef(ctx context.Context, r ConversationRef) error {
	return s.saveRef(ctx, direct{s}, r)
}

func (s *sqlStore) saveRefArgs(r ConversationRef) ([]any, error) {
	if r.ConversationID == "" {
		return nil, errors.New("store: save ref: empty conversation id")
	}
	ref, err := encodeRef(r)
	if err != nil {
		return nil, fmt.Errorf("store: save ref: %w", err)
	}
	return []any{r.ConversationID, ref, serviceURLOf(ref, r), ns(s.now())}, nil
}

func (s *sqlStore) saveRef(ctx context.Context, w writer, r ConversationRef) error {
	args, err := s.saveRefArgs(r)
	if err != nil {
		return err
	}
	_, err = w.exec(ctx, sqlSaveRef, args...)
	if err != nil {
		return fmt.Errorf("store: save ref: %w", err)
	}
	return nil
}

// ---- Timers ----

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

// ---- Sessions, step events, transcripts ----

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

// ---- Escalations ----

const escalationColumns = `id, conversation_id, session_id, student_name, student_upn, student_object_id,
	situation, failed_step, reason, security, repeat_contact, methods, language, transcript, status,
	created_at, claimed_by, claimed_at, resolved_by, resolved_at, first_response_at, resolution_note,
	staff_activity_id, staff_thread_id, version`

type rowScanner interface{ Scan(dest ...any) error }

func scanEscalation(sc rowScanner) (Escalation, error) {
	var e Escalation
	var methods, transcript string
	var created int64
	var claimed, resolved, first sql.NullInt64
	err := sc.Scan(&e.ID, &e.ConversationID, &e.SessionID, &e.StudentName, &e.StudentUPN, &e.StudentObjectID,
		&e.Situation, &e.FailedStep, &e.Reason, &e.Security, &e.RepeatContact, &methods, &e.Language, &transcript, &e.Status,
		&created, &e.ClaimedBy, &claimed, &e.ResolvedBy, &resolved, &first, &e.ResolutionNote,
		&e.StaffActivityID, &e.StaffThreadID, &e.Version)
	if err != nil {
		return Escalation{}, err
	}
	if err := json.Unmarshal([]byte(methods), &e.Methods); err != nil {
		return Escalation{}, fmt.Errorf("decode methods: %w", err)
	}
	var ts []transcriptJSON
	if err := json.Unmarshal([]byte(transcript), &ts); err != nil {
		return Escalation{}, fmt.Errorf("decode transcript: %w", err)
	}
	for _, l := range ts {
		e.Transcript = append(e.Transcript, TranscriptLine(l))
	}
	e.CreatedAt = fromNS(created)
	e.ClaimedAt = fromNullNS(claimed)
	e.ResolvedAt = fromNullNS(resolved)
	e.FirstResponseAt = fromNullNS(first)
	return e, nil
}

type transcriptJSON struct {
	ConversationID string    `json:"conversationId,omitempty"`
	Role           string    `json:"role"`
	Text           string    `json:"text"`
	At             time.Time `json:"at"`
}

func encodeEscalationLists(e Escalation) (methods, transcript string, err error) {
	ms := e.Methods
	if ms == nil {
		ms = []string{}
	}
	mb, err := json.Marshal(ms)
	if err != nil {
		return "", "", err
	}
	ts := make([]transcriptJSON, 0, len(e.Transcript))
	for _, l := range e.Transcript {
		ts = append(ts, transcriptJSON(l))
	}
	tb, err := json.Marshal(ts)
	if err != nil {
		return "", "", err
	}
	return string(mb), string(tb), nil
}

func (s *sqlStore) CreateEscalation(ctx context.Context, e Escalation) (int64, error) {
	methods, transcript, err := encodeEscalationLists(e)
	if err != nil {
		return 0, fmt.Errorf("store: create escalation: %w", err)
	}
	if e.Status == "" {
		e.Status = StatusOpen
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	var id int64
	err = s.w.QueryRowContext(ctx, s.rebind(`INSERT INTO escalations (conversation_id, session_id, student_name, student_upn,
		student_object_id, situation, failed_step, reason, security, repeat_contact, methods, language, transcript, status,
		created_at, claimed_by, claimed_at, resolved_by, resolved_at, first_response_at, resolution_note,
		staff_activity_id, staff_thread_id, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (conversation_id) WHERE status <> 'resolved' AND conversation_id <> '' DO NOTHING
		RETURNING id`),
		e.ConversationID, e.SessionID, e.StudentName, e.StudentUPN, e.StudentObjectID, e.Situation, e.FailedStep,
		e.Reason, e.Security, e.RepeatContact, methods, e.Language, transcript, e.Status, ns(e.CreatedAt),
		e.ClaimedBy, nullNS(e.ClaimedAt), e.ResolvedBy, nullNS(e.ResolvedAt), nullNS(e.FirstResponseAt),
		e.ResolutionNote, e.StaffActivityID, e.StaffThreadID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var existing int64
		err := s.w.QueryRowContext(ctx, s.rebind(`SELECT id FROM escalations WHERE conversation_id = ? AND status <> 'resolved'`),
			e.ConversationID).Scan(&existing)
		if err != nil {
			return 0, fmt.Errorf("store: create escalation: find existing: %w", err)
		}
		return existing, ErrDuplicate
	}
	if err != nil {
		return 0, fmt.Errorf("store: create escalation: %w", err)
	}
	return id, nil
}

func (s *sqlStore) GetEscalation(ctx context.Context, id int64) (Escalation, error) {
	e, err := scanEscalation(s.queryRow(ctx, `SELECT `+escalationColumns+` FROM escalations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Escalation{}, ErrNotFound
	}
	if err != nil {
		return Escalation{}, fmt.Errorf("store: get escalation %d: %w", id, err)
	}
	return e, nil
}

func (s *sqlStore) OpenEscalationFor(ctx context.Context, conversationID string) (Escalation, error) {
	e, err := scanEscalation(s.queryRow(ctx, `SELECT `+escalationColumns+` FROM escalations
		WHERE conversation_id = ? AND status <> 'resolved' ORDER BY created_at DESC, id DESC LIMIT 1`, conversationID))
	if errors.Is(err, sql.ErrNoRows) {
		return Escalation{}, ErrNotFound
	}
	if err != nil {
		return Escalation{}, fmt.Errorf("store: open escalation: %w", err)
	}
	return e, nil
}

func (s *sqlStore) LastEscalationOf(ctx context.Context, objectID string, since time.Time) (Escalation, error) {
	if objectID == "" {
		return Escalation{}, ErrNotFound
	}
	e, err := scanEscalation(s.queryRow(ctx, `SELECT `+escalationColumns+` FROM escalations
		WHERE student_object_id = ? AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT 1`, objectID, ns(since)))
	if errors.Is(err, sql.ErrNoRows) {
		return Escalation{}, ErrNotFound
	}
	if err != nil {
		return Escalation{}, fmt.Errorf("store: last escalation: %w", err)
	}
	return e, nil
}

func escalationWhere(f EscalationFilter) (string, []any) {
	var where []string
	var args []any
	if len(f.Statuses) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(f.Statuses)-1)+")")
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	if f.Security != nil {
		where = append(where, "security = ?")
		args = append(args, *f.Security)
	}
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, ns(f.Since))
	}
	if len(where) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

func (s *sqlStore) CountEscalations(ctx context.Context, f EscalationFilter) (int, error) {
	where, args := escalationWhere(f)
	var n int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM escalations`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count escalations: %w", err)
	}
	return n, nil
}

func (s *sqlStore) ListEscalations(ctx context.Context, f EscalationFilter) ([]Escalation, error) {
	where, args := escalationWhere(f)
	cols := escalationColumns
	if f.WithoutTranscript {
		cols = strings.Replace(cols, " transcript,", " '[]',", 1)
	}
	q := `SELECT ` + cols + ` FROM escalations` + where
	if f.NewestFirst {
		q += " ORDER BY created_at DESC, id DESC"
	} else {
		q += " ORDER BY security DESC, created_at, id"
	}
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list escalations: %w", err)
	}
	defer rows.Close()
	var out []Escalation
	for rows.Next() {
		e, err := scanEscalation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list escalations: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list escalations: %w", err)
	}
	return out, nil
}

func (s *sqlStore) UpdateEscalation(ctx context.Context, e Escalation) (int64, error) {
	return s.updateEscalation(ctx, s.w, e)
}

// execQuerier is what updateEscalation needs: the writer pool or a
// transaction on it.
type execQuerier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (s *sqlStore) updateEscalation(ctx context.Context, x execQuerier, e Escalation) (int64, error) {
	methods, transcript, err := encodeEscalationLists(e)
	if err != nil {
		return 0, fmt.Errorf("store: update escalation: %w", err)
	}
	if e.Status == "" {
		return 0, errors.New("store: update escalation: empty status")
	}
	res, err := x.ExecContext(ctx, s.rebind(`UPDATE escalations SET student_name = ?, student_upn = ?, student_object_id = ?,
		situation = ?, failed_step = ?, reason = ?, security = ?, repeat_contact = ?, methods = ?, language = ?,
		transcript = ?, status = ?, claimed_by = ?, claimed_at = ?, resolved_by = ?, resolved_at = ?,
		first_response_at = ?, resolution_note = ?, staff_activity_id = ?, staff_thread_id = ?, version = version + 1
		WHERE id = ? AND version = ?`),
		e.StudentName, e.StudentUPN, e.StudentObjectID, e.Situation, e.FailedStep, e.Reason, e.Security,
		e.RepeatContact, methods, e.Language, transcript, e.Status, e.ClaimedBy, nullNS(e.ClaimedAt),
		e.ResolvedBy, nullNS(e.ResolvedAt), nullNS(e.FirstResponseAt), e.ResolutionNote, e.StaffActivityID,
		e.StaffThreadID, e.ID, e.Version)
	if isUniqueViolation(err) {
		return 0, ErrDuplicate
	}
	if err != nil {
		return 0, fmt.Errorf("store: update escalation: %w", err)
	}
	n, err := affected(res)
	if err != nil {
		return 0, fmt.Errorf("store: update escalation: %w", err)
	}
	if n == 0 {
		var one int
		err := x.QueryRowContext(ctx, s.rebind(`SELECT 1 FROM escalations WHERE id = ?`), e.ID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, ErrNotFound
		}
		if err != nil {
			return 0, fmt.Errorf("store: update escalation: %w", err)
		}
		return 0, ErrConflict
	}
	return e.Version + 1, nil
}

// ---- Audit ----

func (s *sqlStore) AppendAudit(ctx context.Context, a AuditEntry) error {
	at := a.At
	if at.IsZero() {
		at = s.now()
	}
	_, err := s.exec(ctx, `INSERT INTO audit (at, actor, action, escalation_id, detail) VALUES (?, ?, ?, ?, ?)`,
		ns(at), a.Actor, a.Action, a.EscalationID, a.Detail)
	if err != nil {
		return fmt.Errorf("store: append audit: %w", err)
	}
	return nil
}

func (s *sqlStore) Audit(ctx context.Context, escalationID int64) ([]AuditEntry, error) {
	q := `SELECT at, actor, action, escalation_id, detail FROM audit`
	var args []any
	if escalationID != 0 {
		q += ` WHERE escalation_id = ?`
		args = append(args, escalationID)
	}
	q += ` ORDER BY at, id`
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		var at int64
		if err := rows.Scan(&at, &a.Actor, &a.Action, &a.EscalationID, &a.Detail); err != nil {
			return nil, fmt.Errorf("store: audit: %w", err)
		}
		a.At = fromNS(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	return out, nil
}

// ---- Statistics ----

const nsPerDay = int64(24 * time.Hour)

// Stats counts, for sessions ended since `since`, their outcomes per UTC
// day; for step events since `since`, the funnel; for escalations created
// since `since`, the median times; for sessions started since `since`,
// the satisfaction scores.
func (s *sqlStore) Stats(ctx context.Context, since time.Time) (Stats, error) {
	st := Stats{SatisfactionCounts: map[int]int{}}
	from := ns(since)

	// Outcomes per day. Integer division of Unix nanoseconds gives the UTC
	// day in both dialects.
	rows, err := s.query(ctx, `SELECT ended_at / `+strconv.FormatInt(nsPerDay, 10)+`, outcome, COUNT(*) FROM sessions
		WHERE ended_at IS NOT NULL AND ended_at >= ? AND outcome <> ''
		GROUP BY 1, 2 ORDER BY 1`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats outcomes: %w", err)
	}
	byDay := map[int64]map[string]int{}
	var days []int64
	for rows.Next() {
		var day int64
		var outcome string
		var n int
		if err := rows.Scan(&day, &outcome, &n); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("store: stats outcomes: %w", err)
		}
		if byDay[day] == nil {
			byDay[day] = map[string]int{}
			days = append(days, day)
		}
		byDay[day][outcome] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("store: stats outcomes: %w", err)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	for _, d := range days {
		st.OutcomesPerDay = append(st.OutcomesPerDay, DayOutcomes{
			Day:    fromNS(d * nsPerDay).Format("2006-01-02"),
			Counts: byDay[d],
		})
	}

	// Funnel: distinct sessions shown / failing each step.
	rows, err = s.query(ctx, `SELECT step,
			COUNT(DISTINCT CASE WHEN event = 'shown' THEN session_key END),
			COUNT(DISTINCT CASE WHEN event = 'failed' THEN session_key END),
			MIN(at)
		FROM step_events WHERE at >= ? GROUP BY step ORDER BY 4, 1`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats funnel: %w", err)
	}
	for rows.Next() {
		var r FunnelRow
		var first int64
		if err := rows.Scan(&r.Step, &r.Reached, &r.Failed, &first); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("store: stats funnel: %w", err)
		}
		st.Funnel = append(st.Funnel, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("store: stats funnel: %w", err)
	}

	// Response and resolution times.
	rows, err = s.query(ctx, `SELECT created_at, claimed_at, first_response_at, resolved_at FROM escalations
		WHERE created_at >= ?`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats times: %w", err)
	}
	var firsts, resolutions []time.Duration
	for rows.Next() {
		var created int64
		var claimed, first, resolved sql.NullInt64
		if err := rows.Scan(&created, &claimed, &first, &resolved); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("store: stats times: %w", err)
		}
		// The first response is whichever came first: a claim or a message.
		resp := int64(-1)
		for _, v := range []sql.NullInt64{claimed, first} {
			if v.Valid && (resp < 0 || v.Int64 < resp) {
				resp = v.Int64
			}
		}
		if resp >= 0 {
			firsts = append(firsts, time.Duration(max(resp-created, 0)))
		}
		if resolved.Valid {
			resolutions = append(resolutions, time.Duration(max(resolved.Int64-created, 0)))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("store: stats times: %w", err)
	}
	st.MedianFirstResponse = median(firsts)
	st.MedianResolution = median(resolutions)

	rows, err = s.query(ctx, `SELECT satisfaction, COUNT(*) FROM sessions
		WHERE satisfaction BETWEEN 1 AND 5 AND started_at >= ? GROUP BY satisfaction`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats satisfaction: %w", err)
	}
	for rows.Next() {
		var score, n int
		if err := rows.Scan(&score, &n); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("store: stats satisfaction: %w", err)
		}
		st.SatisfactionCounts[score] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("store: stats satisfaction: %w", err)
	}

	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM escalations WHERE status <> 'resolved'`).Scan(&st.OpenEscalations); err != nil {
		return Stats{}, fmt.Errorf("store: stats open: %w", err)
	}
	return st, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	m := len(ds) / 2
	if len(ds)%2 == 1 {
		return ds[m]
	}
	return (ds[m-1] + ds[m]) / 2
}

// ---- Retention ----

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

// ---- Health ----

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
