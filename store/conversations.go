package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

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
