package dialogs

import (
	"fmt"
	"slices"
	"strings"

	"mfabot/graph"
)

// view shows the current step again (its card, or what an end or a
// running check has to say).
func (t *turn) view() {
	d := lookupStep(t.s.Step)
	switch d.Kind {
	case KindChoice:
		t.card(t.welcomeCard())
	case KindCheck:
		if t.recheckPending() {
			t.say("verify_new.busy", nil)
			return
		}
		// No re-check is coming (the timers were given up, or never
		// stored): check now rather than promise news that never comes.
		t.checkNow()
	case KindEnd:
		key := map[string]string{StepDone: "done.after", StepHandoff: "handoff.after", StepStopped: "stopped.text"}[d.ID]
		t.card(Card{Body: []string{t.tr(key, nil)}, Buttons: []Button{{Title: t.tr("button.restart", nil), Step: d.ID, Action: ActRestart}}})
	default:
		t.card(t.stepCard(d))
	}
}

func (t *turn) firstName() string {
	f := strings.Fields(t.s.UserName)
	if len(f) == 0 {
		return ""
	}
	return " " + f[0]
}

func (t *turn) welcomeCard() Card {
	c := Card{
		Title: t.tr("welcome.title", map[string]string{"name": t.firstName()}),
		Body:  []string{t.tr("welcome.intro", nil)},
	}
	if t.s.StartRead {
		c.Body = append(c.Body, t.summary())
	}
	c.Body = append(c.Body, t.tr("welcome.question", nil))
	c.Note = t.tr("welcome.privacy_hint", nil)
	if t.s.Simulated {
		c.Note += " " + t.tr("welcome.simulation", nil)
	}
	if t.set.PublicHelpURL != "" {
		c.Note += " " + t.tr("public.welcome_hint", map[string]string{"help_link": mdLink(t.set.PublicHelpURL)})
	}
	for _, sit := range Situations {
		c.Buttons = append(c.Buttons, Button{Title: t.tr("button."+sit, nil), Step: StepWelcome, Action: Action(sit)})
	}
	return c
}

// summary says in one sentence what the account has ("Je hebt de
// Authenticator-app op 'iPhone 12' en telefoonnummer +31 6 ** ** ** 78.").
func (t *turn) summary() string {
	if !t.s.MethodsKnown {
		return t.tr("summary.unknown", nil)
	}
	and := t.tr("summary.and", nil)
	var items, devices []string
	unnamed := false
	for _, m := range t.s.Snapshot {
		if m.Kind == graph.KindAuthenticator {
			if m.DisplayName != "" {
				devices = append(devices, "'"+m.DisplayName+"'")
			} else {
				unnamed = true
			}
		}
	}
	switch {
	case len(devices) > 0:
		items = append(items, t.tr("summary.authenticator", map[string]string{"device": joinAnd(devices, and)}))
	case unnamed:
		items = append(items, t.tr("summary.authenticator_unnamed", nil))
	}
	for _, m := range t.s.Snapshot {
		if m.IsAuthenticatorPasskey() {
			items = append(items, t.tr("summary.authenticator_passkey", map[string]string{"device": t.passkeyDevice(m)}))
			continue
		}
		switch m.Kind {
		case graph.KindPhone:
			if m.PhoneMasked != "" {
				items = append(items, t.tr("summary.phone", map[string]string{"phone": m.PhoneMasked}))
			}
		case graph.KindWindowsHello:
			items = append(items, t.tr("summary.windows_hello", map[string]string{"device": nonEmpty(m.DisplayName, "?")}))
		case graph.KindFIDO2, graph.KindSoftwareOATH, graph.KindEmail, graph.KindTAP:
			items = append(items, t.tr("summary."+string(m.Kind), nil))
		}
	}
	if len(items) == 0 {
		return t.tr("summary.none", nil)
	}
	return t.tr("summary.intro", map[string]string{"list": joinAnd(items, and)})
}

