package main

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"

	"mfabot/handoff"
)

// lateNotifier breaks the construction cycle between handoff (which
// sends through a Notifier) and bot (which implements it and needs
// handoff for staff actions): handoff gets this, the bot's is set later.
type lateNotifier struct {
	n atomic.Pointer[handoff.Notifier]
}

var errNoNotifier = errors.New("notifier not ready")

func (l *lateNotifier) set(n handoff.Notifier) { l.n.Store(&n) }

func (l *lateNotifier) get() (handoff.Notifier, error) {
	p := l.n.Load()
	if p == nil {
		return nil, errNoNotifier
	}
	return *p, nil
}

func (l *lateNotifier) PostStaffCard(ctx context.Context, card json.RawMessage) (string, string, error) {
	n, err := l.get()
	if err != nil {
		return "", "", err
	}
	return n.PostStaffCard(ctx, card)
}

func (l *lateNotifier) UpdateStaffCard(ctx context.Context, threadID, activityID string, card json.RawMessage) error {
	n, err := l.get()
	if err != nil {
		return err
	}
	return n.UpdateStaffCard(ctx, threadID, activityID, card)
}

func (l *lateNotifier) NotifyStudent(ctx context.Context, conversationID, text string) error {
	n, err := l.get()
	if err != nil {
		return err
	}
	return n.NotifyStudent(ctx, conversationID, text)
}

func (l *lateNotifier) MemberUPN(ctx context.Context, conversationID, userID string) (string, error) {
	n, err := l.get()
	if err != nil {
		return "", err
	}
	return n.MemberUPN(ctx, conversationID, userID)
}
