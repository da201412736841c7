package store

import (
	"context"
	"fmt"
)

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
