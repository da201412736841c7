package redact

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kinds of labelled secret LabelledSecret reports.
const (
	LabelPassword = "password"
	LabelCode     = "code"
	LabelTAP      = "tap"
)

var (
	// A word that announces a secret. The boundaries are checked by hand
	// so that "tap code" yields both labels.
	labelRE = regexp.MustCompile(`(?i)(temporary access pass|tijdelijke toegangs ?pas|access pass|toegangspas|toegangscode|verificatiecode|inlogcode|sms-?code|wachtwoorden|wachtwoordje|wachtwoord|wacht woord|paswoord|passwoord|password|passwd|passw|pass ?code|pass|pwd|pw|ww|pincode|pin|tap|code)`)
	// What joins a label to its value: "is", "was", ":", "=", also after
	// a short phrase ("wachtwoord voor mijn account is ...").
	connectRE = regexp.MustCompile(`(?i)^\s*(?:(?:(?:voor|van|bij|op|in|for|of|on|at|to|from)(?:\s+[\p{L}\p{N}\-]+){1,3}?\s+)?(?:is|was|luidt)(?:\s*[:=]+|\s+|$)|(?:=>|->|:=|[:=]+))`)
	// the word before "code" that makes it something other than a secret
	notSecretCodeRE = regexp.MustCompile(`(?i)(?:qr|error|fout|status|bron|source|foutmelding|promo|post)[\s\-]*$`)
	// a verb form or adjective after "is" ("afgewezen", "rejected")
	participleRE = regexp.MustCompile(`^(?:(?:af|aan|op|uit|door|toe|in|mee|terug|over)?(?:ge|be|ver|ont|her|er)\pL{2,}(?:d|t|en)|\pL{3,}(?:ed|ing|able|ible|baar|lijk|ig)|on\pL{4,})$`)
	// where the clause that holds a value ends
	clauseEndRE = regexp.MustCompile(`[,;.!?]\s|\n`)
)

// proseWords are first words of what follows "wachtwoord is" or "code:"
// that say something about the secret instead of giving it.
var proseWords = wordSet(`
niet geen nooit fout foutief verkeerd onjuist ongeldig juist goed correct verlopen vervallen kwijt vergeten weg
verdwenen veranderd gewijzigd aangepast gereset reset geblokkeerd geblokt vergrendeld verloren gestolen gelekt
gehackt binnen binnengekomen aangekomen ontvangen verstuurd gestuurd gekomen zichtbaar onzichtbaar leeg te heel erg
zeer best hetzelfde zelfde anders ander andere nieuw nieuwe oud oude lang langer kort korter moeilijk makkelijk
sterk zwak veilig onveilig prima oke ok oké okay klaar nodig vereist verplicht bekend onbekend geheim privé prive
persoonlijk handig kapot stuk broken lastig tricky geldig zon zo'n case hoofdlettergevoelig simpel simple easy hard difficult complex ingewikkeld raar vreemd strange weird gek opgeslagen bewaard ingevuld ingevoerd getypt geplakt gekopieerd gescand uitgeschakeld ingeschakeld
actief inactief vervalt verloopt werkt werkte klopt klopte doet deed komt kwam wordt werd lukt lukte gaat ging
geeft gaf staat stond heeft had heb hebt moet moest kan kon mag mocht wil wilde zal zou zijn was is ben bent
de het een dat die deze dit er daar hier waar wat welke hoe wanneer waarom wie mijn jouw je uw zijn haar ons
onze hun van voor op in bij met naar om over uit aan tot zonder sinds na en of maar want dus als toen ik jij
hij zij wij we ze jullie men iets niks niets alles alleen pas zo zoals precies ongeveer twee drie vier vijf zes
zeven acht negen tien cijfers cijfer tekens teken letters letter getal getallen nummer nummers
gisteren vandaag morgen eergisteren misschien waarschijnlijk vorige vorig afgelopen eerder later elke iedere
weer opnieuw altijd soms vaak steeds ineens opeens plotseling zomaar blijkbaar kennelijk volgens sowieso
yesterday today recently always sometimes often suddenly apparently probably maybe again every still last
not no never wrong incorrect correct right fine good bad invalid valid expired expiring expires lost
forgotten forgot gone missing changed reset blocked locked compromised stolen leaked hacked same different new
old long short weak strong required needed unknown known secret private saved stored entered typed pasted copied
scanned sent received shown visible empty too very the a an this that these those it its my your his her our
their what which where when why how who for from of on in at to with by about and or but so because if i you
he she we they something nothing everything only exactly like works worked working doesnt didnt does did has
have had must should can could will would keeps kept isnt wasnt two three four five six seven eight nine ten
digits digit characters character letters letter numbers number
`)

