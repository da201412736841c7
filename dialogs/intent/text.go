package intent

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// normalize lower-cases text, folds accents, drops apostrophes
// ("doesn't" -> "doesnt") and splits it into words of letters and digits.
func normalize(text string) []string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch r {
		case '\'', '’', '‘', '`', '´':
			continue
		case '👍', '✅', '👌', '✔':
			b.WriteString(" ok ")
			continue
		case '👎', '❌':
			b.WriteString(" niet ")
			continue
		case '?':
			b.WriteString(" ? ")
			continue
		}
		if f, ok := fold[r]; ok {
			r = f
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte(' ')
		}
	}
	toks := strings.Fields(b.String())
	for i, t := range toks {
		if len(t) > maxTokenBytes {
			toks[i] = truncateRunes(t, maxTokenBytes)
		}
	}
	return toks
}

// maxTokenBytes bounds a word: no word of the index is longer, and the
// typo search costs the square of a word's length (a 28 KB "word" would
// otherwise take minutes).
const maxTokenBytes = 40

// truncateRunes cuts s to at most n bytes, at a rune boundary.
func truncateRunes(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

var fold = map[rune]rune{
	'á': 'a', 'à': 'a', 'ä': 'a', 'â': 'a', 'ã': 'a', 'å': 'a',
	'é': 'e', 'è': 'e', 'ë': 'e', 'ê': 'e',
	'í': 'i', 'ì': 'i', 'ï': 'i', 'î': 'i',
	'ó': 'o', 'ò': 'o', 'ö': 'o', 'ô': 'o', 'õ': 'o',
	'ú': 'u', 'ù': 'u', 'ü': 'u', 'û': 'u',
	'ç': 'c', 'ñ': 'n', 'ĳ': 'y',
}

// osa is the optimal string alignment distance (Levenshtein with
// adjacent transpositions), on runes.
func osa(a, b string) int {
	if len(a) < 32 && len(b) < 32 {
		var bufA, bufB [32]rune
		return osaRunes(appendRunes(bufA[:0], a), appendRunes(bufB[:0], b))
	}
	return osaRunes([]rune(a), []rune(b))
}

func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}

func osaRunes(ra, rb []rune) int {
	la, lb := len(ra), len(rb)
	if la == 0 {
		return lb
	}
	if lb == 0 {
		return la
	}
	var rows [3][33]int
	var prev2, prev, cur []int
	if lb < 33 {
		prev2, prev, cur = rows[0][:lb+1], rows[1][:lb+1], rows[2][:lb+1]
	} else {
		prev2, prev, cur = make([]int, lb+1), make([]int, lb+1), make([]int, lb+1)
	}
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// allowedTypos is how many edits a word of n letters may carry and still
// match: none for short words (stop/stap, done/gone), one up to eight
// letters (gekocht/verkocht stay apart), two from nine.
func allowedTypos(n int) int {
	switch {
	case n <= 4:
		return 0
	case n <= 8:
		return 1
	default:
		return 2
	}
}

// exactWords are function words that differ from each other by one
// letter and mean different things ("niet"/"niets", "mij"/"mijn",
// "komen"/"komt"): they never match with a typo.
var exactWords = map[string]bool{
	"niet": true, "niets": true, "niks": true, "geen": true, "nooit": true, "nog": true, "not": true, "no": true,
	"nothing": true, "never": true, "now": true, "mij": true, "mijn": true, "me": true, "my": true, "wel": true,
	"van": true, "dan": true, "dat": true, "wat": true, "what": true, "that": true, "there": true, "where": true,
	"here": true, "hier": true, "meer": true, "weer": true, "komen": true, "komt": true, "kom": true,
}

// wordLike reports whether token t is the word w, allowing typos.
func wordLike(t, w string) bool {
	if t == w {
		return true
	}
	if exactWords[w] || exactWords[t] {
		return false
	}
	k := allowedTypos(len([]rune(w)))
	if k == 0 {
		return false
	}
	d := len([]rune(t)) - len([]rune(w))
	if d > k || -d > k {
		return false
	}
	return osa(t, w) <= k
}

// ptok is one word of a pattern: a word (with typos), "=x" without
// typos, prefix "x*", suffix "*x", contains "*x*"; gap means up to maxGap
// words may come before it. id is the word's id in the fuzzy index.
type ptok struct {
	id  int32
	gap bool
}

const maxGap = 4

type pattern []ptok

// pat compiles "niet ~ aangevraagd" style patterns: words separated by
// spaces, "~" allows a gap of a few words.
func pat(s string) pattern {
	var p pattern
	gap := false
	for _, f := range strings.Fields(s) {
		if f == "~" {
			gap = true
			continue
		}
		k := wordKey{kind: kindWord, w: f}
		switch {
		case len(f) > 1 && strings.HasPrefix(f, "="):
			k = wordKey{kindExact, f[1:]}
		case len(f) > 2 && strings.HasPrefix(f, "*") && strings.HasSuffix(f, "*"):
			k = wordKey{kindContains, f[1 : len(f)-1]}
		case strings.HasSuffix(f, "*"):
			k = wordKey{kindPrefix, f[:len(f)-1]}
		case strings.HasPrefix(f, "*"):
			k = wordKey{kindSuffix, f[1:]}
		}
		p = append(p, ptok{id: wordID(k), gap: gap})
		gap = false
	}
	return p
}

// at reports whether p[k:] matches the message's tokens from i on.
func (p pattern) at(a *analysis, i, k int) bool {
	if k == len(p) {
		return true
	}
	gap := 0
	if p[k].gap {
		gap = maxGap
	}
	for j := i; j < len(a.toks) && j <= i+gap; j++ {
		if a.has(j, p[k].id) && p.at(a, j+1, k+1) {
			return true
		}
	}
	return false
}
