package dialogs

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"mfabot/dialogs/intent"
	"mfabot/dialogs/texts"
	"mfabot/graph"
	"mfabot/store"
)

// Settings are the school's values the conversation uses.
type Settings struct {
	VoiceCalls bool // the call option ("belfunctie") is available
	// VoiceCallsEnd, when set, ends the call option at that moment
	// (Microsoft ends SMS and voice verification on 1 February 2027).
	VoiceCallsEnd     time.Time
	SetupURL          string // https://aka.ms/mfasetup
	PasswordChangeURL string
	InstitutionName   string // "ICT Servicedesk"
	PrivacyText       string // "what is stored about me"; empty = the built-in text
	PublicHelpURL     string // the help page outside Teams, named in the welcome; empty = not named
}

// CallsAt tells whether the call option is offered at time at.
func (s Settings) CallsAt(at time.Time) bool {
	return s.VoiceCalls && (s.VoiceCallsEnd.IsZero() || at.Before(s.VoiceCallsEnd))
}

// Verification timing: one read at once, then re-checks every 20 s, so
// about a minute in all before saying it could not be confirmed.
const (
	RecheckDelay = 20 * time.Second
	MaxChecks    = 4
)

// Routes through step 2.
const (
	RouteOldPhone = "old_phone"
	RouteCall     = "call"
	RouteEither   = "either"
)

// Engine is the pure dialog engine: Step has no I/O and reads no clock.
type Engine struct {
	Settings Settings
	// Classify: a classifier (the LLM) is configured; text the keywords
	// cannot place where the student is goes to it (EffClassify).
	Classify bool
}

// Step runs one input through the flow and returns the new state, the
// messages for the student and the effects the runner must execute.
func (e Engine) Step(s State, in Input) (State, []Out, []Effect) {
	t := &turn{set: e.Settings.withDefaults(), s: cloneState(s), in: in, classify: e.Classify}
	t.set.VoiceCalls = t.set.CallsAt(in.At)
	t.voiceEnded = e.Settings.VoiceCalls && !t.set.VoiceCalls
	t.run()
	return t.s, t.outs, t.effs
}

func (st Settings) withDefaults() Settings {
	if st.SetupURL == "" {
		st.SetupURL = "https://aka.ms/mfasetup"
	}
	if st.InstitutionName == "" {
		st.InstitutionName = "ICT Servicedesk"
	}
	return st
}

func cloneState(s State) State {
	c := s
	c.History = slices.Clone(s.History)
	c.Snapshot = slices.Clone(s.Snapshot)
	c.Methods = slices.Clone(s.Methods)
	c.NewIDs = slices.Clone(s.NewIDs)
	if s.Failures != nil {
		c.Failures = make(map[string]int, len(s.Failures))
		for k, v := range s.Failures {
			c.Failures[k] = v
		}
	}
	return c
}

type turn struct {
	set Settings
	// voiceEnded: the school offers calls, but Microsoft's SMS and voice
	// have ended (institution.voice_calls auto, from 1 February 2027).
	voiceEnded bool
	s          State
	in         Input
	outs       []Out
	effs       []Effect
	classify   bool // Engine.Classify
}

func (t *turn) say(key string, vars map[string]string) {
	t.outs = append(t.outs, Out{Text: t.tr(key, vars)})
}

func (t *turn) sayText(text string) { t.outs = append(t.outs, Out{Text: text}) }

// suggestActions are the actions a text without a card may offer as
// suggested actions: their button title, and their typed equivalent
// (suggest.*) as what a tap sends.
var suggestActions = []Action{ActRestart, ActHuman}

// suggest returns the suggested actions for a text that waits for a
// typed answer (at most MaxSuggestions).
func (t *turn) suggest(actions ...Action) []Suggestion {
	var out []Suggestion
	for _, a := range actions[:min(len(actions), MaxSuggestions)] {
		out = append(out, Suggestion{Title: t.tr("button."+string(a), nil), Value: t.tr("suggest."+string(a), nil)})
	}
	return out
}

// card shows c; a card with buttons gets the next view number, carried
// by its buttons (State.ViewSeq).
func (t *turn) card(c Card) {
	if len(c.Buttons) > 0 {
		t.s.ViewSeq++
		if t.s.ViewStep != t.s.Step {
			t.s.ViewStep, t.s.StepView = t.s.Step, t.s.ViewSeq
		}
		c.Buttons = slices.Clone(c.Buttons)
		for i := range c.Buttons {
			c.Buttons[i].View = t.s.ViewSeq
		}
	}
	t.outs = append(t.outs, Out{Card: &c})
}

func (t *turn) effect(e Effect) {
	switch {
	case e.Kind == EffCancelTimers:
		t.s.Recheck = nil
	case e.Kind == EffAddTimer && e.Point != PointStaffPass:
		t.s.Recheck = &PendingRecheck{Point: e.Point, Attempt: e.Attempt, Due: t.in.At.Add(e.Delay).UnixMilli()}
	}
	t.effs = append(t.effs, e)
}

// recheckGrace is how long after its due time a re-check timer still
// counts as coming: the worker retries a failing timer turn a few times
// within seconds, and drops it after that.
const recheckGrace = time.Minute

// recheckPending tells whether the re-check of the current check is
// stored and still coming. Without one, input at a check step starts a
// new check instead of "still busy".
func (t *turn) recheckPending() bool {
	r, d := t.s.Recheck, lookupStep(t.s.Step)
	return r != nil && d != nil && d.Kind == KindCheck && r.Point == checkPoint(d.ID) && r.Attempt == t.s.Checks+1 &&
		t.in.At.Before(time.UnixMilli(r.Due).Add(recheckGrace))
}

func (t *turn) tr(key string, vars map[string]string) string {
	return tr(t.lang(), key, t.vars(vars))
}

// lang is the student's language in the design's order.
func (t *turn) lang() string { return LanguageOf(t.s) }

// LanguageOf returns the conversation's language: explicit choice, the
// language of their messages, the Teams locale of the activity (the
// student's own setting), Graph's preferredLanguage (often set by the
// school for everyone), Dutch.
func LanguageOf(s State) string {
	for _, l := range []string{s.LangChoice, s.LangText, s.LangLocale, s.LangGraph} {
		if l = normLang(l); l != "" {
			return l
		}
	}
	return "nl"
}

// normLang maps "nl-NL", "en-US", "EN" to nl / en; anything else to "".
func normLang(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	switch {
	case l == "nl" || strings.HasPrefix(l, "nl-") || strings.HasPrefix(l, "nl_"):
		return "nl"
	case l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_"):
		return "en"
	}
	return ""
}

