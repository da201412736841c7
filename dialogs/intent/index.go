package intent

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// The matcher's speed: every word of every cue gets an id when the cues
// are built; once, at the first message, the fuzzy index maps every
// spelling within a word's typo allowance (its deletion neighbourhood) to
// the word. Reading a message then looks each token up once, finds the
// words it may be, and marks every cue present in one pass; the rules
// in match() only read those marks. Nothing of the vocabulary is built
// per message.

type wordKind byte

const (
	kindWord     wordKind = iota // a word, typos allowed by its length
	kindExact                    // "=x"
	kindPrefix                   // "x*"
	kindSuffix                   // "*x"
	kindContains                 // "*x*"
)

type wordKey struct {
	kind wordKind
	w    string
}

var (
	wordIDs  map[wordKey]int32
	wordList []wordKey
	allCues  []*cueDef
)

func wordID(k wordKey) int32 {
	if wordIDs == nil {
		wordIDs = map[wordKey]int32{}
	}
	if id, ok := wordIDs[k]; ok {
		return id
	}
	id := int32(len(wordList))
	wordIDs[k] = id
	wordList = append(wordList, k)
	return id
}

// cueDef is a set of patterns; it is present when any pattern matches.
type cueDef struct {
	id     int
	hash   uint64 // of its patterns: the learned reader's name for it
	pats   []pattern
	single map[int32]bool // ids of its one-word patterns
}

type cue = *cueDef

func cues(ss ...string) cue {
	c := &cueDef{id: len(allCues), hash: hashOf(strings.Join(ss, "|")), single: map[int32]bool{}}
	for _, s := range ss {
		p := pat(s)
		if len(p) == 0 {
			continue
		}
		c.pats = append(c.pats, p)
		if len(p) == 1 {
			c.single[p[0].id] = true
		}
	}
	allCues = append(allCues, c)
	return c
}

type patRef struct {
	cue int
	p   pattern
}

// index is the fuzzy index, built once.
type index struct {
	exact    map[string][]int32 // words without typos, "=x", typo words themselves
	del      map[string][]int32 // deletion neighbourhood of typo words
	prefix   map[string][]int32 // stems, exactly
	pdel     map[string][]int32 // stems of 6 letters or more and their 1-deletions
	maxStem  int
	suffix   map[string][]int32
	contains []int32
	byFirst  [][]patRef // word id -> patterns starting with it
	wordHash []uint64   // word id -> the learned reader's hash of the word
	// the lengths of the stems and suffixes, so that a word is looked up
	// only by the lengths that can match
	prefixLen, suffixLen []bool
	nCues                int
}

var (
	idxOnce sync.Once
	idx     *index
)

func theIndex() *index {
	idxOnce.Do(func() { idx = buildIndex() })
	return idx
}

func addTo(m map[string][]int32, k string, id int32) {
	for _, x := range m[k] {
		if x == id {
			return
		}
	}
	m[k] = append(m[k], id)
}

// deletions calls f with s and every string made from s by deleting one
// rune, or two when k is 2 (some more than once). f must not keep b.
func deletions(s string, k int, buf []byte, f func(b []byte)) {
	f(append(buf[:0], s...))
	if k == 0 {
		return
	}
	var buf2 [64]byte
	for i, n := 0, 0; i < len(s); i += n {
		_, n = utf8.DecodeRuneInString(s[i:]) // the bytes it takes, also for a cut or invalid one
		rest := s[i+n:]
		f(append(append(buf[:0], s[:i]...), rest...))
		if k < 2 {
			continue
		}
		for j, n2 := 0, 0; j < len(rest); j += n2 {
			_, n2 = utf8.DecodeRuneInString(rest[j:])
			f(append(append(append(buf2[:0], s[:i]...), rest[:j]...), rest[j+n2:]...))
		}
	}
}

func buildIndex() *index {
	x := &index{exact: map[string][]int32{}, del: map[string][]int32{}, prefix: map[string][]int32{},
		pdel: map[string][]int32{}, suffix: map[string][]int32{}, nCues: len(allCues)}
	buf := make([]byte, 0, 64)
	for id, k := range wordList {
		id := int32(id)
		switch k.kind {
		case kindExact:
			addTo(x.exact, k.w, id)
		case kindWord:
			addTo(x.exact, k.w, id)
			if n := allowedTypos(utf8.RuneCountInString(k.w)); n > 0 && !exactWords[k.w] {
				deletions(k.w, n, buf, func(b []byte) { addTo(x.del, string(b), id) })
			}
		case kindPrefix:
			addTo(x.prefix, k.w, id)
			if len(k.w) >= 6 {
				deletions(k.w, 1, buf, func(b []byte) { addTo(x.pdel, string(b), id) })
				x.maxStem = max(x.maxStem, len(k.w))
			}
		case kindSuffix:
			addTo(x.suffix, k.w, id)
		case kindContains:
			x.contains = append(x.contains, id)
		}
	}
	lens := func(m map[string][]int32) []bool {
		var l []bool
		for k := range m {
			for len(l) <= len(k) {
				l = append(l, false)
			}
			l[len(k)] = true
		}
		return l
	}
	x.prefixLen, x.suffixLen = lens(x.prefix), lens(x.suffix)
	x.wordHash = make([]uint64, len(wordList))
	for id, k := range wordList {
		x.wordHash[id] = hashOf(k.w)
	}
	x.byFirst = make([][]patRef, len(wordList))
	for _, c := range allCues {
		for _, p := range c.pats {
			x.byFirst[p[0].id] = append(x.byFirst[p[0].id], patRef{c.id, p})
		}
	}
	return x
}

