// Package store owns persistence: the interfaces the rest of mfabot uses,
// their SQLite (default) and PostgreSQL implementations, the schema
// migrations, and retention. Nothing outside this package writes SQL.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns for the same situations.
var (
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: an optimistic update lost the race (the version moved).
	ErrConflict = errors.New("store: version conflict")
	// ErrDuplicate: CreateEscalation found a not-resolved escalation for
	// the same conversation (it returns that escalation's id with this
	// error), or UpdateEscalation would reopen a second one.
	ErrDuplicate = errors.New("store: already exists")
)

// MaxInboxAttempts is how often an inbox item is handed out by
// ClaimPending before MarkFailed gives up on it.
const MaxInboxAttempts = 3

// ConversationRef is what the bot needs to message a conversation
// proactively. ServiceURL only ever comes from a validated activity.
type ConversationRef struct {
	ConversationID   string `json:"conversationId"`
	ServiceURL       string `json:"serviceUrl"`
	ChannelID        string `json:"channelId"` // "msteams"
	TenantID         string `json:"tenantId"`
	BotID            string `json:"botId"`
	BotName          string `json:"botName"`
	UserID           string `json:"userId"`      // 29:...
	UserAADObjectID  string `json:"aadObjectId"` // the student
	UserName         string `json:"userName"`
	Locale           string `json:"locale"`
	ConversationType string `json:"conversationType"` // personal | groupChat | channel
}

// Conversation is one student's conversation: its reference and the
// dialog state (opaque JSON owned by the dialogs package).
type Conversation struct {
	ID        string
	Ref       ConversationRef
	State     []byte
	Version   int64 // 0 = not stored yet
	UpdatedAt time.Time
}

// InboxItem is an accepted activity waiting for (or in) processing.
type InboxItem struct {
	Seq            int64
	ActivityID     string
	ConversationID string
	Body           []byte // the raw activity JSON
	ReceivedAt     time.Time
	Attempts       int
}

// Timer is a persisted delayed input (e.g. the re-checks after step 10).
type Timer struct {
	ID             int64
	ConversationID string
	Due            time.Time
	Payload        []byte // owned by dialogs
}

// StepEvent records a step being shown, done, failed or explained.
type StepEvent struct {
	ConversationID string
	SessionID      string // optional: "" = the conversation's newest session started at or before At
	UserID         string // aadObjectId
	Situation      string
	Step           string
	Event          string // shown | done | failed | explained
	At             time.Time
}

// TranscriptLine is one redacted line of a conversation.
type TranscriptLine struct {
	ConversationID string
	Role           string // student | bot | staff
	Text           string // already redacted by the caller
	At             time.Time
}

// TurnWrite is everything one turn of the dialog writes: its state and,
// in order, the records it made. SaveTurn stores it in one transaction.
type TurnWrite struct {
	Conversation Conversation
	Ops          []TurnOp
}

// TurnOp is one record of a turn; exactly one field is set. A session
// op for a session that is not stored changes nothing (as
// TouchSession, EndSession and SetSatisfaction return ErrNotFound).
type TurnOp struct {
	Transcript   *TranscriptLine
	StepEvent    *StepEvent
	StartSession *Session
	TouchSession *SessionChange // ID, At
	EndSession   *SessionChange // ID, Outcome, At
	Satisfaction *SessionChange // ID, Score
	AddTimer     *Timer
	// CancelTimers deletes the conversation's timers (DeleteTimers).
	CancelTimers bool
}

// SessionChange is a change to a stored session in a TurnWrite.
type SessionChange struct {
	ID      string
	Outcome string
	Score   int
	At      time.Time
}

// Outcome values, as the design names them.
const (
	OutcomeVerifiedResolved     = "verified_resolved"
	OutcomeSelfReportedResolved = "self_reported_resolved"
	OutcomeEscalated            = "escalated"
	OutcomeSecurityEscalated    = "security_escalated"
	OutcomeAbandoned            = "abandoned"
)

