package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

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
