package dialogs

import (
	"encoding/json"
	"slices"
	"time"

	"mfabot/dialogs/intent"
	"mfabot/graph"
)

// State is one conversation's dialog state, stored as JSON in
// store.Conversation.State after every turn.
type State struct {
	FlowVersion int      `json:"flowVersion"`
	Step        string   `json:"step"`
	History     []string `json:"history,omitempty"`

	SessionID  string `json:"sessionId,omitempty"`
	SessionSeq int    `json:"sessionSeq,omitempty"`
	Situation  string `json:"situation,omitempty"`
	Outcome    string `json:"outcome,omitempty"` // of the current session, "" while running
	// HandoffNotQueued: the session's escalation could not be made (the
	// student was given the contact details to call themselves).
	HandoffNotQueued bool   `json:"handoffNotQueued,omitempty"`
	Route            string `json:"route,omitempty"` // old_phone | call | either
	PairLink         bool   `json:"pairLink,omitempty"`
	// Pairing is how the student added the account in the app at step 7:
	// "qr" (QR-code scannen, the guide's path) or "signin" (Aanmelden,
	// Microsoft's preferred path, which can also make a passkey).
	Pairing  string         `json:"pairing,omitempty"`
	Platform string         `json:"platform,omitempty"`
	Failures map[string]int `json:"failures,omitempty"`
	// ViewSeq counts the cards with buttons shown; each button carries
	// the number of its card ("v"), so a click on any card but the
	// newest is recognised as stale.
	ViewSeq int `json:"viewSeq,omitempty"`
	// ViewStep and StepView: the step of the newest card with buttons,
	// and the view number of the first such card at this visit of that
	// step (the step card; an explanation or help card may follow it).
	ViewStep string `json:"viewStep,omitempty"`
	StepView int    `json:"stepView,omitempty"`
	// LastView and LastAction: the last click applied (card and
	// button), so that a second tap on it is not applied again.
	LastView   int    `json:"lastView,omitempty"`
	LastAction string `json:"lastAction,omitempty"`

	LangChoice string `json:"langChoice,omitempty"` // "English please"
	LangText   string `json:"langText,omitempty"`   // language of their messages
	LangGraph  string `json:"langGraph,omitempty"`  // preferredLanguage
	LangLocale string `json:"langLocale,omitempty"` // Teams locale

	UserName  string `json:"userName,omitempty"`
	Simulated bool   `json:"simulated,omitempty"` // the demo directory
	UPN       string `json:"upn,omitempty"`

	StartRead    bool           `json:"startRead,omitempty"`    // the start read has answered
	MethodsKnown bool           `json:"methodsKnown,omitempty"` // ... and succeeded
	Snapshot     []graph.Method `json:"snapshot,omitempty"`     // methods at the start (masked)
	Methods      []graph.Method `json:"methods,omitempty"`      // the last read, cached per check point

	Checks int `json:"checks,omitempty"` // reads done at the current check point
	// CheckAsked: the running check was asked for by the student (not a
	// timer), so its result is said even when it is not the first.
	CheckAsked  bool   `json:"checkAsked,omitempty"`
	NewAuthID   string `json:"newAuthId,omitempty"`
	NewAuthName string `json:"newAuthName,omitempty"`
	// NewIDs are every new entry in the Authenticator app found after
	// step 10 (an Authenticator method, a passkey in Authenticator, or
	// both); removing any of them at step 11 is the wrong entry.
	NewIDs         []string `json:"newIds,omitempty"`
	VerifiedNew    bool     `json:"verifiedNew,omitempty"`
	OldGone        bool     `json:"oldGone,omitempty"`
	SkippedRemoval bool     `json:"skippedRemoval,omitempty"`

	PendingSituation string `json:"pendingSituation,omitempty"` // named before the start read answered
	PendingRestored  bool   `json:"pendingRestored,omitempty"`  // ... and it was a restored backup
	// NeedsIdentity: this run's hand-off needs the desk's identity check
	// (lost phone, or no call route since Microsoft ended voice).
	NeedsIdentity bool `json:"needsIdentity,omitempty"`
	// Recheck is the re-check timer the current check stored, so that a
	// turn at a check step knows without asking the store whether news
	// is coming; nil when none is.
	Recheck    *PendingRecheck `json:"recheck,omitempty"`
	WelcomedAt time.Time       `json:"welcomedAt,omitempty"` // when the welcome card was last shown

	// Seen holds the ids of the last activities applied (oldest first,
	// at most seenActivities), saved with the state in the same write:
	// an activity delivered again (the process died between the save
	// and marking the inbox entry done) is recognised and not applied twice.
	Seen []string `json:"seen,omitempty"`
	// LastActivityID and LastReplies are the newest applied activity
	// and its replies (bounded, maxLastReplies): when that activity is
	// delivered again, its replies are sent again, since the first
	// sending may never have happened. Kept only while a session runs
	// (and at a hand-off): cleared when it is done, stopped or restarted
	// (keepLastReplies), since the replies hold personal details.
	LastActivityID string  `json:"lastActivityId,omitempty"`
	LastReplies    []Reply `json:"lastReplies,omitempty"`
}