// fillerWords are skipped before deciding ("mijn wachtwoord is nu ...").
var fillerWords = wordSet(`nu gewoon toch echt dus wel nog al ook steeds eigenlijk gewoonweg trouwens
now just still actually simply really also literally basically currently`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// labelled is one secret given after a label: its kind and the bytes of
// the value (to the end of its clause).
type labelled struct {
	kind       string
	start, end int
}

// LabelledSecret reports whether s gives a password, PIN, code or
// Temporary Access Pass after a word that names it ("mijn wachtwoord is
// Paard-Batterij-Nietje", "TAP: 8xk2pqrs", "pin 4821"). kind is one of
// LabelPassword, LabelCode or LabelTAP. "Mijn wachtwoord is verlopen"
// or "ik krijg geen code" give nothing.
func LabelledSecret(s string) (kind string, found bool) {
	if l := labelledValues(s); len(l) > 0 {
		return l[0].kind, true
	}
	return "", false
}

// redactLabelled replaces every labelled value with Code.
func redactLabelled(s string) string {
	ls := labelledValues(s)
	if len(ls) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range ls {
		b.WriteString(s[last:l.start])
		b.WriteString(Code)
		last = l.end
	}
	b.WriteString(s[last:])
	return b.String()
}

func labelledValues(s string) []labelled {
	var out []labelled
	pos := 0
	for pos < len(s) {
		loc := labelRE.FindStringIndex(s[pos:])
		if loc == nil {
			break
		}
		ls, le := pos+loc[0], pos+loc[1]
		pos = le
		if !wordBoundaryBefore(s, ls) || !wordBoundaryAfter(s, le) {
			// inside a word ("tapijt", "postcode"): go on after its first rune
			_, n := utf8.DecodeRuneInString(s[ls:])
			pos = ls + n
			continue
		}
		label := strings.ToLower(s[ls:le])
		kind := labelKind(label)
		if kind == LabelCode && strings.HasSuffix(label, "code") && notSecretCodeRE.MatchString(s[:ls]) {
			continue
		}
		rest := s[le:]
		connected := false
		vstart := le
		if m := connectRE.FindStringIndex(rest); m != nil {
			connected = true
			vstart = le + m[1]
		}
		for vstart < len(s) && (s[vstart] == ' ' || s[vstart] == '\t') {
			vstart++
		}
		vend := len(s)
		if m := clauseEndRE.FindStringIndex(s[vstart:]); m != nil {
			vend = vstart + m[0]
		}
		if vend <= vstart {
			continue
		}
		if secretValue(s[vstart:vend], connected, kind == LabelPassword && label != "pass") {
			out = append(out, labelled{kind: kind, start: vstart, end: vend})
			pos = vend
		}
	}
	return out
}

func labelKind(label string) string {
	switch {
	case strings.Contains(label, "pas") && !strings.HasPrefix(label, "pass") && label != "paswoord",
		strings.Contains(label, "access"), label == "tap":
		return LabelTAP
	case strings.Contains(label, "code") || strings.HasPrefix(label, "pin"):
		if strings.HasPrefix(label, "pass") {
			return LabelPassword
		}
		return LabelCode
	}
	return LabelPassword
}

// secretValue decides whether the clause after a label gives the secret.
// After "is", ":" or "=" (connected) any word that does not say
// something about the secret is taken as the secret; right after the
// bare label only a token that looks like one is.
// A quoted word right after the label counts only for a password
// ("wachtwoord 'welkom'", not "tap 'Volgende'"); quotedValue says so.
func secretValue(clause string, connected, quotedValue bool) bool {
	toks := strings.Fields(clause)
	shouting := !strings.ContainsFunc(clause, unicode.IsLower)
	for i, raw := range toks {
		l, r := trimPunct(raw)
		t := raw[l:r]
		if t == "" {
			continue
		}
		if i == 0 && (valueLike(t) || digitsOnlyCount(t) >= 3) {
			return true
		}
		if !connected {
			if i == 0 && quotedValue && strings.ContainsAny(raw[:1], `"'“‘«`) {
				return true
			}
			return anyValueLike(toks[i:])
		}
		if valueLike(t) || digitsOnlyCount(t) >= 3 {
			return true
		}
		lt := strings.ToLower(t)
		if fillerWords[lt] {
			continue
		}
		if (proseWords[lt] || participleRE.MatchString(lt)) && (!strings.ContainsFunc(t, unicode.IsUpper) || shouting) {
			return anyValueLike(toks[i+1:])
		}
		if n := digitsOnlyCount(t); n > 0 && n < 3 && n == utf8.RuneCountInString(t) {
			return anyValueLike(toks[i+1:])
		}
		// An unknown word or a capitalized one right after "is" is the
		// secret only when it is all the clause says ("mijn wachtwoord
		// is bananenbrood") or the clause holds something that looks
		// like a value; otherwise it is a sentence about the secret
		// ("mijn wachtwoord is gisteren veranderd", "code: krijg ik niet").
		return givesValue(toks[i:])
	}
	return false
}

// clauseBreakWords start a new clause after a one-word value ("mijn
// wachtwoord is Zomer maar hij werkt niet").
var clauseBreakWords = wordSet(`maar en of want dus klopt toch denk right but and or so because isnt is`)

// givesValue decides whether the clause toks, which starts with an
// unknown or capitalized word right after the connector, gives the
// secret: a single token, a quoted one, one that looks like a value
// (letters and digits mixed, Capitals-Joined-By-Symbols, 3+ digits), a
// passphrase of capitalized words ("Correct Horse Battery 9"), or a
// capitalized word followed by a new clause ("Zomer maar ...").
func givesValue(toks []string) bool {
	if len(toks) == 1 {
		return true
	}
	capitalized := 0
	for _, raw := range toks {
		l, r := trimWrap(raw)
		t := raw[l:r]
		if t == "" {
			continue
		}
		if valueLike(t) || digitsOnlyCount(t) >= 3 || strings.ContainsAny(raw[:1], `"'“‘«`) {
			return true
		}
		if first, _ := utf8.DecodeRuneInString(t); unicode.IsUpper(first) && strings.ContainsFunc(t, unicode.IsLower) {
			capitalized++
		} else if digitsOnlyCount(t) == 0 {
			capitalized = -len(toks)
		}
	}
	if capitalized >= 2 {
		return true
	}
	l, r := trimWrap(toks[0])
	first, _ := utf8.DecodeRuneInString(toks[0][l:r])
	return unicode.IsUpper(first) && strings.ContainsFunc(toks[0], unicode.IsLower) && clauseBreakWords[strings.ToLower(toks[1])]
}

// anyValueLike reports whether one of the tokens looks like a password.
func anyValueLike(toks []string) bool {
	for _, raw := range toks {
		l, r := trimWrap(raw)
		if valueLike(raw[l:r]) {
			return true
		}
	}
	return false
}

// digitsOnlyCount returns the number of digits in t when t holds digits
// and separators only, else 0.
func digitsOnlyCount(t string) int {
	n := 0
	for _, c := range t {
		switch {
		case c >= '0' && c <= '9':
			n++
		case strings.ContainsRune(" -./", c):
		default:
			return 0
		}
	}
	return n
}

// valueLike reports whether a token next to a label looks like a
// password: what LooksLikeSecret sees, letters and digits mixed
// ("zomer2024", "8xk2pqrs") that are not a product name, or words with
// capitals joined by symbols ("Paard-Batterij-Nietje").
func valueLike(t string) bool {
	if LooksLikeSecret(t) {
		return true
	}
	lt := strings.ToLower(t)
	if strings.Contains(lt, "://") || strings.HasPrefix(lt, "www.") || emailRE.MatchString(t) || strings.HasPrefix(t, "[") {
		return false
	}
	var upper, lower, digit, symbol int
	for _, c := range t {
		switch {
		case unicode.IsUpper(c):
			upper++
		case unicode.IsLower(c):
			lower++
		case unicode.IsDigit(c):
			digit++
		default:
			symbol++
		}
	}
	letters := upper + lower
	if letters > 0 && digit > 0 && utf8.RuneCountInString(t) >= 5 && !allKnown(lt) {
		return true
	}
	return symbol > 0 && upper >= 2 && lower > 0 && utf8.RuneCountInString(t) >= 6
}

func wordBoundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

func wordBoundaryAfter(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}
