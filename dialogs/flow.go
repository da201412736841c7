package dialogs

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"mfabot/dialogs/texts"
	"mfabot/handoff"
)

// FlowVersion is stored in every conversation's state. Bump it when a
// step id is renamed or removed: a conversation saved under another
// version is reset gracefully (the student is told and offered a restart).
const FlowVersion = 1

// Kind says how a step behaves and how its card looks.
type Kind int

const (
	KindChoice   Kind = iota // the welcome: pick a situation
	KindTrouble              // a troubleshooting check (solved / not solved)
	KindQuestion             // a yes/no question
	KindGuide                // one of the guide's 12 steps
	KindCheck                // a verification through Graph is running
	KindCard                 // a card with its own buttons (not a guide step)
	KindEnd                  // done, hand-off or stopped
)

// Action is what a button (or its typed equivalent) does; it travels in
// the card's data as "action".
type Action string

const (
	ActDone      Action = "done"
	ActFailed    Action = "failed"
	ActExplain   Action = "explain"
	ActYes       Action = "yes"
	ActNo        Action = "no"
	ActSkip      Action = "skip"
	ActRetry     Action = "retry"
	ActContinue  Action = "continue"
	ActHuman     Action = "human"
	ActRestart   Action = "restart"
	ActReadd     Action = "readd"
	ActPairLink  Action = "pair_link"
	ActSolved    Action = "solved"
	ActNotSolved Action = "not_solved"
	ActRate      Action = "rate"
	// ActSignInPath: at step 7 the student adds the account with
	// Aanmelden (sign in) instead of the QR code (ActDone).
	ActSignInPath Action = "signin_path"
	// Internal transitions (not buttons).
	actFound       Action = "found"
	actNotFound    Action = "not_found"
	actUnavailable Action = "unavailable"
	actWrongEntry  Action = "wrong_entry"
	actRestored    Action = "restored" // "ik heb een back-up teruggezet"
)

// Situations, named like the intents.
const (
	SitSigninProblem = "signin_problem"
	SitMovePhone     = "move_phone"
	SitNewPhoneSame  = "new_phone_same_number"
	SitLostPhone     = "lost_phone"
	SitSuspicious    = "suspicious_prompt"
)

// How the account is added in the app at step 7 (State.Pairing).
const (
	PairingQR     = "qr"
	PairingSignIn = "signin"
)

// Situations in the welcome's order.
var Situations = []string{SitSigninProblem, SitMovePhone, SitNewPhoneSame, SitLostPhone, SitSuspicious}

// Step ids.
const (
	StepWelcome         = "welcome"
	StepTroubleNotif    = "trouble_notification"
	StepTroubleAccount  = "trouble_account_missing"
	StepTroubleNumber   = "trouble_number_matching"
	StepTroubleRestored = "trouble_restored"
	StepAskOldPhone     = "ask_old_phone"
	StepAskSameNumber   = "ask_same_number"
	StepVerifyNew       = "verify_new"
	StepVerifyNewFailed = "verify_new_failed"
	StepVerifyOld       = "verify_old"
	StepWrongEntry      = "wrong_entry"
	StepDone            = "done"
	StepHandoff         = "handoff"
	StepStopped         = "stopped"
	stepPrefix          = "step"
	guideSteps          = 12
)

// guideID is "step01".."step12".
func guideID(n int) string { return fmt.Sprintf("%s%02d", stepPrefix, n) }

// StepDef is one row of the flow table.
type StepDef struct {
	ID     string
	Kind   Kind
	Number int                 // 1..12 for guide steps
	Next   map[Action][]string // the steps an action can lead to
	Keys   []string            // text keys the step uses, in both languages
}

// stepKeys are the text keys every card step has.
func stepKeys(id string, variants map[string][]string) []string {
	var keys []string
	for _, f := range []string{"title", "do", "where", "see", "help", "explain"} {
		if vs, ok := variants[f]; ok {
			for _, v := range vs {
				keys = append(keys, id+"."+f+"."+v)
			}
			continue
		}
		keys = append(keys, id+"."+f)
	}
	return keys
}

var routeTargets = []string{guideID(1), StepAskOldPhone, StepAskSameNumber, StepHandoff}

// flow is the typed step table. The engine decides between the targets
// an action lists (routing depends on the registered methods); a test
// checks that it never moves anywhere else.
var flow = buildFlow()

