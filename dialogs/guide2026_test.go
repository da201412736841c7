package dialogs

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/store"
)

// The guide as Microsoft's sign-in is in December 2026 (issue 12): every
// path walked in both languages through the real runner and the demo
// directory.

// inLang makes the harness's student use lang from the first card on (the
// Teams locale beats Graph's preferredLanguage).
func inLang(h *harness, lang string) {
	h.ref.Locale = map[string]string{"nl": "nl-NL", "en": "en-GB"}[lang]
}

// pressUntil presses "done" until the conversation is at step id.
func pressUntil(t *testing.T, h *harness, id string) {
	t.Helper()
	for i := 0; h.state().Step != id; i++ {
		if i > 20 {
			t.Fatalf("never reached %s (at %s)", id, h.state().Step)
		}
		h.press("done")
	}
}

func demoMethods(t *testing.T, h *harness) []graph.Method {
	t.Helper()
	ms, err := h.dir.Methods(context.Background(), h.ref.UserAADObjectID)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// Pia's new phone registers a passkey in Authenticator only: step 10 is
// verified by it, step 11 removes her old phone, the outcome is verified.
func TestPasskeyOnlyNewPhoneIsVerified(t *testing.T) {
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, "pia", nil)
			inLang(h, lang)
			h.welcome()
			h.press("move_phone")
			pressUntil(t, h, "step10")
			rs := h.press("done")
			contains(t, rs, tr(lang, "verify_new.found_passkey", map[string]string{"device": "'iPhone 15'"}))
			lacks(t, rs, tr(lang, "verify_new.still", nil))
			h.wantStep("step11")
			contains(t, rs, "'Galaxy S21'")
			if s := h.state(); !s.VerifiedNew || len(s.NewIDs) != 1 {
				t.Fatalf("state after step 10: verified %v, new ids %v", s.VerifiedNew, s.NewIDs)
			}
			h.press("done")
			rs = h.press("done") // step 12
			contains(t, rs, tr(lang, "verify_old.gone", nil), tr(lang, "done.verified", nil))
			if got := h.state().Outcome; got != store.OutcomeVerifiedResolved {
				t.Errorf("outcome %q, want verified", got)
			}
		})
	}
}

// Ben's old iPhone has an Authenticator entry and a passkey in
// Authenticator, and he owns a security key; his new phone registers
// both. Step 11 asks to remove both old entries and to keep the key; the
// key is still registered at the end.
func TestPasskeyAndPushNewPhoneKeepsTheSecurityKey(t *testing.T) {
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, "ben", nil)
			inLang(h, lang)
			rs := h.welcome()
			contains(t, rs, tr(lang, "summary.authenticator_passkey", map[string]string{"device": "'iPhone 11'"}),
				tr(lang, "summary.fido2", nil))
			var key graph.Method
			for _, m := range demoMethods(t, h) {
				if m.IsSecurityKey() {
					key = m
				}
			}
			h.press("move_phone")
			pressUntil(t, h, "step10")
			rs = h.press("done")
			contains(t, rs, tr(lang, "verify_new.found_both", map[string]string{"device": "iPhone 15"}),
				tr(lang, "step11.passkey_too", nil), tr(lang, "step11.keep_key", nil), tr(lang, "step11.keep_phone", nil))
			if n := strings.Count(all(rs), "'iPhone 11'"); n != 1 {
				t.Errorf("the old phone is named %d times at step 11, want once:\n%s", n, all(rs))
			}
			if s := h.state(); len(s.NewIDs) != 2 {
				t.Fatalf("new ids %v, want the Authenticator and the passkey", s.NewIDs)
			}
			h.press("done")
			rs = h.press("done")
			contains(t, rs, tr(lang, "verify_old.gone", nil), tr(lang, "done.verified", nil))
			lacks(t, rs, tr(lang, "verify_old.passkey_left", nil))
			ms := demoMethods(t, h)
			if !graph.HasID(ms, key.ID) || key.ID == "" {
				t.Errorf("the security key was removed: %+v", ms)
			}
			if n := len(graph.InApp(ms)); n != 2 {
				t.Errorf("%d entries in the app at the end, want the new phone's 2: %+v", n, ms)
			}
		})
	}
}

// Staff see a passkey in Authenticator and a security key for what they are.
func TestHandoffDescribesPasskeysForStaff(t *testing.T) {
	h := newHarness(t, "ben", nil)
	h.welcome()
	h.press("move_phone")
	h.say("medewerker")
	reqs := h.esc.requests()
	if len(reqs) != 1 {
		t.Fatalf("escalations %+v", reqs)
	}
	got := strings.Join(reqs[0].Methods, "\n")
	// Named in the staff's language, from the language files.
	for _, want := range []string{"Microsoft Authenticator: iPhone 11", "Passkey in Microsoft Authenticator (iOS): iPhone 11",
		"Beveiligingssleutel (FIDO2): YubiKey - YubiKey 5 NFC", "Telefoonnummer (mobiel): +31 6 ** ** ** 90"} {
		if !strings.Contains(got, want) {
			t.Errorf("staff methods lack %q:\n%s", want, got)
		}
	}
}