// Session is one run through the flow of one conversation (a restart
// starts a new session); it carries the outcome for the statistics.
type Session struct {
	ID             string
	ConversationID string
	UserID         string
	Situation      string
	Outcome        string // "" while running
	Satisfaction   int    // 0 = not given, else 1..5
	StartedAt      time.Time
	LastActivityAt time.Time
	EndedAt        *time.Time
}

// Escalation statuses.
const (
	StatusOpen     = "open"
	StatusClaimed  = "claimed"
	StatusResolved = "resolved"
)

// Escalation is one hand-off to the service desk.
type Escalation struct {
	ID              int64
	ConversationID  string
	SessionID       string
	StudentName     string
	StudentUPN      string
	StudentObjectID string
	Situation       string
	FailedStep      string
	Reason          string
	Security        bool
	RepeatContact   bool
	Methods         []string // masked, human readable
	Language        string
	Transcript      []TranscriptLine
	Status          string
	CreatedAt       time.Time
	ClaimedBy       string
	ClaimedAt       *time.Time
	ResolvedBy      string
	ResolvedAt      *time.Time
	FirstResponseAt *time.Time
	ResolutionNote  string
	StaffActivityID string // the staff channel card, for updates
	StaffThreadID   string // conversation id of the staff thread
	Version         int64
}

// Outbox kinds: what is still to be sent after an escalation changed.
const (
	OutboxCardUpdate     = "card_update"     // update the staff channel card
	OutboxStudentMessage = "student_message" // tell the student
)

// OutboxItem is one notification that must still be sent after an
// escalation changed. It is stored with the change and deleted once sent
// (or given up), so a crash never loses it.
type OutboxItem struct {
	ID           int64
	EscalationID int64
	Kind         string
	Payload      []byte // owned by the sender (handoff)
	CreatedAt    time.Time
	Due          time.Time // when it may be sent; zero: CreatedAt
	Attempts     int       // how often ClaimOutbox handed it out (this time included)
}

// EscalationFilter selects escalations for the queue. Results are sorted
// security first, then oldest first (NewestFirst: newest first).
type EscalationFilter struct {
	Statuses []string // empty = all
	Security *bool
	Since    time.Time
	Limit    int
	// NewestFirst sorts by creation time only, newest first (the resolved
	// and all lists, where the latest cases matter).
	NewestFirst bool
	// WithoutTranscript leaves Transcript empty (lists that do not show it).
	WithoutTranscript bool
}

// AuditEntry records one staff action.
type AuditEntry struct {
	At           time.Time
	Actor        string
	Action       string // claim | resolve | reopen | export | login ...
	EscalationID int64
	Detail       string
}

// DayOutcomes counts session outcomes on one day (in UTC).
type DayOutcomes struct {
	Day    string // YYYY-MM-DD
	Counts map[string]int
}

// FunnelRow tells how many sessions reached and failed a step.
type FunnelRow struct {
	Step    string
	Reached int
	Failed  int
}

// Stats is what the statistics page shows.
type Stats struct {
	OutcomesPerDay      []DayOutcomes
	Funnel              []FunnelRow // in the order the steps were first seen; the caller orders by flow
	MedianFirstResponse time.Duration
	MedianResolution    time.Duration
	SatisfactionCounts  map[int]int // 1..5
	OpenEscalations     int         // not resolved (open or claimed), regardless of since
}

// Answer is one grounded answer the bot sent (the language model's
// words), kept so that the student's like or dislike can be tied to it.
type Answer struct {
	ConversationID string
	ActivityID     string // the Connector's id of the sent message
	Step           string // the step the answer was about
	SentAt         time.Time
}

// Reactions to an answer (Teams' feedback buttons).
const (
	ReactionLike    = "like"
	ReactionDislike = "dislike"
)

// AnswerFeedback is a student's reaction to one answer.
type AnswerFeedback struct {
	ConversationID string
	ActivityID     string // the answer's: the invoke's replyToId
	Reaction       string // ReactionLike | ReactionDislike
	Text           string // already redacted by the caller
	At             time.Time
}