func buildFlow() []StepDef {
	steps := []StepDef{
		{ID: StepWelcome, Kind: KindChoice, Next: map[Action][]string{
			SitSigninProblem: {StepTroubleNotif, StepTroubleRestored},
			SitMovePhone:     {guideID(1), StepHandoff},
			SitNewPhoneSame:  {guideID(1), StepAskOldPhone, StepHandoff},
			SitLostPhone:     {guideID(1), StepAskSameNumber, StepHandoff},
			SitSuspicious:    {StepHandoff},
		}, Keys: []string{"welcome.title", "welcome.intro", "welcome.question", "welcome.privacy_hint", "welcome.simulation",
			"summary.intro", "summary.none", "summary.unknown", "summary.authenticator", "summary.phone", "summary.your_number", "summary.and",
			"summary.authenticator_passkey", "summary.passkey_on.ios", "summary.passkey_on.android"}},
		{ID: StepTroubleNotif, Kind: KindTrouble, Next: map[Action][]string{
			ActSolved: {StepDone}, ActNotSolved: {StepTroubleAccount}, ActExplain: {StepTroubleNotif},
			actRestored: {StepTroubleRestored},
		}, Keys: stepKeys(StepTroubleNotif, nil)},
		{ID: StepTroubleAccount, Kind: KindQuestion, Next: map[Action][]string{
			ActYes: {StepTroubleNumber}, ActNo: {guideID(1), StepHandoff}, ActExplain: {StepTroubleAccount},
			actRestored: {StepTroubleRestored},
		}, Keys: append(stepKeys(StepTroubleAccount, nil), "resetup.intro")},
		{ID: StepTroubleNumber, Kind: KindTrouble, Next: map[Action][]string{
			ActSolved: {StepDone}, ActNotSolved: {guideID(1), StepHandoff}, ActExplain: {StepTroubleNumber},
			actRestored: {StepTroubleRestored},
		}, Keys: stepKeys(StepTroubleNumber, nil)},
		// A restored backup: sign in to restore the account, then the
		// new entry is verified and the old phone removed (steps 11-12).
		{ID: StepTroubleRestored, Kind: KindTrouble, Next: map[Action][]string{
			ActSolved: {StepVerifyNew}, ActNotSolved: {guideID(1), StepHandoff}, ActExplain: {StepTroubleRestored},
		}, Keys: append(stepKeys(StepTroubleRestored, nil), "trouble_restored.recognised")},
		{ID: StepAskOldPhone, Kind: KindQuestion, Next: map[Action][]string{
			ActYes: {guideID(1)}, ActNo: {guideID(1), StepAskSameNumber, StepHandoff}, ActExplain: {StepAskOldPhone},
		}, Keys: stepKeys(StepAskOldPhone, nil)},
		{ID: StepAskSameNumber, Kind: KindQuestion, Next: map[Action][]string{
			ActYes: {guideID(1), StepHandoff}, ActNo: {StepHandoff}, ActExplain: {StepAskSameNumber},
		}, Keys: stepKeys(StepAskSameNumber, nil)},
	}
	for n := 1; n <= guideSteps; n++ {
		id := guideID(n)
		next := guideID(n + 1)
		var variants map[string][]string
		d := StepDef{ID: id, Kind: KindGuide, Number: n}
		switch n {
		case 1:
			variants = map[string][]string{"do": {"", "mobile"}}
		case 2:
			variants = map[string][]string{"do": {"old_phone", "call", "call_direct", "either"}, "where": {"old_phone", "call", "either"}, "help": {"old_phone", "call", "either"}}
		case 7:
			variants = map[string][]string{"do": {"", "link"}, "see": {"", "link"}}
		case 8:
			variants = map[string][]string{"title": {"", "signin"}, "do": {"", "link", "signin"}, "where": {"", "signin"}, "see": {"", "signin"}, "help": {"", "signin"}}
		case 9:
			variants = map[string][]string{"do": {"", "signin"}, "where": {"", "signin"}, "see": {"", "signin"}}
		case 10:
			next = StepVerifyNew
			variants = map[string][]string{"do": {"", "signin"}, "see": {"", "signin"}}
		case 11:
			variants = map[string][]string{"do": {"", "unknown", "several"}}
		case 12:
			next = StepVerifyOld
		}
		d.Keys = fixVariantKeys(stepKeys(id, variants))
		d.Next = map[Action][]string{ActDone: {next}, ActFailed: {id, StepHandoff}, ActExplain: {id}}
		if n == 1 {
			d.Next[ActPairLink] = []string{guideID(2)}
		}
		if n == 2 {
			d.Keys = append(d.Keys, "step02.passkey_prompt")
		}
		if n == 7 {
			d.Keys = append(d.Keys, "step07.choose")
			d.Next[ActSignInPath] = []string{guideID(8)}
		}
		if n == 11 {
			d.Keys = append(d.Keys, "step11.passkey_too", "step11.keep_key")
		}
		if n == 11 {
			d.Next[ActSkip] = []string{StepDone}
		}
		steps = append(steps, d)
	}
	steps = append(steps,
		StepDef{ID: StepVerifyNew, Kind: KindCheck, Next: map[Action][]string{
			actFound: {guideID(11), StepDone}, actNotFound: {StepVerifyNew, StepVerifyNewFailed},
			actUnavailable: {guideID(11), StepDone}, ActRetry: {StepVerifyNew},
		}, Keys: []string{"verify_new.found", "verify_new.found_unnamed", "verify_new.found_passkey", "verify_new.found_both", "verify_new.still", "verify_new.busy", "verify_new.unavailable"}},
		StepDef{ID: StepVerifyNewFailed, Kind: KindCard, Next: map[Action][]string{
			ActRetry: {StepVerifyNew}, ActContinue: {guideID(11), StepDone}, ActHuman: {StepHandoff}, ActExplain: {StepVerifyNewFailed},
		}, Keys: []string{"verify_new.title", "verify_new.do", "verify_new.where", "verify_new.see", "verify_new.help", "verify_new.explain"}},
		StepDef{ID: StepVerifyOld, Kind: KindCheck, Next: map[Action][]string{
			actFound: {StepDone}, actNotFound: {StepVerifyOld, StepDone}, actUnavailable: {StepDone},
			actWrongEntry: {StepWrongEntry}, ActRetry: {StepVerifyOld},
		}, Keys: []string{"verify_old.gone", "verify_old.passkey_left", "verify_old.still", "verify_old.unavailable", "verify_old.not_confirmed"}},
		StepDef{ID: StepWrongEntry, Kind: KindCard, Next: map[Action][]string{
			ActReadd: {guideID(3)}, ActExplain: {StepWrongEntry},
		}, Keys: stepKeys(StepWrongEntry, nil)},
		StepDef{ID: StepDone, Kind: KindEnd, Next: map[Action][]string{ActRate: {StepDone}},
			Keys: []string{"done.title", "done.verified", "done.self", "done.solved", "done.reminder", "done.remove_account", "done.rate", "done.thanks", "done.after"}},
		StepDef{ID: StepHandoff, Kind: KindEnd, Keys: []string{"handoff.intro", "handoff.queued", "handoff.failed", "handoff.after",
			"suspicious.title", "suspicious.do", "suspicious.password", "suspicious.signins"}},
		StepDef{ID: StepStopped, Kind: KindEnd, Keys: []string{"stopped.text"}},
	)
	return steps
}

