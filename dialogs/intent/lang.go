package intent

// Function words and frequent words that tell Dutch from English in a
// short student message. Words both languages share (app, help, stop,
// ok, is) are in neither list.
var (
	nlWords = wordSet("ik", "je", "jij", "jou", "jouw", "mijn", "me", "mij", "het", "de", "een", "niet", "wel", "en",
		"van", "op", "met", "maar", "dat", "die", "er", "wat", "hoe", "waarom", "heb", "hebt", "heeft", "kan",
		"kun", "kunt", "krijg", "krijgt", "geen", "nog", "ook", "telefoon", "lukt", "gelukt", "graag", "nieuwe",
		"nieuw", "werkt", "moet", "dit", "deze", "naar", "zijn", "wil", "doe", "bij", "aub", "alsjeblieft",
		"bedankt", "dank", "hoi", "nee", "ja", "meer", "waar", "wanneer", "welke", "zelfde", "hetzelfde",
		"nummer", "kwijt", "kapot", "stuk", "oude", "inloggen", "aanmelden", "melding", "meldingen", "uitleg",
		"klaar", "gedaan", "terug", "opnieuw", "medewerker", "nederlands", "engels", "omdat", "als", "dan",
		"zo", "nu", "al", "te", "om", "voor", "uit", "niks", "niets", "iets", "zie", "snap", "begrijp", "ben",
		"was", "wordt", "word", "gaat", "doet", "weet", "hallo", "goedemorgen", "verloren", "gestolen",
		"aangevraagd", "toestel", "even", "echt", "steeds", "weer", "wij", "we", "jullie", "u", "hij", "zij")
	enWords = wordSet("i", "my", "the", "a", "an", "not", "and", "of", "on", "with", "but", "that", "it",
		"what", "how", "why", "have", "has", "can", "get", "getting", "no", "new", "phone", "doesnt", "dont",
		"didnt", "cant", "works", "work", "working", "please", "thanks", "thank", "you", "hi", "hello", "yes",
		"to", "do", "need", "want", "this", "lost", "me", "your", "still", "again", "same", "number", "old",
		"broken", "stolen", "sign", "login", "notification", "notifications", "explain", "done", "back",
		"english", "dutch", "because", "if", "then", "so", "now", "already", "for", "from", "nothing",
		"something", "see", "understand", "am", "im", "was", "is", "are", "does", "know", "got", "anymore",
		"when", "where", "which", "who", "there", "they", "we", "he", "she", "any", "just", "its", "there",
		"person", "talk", "human", "requests", "request", "approve", "someone", "keep")
)

func wordSet(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// DetectLanguage guesses the language of a student's own message: "nl",
// "en", or "" when the message is too short or too mixed to tell (a
// bare "help", "ok", "done" or "thanks" must not switch the
// conversation's language).
func DetectLanguage(text string) string {
	var nl, en int
	for _, t := range normalize(text) {
		if nlWords[t] {
			nl++
		}
		if enWords[t] {
			en++
		}
	}
	// Two words at least: a single "done", "thanks" or "sorry" in a Dutch
	// conversation (or "ja" in an English one) must not switch it.
	switch {
	case nl > en && nl >= 2:
		return "nl"
	case en > nl && en >= 2:
		return "en"
	}
	return ""
}
