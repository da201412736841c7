package intent

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzMatch: any text gives a valid reading and never panics; the secret
// and language detectors never panic either.
func FuzzMatch(f *testing.F) {
	for _, s := range []string{"gelukt", "ik krijg meldingen die ik niet heb aangevraagd", "123 456", "Welkom123!",
		"", "???", "\x00\xff", "straße", "Привет мир", "日本語", "niet ~ * =", strings.Repeat("nieuwe telefoon ", 50),
		"mijn wachtwoord is Paard-Batterij-Nietje", "wachtwoord: ", "code is", "pin", "tap = ",
		"8.00 - 9.00", "van 8.30 tot 17.00", "123-456", "Got 10 approval notifications in a row, wasn't me", "het is 42"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, text string, expecting bool) {
		r := Match(text, "nl")
		if !Valid(string(r.Intent)) || r.Confidence < 0 || r.Confidence > 1 || r.Source != SourceKeywords || r.Text != text {
			t.Fatalf("Match(%q) = %+v", text, r)
		}
		if kind, found := DetectSecret(text, expecting); found != (kind != "") {
			t.Fatalf("DetectSecret(%q) = %q %v", text, kind, found)
		}
		switch DetectLanguage(text) {
		case "", "nl", "en":
		default:
			t.Fatalf("DetectLanguage(%q)", text)
		}
	})
}

// A very long message (Teams allows tens of kilobytes) is read quickly.
func TestMatchLongMessage(t *testing.T) {
	text := strings.Repeat("ik heb een nieuwe telefoon maar de melding komt niet binnen en ik weet niet wat ik moet doen ", 300)
	start := time.Now()
	r := Match(text, "nl")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Match on %d bytes took %v", len(text), d)
	}
	if !Valid(string(r.Intent)) {
		t.Errorf("reading %+v", r)
	}
}

// A message that is one huge "word" is read in words of at most
// maxTokenBytes: the typo search costs the square of a word's length.
func TestHugeWordIsCut(t *testing.T) {
	for _, s := range []string{strings.Repeat("a", 28000), strings.Repeat("é", 14000), "x" + strings.Repeat("ab", 5000) + " stop"} {
		toks := normalize(s)
		for _, tok := range toks {
			if len(tok) > maxTokenBytes || !utf8.ValidString(tok) {
				t.Fatalf("token of %d bytes (valid UTF-8: %v)", len(tok), utf8.ValidString(tok))
			}
		}
		if r := Match(s, "nl"); !Valid(string(r.Intent)) {
			t.Fatalf("reading %q", r.Intent)
		}
	}
}

// Letters outside ASCII are read, not cut in half: the typo search once
// sliced "straße" in the middle of a letter and panicked.
func TestNonASCIIWordsAreRead(t *testing.T) {
	for _, s := range []string{"straße", "Привет", "łódź", "日本語", "aaaa日", "ik heb een nieuwe telefoon, Grüße", "ğüşıöç telefon yeni"} {
		for _, c := range []Context{{}, {Where: AtStep, Step: "step01"}, {Where: AtYesNo, Step: "ask_old_phone"}} {
			if r := MatchIn(c, s, "nl"); !Valid(string(r.Intent)) {
				t.Errorf("MatchIn(%q) = %q", s, r.Intent)
			}
		}
	}
}