// fixVariantKeys turns "step01.do." (the empty variant) into "step01.do".
func fixVariantKeys(keys []string) []string {
	for i, k := range keys {
		keys[i] = strings.TrimSuffix(k, ".")
	}
	return keys
}

var flowIndex = indexFlow(flow)

func indexFlow(steps []StepDef) map[string]*StepDef {
	m := map[string]*StepDef{}
	for i := range steps {
		m[steps[i].ID] = &steps[i]
	}
	return m
}

// lookupStep returns the definition of id, or nil.
func lookupStep(id string) *StepDef { return flowIndex[id] }

// globalTargets are reachable from every step through the global commands
// (start over, talk to a person, stop), and step 3 when the service desk
// gave the student a Temporary Access Pass (staffpass.go).
var globalTargets = []string{StepWelcome, StepHandoff, StepStopped, guideID(3)}

// commonKeys are texts used outside any single step.
var commonKeys = []string{
	"label.progress", "label.where", "label.see", "msg.stale", "msg.unknown", "msg.unknown_welcome",
	"msg.help", "msg.secret", "msg.lang", "msg.reset", "msg.failed_once", "msg.retry_nothing",
	"msg.privacy", "button.qr_path", "msg.no_answer", "msg.back_start", "msg.restarted", "msg.rated_range", "msg.understood", "msg.midway", "step11.keep_phone", "msg.failed_next", "msg.pair_link", "label.where_phone_browser", "label.where_phone_both", "summary.or", "privacy.default", "staff_pass.route",
	"handoff.reason.two_failures", "handoff.reason.asked_for_human", "handoff.reason.no_usable_method",
	"handoff.reason.not_confirmed", "handoff.reason.voice_ended", "handoff.reason.graph_unavailable", "handoff.reason.suspicious_prompt",
}