func mdLink(u string) string {
	shown := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	shown = strings.TrimSuffix(shown, "/")
	return "[" + shown + "](" + u + ")"
}

func (t *turn) vars(extra map[string]string) map[string]string {
	v := map[string]string{
		"setup_link":    mdLink(t.set.SetupURL),
		"password_link": mdLink(t.passwordURL()),
		"institution":   t.set.InstitutionName,
	}
	for k, x := range extra {
		v[k] = x
	}
	return v
}

func (t *turn) passwordURL() string {
	if t.set.PasswordChangeURL != "" {
		return t.set.PasswordChangeURL
	}
	return "https://mysignins.microsoft.com/security-info/password/change"
}

func (t *turn) run() {
	in := t.in
	if in.Platform != "" {
		t.s.Platform = in.Platform
	}
	if l := normLang(in.Locale); l != "" {
		t.s.LangLocale = l
	}
	if l := normLang(in.LangChoice); l != "" {
		t.s.LangChoice = l
	}
	// A conversation saved by another version of the flow, or at a step
	// that no longer exists: tell the student and start again.
	if t.s.FlowVersion != 0 && (t.s.FlowVersion != FlowVersion || lookupStep(t.s.Step) == nil) {
		if in.Kind == InTimer || in.Kind == InMethods || in.Kind == InEscalated || in.Kind == InAnswer {
			return // an answer to the old flow: nothing to say
		}
		keep := t.s
		t.s = State{FlowVersion: FlowVersion, SessionSeq: keep.SessionSeq, ViewSeq: keep.ViewSeq, Platform: keep.Platform,
			LangChoice: keep.LangChoice, LangText: keep.LangText, LangGraph: keep.LangGraph, LangLocale: keep.LangLocale}
		if keep.SessionID != "" && keep.Outcome == "" {
			t.effect(Effect{Kind: EffEndSession, SessionID: keep.SessionID, Outcome: store.OutcomeAbandoned})
		}
		t.effect(Effect{Kind: EffCancelTimers})
		t.say("msg.reset", nil)
		t.begin()
		return
	}
	if t.s.FlowVersion == 0 {
		t.s.FlowVersion = FlowVersion
	}
	switch in.Kind {
	case InStart:
		// Teams often sends conversationUpdate and installationUpdate
		// together: one welcome is enough.
		if t.s.Step == StepWelcome && !t.s.WelcomedAt.IsZero() && in.At.Sub(t.s.WelcomedAt) < time.Minute {
			return
		}
		if t.s.Step == "" || lookupStep(t.s.Step).Kind == KindEnd {
			t.begin()
			return
		}
		t.view()
	case InButton:
		t.button()
	case InText, InClassified:
		t.text()
	case InMethods:
		t.methods()
	case InTimer:
		t.timer()
	case InEscalated:
		t.s.HandoffNotQueued = !in.Escalated
		if in.Escalated {
			t.say("handoff.queued", nil)
		} else {
			t.say("handoff.failed", nil)
		}
		t.effect(Effect{Kind: EffShowContact, LostPhone: t.identityCheck(), Security: t.s.Situation == SitSuspicious, NotQueued: !in.Escalated})
	case InAnswer:
		if in.Answered && strings.TrimSpace(in.Answer) != "" {
			// The model's words: labelled as such, with what it was given.
			t.outs = append(t.outs, Out{Text: in.Answer, AI: &AIContent{Step: t.s.Step, Citations: slices.Clone(in.Sources)}})
		} else {
			t.say("msg.no_answer", nil)
			t.explainText()
		}
		t.view()
	}
}

// begin starts (again) at the welcome: the methods are read first, the
// welcome card follows when they are in.
func (t *turn) begin() {
	t.s.Step = StepWelcome
	t.s.ViewStep = "" // the welcome that follows is a new visit
	t.s.History = nil
	t.s.StartRead = false
	t.s.MethodsKnown = false
	t.s.Snapshot, t.s.Methods = nil, nil
	t.resetRun()
	t.effect(Effect{Kind: EffReadMethods, Point: PointStart})
}

// resetRun clears what belongs to one run through the steps.
func (t *turn) resetRun() {
	t.s.Situation, t.s.Route, t.s.PairLink, t.s.Pairing = "", "", false, ""
	t.s.Failures = nil
	t.s.Checks, t.s.CheckAsked = 0, false
	t.s.NeedsIdentity = false
	t.s.NewAuthID, t.s.NewAuthName, t.s.NewIDs = "", "", nil
	t.s.VerifiedNew, t.s.OldGone, t.s.SkippedRemoval = false, false, false
}

// ---- input kinds ----

func (t *turn) button() {
	in := t.in
	if t.s.Step == "" {
		// A card from a conversation we have no state for (a new store).
		t.begin()
		return
	}
	// A card other than the newest (a second tap on one card, a card of
	// an earlier session at the same step), or, for cards without a view
	// number, a card of another step. A rating at the end counts from the
	// done card even after something else was said (rating again only
	// replaces the score).
	rating := in.Step == StepDone && in.Action == ActRate
	if in.Step == t.s.Step && in.View != 0 && in.View < t.s.ViewSeq && !rating &&
		t.s.ViewStep == t.s.Step && in.View >= t.s.StepView {
		// An older card of this very visit of the step: the step card
		// above an explanation or help card (on a phone, after scrolling
		// up). What moves on or only shows something counts; a second
		// tap on the button just applied, or a failure, does not.
		if !t.laterClickCounts(in) {
			t.say("msg.stale_same", nil)
			t.view()
			return
		}
		t.clicked(in)
		t.apply(in.Action)
		return
	}
	if in.Step != t.s.Step || (in.View != 0 && in.View != t.s.ViewSeq && !rating) {
		if lookupStep(t.s.Step).Kind != KindCheck {
			// (A check step has no card; it says what the check does.)
			t.say("msg.stale", nil)
		}
		t.view()
		return
	}
	t.clicked(in)
	t.apply(in.Action)
}

// clicked remembers the click being applied.
func (t *turn) clicked(in Input) {
	t.s.LastView, t.s.LastAction = in.View, string(in.Action)
}

// laterClickCounts tells whether a click on an older card of the current
// step's visit is applied.
func (t *turn) laterClickCounts(in Input) bool {
	if in.View == t.s.LastView && string(in.Action) == t.s.LastAction {
		return false // the same button tapped twice
	}
	switch in.Action {
	case ActDone, ActSolved, ActYes, ActNo, ActSkip, ActExplain, ActHuman, ActSignInPath:
		return true
	}
	return lookupStep(t.s.Step).Kind == KindChoice && isSituation(intent.Intent(in.Action))
}

