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
}

// Reply is one outgoing message: text, an Adaptive Card (content only,
// schema 1.5), or both.
type Reply struct {
	Text string          `json:"text,omitempty"`
	Card json.RawMessage `json:"card,omitempty"`
}

// Intent is how a message is read. The names are fixed by the design's
// contract (mfabot understand prints them).
type Intent string

const (
	IntentSigninProblem      Intent = "signin_problem"
	IntentMovePhone          Intent = "move_phone"
	IntentNewPhoneSameNumber Intent = "new_phone_same_number"
	IntentLostPhone          Intent = "lost_phone"
	IntentSuspiciousPrompt   Intent = "suspicious_prompt"
	IntentDone               Intent = "done"
	IntentFailed             Intent = "failed"
	IntentExplain            Intent = "explain"
	IntentHelp               Intent = "help"
	IntentStop               Intent = "stop"
	IntentRestart            Intent = "restart"
	IntentRetry              Intent = "retry"
	IntentBack               Intent = "back"
	IntentHuman              Intent = "human"
	IntentLangNL             Intent = "lang_nl"
	IntentLangEN             Intent = "lang_en"
	IntentOther              Intent = "other"
)

// AllIntents is the closed set, in the contract's order.
var AllIntents = []Intent{
	IntentSigninProblem, IntentMovePhone, IntentNewPhoneSameNumber, IntentLostPhone,
	IntentSuspiciousPrompt, IntentDone, IntentFailed, IntentExplain, IntentHelp,
	IntentStop, IntentRestart, IntentRetry, IntentBack, IntentHuman,
	IntentLangNL, IntentLangEN, IntentOther,
}

// Reading is how one message was read (one JSON line of mfabot understand).
type Reading struct {
	Text       string  `json:"text"`
	Intent     Intent  `json:"intent"`
	Confidence float64 `json:"confidence"`
	Source     string  `json:"source"` // keywords | llm
}

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