func buttonKeys() []string {
	keys := []string{}
	for _, a := range []Action{ActDone, ActFailed, ActExplain, ActYes, ActNo, ActSkip, ActRetry, ActContinue, ActHuman, ActRestart, ActReadd, ActPairLink, ActSolved, ActNotSolved, ActSignInPath} {
		keys = append(keys, "button."+string(a))
	}
	for _, s := range Situations {
		keys = append(keys, "button."+s)
	}
	return keys
}

// Validate checks the flow table and the texts: every target exists,
// every step is reachable from the welcome, every step can end in done
// or hand-off (or the student's stop), and every text key exists in
// every language, with the same set of keys in each.
func Validate() error {
	var errs []error
	for _, d := range flow {
		for a, targets := range d.Next {
			if len(targets) == 0 {
				errs = append(errs, fmt.Errorf("step %s: action %s has no target", d.ID, a))
			}
			for _, t := range targets {
				if lookupStep(t) == nil {
					errs = append(errs, fmt.Errorf("step %s: action %s leads to unknown step %q", d.ID, a, t))
				}
			}
		}
		if d.Kind != KindEnd && len(d.Next) == 0 {
			errs = append(errs, fmt.Errorf("step %s: a dead end (no actions and not an end)", d.ID))
		}
	}
	// Reachability from the welcome, with the global commands.
	seen := map[string]bool{}
	queue := []string{StepWelcome}
	for _, g := range globalTargets {
		queue = append(queue, g)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		if d := lookupStep(id); d != nil {
			for _, targets := range d.Next {
				queue = append(queue, targets...)
			}
		}
	}
	for _, d := range flow {
		if !seen[d.ID] {
			errs = append(errs, fmt.Errorf("step %s: not reachable from %s", d.ID, StepWelcome))
		}
	}
	// Every step can end: an end step is reachable through the table alone.
	for _, d := range flow {
		if !canEnd(d.ID) {
			errs = append(errs, fmt.Errorf("step %s: no path to done or hand-off", d.ID))
		}
	}
	// Texts.
	keys := append([]string{}, commonKeys...)
	keys = append(keys, buttonKeys()...)
	keys = append(keys, publicKeys...)
	for _, a := range suggestActions {
		keys = append(keys, "suggest."+string(a))
	}
	for _, d := range flow {
		keys = append(keys, d.Keys...)
	}
	for _, lang := range Languages {
		for _, k := range keys {
			if !hasText(lang, k) {
				errs = append(errs, fmt.Errorf("text %q missing in %s", k, lang))
			}
		}
	}
	// Names for staff: every step, situation and reason has one in every
	// language (the staff card and the dashboard show no ids).
	for _, lang := range Languages {
		for _, d := range flow {
			if !texts.HasLabel(lang, "step", d.ID) {
				errs = append(errs, fmt.Errorf("staff name of step %s missing in %s", d.ID, lang))
			}
		}
		for _, sit := range Situations {
			if !texts.HasLabel(lang, "situation", sit) {
				errs = append(errs, fmt.Errorf("staff name of situation %s missing in %s", sit, lang))
			}
		}
		for _, r := range handoff.Reasons {
			if !texts.HasLabel(lang, "reason", r) {
				errs = append(errs, fmt.Errorf("staff name of reason %s missing in %s", r, lang))
			}
		}
	}
	ref := textKeys(Languages[0])
	for _, lang := range Languages[1:] {
		other := textKeys(lang)
		if strings.Join(ref, "\n") != strings.Join(other, "\n") {
			errs = append(errs, fmt.Errorf("texts: %s and %s have different keys: %s", Languages[0], lang, keyDiff(ref, other)))
		}
	}
	return errors.Join(errs...)
}