// seenActivities is how many activity ids State.Seen keeps.
const seenActivities = 20

// seen tells whether activity id was applied to this state already.
func (s State) seen(id string) bool {
	return id != "" && slices.Contains(s.Seen, id)
}

// remember returns seen with id appended, keeping the last seenActivities.
func remember(seen []string, id string) []string {
	if id == "" {
		return seen
	}
	out := append(slices.Clone(seen), id)
	if n := len(out) - seenActivities; n > 0 {
		out = out[n:]
	}
	return out
}

// DecodeState reads stored state; empty input is a fresh conversation.
// Unreadable state is treated as fresh too (the engine then resets
// gracefully), never as an error that stops the conversation.
func DecodeState(raw []byte) State {
	var s State
	if len(raw) == 0 {
		return s
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return State{FlowVersion: -1}
	}
	return s
}

// InputKind says what an Input carries.
type InputKind int

const (
	InStart      InputKind = iota // bot added / app installed
	InButton                      // a card click
	InText                        // typed text, already read
	InMethods                     // the answer to EffReadMethods
	InTimer                       // a persisted re-check timer fired
	InEscalated                   // the answer to EffEscalate
	InAnswer                      // the answer to EffAnswer
	InClassified                  // the typed text again, read by the classifier (the answer to EffClassify)
)

// Check points of the verification.
const (
	PointStart       = "start"
	PointAfterAdd    = "after_add"
	PointAfterRemove = "after_remove"
)

// Input is one input to the engine.
type Input struct {
	Kind           InputKind
	At             time.Time
	ConversationID string
	Platform       string // Teams clientInfo.platform
	Locale         string // Teams locale
	LangChoice     string // an explicit choice made outside the chat

	// InButton
	Step   string
	Action Action
	Score  int
	View   int // the card's view number; 0 for cards without one

	// InText (Reading: the engine's own keyword reading), InClassified
	// (Reading: the classifier's)
	Text     string
	Reading  intent.Reading
	Secret   bool   // looks like a code or password: never stored or used
	TextLang string // nl | en when the message's language is clear
	Restored bool   // says Authenticator was restored from a backup

	// InMethods
	Point     string
	Methods   []graph.Method
	User      *graph.User
	Failed    bool // the directory could not be read
	Simulated bool // the directory is the demo simulation

	// InTimer
	Attempt int

	// InEscalated
	Escalated bool

	// InAnswer
	Answer   string
	Answered bool
	Sources  []Citation // what the answer was grounded on
}

// EffectKind says what the runner must do.
type EffectKind int

const (
	EffReadMethods  EffectKind = iota // read user + methods at Point; answer with InMethods
	EffAddTimer                       // persist a timer (Point, Attempt) due after Delay
	EffCancelTimers                   // drop this conversation's timers
	EffEscalate                       // hand off; answer with InEscalated
	EffShowContact                    // add the service desk's contact card
	EffAnswer                         // ask the Answerer; answer with InAnswer
	EffStepEvent                      // record Step/Event
	EffSimulateDone                   // tell a simulating directory the step was done
	EffStartSession                   // a new session (SessionID, Situation)
	EffEndSession                     // the session's Outcome
	EffSatisfaction                   // Score 1..5
	EffClassify                       // ask the classifier about the text (Reading, Where, Lang); answer with InClassified
)

// Effect is work the engine asks of the runner.
type Effect struct {
	Kind       EffectKind
	Point      string
	Attempt    int
	Delay      time.Duration
	Reason     string
	Security   bool
	LostPhone  bool
	NotQueued  bool // EffShowContact: the escalation could not be made
	Step       string
	Event      string
	Question   string
	Situation  string
	SessionID  string
	Outcome    string
	Score      int
	Methods    []string // masked descriptions, for the escalation
	FailedStep string
	// EffClassify: the keyword reading that would not move the
	// conversation, where the student is, and the language to read in.
	Reading intent.Reading
	Where   intent.Context
	Lang    string
}

// Out is one message to the student. AI: the text is the language
// model's (a grounded answer, with its sources). Suggest: typed answers
// offered with a text that waits for one (at most MaxSuggestions).
type Out struct {
	Text    string
	Card    *Card
	AI      *AIContent
	Suggest []Suggestion
}

// PendingRecheck is a stored re-check timer: its point, attempt and
// when it is due (Unix milliseconds).
type PendingRecheck struct {
	Point   string `json:"point"`
	Attempt int    `json:"attempt"`
	Due     int64  `json:"due"`
}

// TimerPayload is what a re-check timer carries.
type TimerPayload struct {
	Point   string `json:"point"`
	Attempt int    `json:"attempt"`
	Session string `json:"session"`
}