// Step 11's check: the old phone's Authenticator entry gone but its
// passkey in Authenticator left says so; removing an entry of the new
// phone (either of two) is the wrong entry.
func TestVerifyOldWithPasskeys(t *testing.T) {
	newAuth := graph.Method{ID: "auth-new", Kind: graph.KindAuthenticator, DisplayName: "iPhone 16"}
	newPasskey := graph.Method{ID: "passkey-new", Kind: graph.KindFIDO2, DisplayName: "iPhone 16", AAGUID: graph.AAGUIDAuthenticatorIOS}
	base := State{FlowVersion: FlowVersion, Step: StepVerifyOld, LangChoice: "nl", StartRead: true, MethodsKnown: true,
		Snapshot: benMethods, SessionID: "c#1", NewAuthID: "auth-new", NewIDs: []string{"auth-new", "passkey-new"}, VerifiedNew: true}
	without := func(ids ...string) []graph.Method {
		ms := append(slices.Clone(benMethods), newAuth, newPasskey)
		return slices.DeleteFunc(ms, func(m graph.Method) bool { return slices.Contains(ids, m.ID) })
	}
	e := Engine{Settings: testSettings}
	for _, c := range []struct {
		name     string
		methods  []graph.Method
		step     string
		say, not string
	}{
		{"old entry gone, its passkey left", without("auth-old"), StepDone, "verify_old.passkey_left", ""},
		{"both old entries gone", without("auth-old", "passkey-old"), StepDone, "verify_old.gone", "verify_old.passkey_left"},
		{"the new passkey removed", without("passkey-new"), StepWrongEntry, "wrong_entry.do", "verify_old.gone"},
		{"the new Authenticator removed", without("auth-new"), StepWrongEntry, "wrong_entry.do", "verify_old.gone"},
		{"the security key removed, old still there", without("key"), StepVerifyOld, "verify_old.still", "verify_old.gone"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, outs, _ := e.Step(base, Input{Kind: InMethods, Point: PointAfterRemove, Methods: c.methods, At: time.Unix(1, 0)})
			if s.Step != c.step {
				t.Errorf("step %s, want %s", s.Step, c.step)
			}
			text := outsText(outs)
			if !strings.Contains(text, tr("nl", c.say, nil)) {
				t.Errorf("does not say %s:\n%s", c.say, text)
			}
			if c.not != "" && strings.Contains(text, tr("nl", c.not, nil)) {
				t.Errorf("says %s:\n%s", c.not, text)
			}
		})
	}
}

func outsText(outs []Out) string {
	var b strings.Builder
	for _, o := range outs {
		b.WriteString(o.Text + "\n")
		if o.Card != nil {
			b.WriteString(strings.Join(o.Card.Body, "\n") + "\n")
		}
	}
	return b.String()
}

// Step 7 offers both ways; step 8 (and 9, 10) follow the one chosen, and
// going back to choose the other changes them.
func TestStep7SignInPathAndQRPath(t *testing.T) {
	for _, lang := range Languages {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			inLang(h, lang)
			toStep(h, 7)
			contains(t, h.last, tr(lang, "button.qr_path", nil), tr(lang, "button.signin_path", nil))
			rs := h.press("signin_path")
			h.wantStep("step08")
			contains(t, rs, tr(lang, "step08.title.signin", nil), tr(lang, "step08.do.signin", nil), tr(lang, "step08.where.signin", nil))
			if h.state().Pairing != PairingSignIn {
				t.Fatalf("pairing %q", h.state().Pairing)
			}
			rs = h.press("done")
			contains(t, rs, tr(lang, "step09.do.signin", nil))
			rs = h.press("done")
			contains(t, rs, tr(lang, "step10.do.signin", nil), tr(lang, "step10.see.signin", nil))
			// Back to step 7, and the QR code this time.
			h.say(map[string]string{"nl": "terug", "en": "back"}[lang])
			h.say(map[string]string{"nl": "terug", "en": "back"}[lang])
			h.say(map[string]string{"nl": "terug", "en": "back"}[lang])
			h.wantStep("step07")
			rs = h.press("done")
			h.wantStep("step08")
			contains(t, rs, tr(lang, "step08.do", nil))
			lacks(t, rs, tr(lang, "step08.do.signin", nil))
			if h.state().Pairing != PairingQR {
				t.Fatalf("pairing %q after the QR code", h.state().Pairing)
			}
			h.press("done")
			rs = h.press("done")
			contains(t, rs, tr(lang, "step10.do", nil))
			// Both paths end verified through the directory.
			rs = h.press("done")
			contains(t, rs, tr(lang, "verify_new.found", map[string]string{"device": "iPhone 15"}))
		})
	}
}

