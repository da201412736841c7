package llm

import (
	"strings"
	"unicode"
)

// Frequent function words of Dutch and English; enough to tell which of
// the two a few sentences are in. The bot's own detector
// (intent.DetectLanguage) can be passed in Config.DetectLanguage.
var (
	nlFunc = set("de", "het", "een", "en", "van", "je", "jouw", "jij", "ik", "mijn", "niet", "op", "met", "dat",
		"die", "er", "is", "wordt", "worden", "kun", "kunt", "kan", "moet", "naar", "voor", "bij", "als", "dan",
		"ook", "nog", "geen", "wel", "om", "te", "zijn", "heb", "hebt", "heeft", "deze", "dit", "daarna", "waar",
		"wat", "hoe", "waarom", "omdat", "zodat", "telefoon", "tik", "klik", "open", "app", "stap", "daar",
		"hier", "of", "maar", "uit", "aan", "je", "jou", "u", "uw", "zo", "nu", "even", "andere", "ander")
	enFunc = set("the", "a", "an", "and", "of", "you", "your", "i", "my", "not", "on", "with", "that", "it",
		"is", "are", "be", "can", "must", "should", "to", "for", "at", "if", "then", "also", "still", "no",
		"this", "these", "after", "where", "what", "how", "why", "because", "so", "phone", "tap", "click",
		"open", "app", "step", "there", "here", "or", "but", "out", "now", "other", "another", "will", "do",
		"does", "have", "has", "from", "by", "which", "when", "new", "sign", "in")
)

func set(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// detectLanguage returns "nl", "en" or "" for text.
func detectLanguage(text string) string {
	var nl, en int
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	}) {
		if nlFunc[w] {
			nl++
		}
		if enFunc[w] {
			en++
		}
	}
	switch {
	case nl > en && nl >= 2:
		return "nl"
	case en > nl && en >= 2:
		return "en"
	}
	return ""
}
