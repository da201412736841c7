package store

import (
	"context"
	"fmt"
	"time"
)

// ClaimActionKey records the one-time key of a service-desk action
// (staff.actions): true the first time, false when the key was claimed
// before (a double click, a resent form, another instance). The staff
// dashboard finds it with a type assertion; it is not part of Store.
func (s *sqlStore) ClaimActionKey(ctx context.Context, key string, escalationID int64, action string, at time.Time) (bool, error) {
	if key == "" {
		return false, fmt.Errorf("store: claim action key: empty key")
	}
	_, err := s.exec(ctx, `INSERT INTO action_keys (action_key, escalation_id, action, created_at) VALUES (?, ?, ?, ?)`,
		key, escalationID, action, ns(at))
	if isUniqueViolation(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: claim action key: %w", err)
	}
	// Keys older than a day can no longer come back from a form; keeping
	// the table small costs one indexed delete; a failure is harmless (the
	// claim holds, the sweep runs again next time).
	_, _ = s.exec(ctx, `DELETE FROM action_keys WHERE created_at < ?`, ns(at.Add(-24*time.Hour)))
	return true, nil
}
