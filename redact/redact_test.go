package redact

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"bel me op 0612345678", "bel me op [phone]"},
		{"mijn nummer is 06-12345678.", "mijn nummer is [phone]."},
		{"+31 6 12345678 is mijn nummer", "[phone] is mijn nummer"},
		{"+31 (0)6 1234 5678", "[phone]"},
		{"call 020-555 1234 please", "call [phone] please"},
		{"mail sam.devries@student.example.nl", "mail [email]"},
		{"id 3f2b8c1e-9d4a-4e7b-8a6f-0c1d2e3f4a5b gevonden", "id [id] gevonden"},
		{"teams 29:1AbCdEfGhIjKlMnOpQrStUv", "teams [id]"},
		{"de code is 123456", "de code is [code]"},
		{"code 123 456", "code [code]"},
		{"studentnummer 4512378", "studentnummer [number]"},
		{"rekening 1234567890123456789", "rekening [number]"},
		{"mijn wachtwoord is Zomer2024!", "mijn wachtwoord is [code]"},
		{"TAP: Xk7#mP2q", "TAP: [code]"},
		{"'P@ssw0rd'", "'[code]'"},
		{"ga naar https://aka.ms/mfasetup en klik", "ga naar https://aka.ms/mfasetup en klik"},
		{"ik heb een iPhone15 en Microsoft365", "ik heb een iPhone15 en Microsoft365"},
		{"stap 9: het getal 42", "stap 9: het getal 42"},
		{"Gelukt! Bedankt.", "Gelukt! Bedankt."},
		{"Hallo,ik heb een probleem", "Hallo,ik heb een probleem"},
		{"in 2026 gekocht", "in 2026 gekocht"},
		{"", ""},
	}
	for _, c := range cases {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNames(t *testing.T) {
	cases := []struct {
		in    string
		names []string
		want  string
	}{
		{"Hoi, ik ben Sam de Vries", []string{"Sam de Vries"}, "Hoi, ik ben [name]"},
		{"sam hier, vries is mijn achternaam, de app werkt niet", []string{"Sam de Vries"}, "[name] hier, [name] is mijn achternaam, de app werkt niet"},
		{"Samantha is iemand anders", []string{"Sam"}, "Samantha is iemand anders"},
		{"groeten van Noor", []string{"Noor Élise", "Noor"}, "groeten van [name]"},
		{"José belt", []string{"José"}, "[name] belt"},
		{"niets", nil, "niets"},
		{"LARS!", []string{"lars"}, "[name]!"},
	}
	for _, c := range cases {
		if got := Names(c.in, c.names...); got != c.want {
			t.Errorf("Names(%q, %q) = %q, want %q", c.in, c.names, got, c.want)
		}
	}
}

func TestLooksLikeSecret(t *testing.T) {
	yes := []string{"Welkom123!", "P@ssw0rd", "Xk7#mP2q", "zomer2024#", "a8f3k29dq7", "Tr0ub4dor&3", "Zomer#Herfst"}
	no := []string{"telefoon", "Authenticator", "iPhone15", "Microsoft365", "Gelukt!", "https://aka.ms/mfasetup",
		"06-12345678", "123456", "Hallo,ik", "sam@example.nl", "werk-/schoolaccount", "QR-code", "F2.03"}
	for _, s := range yes {
		if !LooksLikeSecret(s) {
			t.Errorf("LooksLikeSecret(%q) = false", s)
		}
	}
	for _, s := range no {
		if LooksLikeSecret(s) {
			t.Errorf("LooksLikeSecret(%q) = true", s)
		}
	}
}

var phoneFormats = []func(d string) string{
	func(d string) string { return "06" + d },
	func(d string) string { return "06-" + d },
	func(d string) string { return "+316" + d },
	func(d string) string { return "+31 6 " + d[:4] + " " + d[4:] },
	func(d string) string { return "0031 6 " + d[:2] + " " + d[2:5] + " " + d[5:] },
	func(d string) string { return "(06) " + d },
}

var nonDigit = regexp.MustCompile(`\D`)

// FuzzText: redaction never panics, and a phone number embedded in any
// text never survives it, in any of the usual formats.
func FuzzText(f *testing.F) {
	f.Add("bel me op ", " graag", uint8(3), 0)
	f.Add("", "", uint8(0), 1)
	f.Add("code 12", "34 56 Welkom1!", uint8(9), 2)
	f.Add("mail a@b.nl ", "\x00\xff", uint8(200), 5)
	f.Add("https://x.nl/", "?q=1", uint8(7), 3)
	f.Fuzz(func(t *testing.T, before, after string, seed uint8, format int) {
		digits := "12345678"
		// vary the subscriber digits with the seed
		b := []byte(digits)
		for i := range b {
			b[i] = '0' + (b[i]-'0'+seed+byte(i)*seed)%10
		}
		d := string(b)
		if format < 0 {
			format = -format
		}
		phone := phoneFormats[format%len(phoneFormats)](d)
		in := before + " " + phone + " " + after
		out := Text(in)
		if strings.Contains(out, phone) {
			t.Fatalf("Text(%q) = %q still contains %q", in, out, phone)
		}
		// the subscriber digits never appear as a run in the output,
		// unless they were already in the text around it
		if strings.Contains(nonDigit.ReplaceAllString(out, ""), d) &&
			!strings.Contains(nonDigit.ReplaceAllString(before+after, ""), d) {
			t.Fatalf("Text(%q) = %q keeps the digits %s", in, out, d)
		}
		_ = Names(in, before, after)
	})
}

func TestWithNames(t *testing.T) {
	ctx := WithNames(context.Background(), "Sam de Vries")
	ctx = WithNames(ctx, "Noor")
	ctx = WithNames(ctx)
	got := Names("sam en noor", NamesFrom(ctx)...)
	if got != "[name] en [name]" {
		t.Errorf("got %q", got)
	}
	if NamesFrom(context.Background()) != nil {
		t.Error("names from an empty context")
	}
}