func keyDiff(a, b []string) string {
	inA := map[string]bool{}
	for _, k := range a {
		inA[k] = true
	}
	inB := map[string]bool{}
	for _, k := range b {
		inB[k] = true
	}
	var d []string
	for _, k := range a {
		if !inB[k] {
			d = append(d, "-"+k)
		}
	}
	for _, k := range b {
		if !inA[k] {
			d = append(d, "+"+k)
		}
	}
	return strings.Join(d, ", ")
}

func canEnd(id string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(s string) bool {
		if seen[s] {
			return false
		}
		seen[s] = true
		d := lookupStep(s)
		if d == nil {
			return false
		}
		if d.Kind == KindEnd {
			return true
		}
		for _, targets := range d.Next {
			for _, t := range targets {
				if walk(t) {
					return true
				}
			}
		}
		return false
	}
	return walk(id)
}

// StepOrder lists the step ids in flow order (for the staff funnel).
func StepOrder() []string {
	ids := make([]string, len(flow))
	for i, d := range flow {
		ids[i] = d.ID
	}
	return ids
}

// allowed reports whether the table lets action a lead from step from to to.
func allowed(from string, a Action, to string) bool {
	d := lookupStep(from)
	if d == nil {
		return false
	}
	for _, t := range d.Next[a] {
		if t == to {
			return true
		}
	}
	return false
}

// FlowGraph renders the flow table as a Mermaid flowchart or a Graphviz
// dot graph.
func FlowGraph(format string) (string, error) {
	type edge struct{ from, to, label string }
	var edges []edge
	for _, d := range flow {
		byTarget := map[string][]string{}
		for a, targets := range d.Next {
			for _, t := range targets {
				if t == d.ID && (a == ActExplain || a == ActRate) {
					continue
				}
				byTarget[t] = append(byTarget[t], string(a))
			}
		}
		targets := make([]string, 0, len(byTarget))
		for t := range byTarget {
			targets = append(targets, t)
		}
		sort.Strings(targets)
		for _, t := range targets {
			labels := byTarget[t]
			sort.Strings(labels)
			edges = append(edges, edge{d.ID, t, strings.Join(labels, ", ")})
		}
	}
	var b strings.Builder
	switch format {
	case "", "mermaid":
		b.WriteString("flowchart TD\n")
		for _, d := range flow {
			shape := "[" + d.ID + "]"
			switch d.Kind {
			case KindEnd:
				shape = "([" + d.ID + "])"
			case KindCheck:
				shape = "{{" + d.ID + "}}"
			case KindQuestion, KindChoice:
				shape = "{" + d.ID + "}"
			}
			fmt.Fprintf(&b, "    %s%s\n", d.ID, shape)
		}
		for _, e := range edges {
			fmt.Fprintf(&b, "    %s -->|%s| %s\n", e.from, e.label, e.to)
		}
		b.WriteString("    %% at any step: start over -> welcome, talk to a person -> handoff, stop -> stopped, back -> previous step\n")
	case "dot":
		b.WriteString("digraph mfabot {\n    rankdir=TB;\n    node [shape=box, fontname=\"Helvetica\"];\n")
		for _, d := range flow {
			shape := "box"
			switch d.Kind {
			case KindEnd:
				shape = "doubleoctagon"
			case KindCheck:
				shape = "hexagon"
			case KindQuestion, KindChoice:
				shape = "diamond"
			}
			fmt.Fprintf(&b, "    %q [shape=%s];\n", d.ID, shape)
		}
		for _, e := range edges {
			fmt.Fprintf(&b, "    %q -> %q [label=%q];\n", e.from, e.to, e.label)
		}
		b.WriteString("    // at any step: start over -> welcome, talk to a person -> handoff, stop -> stopped, back -> previous step\n}\n")
	default:
		return "", fmt.Errorf("dialogs: unknown graph format %q (mermaid or dot)", format)
	}
	return b.String(), nil
}

// StepLabels names every step for staff (the funnel and the queue), as
// package texts does for the dashboard and the staff card: "Stap 3:
// Aanmeldingsmethode toevoegen" for the guide's steps, the language
// file's staff.step.<id> for the others.
func StepLabels(lang string) map[string]string {
	labels := make(map[string]string, len(flow))
	for _, d := range flow {
		labels[d.ID] = texts.Step(lang, d.ID)
	}
	return labels
}
