package graph

import "strings"

// maskedGarbage is what MaskPhone returns for input it cannot read as a
// phone number: all stars, of a fixed length so nothing leaks.
const maskedGarbage = "** ** ** **"

// MaskPhone masks a phone number for chat, logs and the staff card: only
// the country code (with the Dutch mobile prefix 6) and the last two
// digits stay visible, for example "+31 6 12345678", "0612345678" and
// "+31 612345678" all become "+31 6 ** ** ** 78". Dutch numbers without a
// country code are read as +31. Anything that does not look like a phone
// number becomes all stars; an empty string stays empty.
func MaskPhone(raw string) string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "(0)", "")
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == '\u00a0':
		default:
			return maskedGarbage
		}
	}
	digits := b.String()
	intl := plus
	switch {
	case plus:
	case strings.HasPrefix(digits, "00"):
		digits, intl = digits[2:], true
	case strings.HasPrefix(digits, "0"):
		digits, intl = "31"+digits[1:], true
	}
	if !intl {
		if len(digits) < 7 || len(digits) > 15 {
			return maskedGarbage
		}
		return stars(len(digits)-2) + " " + digits[len(digits)-2:]
	}
	if len(digits) < 8 || len(digits) > 15 {
		return maskedGarbage
	}
	cc := countryCode(digits)
	national := digits[len(cc):]
	last := national[len(national)-2:]
	if cc == "31" && len(national) == 9 && national[0] == '6' {
		return "+31 6 " + stars(6) + " " + last
	}
	return "+" + cc + " " + stars(len(national)-2) + " " + last
}

// stars renders n hidden digits as pairs of stars ("** ** **").
func stars(n int) string {
	groups := make([]string, (n+1)/2)
	for i := range groups {
		groups[i] = "**"
	}
	return strings.Join(groups, " ")
}

// countryCode returns the E.164 country code at the start of digits. The
// codes are prefix-free: 1 and 7 are one digit, the listed two-digit
// zones are two, every other code is three digits.
func countryCode(digits string) string {
	switch digits[0] {
	case '1', '7':
		return digits[:1]
	}
	switch digits[:2] {
	case "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41",
		"43", "44", "45", "46", "47", "48", "49", "51", "52", "53", "54",
		"55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
		"81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98":
		return digits[:2]
	}
	return digits[:3]
}
