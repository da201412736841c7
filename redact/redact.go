// Package redact owns the removal of personal data and secrets from free
// text before it is stored in a transcript, written to a log or sent to
// an LLM: phone numbers, e-mail addresses, object ids, codes, long digit
// runs, password-like strings and known names become neutral
// placeholders.
package redact

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Placeholders put in place of what was removed.
const (
	Phone  = "[phone]"
	Email  = "[email]"
	ID     = "[id]"
	Code   = "[code]"
	Number = "[number]"
	Name   = "[name]"
)

var (
	emailRE = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+`)
	guidRE  = regexp.MustCompile(`(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}`)
	// Teams and Bot Framework ids: "29:1AbC...", "a:1xyz...", "8:orgid:...".
	teamsIDRE = regexp.MustCompile(`\b(?:\d{1,2}|a|f):(?:orgid:)?[A-Za-z0-9_\-]{16,}`)
	// A digit run: digits joined by up to three separators that people
	// put in phone numbers and codes ("06-1234 5678", "06 - 1234 - 5678",
	// "06–12345678", "+31 (0)6 12345678", "(06) 12345678", "123 456").
	// An optional leading "+" or "(" belongs to it.
	digitRunRE = regexp.MustCompile(`\+?\(?\d(?:[ \-./()–—‑]{0,3}\d)*`)
)

// Text returns s with phone numbers, e-mail addresses, object ids, codes,
// long digit runs and password-like strings replaced by placeholders.
// Web addresses and ordinary words are kept.
func Text(s string) string {
	if s == "" {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	// Web addresses are kept by the password rule (LooksLikeSecret), but
	// a phone number or id inside one is still removed.
	s = emailRE.ReplaceAllString(s, Email)
	s = guidRE.ReplaceAllString(s, ID)
	s = teamsIDRE.ReplaceAllString(s, ID)
	s = redactLabelled(s)
	s = redactTokens(s)
	s = digitRunRE.ReplaceAllStringFunc(s, redactDigitRun)
	return s
}

// redactDigitRun decides what a run of digits is.
func redactDigitRun(run string) string {
	n := 0
	for _, r := range run {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	// Keep what the run swallowed at its edges that is not a digit.
	lead, trail := "", ""
	core := run
	for len(core) > 0 && !isDigitOrPlus(core[0]) && !(core[0] == '(' && strings.Contains(core, ")")) {
		lead += core[:1]
		core = core[1:]
	}
	for len(core) > 0 && !isDigit(core[len(core)-1]) {
		trail = core[len(core)-1:] + trail
		core = core[:len(core)-1]
	}
	switch {
	case n >= 9 && n <= 15 && (strings.HasPrefix(core, "+") || strings.HasPrefix(core, "0") || strings.HasPrefix(core, "(0")):
		return lead + Phone + trail
	case n >= 9:
		// Without a leading + or 0 it can still be a phone number
		// (31612345678); nothing this long is safe to keep.
		if n <= 15 {
			return lead + Phone + trail
		}
		return lead + Number + trail
	case n == 6:
		return lead + Code + trail
	case n >= 7:
		return lead + Number + trail
	}
	return run
}

func isDigit(b byte) bool       { return b >= '0' && b <= '9' }
func isDigitOrPlus(b byte) bool { return isDigit(b) || b == '+' }

// redactTokens replaces whitespace-separated tokens that look like a
// password or code.
func redactTokens(s string) string {
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		tok := s[start:end]
		if LooksLikeSecret(tok) {
			// keep surrounding quotes and brackets and a sentence's
			// closing period or comma; "!" and "?" may be part of it
			l, r := trimWrap(tok)
			b.WriteString(tok[:l])
			b.WriteString(Code)
			b.WriteString(tok[r:])
		} else {
			b.WriteString(tok)
		}
		start = -1
	}
	for i, r := range s {
		if unicode.IsSpace(r) {
			flush(i)
			b.WriteRune(r)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(s))
	return b.String()
}

// trimPunct returns the bounds of tok without leading and trailing
// sentence punctuation.
func trimPunct(tok string) (int, int) {
	const punct = `.,;:!?"'()[]{}<>`
	l, r := 0, len(tok)
	for l < r && strings.IndexByte(punct, tok[l]) >= 0 {
		l++
	}
	for r > l && strings.IndexByte(punct, tok[r-1]) >= 0 {
		r--
	}
	return l, r
}

// trimWrap returns the bounds of tok without wrapping quotes and
// brackets and a trailing period, comma, colon or semicolon.
func trimWrap(tok string) (int, int) {
	const open, close = `"'([{<`, `"')]}>.,;:`
	l, r := 0, len(tok)
	for l < r && strings.IndexByte(open, tok[l]) >= 0 {
		l++
	}
	for r > l && strings.IndexByte(close, tok[r-1]) >= 0 {
		r--
	}
	return l, r
}

// knownStems are words that legitimately carry digits or capitals in a
// student's message ("iPhone15", "Microsoft365") and are no secret.
var knownStems = map[string]bool{
	"iphone": true, "ipad": true, "samsung": true, "galaxy": true, "pixel": true,
	"microsoft": true, "office": true, "windows": true, "android": true, "ios": true,
	"huawei": true, "xiaomi": true, "redmi": true, "oneplus": true, "motorola": true,
	"nokia": true, "oppo": true, "teams": true, "outlook": true, "authenticator": true,
	"note": true, "pro": true, "max": true, "plus": true, "ultra": true, "mini": true,
	"promax": true, "galaxys": true, "moto": true, "sony": true, "xperia": true,
	"fairphone": true, "realme": true, "vivo": true, "honor": true, "lite": true,
	"stap": true, "step": true, "win": true, "mac": true, "macos": true, "edge": true,
	"chrome": true, "firefox": true, "safari": true, "mfa": true, "tap": true,
}

// LooksLikeSecret reports whether one whitespace-free token looks like a
// password or access code: at least 8 characters, letters and digits
// mixed with capitals or symbols, not an address, not a phone model or
// product name, not a plain number.
func LooksLikeSecret(tok string) bool {
	l, r := trimPunct(tok)
	t := tok[l:r]
	if utf8.RuneCountInString(t) < 8 || utf8.RuneCountInString(t) > 64 {
		return false
	}
	lt := strings.ToLower(t)
	if strings.Contains(lt, "://") || strings.HasPrefix(lt, "www.") || strings.HasPrefix(lt, "aka.ms") ||
		emailRE.MatchString(t) || strings.HasPrefix(t, "[") {
		return false
	}
	var upper, lower, digit, symbol int
	var letters strings.Builder
	for _, c := range t {
		switch {
		case unicode.IsUpper(c):
			upper++
			letters.WriteRune(unicode.ToLower(c))
		case unicode.IsLower(c):
			lower++
			letters.WriteRune(c)
		case unicode.IsDigit(c):
			digit++
		case unicode.IsSpace(c):
			return false
		default:
			symbol++
		}
	}
	letterCount := upper + lower
	if letterCount == 0 {
		return false // numbers are handled as digit runs
	}
	// Words joined by punctuation ("ja,gelukt", "Hallo...ik") are prose.
	if digit == 0 {
		if symbol > 0 && upper > 0 && lower > 0 && !proseJoin(t) {
			return true
		}
		return false
	}
	// Digits with letters: a model name or a known product keeps it.
	if allKnown(lt) {
		return false
	}
	classes := 0
	for _, n := range []int{upper, lower, digit, symbol} {
		if n > 0 {
			classes++
		}
	}
	if classes >= 3 {
		return true
	}
	// Letters and digits interleaved, long: a generated code.
	return utf8.RuneCountInString(t) >= 10 && transitions(t) >= 3
}

// proseJoin reports whether t is only alphabetic words joined by
// punctuation, each starting a word normally (capital only first).
func proseJoin(t string) bool {
	parts := strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(parts) == 0 {
		return false
	}
	for _, p := range parts {
		rs := []rune(p)
		if len(rs) <= 4 && strings.ToUpper(p) == p {
			continue // an abbreviation: "ICT-servicedesk"
		}
		for i, c := range rs {
			if i > 0 && unicode.IsUpper(c) {
				return false
			}
		}
	}
	// the separators must be sentence punctuation, not @#$%&*
	for _, c := range t {
		if !unicode.IsLetter(c) && !strings.ContainsRune(".,;:!?-'\"()/", c) {
			return false
		}
	}
	return true
}

// allKnown reports whether every letter group of lt is a known stem.
func allKnown(lt string) bool {
	groups := strings.FieldsFunc(lt, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(groups) == 0 {
		return false
	}
	known := false
	for _, g := range groups {
		if knownStems[g] {
			known = true
		} else if len(g) > 2 {
			return false
		}
	}
	if !known {
		return false
	}
	// "iphone15pro" is known; a single short letter group among many
	// digits ("a8f3k29d") is not.
	return len(groups) <= 3
}

// transitions counts switches between letters and digits.
func transitions(t string) int {
	n, prev := 0, 0
	for _, c := range t {
		k := 0
		switch {
		case unicode.IsLetter(c):
			k = 1
		case unicode.IsDigit(c):
			k = 2
		}
		if k != 0 && prev != 0 && k != prev {
			n++
		}
		if k != 0 {
			prev = k
		}
	}
	return n
}

// Names replaces every occurrence of the given names (whole words, case
// insensitive) with [name]. A full name is replaced as a whole and each
// of its parts of three letters or more on its own, so "Sam de Vries"
// also removes "Sam" and "Vries" but keeps the word "de".
func Names(s string, names ...string) string {
	var pats []string
	seen := map[string]bool{}
	add := func(p string) {
		p = strings.TrimSpace(p)
		k := strings.ToLower(p)
		if p == "" || seen[k] {
			return
		}
		seen[k] = true
		pats = append(pats, p)
	}
	for _, n := range names {
		add(n)
	}
	for _, n := range names {
		for _, part := range strings.FieldsFunc(n, func(r rune) bool { return unicode.IsSpace(r) || r == ',' }) {
			if utf8.RuneCountInString(part) >= 3 {
				add(part)
			}
		}
	}
	// longest first so that a full name goes before its parts
	for i := 1; i < len(pats); i++ {
		for j := i; j > 0 && len(pats[j]) > len(pats[j-1]); j-- {
			pats[j], pats[j-1] = pats[j-1], pats[j]
		}
	}
	for _, p := range pats {
		s = replaceWord(s, p)
	}
	return s
}

// replaceWord replaces whole-word, case-insensitive occurrences of w.
func replaceWord(s, w string) string {
	re, err := regexp.Compile(`(?i)` + regexp.QuoteMeta(w))
	if err != nil {
		return s
	}
	idx := re.FindAllStringIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		if m[0] < last {
			continue
		}
		if !boundaryBefore(s, m[0]) || !boundaryAfter(s, m[1]) {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(Name)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

func boundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}
