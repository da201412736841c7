// Package intent owns how a student's message is read: the closed set of
// intent names fixed by the design's contract, the keyword and fuzzy
// matcher, and the detection of secrets (codes, passwords) in text.
package intent

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
	// Answer is "yes" or "no" when the message answers the yes/no
	// question asked (MatchIn); Intent is then done or failed.
	Answer string `json:"answer,omitempty"`
}
