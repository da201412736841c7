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
		"06-12345678", "123456", "Hallo,ik", "sam@example.nl", "werk-/schoolaccount", "QR-code", "F2.03",
		"ICT-servicedesk", "MFA-instellingen"}
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
	func(d string) string { return "06 - " + d[:4] + " - " + d[4:] },
	func(d string) string { return "06–" + d },
	func(d string) string { return "06—" + d },
	func(d string) string { return "06 – " + d[:4] + " – " + d[4:] },
	func(d string) string { return "06." + d[:2] + "." + d[2:4] + "." + d[4:6] + "." + d[6:] },
	func(d string) string { return "+31 (0)6 " + d[:4] + " " + d[4:] },
	func(d string) string { return "0031 (0)6 - " + d },
	func(d string) string { return "(06) - " + d[:4] + " " + d[4:] },
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
	f.Add("mijn wachtwoord is gisteren veranderd", "", uint8(4), 4)
	f.Add("code: krijg ik niet", "the code is always wrong", uint8(11), 6)
	f.Add("wachtwoord: bananenbrood", "mijn wachtwoord is Zomer maar hij werkt niet", uint8(2), 7)
	for i := range phoneFormats {
		f.Add("mijn nummer is", "", uint8(i), i)
	}
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
		// a labelled password never survives, whatever is around it
		pw := "Paard-Batterij-" + d
		in = before + " mijn wachtwoord is " + pw
		if out := Text(in); strings.Contains(out, pw) {
			t.Fatalf("Text(%q) = %q keeps the password", in, out)
		}
		if _, ok := LabelledSecret(in); !ok {
			t.Fatalf("LabelledSecret(%q) found nothing", in)
		}
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

