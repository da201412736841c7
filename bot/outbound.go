package bot

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"mfabot/bot/connector"
	"mfabot/dialogs"
	"mfabot/store"
)

// Sender is the Connector client the bot sends through
// (bot/connector.Client implements it; it rate-limits per conversation
// and tenant, retries what is safe to retry and returns activity ids).
type Sender interface {
	Send(ctx context.Context, serviceURL, conversationID string, a *connector.Activity) (string, error)
	Reply(ctx context.Context, serviceURL, conversationID, replyToID string, a *connector.Activity) (string, error)
	Update(ctx context.Context, serviceURL, conversationID, activityID string, a *connector.Activity) error
	Typing(ctx context.Context, serviceURL, conversationID string) error
	CreateConversation(ctx context.Context, serviceURL string, p connector.CreateConversationParams) (conversationID, activityID string, err error)
	Member(ctx context.Context, serviceURL, conversationID, userID string) (connector.Member, error)
}

// ServiceURLs is the set of serviceUrls the bot's token may be sent to:
// those of validated activities (and of conversation references, which
// are only ever stored from validated activities) plus the configured
// staff service URL. Give its Allowed method to connector.Config's
// AllowServiceURL and the same value to Options.ServiceURLs.
type ServiceURLs struct {
	mu   sync.RWMutex
	urls map[string]bool
}

// NewServiceURLs returns a set holding the given (configured) URLs.
func NewServiceURLs(configured ...string) *ServiceURLs {
	s := &ServiceURLs{urls: map[string]bool{}}
	for _, u := range configured {
		s.Add(u)
	}
	return s
}

func normServiceURL(u string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(u), "/"))
}

// Add allows u.
func (s *ServiceURLs) Add(u string) {
	if u == "" {
		return
	}
	n := normServiceURL(u)
	s.mu.RLock()
	ok := s.urls[n]
	s.mu.RUnlock()
	if ok {
		return
	}
	s.mu.Lock()
	s.urls[n] = true
	s.mu.Unlock()
}

// Allowed tells whether u may receive the bot's token.
func (s *ServiceURLs) Allowed(u string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.urls[normServiceURL(u)]
}

// trust records a serviceUrl that came from a validated activity or a
// stored conversation reference (stored only from validated activities).
func (s *Server) trust(serviceURL string) {
	if serviceURL == "" {
		return
	}
	s.o.ServiceURLs.Add(serviceURL)
	if s.o.OnServiceURL != nil {
		s.o.OnServiceURL(serviceURL)
	}
}

var errDevServiceURL = errors.New("bot: dev mode only sends to loopback serviceUrls")

// target checks a reference before anything is sent to it and returns a
// context carrying its tenant for the connector's rate limiter.
func (s *Server) target(ctx context.Context, serviceURL, tenantID string) (context.Context, error) {
	if s.o.Dev && !loopbackURL(serviceURL) {
		return ctx, errDevServiceURL
	}
	if tenantID != "" {
		ctx = connector.WithTenant(ctx, tenantID)
	}
	return ctx, nil
}

// outgoing turns a dialog reply into a Connector activity: text, and an
// Adaptive Card as an attachment. A text the language model wrote gets
// Teams' AI label, its sources as citations and the feedback buttons
// (aianswer.go); suggested actions go along, at most three.
func outgoing(r dialogs.Reply) *connector.Activity {
	a := &connector.Activity{Type: connector.TypeMessage, Text: r.Text}
	if r.Text != "" {
		a.TextFormat = connector.FormatMarkdown
	}
	if len(r.Card) > 0 {
		a.Attachments = []connector.Attachment{{
			ContentType: connector.ContentTypeAdaptiveCard,
			Content:     json.RawMessage(r.Card),
		}}
	}
	if r.AI != nil && r.Text != "" {
		markAIGenerated(a, r.AI)
	}
	a.SuggestedActions = suggestedActions(r.Suggest)
	return a
}

func replyText(text string) dialogs.Reply { return dialogs.Reply{Text: text} }

// send delivers one reply: as a reply to replyTo when given, else as a
// new message. It returns the Connector's activity id ("" for a 202).
func (s *Server) send(ctx context.Context, ref store.ConversationRef, replyTo string, r dialogs.Reply) (string, error) {
	ctx, err := s.target(ctx, ref.ServiceURL, ref.TenantID)
	if err != nil {
		return "", err
	}
	if len(r.Card) > 0 && !json.Valid(r.Card) {
		return "", errors.New("bot: reply card is not valid JSON")
	}
	a := outgoing(r)
	if replyTo != "" {
		return s.o.Connector.Reply(ctx, ref.ServiceURL, ref.ConversationID, replyTo, a)
	}
	return s.o.Connector.Send(ctx, ref.ServiceURL, ref.ConversationID, a)
}

func (s *Server) typing(ctx context.Context, ref store.ConversationRef) error {
	ctx, err := s.target(ctx, ref.ServiceURL, ref.TenantID)
	if err != nil {
		return err
	}
	return s.o.Connector.Typing(ctx, ref.ServiceURL, ref.ConversationID)
}

// update replaces a card (the staff card, after a click).
func (s *Server) update(ctx context.Context, serviceURL, conversationID, activityID string, card json.RawMessage) error {
	ctx, err := s.target(ctx, serviceURL, s.o.StaffTenantID)
	if err != nil {
		return err
	}
	return s.o.Connector.Update(ctx, serviceURL, conversationID, activityID, outgoing(dialogs.Reply{Card: card}))
}

// createChannelThread posts the card as a new thread of the staff channel.
func (s *Server) createChannelThread(ctx context.Context, card json.RawMessage) (threadID, activityID string, err error) {
	ctx, err = s.target(ctx, s.o.StaffServiceURL, s.o.StaffTenantID)
	if err != nil {
		return "", "", err
	}
	return s.o.Connector.CreateConversation(ctx, s.o.StaffServiceURL, connector.CreateConversationParams{
		IsGroup:   true,
		ChannelID: s.o.StaffChannelID,
		TenantID:  s.o.StaffTenantID,
		Activity:  outgoing(dialogs.Reply{Card: card}),
	})
}

func (s *Server) memberUPN(ctx context.Context, ref store.ConversationRef, userID string) (string, error) {
	ctx, err := s.target(ctx, ref.ServiceURL, ref.TenantID)
	if err != nil {
		return "", err
	}
	m, err := s.o.Connector.Member(ctx, ref.ServiceURL, ref.ConversationID, userID)
	if err != nil {
		return "", err
	}
	if m.UserPrincipalName != "" {
		return m.UserPrincipalName, nil
	}
	return m.Email, nil
}
