package handoff

import (
	"regexp"
	"strings"
)

// phoneLike matches what could be a full phone number: a "+" or a
// leading 0, then digits with the usual separators.
var phoneLike = regexp.MustCompile(`(?:\+|\b0)\d(?:[ \-./()]{0,3}\d){7,16}`)

// maskPhones is a last line of defence: callers already mask methods
// and redact transcripts, but nothing that looks like a full phone
// number is ever stored with an escalation or shown on the staff card.
// Only the last two digits stay; keep (the service desk's own number)
// is left alone.
func maskPhones(s, keep string) string {
	keepDigits := digitsOf(keep)
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		d := digitsOf(m)
		if len(d) < 9 || len(d) > 17 || (keepDigits != "" && d == keepDigits) {
			return m
		}
		return "** ** ** " + d[len(d)-2:]
	})
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