// A value given after the word that names it is a secret, however it is
// written; talking about a password or code is not.
func TestLabelledSecret(t *testing.T) {
	yes := []struct{ in, kind string }{
		{"mijn wachtwoord is Paard-Batterij-Nietje", LabelPassword},
		{"wachtwoord: Ik.Hou.Van.Katten", LabelPassword},
		{"my password is Correct Horse Battery 9", LabelPassword},
		{"mijn wachtwoord is zomer2024 klopt dat", LabelPassword},
		{"mijn wachtwoord is zomer2024, klopt dat?", LabelPassword},
		{"mijn wachtwoord is bananen", LabelPassword},
		{"mijn wachtwoord is nu Zomer", LabelPassword},
		{"Mijn ww is welkom", LabelPassword},
		{"pw=hallo", LabelPassword},
		{"passwd: hunter", LabelPassword},
		{"my pass is Kitten", LabelPassword},
		{"het wachtwoord voor mijn schoolaccount is tulpen", LabelPassword},
		{"ik heb mijn wachtwoord veranderd naar zomer2024", LabelPassword},
		{"wachtwoord Paard-Batterij-Nietje", LabelPassword},
		{`wachtwoord "welkom"`, LabelPassword},
		{"mijn pincode is 4821", LabelCode},
		{"pin 4821", LabelCode},
		{"code: 98765", LabelCode},
		{"TAP: 8xk2pqrs", LabelTAP},
		{"mijn toegangspas is Xk7#mP2q", LabelTAP},
		{"tap = abcdefgh", LabelTAP},
		// the whole clause, or a clause that holds a value (third review)
		{"mijn wachtwoord is Zomer2026", LabelPassword},
		{"wachtwoord: bananenbrood", LabelPassword},
		{"mijn wachtwoord is Zomer maar hij werkt niet", LabelPassword},
		{"mijn wachtwoord is 'welkom' denk ik", LabelPassword},
		{"mijn wachtwoord is tulpen123 maar het werkt niet", LabelPassword},
		{"my password is Sunflower but it fails", LabelPassword},
		{"code: 482913 werkt niet", LabelCode},
		{"de code is 583 920 maar die klopt niet", LabelCode},
	}
	for _, c := range yes {
		if kind, ok := LabelledSecret(c.in); !ok || kind != c.kind {
			t.Errorf("LabelledSecret(%q) = %q %v, want %q", c.in, kind, ok, c.kind)
		}
	}
	no := []string{
		"mijn wachtwoord is verlopen", "mijn wachtwoord is niet goed", "ik ben mijn wachtwoord vergeten",
		"ik krijg geen code", "de code klopt niet", "de code is verlopen", "de code is 6 cijfers",
		"the code is wrong", "my password is correct", "my password is expired", "wachtwoord vergeten",
		"ik heb mijn wachtwoord veranderd", "welke code is dat?", "wat is een TAP?", "wat is de code",
		"de QR-code: die scant niet", "error code: 53003", "tap op Volgende", "tap Next", "pin it to the taskbar",
		"I can't pass step 3", "is de code nog geldig?", "mijn wachtwoord werkt niet sinds 2024",
		"de code werkt niet op mijn iPhone15", "de code is afgewezen", "the password was rejected",
		"mijn wachtwoord is al een keer gereset", "code is nog niet binnen", "MIJN WACHTWOORD IS VERLOPEN",
		"Mijn wachtwoord is OK", "waar vind ik die qr code", "ik moet steeds een code intypen maar die klopt niet",
		"help iemand heeft mijn wachtwoord denk ik, ik krijg allemaal verzoeken", "postcode 1234 AB",
		"de code van stap 9 is 42", "ik heb een TAP gekregen van de servicedesk", "",
		"I tap 'Scan QR code' but nothing happens", "weet jij wat mijn wachtwoord is?", "mijn wachtwoord is kapot",
		"the TAP is valid for 1 hour", "de tap is al gebruikt", "my password is case sensitive",
		"mijn wachtwoord is zo'n 12 tekens", "de code is nu 3 keer fout", "ik krijg de melding 'wachtwoord onjuist'", "tap \"Volgende\" werkt niet",
		// third review: a sentence about the password or code, not the value
		"mijn wachtwoord is gisteren veranderd", "mijn wachtwoord is misschien verlopen",
		"mijn wachtwoord is vorige week gewijzigd", "mijn ww is eerder deze week gereset", "de code is elke keer anders",
		"de code is weer verdwenen", "code: krijg ik niet", "the code is always wrong", "my password was recently changed",
		"my password is not working", "mijn wachtwoord is niet goed",
		"mijn wachtwoord is sinds vanochtend geblokkeerd", "mijn wachtwoord is pas veranderd en nu werkt niks",
		"de code is steeds ongeldig", "de code is elke keer een andere", "de code is binnen 30 seconden weer weg",
		"de code is te laat binnengekomen", "mijn wachtwoord is door school gereset", "mijn wachtwoord is volgens mij verlopen",
		"code: komt niet binnen", "code: staat er niet", "wachtwoord: weet ik niet meer", "wachtwoord: heb ik al veranderd",
		"mijn ww is vorige maand nog veranderd", "de sms code is nooit aangekomen", "de inlogcode is na een minuut verlopen",
		"my password was reset by the helpdesk", "my password is the same as before", "the code is never accepted",
		"the code was only valid for a minute", "my password was changed last week", "the code is always expired",
		"my password is probably expired", "the code is different every time", "my pin is blocked after three tries",
		"mijn pincode is geblokkeerd", "mijn pincode is drie keer fout ingevoerd", "het wachtwoord is na de reset niet meer geldig",
		"de tap is vandaag verlopen", "mijn TAP was maar een uur geldig", "de code is opeens anders dan in de app",
		"mijn wachtwoord is op mijn laptop opgeslagen", "de code is telkens fout", "mijn wachtwoord is heel lang",
		"de code is te kort", "my password is saved in Chrome", "the code is in the app but it says wrong",
		"de verificatiecode is nog steeds niet binnen", "mijn wachtwoord is Gisteren veranderd",
		"de code is Elke keer anders", "mijn wachtwoord is in Teams niet geaccepteerd", "code: die krijg ik niet",
		"mijn wachtwoord is waarschijnlijk verlopen", "de code is vandaag al vijf keer fout gegaan",
		"mijn wachtwoord is twee weken geleden gewijzigd", "de code is nergens te zien",
	}
	for _, s := range no {
		if kind, ok := LabelledSecret(s); ok {
			t.Errorf("LabelledSecret(%q) = %q, want none", s, kind)
		}
	}
}

// The review's messages: passwords after their label and phone numbers
// with wide separators never reach a transcript or the LLM.
func TestTextLabelledAndWidePhones(t *testing.T) {
	cases := []struct{ in, want string }{
		{"mijn wachtwoord is Paard-Batterij-Nietje", "mijn wachtwoord is [code]"},
		{"wachtwoord: Ik.Hou.Van.Katten", "wachtwoord: [code]"},
		{"my password is Correct Horse Battery 9", "my password is [code]"},
		{"mijn wachtwoord is zomer2024, klopt dat?", "mijn wachtwoord is [code], klopt dat?"},
		{"TAP: 8xk2pqrs", "TAP: [code]"},
		{"mijn wachtwoord is verlopen", "mijn wachtwoord is verlopen"},
		{"mijn nummer is 06 - 1234 - 5678", "mijn nummer is [phone]"},
		{"bel me op 06–12345678", "bel me op [phone]"},
		{"bel me op 06—12345678", "bel me op [phone]"},
		{"bel me op 06 – 1234 – 5678 graag", "bel me op [phone] graag"},
		{"06.12.34.56.78", "[phone]"},
		{"(06) 12345678", "[phone]"},
		{"+31 (0)6 1234 5678", "[phone]"},
		{"0031 6 12 34 56 78", "[phone]"},
		{"0031 (0)6 - 1234 5678", "[phone]"},
		{"stap 9 - 10 lukt niet", "stap 9 - 10 lukt niet"},
	}
	for _, c := range cases {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Text(Text(c.in)); got != Text(c.in) {
			t.Errorf("Text is not stable on %q: %q", c.in, got)
		}
	}
}