// The student may type the path: "aanmelden" / "sign in" is the sign-in
// path (not a sign-in problem), "QR-code" the QR path, and "aanmelden
// lukt niet" the step failing.
func TestStep7TypedPath(t *testing.T) {
	for _, c := range []struct {
		lang, text, step, pairing string
	}{
		{"nl", "aanmelden", "step08", PairingSignIn},
		{"nl", "ik kies Aanmelden", "step08", PairingSignIn},
		{"nl", "QR-code scannen", "step08", PairingQR},
		{"en", "sign in", "step08", PairingSignIn},
		{"en", "I'll scan the QR code", "step08", PairingQR},
		{"nl", "aanmelden lukt niet", "step07", ""},
		{"en", "sign in doesn't work", "step07", ""},
	} {
		t.Run(c.text, func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			inLang(h, c.lang)
			toStep(h, 7)
			rs := h.say(c.text)
			h.wantStep(c.step)
			if got := h.state().Pairing; got != c.pairing {
				t.Errorf("pairing %q, want %q", got, c.pairing)
			}
			if c.step == "step07" {
				contains(t, rs, tr(c.lang, "msg.failed_once", nil))
			}
		})
	}
}

// On the phone itself (the pairing link) step 7 keeps its one path.
func TestStep7PairLinkHasNoChoice(t *testing.T) {
	h := newHarness(t, "sam", nil)
	h.plat = "android"
	h.welcome()
	h.press("move_phone")
	h.press("pair_link")
	pressUntil(t, h, "step07")
	contains(t, h.last, tr("nl", "step07.do.link", nil), tr("nl", "button.done", nil))
	lacks(t, h.last, tr("nl", "button.signin_path", nil))
}

// Step 4: when the picker recommends a passkey, Microsoft Authenticator
// is under "Show more options"; the help says what to do when the page
// offers a passkey.
func TestStep4PickerShowMoreOptions(t *testing.T) {
	for lang, words := range map[string][]string{"nl": {"Meer opties weergeven", "Passkey in Microsoft Authenticator"}, "en": {"Show more options", "Passkey in Microsoft Authenticator"}} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			inLang(h, lang)
			toStep(h, 4)
			contains(t, h.last, words[0])
			rs := h.press("failed")
			contains(t, rs, words...)
			h.wantStep("step04")
		})
	}
}

// Step 2 is where Microsoft may ask for a passkey after the sign-in
// (from 1 September 2026): it says what to choose.
func TestStep2ExplainsThePasskeyPrompt(t *testing.T) {
	for _, lang := range Languages {
		for _, student := range []string{"sam", "noor"} { // old phone, and the call route
			h := newHarness(t, student, nil)
			inLang(h, lang)
			h.welcome()
			h.press(map[string]string{"sam": "move_phone", "noor": "lost_phone"}[student])
			rs := h.press("done")
			h.wantStep("step02")
			contains(t, rs, tr(lang, "step02.passkey_prompt", nil))
		}
	}
}