// passkeyDevice names the phone a passkey in Authenticator is on: its
// display name, else "een iPhone" / "een Android-telefoon".
func (t *turn) passkeyDevice(m graph.Method) string {
	if m.DisplayName != "" {
		return "'" + m.DisplayName + "'"
	}
	return trVariant(t.lang(), "summary.passkey_on", nonEmpty(m.PasskeyPlatform(), "ios"), nil)
}

// joinAnd joins "a, b and c". When an item has its own "and" ("the app
// on 'Pixel 6' and 'iPad'"), a comma goes before the last one too, so
// the sentence still reads as a list.
func joinAnd(items []string, and string) string {
	if len(items) == 1 {
		return items[0]
	}
	sep := " "
	for _, it := range items[:len(items)-1] {
		if strings.Contains(it, " "+and+" ") {
			sep = ", "
		}
	}
	return strings.Join(items[:len(items)-1], ", ") + sep + and + " " + items[len(items)-1]
}

// variant picks the text variant of a step field for this conversation.
func (t *turn) variant(d *StepDef, field string) string {
	switch d.Number {
	case 1:
		if field == "do" && t.onPhone() {
			return "mobile"
		}
	case 2:
		if field == "do" && t.s.Route == RouteCall && t.s.MethodsKnown && !t.hasApp() {
			// No app to approve with: Microsoft offers the call itself.
			return "call_direct"
		}
		if field == "do" || field == "where" || field == "help" {
			return nonEmpty(t.s.Route, RouteEither)
		}
	case 7:
		if t.s.PairLink && (field == "do" || field == "see") {
			return "link"
		}
	case 8:
		if t.s.PairLink && field == "do" {
			return "link"
		}
		if t.signInPath() && field != "explain" {
			return "signin"
		}
	case 9, 10:
		if t.signInPath() && (field == "do" || field == "see" || (d.Number == 9 && field == "where")) {
			return "signin"
		}
	case 11:
		if field == "do" {
			switch n := len(t.oldNamed()); {
			case n == 0:
				return "unknown"
			case n > 1:
				return "several"
			}
		}
	}
	return ""
}

// signInPath: the student chose Aanmelden in the app at step 7 (not the
// QR code, not the link on the phone itself).
func (t *turn) signInPath() bool { return t.s.Pairing == PairingSignIn && !t.s.PairLink }

// pairLinkWhere is where a step happens for a student who pairs the app
// by link on the phone they chat from: there is no laptop.
func (t *turn) pairLinkWhere(n int) string {
	if !t.s.PairLink {
		return ""
	}
	switch n {
	case 2, 3, 4, 10, 11, 12:
		return t.tr("label.where_phone_browser", nil)
	case 5, 8, 9:
		return t.tr("label.where_phone_both", nil)
	}
	return ""
}

func (t *turn) onPhone() bool {
	p := strings.ToLower(t.s.Platform)
	return p == "ios" || p == "android"
}

