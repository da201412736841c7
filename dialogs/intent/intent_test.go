package intent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"mfabot/redact"
)

type labelled struct {
	want Intent
	text string
	line int
}

func loadLabelled(t *testing.T, name string) []labelled {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		in, text, ok := strings.Cut(line, "\t")
		if !ok || !Valid(in) {
			t.Fatalf("%s:%d: bad line %q", name, n, line)
		}
		out = append(out, labelled{Intent(in), text, n})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMatcherAccuracy reports the keyword matcher's accuracy per intent
// on the labelled student messages and holds it to a floor.
func TestMatcherAccuracy(t *testing.T) {
	data := loadLabelled(t, "testdata/intents.tsv")
	if len(data) < 150 {
		t.Fatalf("labelled set has %d messages, want at least 150", len(data))
	}
	accuracy(t, data, 0.85, true)
}

// TestMatcherAccuracyHoldout reports the matcher on the standing held-out
// set, which is never used for tuning: the honest figure for unseen
// text. The floor is low on purpose; the rule that unrequested approvals
// are never read as a re-setup situation holds here too.
func TestMatcherAccuracyHoldout(t *testing.T) {
	accuracy(t, loadLabelled(t, "testdata/intents_holdout.tsv"), 0.6, false)
}

func accuracy(t *testing.T, data []labelled, floor float64, everyIntent bool) {
	t.Helper()
	type tally struct{ ok, n int }
	per := map[Intent]*tally{}
	for _, in := range AllIntents {
		per[in] = &tally{}
	}
	correct := 0
	var misses []string
	for _, d := range data {
		got := Match(d.text, "nl")
		per[d.want].n++
		if got.Intent == d.want {
			per[d.want].ok++
			correct++
		} else {
			misses = append(misses, fmt.Sprintf("line %d: %q want %s got %s (%.2f)", d.line, d.text, d.want, got.Intent, got.Confidence))
		}
		if d.want == IntentSuspiciousPrompt && situation(got.Intent) {
			t.Errorf("line %d: %q about unrequested approvals read as re-setup situation %s", d.line, d.text, got.Intent)
		}
		if got.Source != SourceKeywords || got.Confidence < 0 || got.Confidence > 1 {
			t.Errorf("line %d: bad reading %+v", d.line, got)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-24s %5s %5s %7s\n", "intent", "ok", "n", "acc")
	for _, in := range AllIntents {
		tl := per[in]
		if tl.n == 0 {
			if everyIntent {
				t.Errorf("intent %s has no labelled messages", in)
			}
			continue
		}
		fmt.Fprintf(&b, "%-24s %5d %5d %6.1f%%\n", in, tl.ok, tl.n, 100*float64(tl.ok)/float64(tl.n))
	}
	overall := float64(correct) / float64(len(data))
	fmt.Fprintf(&b, "%-24s %5d %5d %6.1f%%\n", "overall", correct, len(data), 100*overall)
	t.Log(b.String())
	sort.Strings(misses)
	for _, m := range misses {
		t.Log("miss: " + m)
	}
	if overall < floor {
		t.Errorf("overall accuracy %.1f%%, want at least %.0f%%", 100*overall, 100*floor)
	}
	if s := per[IntentSuspiciousPrompt]; everyIntent && s.ok != s.n {
		t.Errorf("suspicious_prompt accuracy %d/%d, want all", s.ok, s.n)
	}
}

// Every button label and command has typed equivalents in both languages.
func TestButtonEquivalents(t *testing.T) {
	cases := map[string]Intent{
		"gelukt": IntentDone, "lukt niet": IntentFailed, "uitleg": IntentExplain, "help": IntentHelp,
		"stop": IntentStop, "opnieuw": IntentRestart, "nog eens": IntentRetry, "terug": IntentBack,
		"medewerker": IntentHuman, "done": IntentDone, "it doesn't work": IntentFailed, "explain": IntentExplain,
		"start over": IntentRestart, "check again": IntentRetry, "back": IntentBack,
		"talk to a person": IntentHuman, "English please": IntentLangEN, "Nederlands": IntentLangNL,
		"Gelukt!": IntentDone, "LUKT NIET": IntentFailed, "Medewerker.": IntentHuman, "Start over!": IntentRestart,
	}
	for text, want := range cases {
		if got := Match(text, "nl"); got.Intent != want || got.Confidence < KeywordThreshold {
			t.Errorf("Match(%q) = %s %.2f, want %s above threshold", text, got.Intent, got.Confidence, want)
		}
	}
}

// Every labelled message about unrequested approvals stays suspicious
// when words of a re-setup situation are put around it.
func TestSuspiciousWinsOverSituations(t *testing.T) {
	wraps := []string{"ik heb een nieuwe telefoon en %s", "%s, mijn oude telefoon is kapot", "new phone same number, %s",
		"%s. I lost my phone", "authenticator overzetten? %s", "%s en ik kan niet inloggen"}
	for _, d := range loadLabelled(t, "testdata/intents.tsv") {
		if d.want != IntentSuspiciousPrompt {
			continue
		}
		for _, w := range wraps {
			text := fmt.Sprintf(w, d.text)
			if got := Match(text, "nl"); got.Intent != IntentSuspiciousPrompt {
				t.Errorf("Match(%q) = %s, want suspicious_prompt", text, got.Intent)
			}
		}
	}
}

// Approval requests the student did not start are never a re-setup
// situation, however they are combined with words of a situation.
func TestSuspiciousNeverResetup(t *testing.T) {
	for _, text := range []string{
		"ik krijg meldingen die ik niet heb aangevraagd",
		"random approval requests",
		"nieuwe telefoon en ik krijg meldingen die ik niet heb aangevraagd",
		"I lost my phone and now I get approval requests I didn't start",
		"ik heb hetzelfde nummer maar krijg steeds verzoeken om goed te keuren die ik niet heb gedaan",
		"someone keeps sending me sign in requests, can I move authenticator to a new phone",
		"authenticator vraagt steeds om goedkeuring terwijl ik niet inlog",
		"inloggen lukt wel maar ik krijg zomaar meldingen",
	} {
		got := Match(text, "nl")
		if got.Intent != IntentSuspiciousPrompt {
			t.Errorf("Match(%q) = %s, want suspicious_prompt", text, got.Intent)
		}
	}
}

func TestNotificationMissingIsNotSuspicious(t *testing.T) {
	for _, text := range []string{"ik krijg geen melding meer", "I'm not getting notifications anymore",
		"de melding komt niet binnen", "notifications don't arrive"} {
		if got := Match(text, "nl"); got.Intent != IntentSigninProblem {
			t.Errorf("Match(%q) = %s, want signin_problem", text, got.Intent)
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	cases := map[string]string{
		"ik heb een nieuwe telefoon": "nl",
		"I got a new phone":          "en",
		"het lukt niet":              "nl",
		"it doesn't work":            "en",
		"gelukt":                     "",
		"done":                       "",
		"thanks":                     "",
		"sorry":                      "",
		"ik heb een new phone":       "nl",
		"lost my phone":              "en",
		"English please":             "en",
		"telefoon kwijt":             "nl",
		"help":                       "",
		"ok":                         "",
		"stop":                       "",
		"authenticator":              "",
		"waarom moet ik dat op een ander apparaat doen?": "nl",
		"why do I need another device?":                  "en",
		"":                                               "",
	}
	for text, want := range cases {
		if got := DetectLanguage(text); got != want {
			t.Errorf("DetectLanguage(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestDetectSecret(t *testing.T) {
	cases := []struct {
		text      string
		expecting bool
		kind      string
	}{
		{"123456", false, SecretCode},
		{"de code is 123 456", false, SecretCode},
		{"code: 123-456", false, SecretCode},
		{"42", true, SecretNumber},
		{"het nummer is 37", true, SecretNumber},
		{"42", false, ""},
		{"stap 10 lukt niet", true, ""},
		{"Welkom123!", false, SecretPassword},
		{"mijn wachtwoord is Zomer2024#", false, SecretPassword},
		{"P@ssw0rd", false, SecretPassword},
		{"mijn TAP is Xk7#mP2q", false, SecretTAP},
		{"ik heb een iPhone15 gekocht", false, ""},
		{"Microsoft365 werkt niet", false, ""},
		{"ik heb een nieuwe telefoon", false, ""},
		{"bel me op 0612345678", false, ""},
		{"Gelukt!", false, ""},
		{"https://aka.ms/mfasetup werkt niet", false, ""},
		{"ik zit in stap 9", true, ""},
		{"Hallo,ik heb een probleem", false, ""},
		// a value after the word that names it (second review)
		{"mijn wachtwoord is Paard-Batterij-Nietje", false, SecretPassword},
		{"wachtwoord: Ik.Hou.Van.Katten", false, SecretPassword},
		{"my password is Correct Horse Battery 9", false, SecretPassword},
		{"mijn wachtwoord is zomer2024, klopt dat?", false, SecretPassword},
		{"mijn pincode is 4821", false, SecretCode},
		{"TAP: 8xk2pqrs", false, SecretTAP},
		{"de code is 123 - 456", false, SecretCode},
		{"de code is 123–456", false, SecretCode},
		{"mijn wachtwoord is verlopen", false, ""},
		{"ik krijg geen code", false, ""},
		{"de code klopt niet", false, ""},
		{"my password is correct but it does not work", false, ""},
		// clock times and ranges are no code (third review)
		{"8.00 - 9.00", false, ""},
		{"van 8.30 tot 17.00", false, ""},
		{"ik had les van 8.00 - 9.00 en toen werkte het niet meer", false, ""},
		{"om 9.15 - 9.45 kreeg ik steeds meldingen", true, ""},
		{"08.30-09.30", false, ""},
		{"de servicedesk is open van 8.30 – 17.00", false, ""},
		{"123 456", false, SecretCode},
		{"123-456", false, SecretCode},
		{"12.34.56", false, SecretCode},
		{"de code was 123 456 om 8.30", false, SecretCode},
		// at step 9 only a message that is just the number gives it (third review)
		{"het is 42", true, SecretNumber},
		{"nummer 42", true, SecretNumber},
		{"nr 42", true, SecretNumber},
		{"42 ingevuld", true, SecretNumber},
		{"ik zie 42", true, SecretNumber},
		{"er staat 42", true, SecretNumber},
		{"42?", true, SecretNumber},
		{"the number is 42", true, SecretNumber},
		{"I typed 42", true, SecretNumber},
		{"stap 9: 42", true, SecretNumber},
		{"moet ik 42 invullen?", true, SecretNumber},
		{"het getal op mijn scherm is 42", true, SecretNumber},
		{"Got 10 approval notifications in a row, wasn't me", true, ""},
		{"ik kreeg wel 10 meldingen die ik niet zelf deed", true, ""},
		{"iPhone 16 gekocht", true, ""},
		{"iPhone 16 gekocht, oude werkt nog", true, ""},
		{"stap nummer 10", true, ""},
		{"versie 17", true, ""},
		{"step 10 fails", true, ""},
		{"ik heb een andere telefoon maar mijn 06 nummer is niet veranderd", true, ""},
		{"Nieuwe iPhone, zelfde 06", true, ""},
	}
	for _, c := range cases {
		kind, found := DetectSecret(c.text, c.expecting)
		if kind != c.kind || found != (c.kind != "") {
			t.Errorf("DetectSecret(%q, %v) = %q %v, want %q", c.text, c.expecting, kind, found, c.kind)
		}
	}
}

type fakeClassifier struct {
	intent string
	conf   float64
	err    error
	calls  int
}

func (f *fakeClassifier) Classify(ctx context.Context, text, lang string) (string, float64, error) {
	f.calls++
	return f.intent, f.conf, f.err
}

func TestUnderstand(t *testing.T) {
	ctx := context.Background()
	// confident keywords: the classifier is not asked
	fc := &fakeClassifier{intent: "lost_phone", conf: 0.99}
	if r := Understand(ctx, "gelukt", "nl", fc); r.Intent != IntentDone || r.Source != SourceKeywords || fc.calls != 0 {
		t.Errorf("confident keywords: %+v, calls %d", r, fc.calls)
	}
	// unplaced text: the classifier's valid answer is used
	text := "de eendjes in de gracht zijn schattig"
	if kw := Match(text, "nl"); placed(kw) {
		t.Fatalf("test text is placed by keywords: %+v", kw)
	}
	fc = &fakeClassifier{intent: "lost_phone", conf: 0.9}
	if r := Understand(ctx, text, "nl", fc); r.Intent != IntentLostPhone || r.Source != SourceLLM || fc.calls != 1 {
		t.Errorf("llm reading: %+v", r)
	}
	// invalid, unconfident, other, or failing: the keyword reading stands
	for _, fc := range []*fakeClassifier{
		{intent: "delete_account", conf: 0.99},
		{intent: "lost_phone", conf: 0.3},
		{intent: "lost_phone", conf: 7},
		{intent: "other", conf: 1},
		{err: errors.New("timeout")},
	} {
		r := Understand(ctx, text, "nl", fc)
		if r.Source != SourceKeywords || r != Match(text, "nl") {
			t.Errorf("classifier %+v: got %+v, want keyword reading", fc, r)
		}
	}
	// the LLM cannot start a hand-off or a security escalation that the
	// words of the message do not ask for
	for _, tc := range []struct{ text, llm string }{
		{"de eendjes in de gracht zijn schattig", "human"},
		{"de eendjes in de gracht zijn schattig", "suspicious_prompt"},
	} {
		fc := &fakeClassifier{intent: tc.llm, conf: 0.99}
		if r := Understand(ctx, tc.text, "nl", fc); r.Source != SourceKeywords {
			t.Errorf("llm %s for %q accepted: %+v", tc.llm, tc.text, r)
		}
	}
	for _, tc := range []struct{ text, llm string }{
		{"is er nog een collega wakker", "human"},
		{"de kat doet vreemd", "suspicious_prompt"},
	} {
		if kw := Match(tc.text, "nl"); placed(kw) {
			t.Fatalf("test text %q is placed by keywords: %+v", tc.text, kw)
		}
		fc := &fakeClassifier{intent: tc.llm, conf: 0.9}
		if r := Understand(ctx, tc.text, "nl", fc); r.Source != SourceLLM || string(r.Intent) != tc.llm {
			t.Errorf("llm %s for %q refused: %+v", tc.llm, tc.text, r)
		}
	}
	// no classifier
	if r := Understand(ctx, text, "nl", nil); r.Source != SourceKeywords {
		t.Errorf("nil classifier: %+v", r)
	}
}

// The LLM decides nothing that matters: whatever it answers, and however
// sure it says it is, its reading never answers a question or a step for
// the student (done, failed) nor stops, restarts, retries or goes back.
func TestUnderstandLLMNeverDecides(t *testing.T) {
	ctx := context.Background()
	texts := []string{
		"wacht ff ik sta in de supermarkt",
		"de eendjes in de gracht zijn schattig",
		"de kat ligt op mijn toetsenbord",
		"my cat is sitting on the keyboard",
		"the weather is nice today",
	}
	forbidden := []Intent{IntentDone, IntentFailed, IntentStop, IntentRestart, IntentRetry, IntentBack}
	for _, text := range texts {
		kw := Match(text, "nl")
		if placed(kw) {
			t.Fatalf("test text %q is placed by keywords: %+v", text, kw)
		}
		for _, in := range forbidden {
			fc := &fakeClassifier{intent: string(in), conf: 0.95}
			r := Understand(ctx, text, "nl", fc)
			if fc.calls != 1 {
				t.Fatalf("classifier not asked for %q", text)
			}
			if r.Source == SourceLLM || r != kw {
				t.Errorf("llm %s for %q: got %+v, want the keyword reading %+v", in, text, r, kw)
			}
		}
	}
	// allowed readings still come through
	for _, in := range []Intent{IntentSigninProblem, IntentMovePhone, IntentNewPhoneSameNumber, IntentLostPhone,
		IntentExplain, IntentHelp, IntentLangNL, IntentLangEN} {
		fc := &fakeClassifier{intent: string(in), conf: 0.95}
		if r := Understand(ctx, texts[1], "nl", fc); r.Intent != in || r.Source != SourceLLM {
			t.Errorf("llm %s: got %+v", in, r)
		}
	}
}

func TestFuzzyTolerance(t *testing.T) {
	cases := map[string]Intent{
		"authenticater doet het niet":      IntentSigninProblem,
		"niewe telefoon":                   IntentMovePhone,
		"telefon kwijt":                    IntentLostPhone,
		"medewerkre":                       IntentHuman,
		"uitlegg":                          IntentExplain,
		"hetzelfe nummer, nieuwe telefoon": IntentNewPhoneSameNumber,
	}
	for text, want := range cases {
		if got := Match(text, "nl"); got.Intent != want {
			t.Errorf("Match(%q) = %s %.2f, want %s", text, got.Intent, got.Confidence, want)
		}
	}
}

// No labelled student message is withheld by the label rule (none of
// them gives a password): it must not swallow talk about passwords and
// codes. (The corpus has bare six-digit codes; those are meant.)
func TestDetectSecretLabelledCorpus(t *testing.T) {
	for _, f := range []string{"testdata/intents.tsv", "testdata/intents_holdout.tsv"} {
		for _, l := range loadLabelled(t, f) {
			if kind, found := redact.LabelledSecret(l.text); found {
				t.Errorf("%s: DetectSecret(%q) = %q", f, l.text, kind)
			}
			// only a bare code, or a bare number at step 9, is withheld
			bare := strings.Trim(l.text, "0123456789 ") == ""
			for _, step9 := range []bool{false, true} {
				if kind, found := DetectSecret(l.text, step9); found && !bare {
					t.Errorf("%s: DetectSecret(%q, %v) = %q", f, l.text, step9, kind)
				}
			}
		}
	}
}

// At step 9 a sentence that holds a number is not the number: it reaches
// the matcher, and unrequested approvals take the security route.
func TestStepNineSentenceIsRead(t *testing.T) {
	for text, want := range map[string]Intent{
		"Got 10 approval notifications in a row, wasn't me": IntentSuspiciousPrompt,
		"ik kreeg wel 10 meldingen die ik niet zelf deed":   IntentSuspiciousPrompt,
		"iPhone 16 gekocht": IntentMovePhone,
	} {
		if kind, found := DetectSecret(text, true); found {
			t.Errorf("DetectSecret(%q, true) = %q", text, kind)
		}
		if got := Match(text, DetectLanguage(text)); got.Intent != want {
			t.Errorf("Match(%q) = %s, want %s", text, got.Intent, want)
		}
	}
}

// An unsure suspicious_prompt of the reader is not handed to the LLM out
// of context either: the classifier could turn it into a situation.
func TestUnsureSuspiciousIsNotReplaced(t *testing.T) {
	kw := Reading{Text: "x", Intent: IntentSuspiciousPrompt, Confidence: 0.55, Source: SourceKeywords}
	if !placed(kw) {
		t.Fatal("an unsure suspicious_prompt would be given to the LLM")
	}
}
