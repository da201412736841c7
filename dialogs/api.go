// Package dialogs owns the conversation: the flow (steps as a typed Go
// table), the texts (embedded YAML per language), the pure engine, the
// Adaptive Card builders, intent matching, and the turn runner that
// executes the engine's effects at the edges.
package dialogs

import (
	"context"
	"encoding/json"
	"time"

	"mfabot/handoff"
	"mfabot/store"
)

// TurnKind says what started a turn.
type TurnKind string

const (
	TurnMessage TurnKind = "message" // typed text and/or Action.Submit value
	TurnWelcome TurnKind = "welcome" // bot added / app installed
	TurnTimer   TurnKind = "timer"   // a persisted timer fired
)

// Turn is one input to the runner, built by bot (or the terminal chat)
// from a validated activity.
type Turn struct {
	Ref          store.ConversationRef
	ActivityID   string
	ReplyToID    string // the card's activity id for a card click
	Kind         TurnKind
	Text         string         // mentions stripped
	Value        map[string]any // Action.Submit data merged with inputs
	Platform     string         // Teams clientInfo.platform: iOS, Android, Windows, Mac, Web
	TimerPayload []byte
	At           time.Time
	// Lang is an explicit language choice made outside the chat (the
	// terminal chat's --lang): nl or en; empty for Teams turns.
	Lang string
}

// Reply is one outgoing message: text, an Adaptive Card (content only,
// schema 1.5), or both. AI marks a text the language model wrote (bot
// sends it with Teams' AI-generated label, its sources as citations and
// the feedback buttons); Suggest are typed answers offered as suggested
// actions, for a text that waits for one without a card.
type Reply struct {
	Text    string          `json:"text,omitempty"`
	Card    json.RawMessage `json:"card,omitempty"`
	AI      *AIContent      `json:"ai,omitempty"`
	Suggest []Suggestion    `json:"suggest,omitempty"`
}

// AIContent says that a reply's text was written by the language model,
// from which sources, and about which step.
type AIContent struct {
	Step      string     `json:"step,omitempty"`
	Citations []Citation `json:"citations,omitempty"`
}

// Citation is one source of a grounded answer: the guide's step or the
// service desk. Abstract is plain text of at most MaxAbstract characters;
// URL is empty when there is no public page for it.
type Citation struct {
	Name     string `json:"name"`
	Abstract string `json:"abstract"`
	URL      string `json:"url,omitempty"`
}

// MaxAbstract is the longest citation abstract Teams shows (characters).
const MaxAbstract = 160

// Suggestion is a suggested action (imBack): Title on the button, Value
// the text the student sends by tapping it (a typed equivalent the
// engine reads).
type Suggestion struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// MaxSuggestions is how many suggested actions Teams shows.
const MaxSuggestions = 3

// Classifier reads free text the keyword matcher could not place with
// confidence (the llm package implements it; only basic types cross).
type Classifier interface {
	Classify(ctx context.Context, text, lang string) (intent string, confidence float64, err error)
}

// Answerer answers a question only from the given material; ok is false
// when the material does not contain the answer.
type Answerer interface {
	Answer(ctx context.Context, lang, question, material string) (answer string, ok bool, err error)
}

// Escalator hands a student to the service desk (handoff implements it).
type Escalator interface {
	Escalate(ctx context.Context, r handoff.Request) (handoff.Result, error)
	Contact(now time.Time) handoff.Contact
	// ContactCard renders the contact details as an Adaptive Card for the
	// student in lang; lostPhone adds the identity check, security the
	// immediate steps.
	ContactCard(now time.Time, lang string, lostPhone, security bool) json.RawMessage
}

// turnStore is what the runner keeps in the store (a store.Store
// satisfies it): the conversations, whose turns SaveTurn writes, their
// timers, and the student's line written before an escalation.
type turnStore interface {
	store.Conversations
	store.Timers
	AppendTranscript(ctx context.Context, l store.TranscriptLine) error
}
