package graph

import (
	"strings"
	"testing"
)

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+31 6 12345678", "+31 6 ** ** ** 78"},
		{"0612345678", "+31 6 ** ** ** 78"},
		{"+31 612345678", "+31 6 ** ** ** 78"},
		{"+31612345678", "+31 6 ** ** ** 78"},
		{"06-12345678", "+31 6 ** ** ** 78"},
		{"+31 (0)6 1234 5678", "+31 6 ** ** ** 78"},
		{"0031 6 12345678", "+31 6 ** ** ** 78"},
		{"020 123 4567", "+31 ** ** ** ** 67"},
		{"+1 2065555555", "+1 ** ** ** ** 55"},
		{"+32 470 12 34 56", "+32 ** ** ** ** 56"},
		{"+49 151 23456789", "+49 ** ** ** ** ** 89"},
		{"+351 912 345 678", "+351 ** ** ** ** 78"},
		{"612345678", "** ** ** ** 78"},
		{"", ""},
		{"   ", ""},
		{"call me maybe", maskedGarbage},
		{"+31 6 1234 5678 ext 9", maskedGarbage},
		{"12345", maskedGarbage},
		{"+31 6", maskedGarbage},
		{"+1234567890123456789", maskedGarbage},
		{"<script>0612345678</script>", maskedGarbage},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzMaskPhone: whatever comes in, at most the country code (plus the
// Dutch 6) and two more digits come out, and the hidden middle never does.
func FuzzMaskPhone(f *testing.F) {
	for _, s := range []string{"+31 612345678", "0612345678", "+1 2065555555", "00491512345678", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := MaskPhone(in)
		digits := 0
		for _, r := range out {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits > 5 {
			t.Fatalf("MaskPhone(%q) = %q shows %d digits", in, out, digits)
		}
		var all strings.Builder
		for _, r := range in {
			if r >= '0' && r <= '9' {
				all.WriteRune(r)
			}
		}
		if d := all.String(); len(d) >= 8 && strings.Contains(strings.ReplaceAll(out, " ", ""), d[len(d)-6:len(d)-2]) {
			t.Fatalf("MaskPhone(%q) = %q shows hidden digits", in, out)
		}
	})
}