// FeedbackStats summarise the answers sent since a time and the
// feedback on them.
type FeedbackStats struct {
	Answers  int // grounded answers sent
	Likes    int
	Dislikes int
	// Conversations with feedback, newest feedback first.
	Conversations []ConversationFeedback
}

// ConversationFeedback is the feedback of one conversation.
type ConversationFeedback struct {
	ConversationID string
	Answers        int // answers sent in the period
	Likes          int
	Dislikes       int
	LastAt         time.Time
	// EscalationID is the conversation's newest escalation (0: none),
	// whose page has the transcript.
	EscalationID int64
	// Recent is the newest feedback, newest first (at most three).
	Recent []AnswerFeedbackLine
}

// AnswerFeedbackLine is one reaction as the dashboard shows it.
type AnswerFeedbackLine struct {
	Step     string
	Reaction string
	Text     string
	At       time.Time
}

// Store is everything mfabot persists, composed of one interface per
// area; Open returns one. Implementations are safe for concurrent use. A
// package that uses only some areas declares, where it uses them, an
// interface of just those; cmd/mfabot wires the one Store into all.
type Store interface {
	Inbox
	Conversations
	Timers
	History
	Escalations
	Outbox
	AuditLog
	Statistics
	Feedback
	Maintenance
}

// Inbox holds the accepted activities until they are processed. Enqueue
// returns false (and no error) when the activity id was seen before: a
// Teams retry.
type Inbox interface {
	Enqueue(ctx context.Context, item InboxItem) (bool, error)
	// EnqueueWithRef is SaveRef(ref) and Enqueue(item) in one
	// transaction: both are stored or neither.
	EnqueueWithRef(ctx context.Context, ref ConversationRef, item InboxItem) (bool, error)
	// AcceptLeased is EnqueueWithRef that also leases the new entry to
	// owner until now+lease when it may run at once (it is its
	// conversation's only unfinished entry, and no other owner holds a
	// due timer of the conversation), in the same commit: the caller runs
	// it without ClaimPendingOf. A leased entry comes back with its Seq. On
	// PostgreSQL, where two instances' accepts of one conversation could
	// both see no other entry, it never leases (leased is false).
	AcceptLeased(ctx context.Context, ref ConversationRef, item InboxItem, owner string, lease time.Duration, now time.Time) (stored InboxItem, fresh, leased bool, err error)
	// Pending returns unfinished items, oldest first, whoever holds them.
	Pending(ctx context.Context, limit int) ([]InboxItem, error)
	// ClaimPending leases up to limit unfinished items to owner until
	// now+lease, oldest first, atomically: two owners never hold the same
	// item. Only the oldest unfinished item of a conversation is handed
	// out (its later items wait until it is done or given up), and none of
	// a conversation whose due timer another owner holds. Items whose
	// lease ran out (their owner died) are taken over; items owner holds
	// already are returned again with their lease renewed.
	ClaimPending(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time) ([]InboxItem, error)
	// ClaimPendingOf is ClaimPending for one conversation: its oldest
	// unfinished item, if it may be handed out to owner now (ok false
	// otherwise). Its cost does not grow with other conversations' work.
	ClaimPendingOf(ctx context.Context, owner, conversationID string, lease time.Duration, now time.Time) (item InboxItem, ok bool, err error)
	// MarkDone finishes an item and drops its body; its activity id is
	// remembered (Enqueue keeps returning false) until Purge. It releases
	// the item's lease.
	MarkDone(ctx context.Context, seq int64) error
	// MarkFailed counts a failed attempt: the item stays pending until it
	// has failed MaxInboxAttempts times, then it is given up. It releases
	// the item's lease.
	MarkFailed(ctx context.Context, seq int64, reason string) error
	// ReleaseClaims gives back every inbox item and timer owner holds (an
	// instance stopping cleanly), so that others need not wait for the
	// leases to run out.
	ReleaseClaims(ctx context.Context, owner string) error
}