func (t *turn) text() {
	if t.in.Kind == InText && !t.in.Secret && t.read() {
		return // the classifier is asked first
	}
	in := t.in
	if l := normLang(in.TextLang); l != "" {
		t.s.LangText = l
	}
	fresh := t.s.Step == ""
	if fresh {
		t.begin()
	}
	if in.Secret {
		t.say("msg.secret", nil)
		if !fresh {
			t.view()
		}
		return
	}
	r := in.Reading.Intent
	if r == intent.IntentOther && intent.Greeting(in.Text) {
		r = intent.IntentHelp // a hello is answered with what the bot can do
	}
	switch r {
	case intent.IntentLangNL, intent.IntentLangEN:
		t.s.LangChoice = strings.TrimPrefix(string(r), "lang_")
		t.say("msg.lang", nil)
		if !fresh {
			t.view()
		}
		return
	}
	if privacy := r == intent.IntentOther || r == intent.IntentHelp || r == intent.IntentExplain; privacy && asksPrivacy(in.Text) {
		t.sayText(t.privacyText())
		if !fresh {
			t.view()
		}
		return
	}
	if fresh {
		// The welcome comes when the methods are in; keep what they asked.
		if isSituation(r) || r == intent.IntentHuman {
			t.s.PendingSituation = string(r)
			t.s.PendingRestored = in.Restored && r == intent.IntentSigninProblem
		}
		return
	}
	d := lookupStep(t.s.Step)
	if d.Kind == KindChoice && r == intent.IntentExplain {
		r = intent.IntentHelp // nothing to explain yet: what the bot can do
	}
	if d.Number == 7 && !t.s.PairLink && r != intent.IntentSuspiciousPrompt && !strings.HasSuffix(strings.TrimSpace(in.Text), "?") {
		// "Aanmelden" or "QR-code" answers step 7's choice, whatever else
		// a reading of the one word guesses (a sign-in problem, a person).
		switch pairingNamed(in.Text) {
		case PairingSignIn:
			t.apply(ActSignInPath)
			return
		case PairingQR:
			t.apply(ActDone)
			return
		}
	}
	switch r {
	case intent.IntentHuman:
		t.apply(ActHuman)
		return
	case intent.IntentRestart:
		t.apply(ActRestart)
		return
	case intent.IntentStop:
		t.stop()
		return
	case intent.IntentBack:
		t.back()
		return
	case intent.IntentHelp:
		t.say("msg.help", nil)
		t.view()
		return
	case intent.IntentSuspiciousPrompt:
		// Never read as a re-setup: the security route from anywhere.
		if d.Kind != KindCheck {
			t.endRunning()
		}
		t.choose(SitSuspicious)
		return
	}
	if in.Restored && (r == intent.IntentSigninProblem || r == intent.IntentFailed) {
		// "Ik heb een back-up teruggezet" in the sign-in-problem route
		// (to a check's question, it reads as "no").
		switch {
		case d.ID == StepTroubleRestored:
			t.view()
			return
		case allowed(d.ID, actRestored, StepTroubleRestored):
			t.say("trouble_restored.recognised", nil)
			t.goTo(StepTroubleRestored)
			return
		}
	}
	if d.Kind == KindQuestion {
		// "I lost it" answers "do you still have your old phone?"
		switch {
		case d.ID == StepAskOldPhone && r == intent.IntentLostPhone:
			t.apply(ActNo)
			return
		case d.ID == StepAskOldPhone && r == intent.IntentMovePhone:
			t.apply(ActYes)
			return
		case d.ID == StepAskSameNumber && r == intent.IntentNewPhoneSameNumber:
			t.apply(ActYes)
			return
		}
	}
	if isSituation(r) {
		switch {
		case d.Kind == KindChoice:
			t.understood(string(r))
			t.choose(string(r))
		case d.Kind == KindEnd:
			t.restartQuiet()
			t.s.PendingSituation = string(r)
			t.s.PendingRestored = in.Restored && r == intent.IntentSigninProblem
		case d.Kind == KindGuide && r == intent.IntentSigninProblem:
			// "Ik krijg geen melding" in the middle of a step is this
			// step not working, not a new conversation.
			t.apply(ActFailed)
		case d.Kind == KindTrouble && r == intent.IntentSigninProblem:
			t.apply(ActNotSolved)
		default:
			t.say("msg.midway", nil)
			t.view()
		}
		return
	}
	if a, ok := t.typedAction(d, r, in.Text); ok {
		if a == ActExplain && isQuestion(in.Text) {
			t.effect(Effect{Kind: EffStepEvent, Step: t.s.Step, Event: "explained", Situation: t.s.Situation})
			t.effect(Effect{Kind: EffAnswer, Question: in.Text, Step: t.s.Step})
			return
		}
		t.apply(a)
		return
	}
	if d.Kind == KindChoice {
		t.say("msg.unknown_welcome", nil)
	} else if d.Kind == KindGuide && yesNo(in.Text) != "" {
		t.say("msg.step_yesno", nil) // "ja" to a step that asked nothing
	} else if d.Kind != KindEnd && d.Kind != KindCheck {
		t.say("msg.unknown", nil)
	}
	t.view()
}

// typedAction maps a typed answer to the current step's button.
func (t *turn) typedAction(d *StepDef, r intent.Intent, text string) (Action, bool) {
	yn := yesNo(text)
	if d.ID == StepDone {
		if n, ok := scoreOf(text); ok {
			t.in.Score = n
			return ActRate, true
		}
	}
	var a Action
	switch d.Kind {
	case KindQuestion:
		switch {
		case yn == ActYes || r == intent.IntentDone:
			a = ActYes
		case yn == ActNo || r == intent.IntentFailed:
			a = ActNo
		case r == intent.IntentExplain:
			a = ActExplain
		}
	case KindTrouble:
		switch {
		case r == intent.IntentDone || yn == ActYes:
			a = ActSolved
		case r == intent.IntentFailed || yn == ActNo:
			a = ActNotSolved
		case r == intent.IntentExplain:
			a = ActExplain
		}
	case KindGuide:
		switch r {
		case intent.IntentDone:
			a = ActDone
		case intent.IntentFailed:
			a = ActFailed
		case intent.IntentExplain:
			a = ActExplain
		}
	case KindCheck:
		if r == intent.IntentRetry {
			a = ActRetry
		}
	case KindCard:
		switch {
		case r == intent.IntentRetry:
			a = ActRetry
		case r == intent.IntentExplain:
			a = ActExplain
		case r == intent.IntentDone && d.ID == StepVerifyNewFailed:
			a = ActContinue
		case r == intent.IntentDone && d.ID == StepWrongEntry:
			a = ActReadd
		}
	}
	if a == "" && r == intent.IntentRetry {
		t.say("msg.retry_nothing", nil)
		t.view()
		return "", false
	}
	return a, a != ""
}

