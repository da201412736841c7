package connector

import "encoding/json"

// Activity is the outbound activity the bot sends to the Connector.
//
// It is the project's own, minimal type rather than msbotbuilder-go v0.2.5's
// schema.Activity, because that type does not serialize cleanly: its
// time.Time fields (timestamp, localTimestamp, expiration) carry omitempty,
// which encoding/json ignores for structs, so every message would carry
// "timestamp":"0001-01-01T00:00:00Z"; its struct-valued fields (from,
// recipient, conversation, relatesTo, suggestedActions, semanticAction) are
// sent as {} when unset; and its Value must be a JSON object. Inbound
// parsing is package bot's business; this type only has to say what the bot
// sends, and every field is omitted when empty.
type Activity struct {
	Type             string               `json:"type"`
	ID               string               `json:"id,omitempty"`
	Text             string               `json:"text,omitempty"`
	TextFormat       string               `json:"textFormat,omitempty"`
	Summary          string               `json:"summary,omitempty"`
	Locale           string               `json:"locale,omitempty"`
	InputHint        string               `json:"inputHint,omitempty"`
	AttachmentLayout string               `json:"attachmentLayout,omitempty"`
	Attachments      []Attachment         `json:"attachments,omitempty"`
	SuggestedActions *SuggestedActions    `json:"suggestedActions,omitempty"`
	Entities         []json.RawMessage    `json:"entities,omitempty"`
	From             *ChannelAccount      `json:"from,omitempty"`
	Recipient        *ChannelAccount      `json:"recipient,omitempty"`
	Conversation     *ConversationAccount `json:"conversation,omitempty"`
	ReplyToID        string               `json:"replyToId,omitempty"`
	ChannelData      any                  `json:"channelData,omitempty"`
	Value            any                  `json:"value,omitempty"`
	Name             string               `json:"name,omitempty"`
}

// Activity types and formats the bot uses.
const (
	TypeMessage = "message"
	TypeTyping  = "typing"

	FormatPlain    = "plain"
	FormatMarkdown = "markdown"
	FormatXML      = "xml"

	// ContentTypeAdaptiveCard is the attachment content type of an Adaptive Card.
	ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"
)

// Attachment is a card or file attached to an activity. Content is
// marshalled as JSON (a map, a struct or a json.RawMessage).
type Attachment struct {
	ContentType string `json:"contentType"`
	ContentURL  string `json:"contentUrl,omitempty"`
	Content     any    `json:"content,omitempty"`
	Name        string `json:"name,omitempty"`
}

// SuggestedActions are buttons shown under a message until the user
// answers (Teams shows at most three).
type SuggestedActions struct {
	Actions []CardAction `json:"actions"`
}

// CardAction is one suggested action.
type CardAction struct {
	Type  string `json:"type"` // ActionIMBack
	Title string `json:"title"`
	Value string `json:"value"`
}

// ActionIMBack sends the action's value as the user's message.
const ActionIMBack = "imBack"

// ChannelAccount identifies a user or the bot on the channel.
type ChannelAccount struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	Role        string `json:"role,omitempty"`
}

// ConversationAccount identifies a conversation.
type ConversationAccount struct {
	ID               string `json:"id,omitempty"`
	Name             string `json:"name,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
}

// CreateConversationParams is a proactive conversation to create, for
// example a new thread in the staff channel: set IsGroup, ChannelID
// (19:...@thread.tacv2), TenantID and the first Activity.
type CreateConversationParams struct {
	IsGroup   bool
	ChannelID string
	TenantID  string
	// Bot is the bot's account (28:<appId>); optional.
	Bot *ChannelAccount
	// Members for a 1:1 or group chat; empty for a channel thread.
	Members   []ChannelAccount
	TopicName string
	// Activity is the first message of the new conversation; optional.
	Activity *Activity
}

// Member is a conversation member as the Connector describes it.
type Member struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	AADObjectID       string `json:"aadObjectId"`
	Email             string `json:"email"`
	UserPrincipalName string `json:"userPrincipalName"`
	GivenName         string `json:"givenName"`
	Surname           string `json:"surname"`
	TenantID          string `json:"tenantId"`
	UserRole          string `json:"userRole"`
}

type conversationParameters struct {
	IsGroup     bool             `json:"isGroup"`
	Bot         *ChannelAccount  `json:"bot,omitempty"`
	Members     []ChannelAccount `json:"members,omitempty"`
	TopicName   string           `json:"topicName,omitempty"`
	TenantID    string           `json:"tenantId,omitempty"`
	Activity    *Activity        `json:"activity,omitempty"`
	ChannelData *teamsData       `json:"channelData,omitempty"`
}

type teamsData struct {
	Channel *idOnly `json:"channel,omitempty"`
	Tenant  *idOnly `json:"tenant,omitempty"`
}

type idOnly struct {
	ID string `json:"id"`
}

type resourceResponse struct {
	ID string `json:"id"`
}

type conversationResourceResponse struct {
	ID         string `json:"id"`
	ActivityID string `json:"activityId"`
	ServiceURL string `json:"serviceUrl"`
}