// Conversations holds each conversation's reference and dialog state.
type Conversations interface {
	GetConversation(ctx context.Context, id string) (Conversation, error)
	// SaveConversation inserts when c.Version is 0, else updates only if
	// the stored version equals c.Version; it returns the new version or
	// ErrConflict. It keeps a stored reference that is not empty (SaveRef
	// owns it) and writes c.Ref only where none is stored yet.
	SaveConversation(ctx context.Context, c Conversation) (int64, error)
	// SaveRef creates or updates the conversation's reference without
	// touching its state or version (a row made by SaveRef alone reads
	// back with Version 0).
	SaveRef(ctx context.Context, ref ConversationRef) error
	// SaveTurn stores what one turn wrote in one transaction: the
	// conversation as SaveConversation saves it, then w.Ops in order
	// (history and timers, see TurnOp).
	// ErrConflict (the version moved) writes nothing; so does any other
	// error. It returns the conversation's new version.
	SaveTurn(ctx context.Context, w TurnWrite) (int64, error)
}

// Timers holds the conversations' delayed inputs.
type Timers interface {
	AddTimer(ctx context.Context, t Timer) (int64, error)
	// DueTimers returns due timers of all conversations, soonest first,
	// whoever holds them.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// DueTimersOf returns the due timers of one conversation, soonest
	// first (the terminal chat runs its own).
	DueTimersOf(ctx context.Context, conversationID string, now time.Time) ([]Timer, error)
	// ClaimDueTimers leases up to limit due timers to owner until
	// now+lease, like ClaimPending: never the same timer to two owners,
	// expired leases taken over, owner's own returned again. It only hands
	// out timers of conversations the bot can message (a stored reference
	// with a service URL, or no conversation left at all): those of the
	// terminal chat are never claimed. A conversation whose inbox item
	// another owner holds is skipped. DeleteTimer ends a claimed timer.
	ClaimDueTimers(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time) ([]Timer, error)
	DeleteTimer(ctx context.Context, id int64) error
	DeleteTimers(ctx context.Context, conversationID string) error
}

// History is what happened in the conversations: sessions, step events,
// transcripts.
type History interface {
	// StartSession is idempotent: for an existing id it only fills in a
	// Situation that was empty.
	StartSession(ctx context.Context, s Session) error
	TouchSession(ctx context.Context, id string, at time.Time) error
	EndSession(ctx context.Context, id, outcome string, at time.Time) error
	SetSatisfaction(ctx context.Context, id string, score int) error
	// AbandonIdle ends running sessions idle since before cutoff that have
	// no open escalation, with outcome abandoned; returns how many.
	AbandonIdle(ctx context.Context, cutoff, now time.Time) (int, error)
	RecordStepEvent(ctx context.Context, e StepEvent) error
	AppendTranscript(ctx context.Context, l TranscriptLine) error
	Transcript(ctx context.Context, conversationID string, since time.Time) ([]TranscriptLine, error)
}

// Escalations holds the hand-offs to the service desk and the posting of
// their staff cards.
type Escalations interface {
	CreateEscalation(ctx context.Context, e Escalation) (int64, error)
	GetEscalation(ctx context.Context, id int64) (Escalation, error)
	// OpenEscalationFor returns the not-resolved escalation of a
	// conversation, or ErrNotFound.
	OpenEscalationFor(ctx context.Context, conversationID string) (Escalation, error)
	// LastEscalationOf returns the newest escalation of a student since t.
	LastEscalationOf(ctx context.Context, objectID string, since time.Time) (Escalation, error)
	ListEscalations(ctx context.Context, f EscalationFilter) ([]Escalation, error)
	// CountEscalations counts what ListEscalations would return without
	// a limit.
	CountEscalations(ctx context.Context, f EscalationFilter) (int, error)
	// UpdateEscalation writes e if the stored version equals e.Version.
	UpdateEscalation(ctx context.Context, e Escalation) (int64, error)

	// Staff card posting, once across instances. PendingEscalationPosts
	// lists (oldest first, at most limit) the open or claimed escalations
	// created before createdBefore that have no staff card and no recorded
	// post attempt. ClaimEscalationPost records owner's attempt to post
	// the card of escalation id, atomically: true only if it is not
	// resolved, has no card and no attempt is recorded, so that two
	// owners never both post. The attempt stays recorded (the card is not
	// posted again automatically) unless ReleaseEscalationPost clears it:
	// call that only when the post surely did not reach Teams. None of
	// these touch the escalation's version.
	PendingEscalationPosts(ctx context.Context, createdBefore time.Time, limit int) ([]int64, error)
	ClaimEscalationPost(ctx context.Context, id int64, owner string, now time.Time) (bool, error)
	ReleaseEscalationPost(ctx context.Context, id int64, owner string) error
}