// analysis is one message read against the index: its tokens, the word
// ids each token may be, and the cues present.
type analysis struct {
	toks    []string
	ids     [][]int32
	present []uint64
}

func (a *analysis) has(i int, id int32) bool {
	for _, x := range a.ids[i] {
		if x == id {
			return true
		}
	}
	return false
}

func appendID(ids []int32, id int32) []int32 {
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

// analyze reads toks against the index.
func analyze(toks []string) *analysis {
	x := theIndex()
	a := &analysis{toks: toks, ids: make([][]int32, len(toks)), present: make([]uint64, (x.nCues+63)/64)}
	buf := make([]byte, 0, 64)
	var seen map[string]int // a token is looked up once per message
	if len(toks) > 16 {
		seen = make(map[string]int, len(toks))
	}
	// every token's ids are appended to one buffer, one token at a time
	arena := make([]int32, 0, 8*len(toks))
	for i, t := range toks {
		if j, ok := seenAt(seen, toks[:i], t); ok {
			a.ids[i] = a.ids[j]
			continue
		}
		if seen != nil {
			seen[t] = i
		}
		start := len(arena)
		ids := append(arena, x.exact[t]...)[start:]
		if !exactWords[t] {
			k := 0
			switch n := utf8.RuneCountInString(t); {
			case n >= 7:
				k = 2
			case n >= 4:
				k = 1
			}
			if k > 0 {
				deletions(t, k, buf, func(b []byte) {
					for _, id := range x.del[string(b)] {
						if !containsID(ids, id) && wordLike(t, wordList[id].w) {
							ids = append(ids, id)
						}
					}
				})
			}
		}
		for m := 1; m <= len(t) && m < len(x.prefixLen); m++ {
			if !x.prefixLen[m] {
				continue
			}
			for _, id := range x.prefix[t[:m]] {
				ids = appendID(ids, id)
			}
		}
		for m := 5; m <= len(t) && m <= x.maxStem+1; m++ {
			deletions(t[:m], 1, buf, func(b []byte) {
				for _, id := range x.pdel[string(b)] {
					if !containsID(ids, id) && prefixTypo(t, wordList[id].w) {
						ids = append(ids, id)
					}
				}
			})
		}
		for m := 0; m < len(t); m++ {
			if n := len(t) - m; n >= len(x.suffixLen) || !x.suffixLen[n] {
				continue
			}
			for _, id := range x.suffix[t[m:]] {
				ids = appendID(ids, id)
			}
		}
		for _, id := range x.contains {
			if strings.Contains(t, wordList[id].w) {
				ids = appendID(ids, id)
			}
		}
		arena = append(arena[:start], ids...)
		a.ids[i] = arena[start:len(arena):len(arena)]
	}
	for i := range toks {
		for _, id := range a.ids[i] {
			for _, r := range x.byFirst[id] {
				if a.present[r.cue/64]&(1<<(r.cue%64)) != 0 {
					continue
				}
				if r.p.at(a, i+1, 1) {
					a.present[r.cue/64] |= 1 << (r.cue % 64)
				}
			}
		}
	}
	return a
}

// seenAt finds t among the tokens before it: in seen when the message is
// long, by looking back when it is short (no map to build).
func seenAt(seen map[string]int, before []string, t string) (int, bool) {
	if seen != nil {
		j, ok := seen[t]
		return j, ok
	}
	for j, b := range before {
		if b == t {
			return j, true
		}
	}
	return 0, false
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// prefixTypo: a typo inside the stem w of six letters or more: the
// token's start, one letter shorter or longer than the stem too
// ("telefon", "telefooon").
func prefixTypo(tok, w string) bool {
	n := len(w)
	if n < 6 {
		return false
	}
	for _, m := range []int{n - 1, n, n + 1} {
		if m <= len(tok) && osa(tok[:m], w) <= 1 {
			return true
		}
	}
	return false
}

// in reports whether the cue is present in the message.
func (c *cueDef) in(a *analysis) bool {
	return a.present[c.id/64]&(1<<(c.id%64)) != 0
}

// at reports whether one of the cue's one-word patterns matches token i.
func (c *cueDef) at(a *analysis, i int) bool {
	if i < 0 || i >= len(a.toks) {
		return false
	}
	for _, id := range a.ids[i] {
		if c.single[id] {
			return true
		}
	}
	return false
}
