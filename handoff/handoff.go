// Package handoff owns the hand-off to the ICT service desk: contact
// details and opening hours, escalation records, the staff channel card
// and staff actions on it. It sends through a Notifier that bot
// implements, and persists through store.
package handoff

import (
	"context"
	"encoding/json"
	"time"

	"mfabot/store"
)

// Reasons for a hand-off.
const (
	ReasonTwoFailures      = "two_failures"      // failed the same step twice
	ReasonAskedForHuman    = "asked_for_human"   // "medewerker"
	ReasonNoUsableMethod   = "no_usable_method"  // lost phone, no phone method
	ReasonSuspicious       = "suspicious_prompt" // approval requests not started by the student
	ReasonGraphUnavailable = "graph_unavailable" // could not check at a decisive point
	ReasonNotConfirmed     = "not_confirmed"     // verification failed after re-checks
)

// Reasons lists every reason for a hand-off (each has a label for staff
// in the language files; a test checks that).
var Reasons = []string{ReasonTwoFailures, ReasonAskedForHuman, ReasonNoUsableMethod, ReasonSuspicious,
	ReasonGraphUnavailable, ReasonNotConfirmed}

// Request asks for one escalation. Methods are already masked.
type Request struct {
	ConversationID  string
	SessionID       string
	StudentObjectID string
	StudentName     string
	StudentUPN      string
	StudentUserID   string // Teams 29:... id, for the member lookup
	Situation       string
	FailedStep      string
	Reason          string
	Security        bool
	Methods         []string
	Language        string // nl | en
}

// Result of Escalate. Created is false when an open escalation of the
// same conversation already existed (a retry or a repeated "medewerker").
type Result struct {
	Escalation store.Escalation
	Created    bool
}

// DeskStatus is one desk's state at a moment.
type DeskStatus struct {
	Name     string
	Location string
	Hours    string // "ma-vr 8:00-16:00" / "Mon-Fri 8:00-16:00"
	OpenNow  bool
	ClosesAt time.Time // when OpenNow
	NextOpen time.Time // when !OpenNow
	// State says it in words: "nu open tot 16:00", "gaat maandag om
	// 8:00 open", "gesloten" (never opens again within a year).
	State string
}

// Contact is what the student is shown to reach the service desk.
type Contact struct {
	Name         string
	Phone        string
	PhoneURI     string // tel:+31884699070
	PhoneHours   string // empty unless configured
	PhoneOpenNow *bool  // nil unless phone hours are configured
	// PhoneState is "nu bereikbaar" or "weer bereikbaar maandag om 8:00";
	// empty without phone hours.
	PhoneState        string
	Desks             []DeskStatus
	AnyDeskOpen       bool
	IdentityCheck     string
	PasswordChangeURL string
	// ValidUntil is when the first open/closed state (or its wording:
	// "vandaag", "morgen") changes: a page showing it can be cached
	// until then.
	ValidUntil time.Time
}

// Staff action verbs carried in the staff card's button data.
const (
	VerbClaim   = "claim"
	VerbResolve = "resolve"
	VerbReopen  = "reopen"
)

// StaffAction is a click on the staff card, as the bot received it from
// a validated activity.
type StaffAction struct {
	Verb           string
	EscalationID   int64
	Note           string
	ActorName      string
	ActorObjectID  string
	ChannelID      string // channelData.channel.id of the activity
	ConversationID string
}

// Notifier sends what handoff has to say; bot implements it with the
// connector client (and the terminal chat with a printer).
type Notifier interface {
	// PostStaffCard starts a new thread in the staff channel.
	PostStaffCard(ctx context.Context, card json.RawMessage) (threadID, activityID string, err error)
	UpdateStaffCard(ctx context.Context, threadID, activityID string, card json.RawMessage) error
	// NotifyStudent sends a proactive text to a student's conversation.
	NotifyStudent(ctx context.Context, conversationID, text string) error
	// MemberUPN looks a member up through the Connector's member API.
	MemberUPN(ctx context.Context, conversationID, userID string) (string, error)
}
