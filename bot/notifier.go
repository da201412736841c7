package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"mfabot/bot/connector"
	"mfabot/handoff"
	"mfabot/store"
)

// Notifier returns the handoff.Notifier that posts to the staff channel
// and messages students proactively through the connector.
func (s *Server) Notifier() handoff.Notifier { return notifier{s} }

type notifier struct{ s *Server }

var errNoStaffChannel = errors.New("bot: no staff channel configured (staff.channel_id, staff.service_url)")

func (n notifier) staffRef(threadID string) (store.ConversationRef, error) {
	s := n.s
	if s.o.StaffChannelID == "" || s.o.StaffServiceURL == "" {
		return store.ConversationRef{}, errNoStaffChannel
	}
	return store.ConversationRef{
		ConversationID:   threadID,
		ServiceURL:       s.o.StaffServiceURL,
		ChannelID:        "msteams",
		TenantID:         s.o.StaffTenantID,
		ConversationType: "channel",
	}, nil
}

// PostStaffCard starts a new thread in the staff channel with the card.
func (n notifier) PostStaffCard(ctx context.Context, card json.RawMessage) (threadID, activityID string, err error) {
	if _, err := n.staffRef(""); err != nil {
		return "", "", err
	}
	if !json.Valid(card) {
		return "", "", errors.New("bot: staff card is not valid JSON")
	}
	threadID, activityID, err = n.s.createChannelThread(ctx, card)
	if err != nil {
		metricSendErrors.WithLabelValues("staff_post").Inc()
		if errors.Is(err, connector.ErrMaybeDelivered) || errors.Is(err, context.DeadlineExceeded) {
			// handoff must not post the card again: it may be in the channel.
			return "", "", fmt.Errorf("bot: post staff card: %w: %w", handoff.ErrMaybeDelivered, err)
		}
		return "", "", fmt.Errorf("bot: post staff card: %w", err)
	}
	return threadID, activityID, nil
}

// UpdateStaffCard replaces the card of a staff thread.
func (n notifier) UpdateStaffCard(ctx context.Context, threadID, activityID string, card json.RawMessage) error {
	if _, err := n.staffRef(threadID); err != nil {
		return err
	}
	if threadID == "" || activityID == "" {
		return errors.New("bot: update staff card: no thread or activity id")
	}
	if !json.Valid(card) {
		return errors.New("bot: staff card is not valid JSON")
	}
	if err := n.s.update(ctx, n.s.o.StaffServiceURL, threadID, activityID, card); err != nil {
		metricSendErrors.WithLabelValues("staff_update").Inc()
		return fmt.Errorf("bot: update staff card: %w", err)
	}
	return nil
}

// NotifyStudent sends a text to a student's conversation, through the
// reference stored from the student's last validated activity.
func (n notifier) NotifyStudent(ctx context.Context, conversationID, text string) error {
	conv, err := n.s.o.Store.GetConversation(ctx, conversationID)
	if err != nil {
		return fmt.Errorf("bot: notify student: %w", err)
	}
	if conv.Ref.ServiceURL == "" {
		return fmt.Errorf("bot: notify student: %w", store.ErrNotFound)
	}
	n.s.trust(conv.Ref.ServiceURL)
	if _, err := n.s.send(ctx, conv.Ref, "", replyText(text)); err != nil {
		metricSendErrors.WithLabelValues("notify").Inc()
		return fmt.Errorf("bot: notify student: %w", err)
	}
	return nil
}

// MemberUPN looks a conversation member's UPN up through the Connector.
func (n notifier) MemberUPN(ctx context.Context, conversationID, userID string) (string, error) {
	conv, err := n.s.o.Store.GetConversation(ctx, conversationID)
	if err != nil {
		return "", fmt.Errorf("bot: member lookup: %w", err)
	}
	if conv.Ref.ServiceURL == "" {
		return "", fmt.Errorf("bot: member lookup: %w", store.ErrNotFound)
	}
	n.s.trust(conv.Ref.ServiceURL)
	upn, err := n.s.memberUPN(ctx, conv.Ref, userID)
	if err != nil {
		metricSendErrors.WithLabelValues("member").Inc()
		return "", fmt.Errorf("bot: member lookup: %w", err)
	}
	return upn, nil
}