// oldNamed are the quoted names of the old phones in the Authenticator
// app (a phone with an Authenticator entry and a passkey counts once).
func (t *turn) oldNamed() []string {
	var names []string
	for _, m := range t.oldDevices() {
		if n := "'" + m.DisplayName + "'"; m.DisplayName != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// oldDeviceNames is "'iPhone 12'", or "'Pixel 6' of 'iPad'" when the
// student has several and removes the one being replaced.
func (t *turn) oldDeviceNames() string {
	names := t.oldNamed()
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	last := len(names) - 1
	return strings.Join(names[:last], ", ") + " " + t.tr("summary.or", nil) + " " + names[last]
}

func (t *turn) phoneMasked() string {
	for _, m := range t.s.Snapshot {
		if m.Kind == graph.KindPhone && m.PhoneMasked != "" {
			return m.PhoneMasked
		}
	}
	return t.tr("summary.your_number", nil)
}

// textBase is the YAML section of a step's texts.
func textBase(d *StepDef) string {
	if d.ID == StepVerifyNewFailed {
		return StepVerifyNew
	}
	return d.ID
}

// stepText is one field (do, where, see, help, explain, title) of a step.
func (t *turn) stepText(d *StepDef, field string) string {
	vars := t.vars(map[string]string{"phone": t.phoneMasked(), "old_device": t.oldDeviceNames()})
	text := trVariant(t.lang(), textBase(d)+"."+field, t.variant(d, field), vars)
	if d.Number == 11 && field == "do" {
		for _, m := range t.oldDevices() {
			if m.IsAuthenticatorPasskey() {
				// The old phone's passkey goes too.
				text += " " + t.tr("step11.passkey_too", nil)
				break
			}
		}
		if slices.ContainsFunc(t.s.Snapshot, graph.Method.IsSecurityKey) {
			text += " " + t.tr("step11.keep_key", nil)
		}
		if !t.s.MethodsKnown || t.has(graph.KindPhone) {
			// Never remove the phone number: it is the call option.
			text += " " + t.tr("step11.keep_phone", nil)
		}
	}
	return text
}

// focusCard is a step's card with other text in place of the
// instruction (the help after "Lukt niet", the explanation after
// "Uitleg"): same progress, title and buttons, one message.
func (t *turn) focusCard(d *StepDef, body ...string) Card {
	c := t.stepCard(d)
	c.Body = body
	c.Where, c.See = "", ""
	return c
}

func (t *turn) stepCard(d *StepDef) Card {
	c := Card{
		Title: t.stepText(d, "title"),
		Body:  []string{t.stepText(d, "do")},
		Where: t.tr("label.where", nil) + " " + t.stepText(d, "where"),
		See:   t.tr("label.see", nil) + " " + t.stepText(d, "see"),
	}
	if d.Kind == KindGuide {
		c.Progress = t.tr("label.progress", map[string]string{"n": fmt.Sprint(d.Number)})
		if where := t.pairLinkWhere(d.Number); where != "" {
			c.Where = t.tr("label.where", nil) + " " + where
		}
	}
	b := func(a Action) Button { return Button{Title: t.tr("button."+string(a), nil), Step: d.ID, Action: a} }
	switch d.Kind {
	case KindGuide:
		c.Buttons = []Button{b(ActDone), b(ActFailed), b(ActExplain)}
		if d.Number == 2 {
			// Since 1 September 2026 Microsoft may ask for a passkey
			// right after this sign-in.
			c.Body = append(c.Body, t.tr("step02.passkey_prompt", nil))
		}
		if d.Number == 7 && !t.s.PairLink {
			// The app offers two ways; the student says which one they
			// take, and step 8 follows it ("done" is the QR code).
			qr := b(ActDone)
			qr.Title = t.tr("button.qr_path", nil)
			c.Buttons = []Button{qr, b(ActSignInPath), b(ActFailed), b(ActExplain)}
			c.Body = append(c.Body, t.tr("step07.choose", nil))
		}
		if d.Number == 1 && t.onPhone() {
			c.Buttons = append(c.Buttons, b(ActPairLink))
		}
		if d.Number == 11 {
			c.Buttons = append(c.Buttons, b(ActSkip))
		}
	case KindTrouble:
		c.Buttons = []Button{b(ActSolved), b(ActNotSolved), b(ActExplain)}
	case KindQuestion:
		c.Where, c.See = "", ""
		c.Buttons = []Button{b(ActYes), b(ActNo), b(ActExplain)}
	case KindCard:
		switch d.ID {
		case StepVerifyNewFailed:
			c.Buttons = []Button{b(ActRetry), b(ActContinue), b(ActHuman), b(ActExplain)}
		case StepWrongEntry:
			c.Buttons = []Button{b(ActReadd), b(ActExplain)}
		}
	}
	return c
}
