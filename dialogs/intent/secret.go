package intent

import (
	"regexp"
	"strings"
	"unicode"

	"mfabot/redact"
)

// Kinds of secret DetectSecret reports.
const (
	SecretCode     = "code"     // a six-digit verification code
	SecretNumber   = "number"   // the two-digit number of step 9
	SecretPassword = "password" // a password-like string
	SecretTAP      = "tap"      // a Temporary Access Pass
)

var (
	// digit groups joined by up to three spaces, dashes or dots
	// ("123 456", "123 - 456", "123–456")
	digitGroupRE = regexp.MustCompile(`\d+(?:[ \-.–—‑]{1,3}\d+)*`)
	tapWordRE    = regexp.MustCompile(`(?i)\b(tap|temporary access pass|tijdelijke toegangs ?pas|toegangspas|access pass)\b`)
	// a clock time or a range of them ("8.00 - 9.00", "9.15-9.45"): the
	// school writes times with a dot, and six digits of them are no code
	clockRangeRE = regexp.MustCompile(`^(?:[01]?\d|2[0-4])\.[0-5]\d(?:\s{0,3}[-–—‑]\s{0,3}(?:[01]?\d|2[0-4])\.[0-5]\d)?$`)
	stepRefRE    = regexp.MustCompile(`(?i)\b(?:stap|step|versie|version|ios|android)\.?\s*(?:(?:nummer|number|nr)\.?\s*)?$`)
)

// DetectSecret reports whether a student's message contains something
// that must not be shared or stored: a six-digit code (also "123 456"),
// the two-digit number while step 9 is shown (expectingNumber), a
// password-like string, or a Temporary Access Pass; also a value given
// after a word that names it ("mijn wachtwoord is Paard-Batterij-Nietje",
// "pin 4821": see redact.LabelledSecret).
func DetectSecret(text string, expectingNumber bool) (kind string, found bool) {
	for _, loc := range digitGroupRE.FindAllStringIndex(text, -1) {
		run := text[loc[0]:loc[1]]
		// part of a word or a longer token ("iphone15", "A1b2") is not a code
		if loc[0] > 0 && isAlnumByte(text[loc[0]-1]) || loc[1] < len(text) && isAlnumByte(text[loc[1]]) {
			continue
		}
		if clockRangeRE.MatchString(run) {
			continue
		}
		n := 0
		for i := 0; i < len(run); i++ {
			if run[i] >= '0' && run[i] <= '9' {
				n++
			}
		}
		switch {
		case n == 6:
			return SecretCode, true
		case n == 2 && expectingNumber && !stepRefRE.MatchString(text[:loc[0]]) && !strings.ContainsAny(run, " -.–—‑") &&
			justTheNumber(text):
			return SecretNumber, true
		}
	}
	if label, ok := redact.LabelledSecret(text); ok {
		switch label {
		case redact.LabelTAP:
			return SecretTAP, true
		case redact.LabelCode:
			return SecretCode, true
		}
		return SecretPassword, true
	}
	for _, tok := range strings.Fields(text) {
		if redact.LooksLikeSecret(tok) {
			if tapWordRE.MatchString(text) {
				return SecretTAP, true
			}
			return SecretPassword, true
		}
	}
	return "", false
}

// numberWords may stand around the two-digit number in a message that
// gives it ("het is 42", "nummer 42", "42 ingevuld", "I see 42").
var numberWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`het is was dat dit de een nr nummer nummertje getal getalletje cijfer cijfers code
		er staat stond zie zag ik heb had ingevuld ingetypt getypt ingetoetst ingevoerd invullen intypen typen invoeren
		moet ik zou op mijn scherm laptop computer pc zegt toont geeft ja oké oke ok hier nu dan en stap
		the it its s number code i see saw have typed entered enter type should it says shows on my screen yes here
		now then and step this that a`) {
		numberWords[w] = true
	}
}

// justTheNumber reports whether text is essentially just a number (with
// at most a few words naming it) rather than a sentence that happens to
// hold one ("Got 10 approval notifications in a row").
func justTheNumber(text string) bool {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) > 7 {
		return false
	}
	for _, w := range words {
		if w == "9" || strings.Trim(w, "0123456789") == "" && len(w) == 2 {
			continue
		}
		if !numberWords[w] {
			return false
		}
	}
	return true
}

func isAlnumByte(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}