// institution.voice_calls auto: until 31 January 2027 a phone-only
// student takes the call route; from 1 February 2027 (Europe/Amsterdam)
// the desk's identity check and pass, with the reason said.
func TestVoiceCallsAutoEndsWithTheReason(t *testing.T) {
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	end := time.Date(2027, 2, 1, 0, 0, 0, 0, ams)
	set := testSettings
	set.VoiceCallsEnd = end
	for _, lang := range Languages {
		for _, c := range []struct {
			student, situation string
			at                 time.Time
			step, say          string
			then               string // a button pressed next
		}{
			{"noor", "lost_phone", end.Add(-time.Hour), "step01", "", ""},
			{"noor", "move_phone", end.Add(-time.Hour), "step01", "", ""},
			{"noor", "lost_phone", end.Add(time.Minute), StepHandoff, "handoff.reason.voice_ended", ""},
			{"noor", "move_phone", end.Add(time.Minute), StepHandoff, "handoff.reason.voice_ended", ""},
			{"sam", "lost_phone", end.Add(24 * time.Hour), StepHandoff, "handoff.reason.voice_ended", ""},
			{"sam", "new_phone_same_number", end.Add(time.Hour), "ask_old_phone", "handoff.reason.voice_ended", "no"},
			{"lars", "lost_phone", end.Add(time.Hour), StepHandoff, "handoff.reason.no_usable_method", ""},
		} {
			t.Run(lang+"/"+c.student+"/"+c.situation+"/"+c.at.In(ams).Format("2 Jan 15:04"), func(t *testing.T) {
				h := newHarness(t, c.student, nil)
				inLang(h, lang)
				h.r = h.newRunner(set)
				h.now = c.at.Add(-10 * time.Second)
				h.welcome()
				rs := h.press(c.situation)
				h.wantStep(c.step)
				if c.then != "" {
					rs = h.press(c.then)
					h.wantStep(StepHandoff)
				}
				if c.step == "step01" {
					rs = h.press("done")
					contains(t, rs, tr(lang, "step02.do.call_direct", map[string]string{"phone": "+31 6 ** ** ** 21"}))
					return
				}
				if c.say != "" {
					contains(t, rs, tr(lang, c.say, nil))
				}
				if c.say == "handoff.reason.voice_ended" {
					contains(t, rs, map[string]string{"nl": "Microsoft stopt met sms en bellen", "en": "Microsoft is ending text messages and calls"}[lang])
					lacks(t, rs, tr(lang, "handoff.reason.no_usable_method", nil))
				}
				contains(t, h.last, "CONTACT "+lang+" lost=true")
				if reqs := h.esc.requests(); len(reqs) != 1 || reqs[0].Reason != handoff.ReasonNoUsableMethod {
					t.Errorf("escalations %+v", reqs)
				}
			})
		}
	}
}

// A restored Authenticator: recognised at the welcome, in the sign-in
// checks and as the very first message; signing in to restore is
// verified, and the old phone is still removed.
func TestRestoredFromBackup(t *testing.T) {
	for lang, text := range map[string]string{"nl": "ik heb een back-up teruggezet", "en": "I restored Authenticator from a backup"} {
		t.Run(lang+"/welcome", func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			inLang(h, lang)
			h.welcome()
			rs := h.say(text)
			h.wantStep(StepTroubleRestored)
			contains(t, rs, tr(lang, "trouble_restored.recognised", nil), tr(lang, "trouble_restored.do", nil))
			rs = h.press("solved")
			contains(t, rs, tr(lang, "verify_new.found", map[string]string{"device": "iPhone 15"}))
			h.wantStep("step11")
			contains(t, rs, "'iPhone 12'")
			h.press("done")
			rs = h.press("done")
			contains(t, rs, tr(lang, "verify_old.gone", nil), tr(lang, "done.verified", nil))
			if got := h.state().Outcome; got != store.OutcomeVerifiedResolved {
				t.Errorf("outcome %q", got)
			}
		})
		t.Run(lang+"/first message", func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			inLang(h, lang)
			rs := h.say(text)
			h.wantStep(StepTroubleRestored)
			contains(t, rs, tr(lang, "trouble_restored.recognised", nil))
		})
		t.Run(lang+"/in the checks, not solved", func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			inLang(h, lang)
			h.welcome()
			h.press("signin_problem")
			h.wantStep(StepTroubleNotif)
			rs := h.say(map[string]string{"nl": "na het terugzetten van een back-up is mijn schoolaccount weg", "en": "restored from backup"}[lang])
			h.wantStep(StepTroubleRestored)
			contains(t, rs, tr(lang, "trouble_restored.recognised", nil))
			rs = h.press("not_solved")
			contains(t, rs, tr(lang, "trouble_restored.help", nil), tr(lang, "resetup.intro", nil))
			h.wantStep("step01")
		})
	}
	// A plain sign-in problem still starts with the quick checks.
	h := newHarness(t, "sam", nil)
	h.welcome()
	h.say("ik krijg geen melding")
	h.wantStep(StepTroubleNotif)
}

// The student's own Teams language beats the school's preferredLanguage:
// the first card is in it, before they type a word; their messages and
// an explicit choice beat both.
func TestLanguageTeamsLocaleBeforePreferredLanguage(t *testing.T) {
	h := newHarness(t, "sam", nil) // preferredLanguage nl-NL
	h.ref.Locale = "en-US"
	rs := h.welcome()
	contains(t, rs, "Hi Sam!", tr("en", "welcome.question", nil))
	rs = h.say("mijn telefoon is kwijt, ik heb nog hetzelfde nummer")
	contains(t, rs, "Stap 1 van 12")
	rs = h.say("English please")
	contains(t, rs, "Step 1 of 12")

	// A locale in neither language: Graph's preferredLanguage decides.
	h = newHarness(t, "kim", nil) // preferredLanguage en-US
	h.ref.Locale = "de-DE"
	contains(t, h.welcome(), "Hi Kim!")
}