// Outbox holds the notifications still to be sent after an escalation
// changed. UpdateEscalationOutbox is UpdateEscalation that also adds
// items (for escalation e.ID, in the order given) in the same
// transaction: both are stored or neither (ErrConflict, ErrNotFound
// and ErrDuplicate as UpdateEscalation). ClaimOutbox leases up to
// limit due items to owner until now+lease and counts the attempt,
// atomically, oldest first: an item is never handed to two owners,
// and one that is leased is not handed out again (not even to owner)
// until its lease runs out (its owner died) or RetryOutbox releases
// it. Only the oldest item of an escalation and kind is handed out,
// so an escalation's items of one kind go out one after another in
// order (kinds do not wait for each other). Of an escalation's
// OutboxCardUpdate items only the newest matters (the card shows the
// state at send time): ClaimOutbox deletes older ones no owner
// holds. DeleteOutbox ends an item (sent or given up); RetryOutbox
// releases owner's lease and makes the item due again at due.
type Outbox interface {
	UpdateEscalationOutbox(ctx context.Context, e Escalation, items []OutboxItem) (int64, error)
	ClaimOutbox(ctx context.Context, owner string, limit int, lease time.Duration, now time.Time) ([]OutboxItem, error)
	DeleteOutbox(ctx context.Context, id int64) error
	RetryOutbox(ctx context.Context, id int64, owner string, due time.Time) error
}

// AuditLog records the staff actions.
type AuditLog interface {
	AppendAudit(ctx context.Context, a AuditEntry) error
	// Audit lists the entries of one escalation, oldest first; 0 = all.
	Audit(ctx context.Context, escalationID int64) ([]AuditEntry, error)
}

// Statistics counts what the statistics page shows.
type Statistics interface {
	Stats(ctx context.Context, since time.Time) (Stats, error)
}

// Feedback holds the grounded answers the bot sent and the students'
// reactions to them. RecordAnswer keeps an answer the bot sent (the
// same conversation and activity id again changes nothing).
// SetAnswerFeedback stores a reaction to one of the conversation's
// answers, replacing an earlier one: ErrNotFound when the
// conversation has no answer of that id; changed is false when the
// same reaction and text were stored already (a redelivered click).
// FeedbackStats counts the answers sent since `since` and their
// reactions, with the conversations that gave feedback (at most
// limit, newest first).
type Feedback interface {
	RecordAnswer(ctx context.Context, a Answer) error
	SetAnswerFeedback(ctx context.Context, f AnswerFeedback) (changed bool, err error)
	FeedbackStats(ctx context.Context, since time.Time, limit int) (FeedbackStats, error)
}

// Maintenance is retention and the store's own health and lifetime.
type Maintenance interface {
	// Retention: deletes transcripts older than transcriptBefore and
	// resolved escalations older than escalationBefore. It also drops the
	// transcript copy of escalations resolved before transcriptBefore,
	// idle conversations (their dialog state) not touched since
	// transcriptBefore, processed inbox entries older than two days, and
	// sessions and step events older than escalationBefore; the feedback
	// text of answers sent before transcriptBefore, and answers sent
	// before escalationBefore.
	Purge(ctx context.Context, transcriptBefore, escalationBefore time.Time) error

	Ping(ctx context.Context) error
	Close() error
}