// pairingNamed reads which of step 7's two ways a short message names:
// PairingSignIn ("aanmelden", "sign in"), PairingQR ("QR-code scannen",
// "qr") or "" (neither, or both).
func pairingNamed(text string) string {
	w := " " + strings.Join(strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ") + " "
	f := strings.Fields(w)
	if len(f) > 8 || len(f) > 0 && slices.Contains([]string{"wat", "hoe", "waarom", "welke", "what", "how", "why", "which"}, f[0]) {
		return "" // too long to be a choice, or a question about the ways
	}
	for _, neg := range []string{" niet ", " nie ", " geen ", " not ", " no ", " cant ", " cannot ", " dont ", " doesnt ",
		" t ", " mislukt ", " mis ", " fout ", " error ", " kapot ", " failed ", " fails ", " wont ", " wrong "} {
		if strings.Contains(w, neg) {
			return "" // "aanmelden lukt niet" is the step failing
		}
	}
	for _, cmd := range []string{" stop", " cancel", " annuleer", " medewerker", " human", " person", " mens ", " iemand",
		" someone", " opnieuw", " restart", " start over", " terug", " back ", " help"} {
		if strings.Contains(w, cmd) {
			return "" // "ik wil stoppen met inloggen" is a command, not a way
		}
	}
	signin := strings.Contains(w, " aanmeld") || strings.Contains(w, " sign in ") || strings.Contains(w, " signin ") ||
		strings.Contains(w, " sign on ") || strings.Contains(w, " log in ") || strings.Contains(w, " inloggen ")
	qr := strings.Contains(w, " qr ") || strings.Contains(w, " qrcode ") || strings.Contains(w, " scan")
	switch {
	case signin && !qr:
		return PairingSignIn
	case qr && !signin:
		return PairingQR
	}
	return ""
}

// ContextAt is where a student at step id is ("" for the welcome), for
// `mfabot understand --at`; ok is false for an unknown step.
func ContextAt(id string) (intent.Context, bool) {
	if id != "" && lookupStep(id) == nil {
		return intent.Context{}, false
	}
	return whereOf(State{Step: id}), true
}

// read makes the keyword reading of typed text where the student is
// (t.in.Reading). When that would not move the conversation and a
// classifier is configured, it asks for it (EffClassify) and reports
// true: the text comes back as InClassified with the classifier's reading.
func (t *turn) read() bool {
	text := t.in.Text
	where, own := whereOf(t.s), readsItself(t.s, text)
	if own {
		where = intent.Context{} // the engine reads it; the plain reading tells it what else it says
	}
	lang := normLang(t.in.TextLang)
	if lang == "" {
		lang = LanguageOf(t.s)
	}
	t.in.Reading = intent.MatchIn(where, text, lang)
	if !t.classify || strings.TrimSpace(text) == "" || own || where.Settled(t.in.Reading) || answersItself(t.s, text) {
		return false
	}
	t.effect(Effect{Kind: EffClassify, Reading: t.in.Reading, Where: where, Lang: lang})
	return true
}

// whereOf says where the student is, for reading a message against what
// the bot last asked.
func whereOf(s State) intent.Context {
	if s.Step == "" {
		return intent.Context{Where: intent.AtWelcome} // the welcome card is on its way
	}
	d := lookupStep(s.Step)
	if d == nil {
		return intent.Context{}
	}
	return intent.Context{Where: whereByKind[d.Kind], Step: d.ID}
}

var whereByKind = [...]intent.Where{KindChoice: intent.AtWelcome, KindQuestion: intent.AtYesNo, KindTrouble: intent.AtTrouble,
	KindGuide: intent.AtStep, KindCheck: intent.AtCheck, KindCard: intent.AtCard, KindEnd: intent.AtEnd}

// readsItself reports whether the engine takes text without its intent
// (a hello, a score on the rating, a way named at step 7's choice), so
// that no LLM is asked about it.
func readsItself(s State, text string) bool {
	if intent.Greeting(text) {
		return true
	}
	if s.Step == StepDone {
		if _, ok := scoreOf(text); ok {
			return true
		}
	}
	d := lookupStep(s.Step)
	return d != nil && d.Number == 7 && !s.PairLink && pairingNamed(text) != ""
}

// answersItself reports whether the engine has its own answer to text
// where the student is, so that no LLM is asked: a bare "ja" or "nee" at
// a step that asked nothing.
func answersItself(s State, text string) bool {
	d := lookupStep(s.Step)
	return d != nil && d.Kind == KindGuide && yesNo(text) != "" && len(strings.Fields(text)) <= 2
}

func isSituation(r intent.Intent) bool {
	return slices.Contains(Situations, string(r))
}

func isQuestion(text string) bool {
	text = strings.TrimSpace(text)
	return strings.HasSuffix(text, "?") || len(strings.Fields(text)) >= 4
}

func yesNo(text string) Action {
	w := strings.Trim(strings.ToLower(strings.TrimSpace(text)), ".!? ")
	if a := yesNoWord(w); a != "" {
		return a
	}
	// "ja, ik heb nog hetzelfde nummer" / "no I don't"
	if f := strings.Fields(w); len(f) > 1 && len(f) <= 10 {
		return yesNoWord(strings.Trim(f[0], ",.!?"))
	}
	return ""
}

func yesNoWord(w string) Action {
	switch w {
	case "ja", "jazeker", "jawel", "jep", "ja hoor", "yes", "yep", "yeah", "yes i do", "klopt", "zeker", "sure", "y", "j":
		return ActYes
	case "nee", "neen", "nope", "no", "nah", "nee helaas", "no i don't", "no i dont", "helaas niet", "n":
		return ActNo
	}
	return ""
}

func scoreOf(text string) (int, bool) {
	w := strings.TrimSpace(text)
	if len(w) == 1 && w[0] >= '1' && w[0] <= '5' {
		return int(w[0] - '0'), true
	}
	return 0, false
}

func (t *turn) privacyText() string {
	if t.set.PrivacyText != "" {
		return t.set.PrivacyText
	}
	return t.tr("privacy.default", nil)
}

// ---- actions ----

func (t *turn) apply(a Action) {
	d := lookupStep(t.s.Step)
	switch a {
	case ActRestart:
		t.restart()
		return
	case ActHuman:
		if d.ID == StepHandoff && (t.s.Outcome == store.OutcomeEscalated || t.s.Outcome == store.OutcomeSecurityEscalated) {
			t.handoffAgain()
			return
		}
		switch d.Kind {
		case KindGuide:
			t.handoff("asked_for_human", d.ID)
		case KindCheck, KindCard:
			if d.ID == StepVerifyNewFailed || d.ID == StepVerifyNew {
				t.handoff("not_confirmed", StepVerifyNew)
				return
			}
			t.handoff("asked_for_human", d.ID)
		default:
			t.handoff("asked_for_human", "")
		}
		return
	}
	switch d.Kind {
	case KindChoice:
		if isSituation(intent.Intent(a)) {
			t.choose(string(a))
			return
		}
	case KindGuide:
		switch a {
		case ActDone:
			if d.Number == 7 && !t.s.PairLink {
				t.s.Pairing = PairingQR
			}
			t.stepDone()
			return
		case ActSignInPath:
			if d.Number == 7 && !t.s.PairLink {
				t.s.Pairing = PairingSignIn
				t.stepDone()
				return
			}
		case ActFailed:
			t.stepFailed()
			return
		case ActExplain:
			t.explain()
			return
		case ActPairLink:
			if d.Number == 1 {
				t.s.PairLink = true
				// Step 1 still has to happen, on this phone.
				t.say("msg.pair_link", nil)
				t.stepDone()
				return
			}
		case ActSkip:
			if d.Number == 11 {
				t.event("skipped")
				t.s.SkippedRemoval = true
				t.finish()
				return
			}
		}
	case KindTrouble:
		switch a {
		case ActSolved:
			t.event("done")
			if d.ID == StepTroubleRestored {
				// Restoring signs the app in again: a new entry to verify
				// (in the demo, what step 10 registers), and the old
				// phone's entry still to remove.
				t.effect(Effect{Kind: EffSimulateDone, Step: guideID(10)})
				t.verifyNew()
				return
			}
			t.finish()
			return
		case ActNotSolved:
			t.event("failed")
			if d.ID == StepTroubleNotif {
				t.say(d.ID+".help", nil)
				t.goTo(StepTroubleAccount)
				return
			}
			t.say(d.ID+".help", nil)
			t.resetup()
			return
		case ActExplain:
			t.explain()
			return
		}
	case KindQuestion:
		switch a {
		case ActYes, ActNo:
			t.answer(d.ID, a == ActYes)
			return
		case ActExplain:
			t.explain()
			return
		}
	case KindCheck:
		if a == ActRetry {
			t.checkNow()
			return
		}
	case KindCard:
		switch {
		case a == ActExplain:
			t.explain()
			return
		case d.ID == StepVerifyNewFailed && a == ActRetry:
			t.s.Checks = 0
			t.moveQuiet(StepVerifyNew)
			t.checkNow()
			return
		case d.ID == StepVerifyNewFailed && a == ActContinue:
			t.event("continued")
			t.afterNew()
			return
		case d.ID == StepWrongEntry && a == ActReadd:
			t.s.Failures = nil
			t.goTo(guideID(3))
			return
		}
	case KindEnd:
		if d.ID == StepDone && a == ActRate {
			if t.in.Score < 1 || t.in.Score > 5 {
				t.say("msg.rated_range", nil)
				return
			}
			t.effect(Effect{Kind: EffSatisfaction, SessionID: t.s.SessionID, Score: t.in.Score})
			// Text only, and it asks for "opnieuw": offered as a tap.
			t.outs = append(t.outs, Out{Text: t.tr("done.thanks", nil), Suggest: t.suggest(ActRestart)})
			return
		}
	}
	// A button this step does not have (a forged or outdated payload).
	t.say("msg.unknown", nil)
	t.view()
}

// checkNow reads the methods again at the current check step, asked for
// by the student; the result is said whatever the count.
func (t *turn) checkNow() {
	d := lookupStep(t.s.Step)
	t.s.CheckAsked = true
	t.effect(Effect{Kind: EffReadMethods, Point: checkPoint(d.ID)})
}

func checkPoint(step string) string {
	if step == StepVerifyOld {
		return PointAfterRemove
	}
	return PointAfterAdd
}

func (t *turn) event(ev string) {
	t.effect(Effect{Kind: EffStepEvent, Step: t.s.Step, Event: ev, Situation: t.s.Situation})
}

// onMove, when set (by tests), sees every move the engine makes.
var onMove func(from, to string)

func (t *turn) moved(from, to string) {
	if onMove != nil && from != to {
		onMove(from, to)
	}
}

// goTo moves to step id and shows it.
func (t *turn) goTo(id string) {
	t.moved(t.s.Step, id)
	cur := lookupStep(t.s.Step)
	if cur != nil && id != t.s.Step {
		switch cur.Kind {
		case KindChoice, KindGuide, KindQuestion, KindTrouble, KindCard:
			t.s.History = append(t.s.History, t.s.Step)
		}
	}
	t.s.Step = id
	t.effect(Effect{Kind: EffStepEvent, Step: id, Event: "shown", Situation: t.s.Situation})
	t.view()
}

func (t *turn) stepDone() {
	d := lookupStep(t.s.Step)
	t.event("done")
	t.effect(Effect{Kind: EffSimulateDone, Step: d.ID})
	next := d.Next[ActDone][0]
	switch next {
	case StepVerifyNew:
		t.verifyNew()
	case StepVerifyOld:
		t.s.Checks = 0
		t.moveQuiet(StepVerifyOld)
		if !t.s.MethodsKnown {
			t.say("verify_old.unavailable", nil)
			t.finish()
			return
		}
		t.effect(Effect{Kind: EffReadMethods, Point: PointAfterRemove})
	default:
		t.goTo(next)
	}
}

// verifyNew moves to the check after step 10: is a new entry in the
// Authenticator app registered?
func (t *turn) verifyNew() {
	t.s.Checks = 0
	t.moveQuiet(StepVerifyNew)
	if !t.s.MethodsKnown {
		// Without a start snapshot nothing can be compared.
		t.say("verify_new.unavailable", nil)
		t.afterNew()
		return
	}
	t.effect(Effect{Kind: EffReadMethods, Point: PointAfterAdd})
}

// moveQuiet moves without showing a card (check steps say their own text).
func (t *turn) moveQuiet(id string) {
	t.moved(t.s.Step, id)
	cur := lookupStep(t.s.Step)
	if cur != nil && cur.Kind != KindCheck && cur.Kind != KindEnd && id != t.s.Step {
		t.s.History = append(t.s.History, t.s.Step)
	}
	t.s.Step = id
	t.effect(Effect{Kind: EffStepEvent, Step: id, Event: "shown", Situation: t.s.Situation})
}

func (t *turn) stepFailed() {
	d := lookupStep(t.s.Step)
	if t.s.Failures == nil {
		t.s.Failures = map[string]int{}
	}
	t.s.Failures[d.ID]++
	t.event("failed")
	if t.s.Failures[d.ID] >= 2 {
		t.handoff("two_failures", d.ID)
		return
	}
	// One card: what usually goes wrong here, with the step's buttons
	// (the instruction itself is in the card just above).
	t.card(t.focusCard(d, t.tr("msg.failed_once", nil), t.stepText(d, "help"), t.tr("msg.failed_next", nil)))
}

func (t *turn) explain() {
	t.event("explained")
	d := lookupStep(t.s.Step)
	switch d.Kind {
	case KindGuide, KindTrouble, KindQuestion, KindCard:
		t.card(t.focusCard(d, t.stepText(d, "explain")))
	default:
		t.explainText()
		t.view()
	}
}

func (t *turn) explainText() {
	d := lookupStep(t.s.Step)
	switch d.Kind {
	case KindGuide, KindTrouble, KindQuestion, KindCard:
		t.sayText(t.stepText(d, "explain"))
	default:
		t.say("msg.help", nil)
	}
}

func (t *turn) back() {
	d := lookupStep(t.s.Step)
	if d.Kind == KindEnd || d.Kind == KindCheck || len(t.s.History) == 0 {
		if len(t.s.History) == 0 && d.Kind != KindEnd {
			t.say("msg.back_start", nil)
		}
		t.view()
		return
	}
	prev := t.s.History[len(t.s.History)-1]
	t.s.History = t.s.History[:len(t.s.History)-1]
	t.s.Step = prev
	if prev == StepWelcome {
		t.endRunning()
		t.resetRun()
	}
	t.effect(Effect{Kind: EffStepEvent, Step: prev, Event: "shown", Situation: t.s.Situation})
	t.view()
}

// endRunning ends a running session as abandoned (a restart or a new
// situation halfway).
func (t *turn) endRunning() {
	if t.s.SessionID != "" && t.s.Outcome == "" {
		t.s.Outcome = store.OutcomeAbandoned
		t.effect(Effect{Kind: EffEndSession, SessionID: t.s.SessionID, Outcome: store.OutcomeAbandoned})
	}
}

func (t *turn) restart() {
	t.restartQuiet()
	t.say("msg.restarted", nil)
}

func (t *turn) restartQuiet() {
	t.endRunning()
	t.effect(Effect{Kind: EffCancelTimers})
	t.begin()
}

func (t *turn) stop() {
	t.endRunning()
	t.effect(Effect{Kind: EffCancelTimers})
	t.s.Step = StepStopped
	t.s.History = nil
	t.view()
}

// ---- situations and routes ----

func (t *turn) startSession(sit string) {
	t.endRunning()
	t.s.SessionSeq++
	t.s.SessionID = fmt.Sprintf("%s#%d", t.in.ConversationID, t.s.SessionSeq)
	t.s.Outcome = ""
	t.s.Situation = sit
	t.effect(Effect{Kind: EffStartSession, SessionID: t.s.SessionID, Situation: sit})
}

func (t *turn) has(kind graph.MethodKind) bool {
	for _, m := range t.s.Snapshot {
		if m.Kind == kind {
			return true
		}
	}
	return false
}

// hasApp: the start snapshot has an entry in the Authenticator app (an
// Authenticator method or a passkey in Authenticator) to sign in with.
func (t *turn) hasApp() bool {
	for _, m := range t.s.Snapshot {
		if m.InAuthenticatorApp() {
			return true
		}
	}
	return false
}

func (t *turn) canCall() bool { return t.set.VoiceCalls && t.has(graph.KindPhone) }

func (t *turn) choose(sit string) {
	restored := (t.in.Restored || t.s.PendingRestored) && sit == SitSigninProblem
	t.s.PendingSituation, t.s.PendingRestored = "", false
	t.resetRun()
	t.startSession(sit)
	t.effect(Effect{Kind: EffStepEvent, Step: StepWelcome, Event: "done", Situation: sit})
	known := t.s.MethodsKnown
	switch sit {
	case SitSigninProblem:
		if restored {
			t.say("trouble_restored.recognised", nil)
			t.goTo(StepTroubleRestored)
			return
		}
		t.goTo(StepTroubleNotif)
	case SitMovePhone:
		switch {
		case !known || t.hasApp():
			t.startRoute(RouteOldPhone)
		case t.canCall():
			t.startRoute(RouteCall)
		default:
			t.handoff("no_usable_method", StepWelcome)
		}
	case SitNewPhoneSame:
		switch {
		case known && t.canCall():
			t.startRoute(RouteCall)
		case !known || t.hasApp():
			t.goTo(StepAskOldPhone)
		default:
			t.handoff("no_usable_method", StepWelcome)
		}
	case SitLostPhone:
		switch {
		case known && t.canCall():
			t.startRoute(RouteCall)
		case !known && t.set.VoiceCalls:
			t.goTo(StepAskSameNumber)
		default:
			t.handoff("no_usable_method", StepWelcome)
		}
	case SitSuspicious:
		t.s.Step = StepWelcome
		t.card(Card{
			Title: t.tr("suspicious.title", nil),
			Body:  []string{t.tr("suspicious.do", nil), t.tr("suspicious.password", nil), t.tr("suspicious.signins", nil)},
		})
		t.handoff("suspicious_prompt", "")
	}
}

// understood says how a typed message was read, so that the student
// knows which situation the steps that follow are for (a pressed
// button needs no such echo; the security card has its own title).
func (t *turn) understood(sit string) {
	if sit == SitSuspicious {
		return
	}
	label := []rune(t.tr("button."+sit, nil))
	if len(label) > 1 && unicode.IsUpper(label[0]) && !unicode.IsUpper(label[1]) {
		label[0] = unicode.ToLower(label[0])
	}
	t.say("msg.understood", map[string]string{"situation": string(label)})
}

func (t *turn) answer(step string, yes bool) {
	t.event(map[bool]string{true: "done", false: "failed"}[yes])
	known := t.s.MethodsKnown
	switch step {
	case StepTroubleAccount:
		if yes {
			t.goTo(StepTroubleNumber)
			return
		}
		t.say("trouble_account_missing.help", nil)
		t.resetup()
	case StepAskOldPhone:
		switch {
		case yes:
			t.startRoute(RouteOldPhone)
		case known && t.canCall():
			t.startRoute(RouteCall)
		case known:
			t.handoff("no_usable_method", step)
		case t.s.Situation == SitNewPhoneSame && t.set.VoiceCalls:
			t.startRoute(RouteCall)
		case t.s.Situation == SitNewPhoneSame:
			t.handoff("no_usable_method", step)
		case t.set.VoiceCalls:
			t.goTo(StepAskSameNumber)
		default:
			t.handoff("no_usable_method", step)
		}
	case StepAskSameNumber:
		if yes && t.set.VoiceCalls {
			t.startRoute(RouteCall)
			return
		}
		t.handoff("no_usable_method", step)
	}
}

// resetup: troubleshooting did not help, on to the 12 steps.
func (t *turn) resetup() {
	if t.s.MethodsKnown && !t.hasApp() && !t.canCall() {
		t.handoff("no_usable_method", t.s.Step)
		return
	}
	t.say("resetup.intro", nil)
	t.startRoute(RouteEither)
}

func (t *turn) startRoute(route string) {
	t.s.Route = route
	t.goTo(guideID(1))
}

// ---- verification ----

func (t *turn) methods() {
	in := t.in
	switch in.Point {
	case PointStart:
		if t.s.Step != StepWelcome || t.s.StartRead {
			return
		}
		t.s.StartRead = true
		t.s.Simulated = in.Simulated
		if !in.Failed {
			t.s.MethodsKnown = true
			t.s.Snapshot = slices.Clone(in.Methods)
			t.s.Methods = slices.Clone(in.Methods)
		}
		if in.User != nil {
			t.s.UserName = in.User.DisplayName
			t.s.UPN = in.User.UserPrincipalName
			if l := normLang(in.User.PreferredLanguage); l != "" {
				t.s.LangGraph = l
			}
		}
		if p := t.s.PendingSituation; p != "" {
			t.sayText(t.summary())
			if p == string(intent.IntentHuman) {
				t.s.PendingSituation = ""
				t.handoff("asked_for_human", "")
				return
			}
			t.understood(p)
			t.choose(p)
			return
		}
		t.effect(Effect{Kind: EffStepEvent, Step: StepWelcome, Event: "shown"})
		t.s.WelcomedAt = in.At
		t.view()
	case PointAfterAdd:
		if t.s.Step != StepVerifyNew {
			return
		}
		t.s.Checks++
		asked := t.s.CheckAsked
		t.s.CheckAsked = false
		if in.Failed {
			t.say("verify_new.unavailable", nil)
			t.afterNew()
			return
		}
		t.s.Methods = slices.Clone(in.Methods)
		// The new phone counts as registered when a new entry in the
		// Authenticator app appears: an Authenticator method, a passkey
		// in Authenticator (the app's Sign in path), or both.
		if added := graph.NewInApp(graph.IDs(t.s.Snapshot), in.Methods); len(added) > 0 {
			t.s.NewIDs = graph.IDs(added)
			t.s.VerifiedNew = true
			t.event("verified")
			t.foundNew(added)
			t.afterNew()
			return
		}
		t.notYet(PointAfterAdd, "verify_new.still", asked)
	case PointAfterRemove:
		if t.s.Step != StepVerifyOld {
			return
		}
		t.s.Checks++
		asked := t.s.CheckAsked
		t.s.CheckAsked = false
		if in.Failed {
			t.say("verify_old.unavailable", nil)
			t.finish()
			return
		}
		t.s.Methods = slices.Clone(in.Methods)
		present := map[string]bool{}
		for _, m := range in.Methods {
			present[m.ID] = true
		}
		if t.newEntryGone(present) {
			t.s.NewAuthID, t.s.NewAuthName, t.s.NewIDs, t.s.VerifiedNew = "", "", nil, false
			t.event("wrong_entry")
			t.goTo(StepWrongEntry)
			return
		}
		for _, m := range t.oldDevices() {
			if !present[m.ID] {
				t.s.OldGone = true
				t.event("verified")
				t.say("verify_old.gone", nil)
				if t.oldPasskeyLeft(present) {
					t.say("verify_old.passkey_left", nil)
				}
				t.finish()
				return
			}
		}
		if t.s.Checks >= MaxChecks {
			t.say("verify_old.not_confirmed", nil)
			t.s.SkippedRemoval = true
			t.finish()
			return
		}
		t.notYet(PointAfterRemove, "verify_old.still", asked)
	}
}

func (t *turn) notYet(point, stillKey string, asked bool) {
	if t.s.Checks >= MaxChecks {
		t.event("not_confirmed")
		t.goTo(StepVerifyNewFailed)
		return
	}
	if t.s.Checks == 1 || asked {
		t.say(stillKey, nil)
	}
	t.effect(Effect{Kind: EffAddTimer, Point: point, Attempt: t.s.Checks + 1, Delay: RecheckDelay, SessionID: t.s.SessionID})
}

func (t *turn) timer() {
	in := t.in
	if in.Point == PointStaffPass {
		t.staffPass() // staffpass.go
		return
	}
	want := StepVerifyNew
	if in.Point == PointAfterRemove {
		want = StepVerifyOld
	}
	if r := t.s.Recheck; r != nil && r.Point == in.Point && r.Attempt == in.Attempt {
		t.s.Recheck = nil // this is it
	}
	if t.s.Step != want || in.Attempt != t.s.Checks+1 {
		return // the student moved on, or a manual re-check came first
	}
	t.effect(Effect{Kind: EffReadMethods, Point: in.Point})
}

func (t *turn) inSnapshot(id string) bool {
	for _, m := range t.s.Snapshot {
		if m.ID == id {
			return true
		}
	}
	return false
}

// oldDevices are the entries in the Authenticator app of the start
// snapshot: Authenticator methods and passkeys in Authenticator, never a
// security key.
func (t *turn) oldDevices() []graph.Method {
	var out []graph.Method
	for _, m := range t.s.Snapshot {
		if m.InAuthenticatorApp() && m.ID != t.s.NewAuthID {
			out = append(out, m)
		}
	}
	return out
}

// foundNew says what step 10 registered: the app, a passkey in the app,
// or both.
func (t *turn) foundNew(added []graph.Method) {
	var push, passkey *graph.Method
	for i := range added {
		switch {
		case added[i].Kind == graph.KindAuthenticator && push == nil:
			push = &added[i]
		case added[i].IsAuthenticatorPasskey() && passkey == nil:
			passkey = &added[i]
		}
	}
	switch {
	case push != nil:
		t.s.NewAuthID, t.s.NewAuthName = push.ID, push.DisplayName
	case passkey != nil:
		t.s.NewAuthID, t.s.NewAuthName = passkey.ID, passkey.DisplayName
	}
	switch {
	case push != nil && passkey != nil && push.DisplayName != "":
		t.say("verify_new.found_both", map[string]string{"device": push.DisplayName})
	case push != nil && push.DisplayName != "":
		t.say("verify_new.found", map[string]string{"device": push.DisplayName})
	case push == nil && passkey != nil:
		t.say("verify_new.found_passkey", map[string]string{"device": t.passkeyDevice(*passkey)})
	default:
		t.say("verify_new.found_unnamed", nil)
	}
}

// newEntryGone: an entry the new phone registered is no longer there
// (the student removed the new phone instead of the old one).
func (t *turn) newEntryGone(present map[string]bool) bool {
	ids := t.s.NewIDs
	if len(ids) == 0 && t.s.NewAuthID != "" {
		ids = []string{t.s.NewAuthID} // state saved before NewIDs existed
	}
	for _, id := range ids {
		if !present[id] {
			return true
		}
	}
	return false
}

// oldPasskeyLeft: the old phone's Authenticator entry is gone but a
// passkey in Authenticator of the start is still registered.
func (t *turn) oldPasskeyLeft(present map[string]bool) bool {
	for _, m := range t.oldDevices() {
		if m.IsAuthenticatorPasskey() && present[m.ID] {
			return true
		}
	}
	return false
}

// afterNew: the new phone is in (or could not be checked); remove the
// old one when there is one.
func (t *turn) afterNew() {
	if t.s.MethodsKnown && len(t.oldDevices()) == 0 {
		t.finish()
		return
	}
	t.s.Checks = 0
	t.goTo(guideID(11))
}

func (t *turn) outcome() string {
	if t.s.VerifiedNew {
		return store.OutcomeVerifiedResolved
	}
	return store.OutcomeSelfReportedResolved
}

func (t *turn) finish() {
	trouble := lookupStep(t.s.Step).Kind == KindTrouble
	t.moved(t.s.Step, StepDone)
	t.s.Step = StepDone
	t.s.History = nil
	t.effect(Effect{Kind: EffStepEvent, Step: StepDone, Event: "shown", Situation: t.s.Situation})
	t.s.Outcome = t.outcome()
	t.effect(Effect{Kind: EffEndSession, SessionID: t.s.SessionID, Outcome: t.s.Outcome})
	t.effect(Effect{Kind: EffCancelTimers})
	c := Card{Title: t.tr("done.title", nil)}
	switch {
	case trouble:
		c.Body = append(c.Body, t.tr("done.solved", nil))
	case t.s.VerifiedNew && (t.s.OldGone || !t.s.MethodsKnown || len(t.oldDevices()) == 0):
		c.Body = append(c.Body, t.tr("done.verified", nil))
	default:
		c.Body = append(c.Body, t.tr("done.self", nil))
	}
	if !trouble && t.s.SkippedRemoval {
		c.Body = append(c.Body, t.tr("done.reminder", nil))
	}
	if !trouble && t.s.Route == RouteOldPhone {
		c.Body = append(c.Body, t.tr("done.remove_account", nil))
	}
	c.Body = append(c.Body, t.tr("done.rate", nil))
	for n := 1; n <= 5; n++ {
		c.Buttons = append(c.Buttons, Button{Title: fmt.Sprint(n), Step: StepDone, Action: ActRate, Score: n})
	}
	t.card(c)
}

// handoff escalates to the service desk.
func (t *turn) handoff(reason, failedStep string) {
	if t.s.SessionID == "" || t.s.Outcome != "" {
		t.startSession(t.s.Situation)
	}
	security := reason == "suspicious_prompt"
	said := reason
	if reason == "no_usable_method" && t.voiceEnded && (!t.s.MethodsKnown || t.has(graph.KindPhone)) {
		// The call route would have been there: say why it is not, and
		// that the desk checks who they are and gives a pass (for the
		// desk it stays "no usable method").
		said = "voice_ended"
		t.s.NeedsIdentity = true
	}
	if t.s.Step != StepHandoff {
		t.moveQuiet(StepHandoff)
	}
	t.s.History = nil
	t.effect(Effect{Kind: EffCancelTimers})
	t.say("handoff.reason."+said, nil)
	t.s.Outcome = store.OutcomeEscalated
	if security {
		t.s.Outcome = store.OutcomeSecurityEscalated
	}
	t.effect(Effect{Kind: EffEscalate, Reason: reason, Security: security, LostPhone: t.identityCheck(),
		FailedStep: failedStep, Situation: t.s.Situation, SessionID: t.s.SessionID, Methods: t.maskedMethods()})
	t.effect(Effect{Kind: EffEndSession, SessionID: t.s.SessionID, Outcome: t.s.Outcome})
}

// handoffAgain answers a student who asks for a person again after the
// hand-off: the contact details again, in the same session (no second
// session or escalation request). Only when the escalation could not be
// made is it tried again, still in the same session.
func (t *turn) handoffAgain() {
	lost, security := t.identityCheck(), t.s.Outcome == store.OutcomeSecurityEscalated
	if t.s.HandoffNotQueued {
		reason := "asked_for_human"
		if security {
			reason = "suspicious_prompt"
		}
		t.effect(Effect{Kind: EffEscalate, Reason: reason, Security: security, LostPhone: lost,
			Situation: t.s.Situation, SessionID: t.s.SessionID, Methods: t.maskedMethods()})
		return
	}
	t.say("handoff.after", nil)
	t.effect(Effect{Kind: EffShowContact, LostPhone: lost, Security: security})
}

// identityCheck: the hand-off needs the desk's identity check (what to
// bring): a lost phone, or no call route since Microsoft ended voice.
func (t *turn) identityCheck() bool { return t.s.Situation == SitLostPhone || t.s.NeedsIdentity }

// maskedMethods describes the snapshot for the staff, named in the
// staff's language (phone numbers are masked by the directory already).
func (t *turn) maskedMethods() []string {
	lang := texts.StaffLanguage
	if !t.s.MethodsKnown {
		return []string{texts.T(lang, "staff.methods_unknown", nil)}
	}
	var out []string
	for _, m := range t.s.Snapshot {
		name := texts.Method(lang, string(m.Kind))
		switch m.Kind {
		case graph.KindAuthenticator:
			out = append(out, name+": "+nonEmpty(m.DisplayName, "?"))
		case graph.KindFIDO2:
			if m.IsAuthenticatorPasskey() {
				out = append(out, texts.Method(lang, "authenticator_passkey")+" ("+texts.Label(lang, "platform", m.PasskeyPlatform())+"): "+nonEmpty(m.DisplayName, "?"))
			} else {
				key := texts.Method(lang, "security_key") + ": " + nonEmpty(m.DisplayName, "?")
				if m.Model != "" {
					key += " - " + m.Model
				}
				out = append(out, key)
			}
		case graph.KindPhone:
			out = append(out, name+" ("+texts.Label(lang, "phone_type", nonEmpty(m.PhoneType, "mobile"))+"): "+m.PhoneMasked)
		case graph.KindOther:
			out = append(out, name+": "+m.ODataType)
		default:
			if m.DisplayName != "" {
				name += ": " + m.DisplayName
			}
			out = append(out, name)
		}
	}
	return out
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
