package intent

import (
	_ "embed"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"sync"
)

// The learned reader: an averaged perceptron over the message's words,
// word pairs, letter groups, the index's typo-tolerant word matches and
// the cues present, each also crossed with where the student is. It is
// trained on the labelled examples in testdata (model_test.go, with
// -update) and shipped as model.bin; the hand-written rules stay the
// security net around it (MatchIn).

//go:embed model.bin
var modelBin []byte

// model is the decoded model.bin.
type model struct {
	labels []string // class names: the intents and "yes", "no"
	scale  float64  // weights are stored times scale
	table  rowTable // feature hash -> offset of its weights in w
	w      []int16  // len(labels) weights per feature
}

// rowTable is an open-addressing hash table from a feature's hash to its
// row: a message looks up a few hundred features, and this is about
// twice as fast as a map. Hash 0 marks an empty slot (no feature has it:
// see nonZero).
type rowTable struct {
	keys []uint64
	offs []int32
	mask uint64
	n    int
}

func newRowTable(rows int) rowTable {
	size := 1
	for size < 2*rows {
		size <<= 1
	}
	return rowTable{keys: make([]uint64, size), offs: make([]int32, size), mask: uint64(size - 1)}
}

func (t *rowTable) put(h uint64, off int32) {
	i := h & t.mask
	for t.keys[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.keys[i], t.offs[i] = h, off
	t.n++
}

func (t *rowTable) get(h uint64) (int32, bool) {
	for i := h & t.mask; t.keys[i] != 0; i = (i + 1) & t.mask {
		if t.keys[i] == h {
			return t.offs[i], true
		}
	}
	return 0, false
}

// nonZero keeps hash 0 free for rowTable's empty slots.
func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

var theModel = sync.OnceValue(func() *model {
	m, err := decodeModel(modelBin)
	if err != nil {
		panic("intent: model.bin: " + err.Error()) // embedded: only a broken build gets here
	}
	return m
})

const modelMagic = "MFAM1\n"

// decodeModel reads the format encodeModel writes: the magic, the class
// count and names, the scale, then per feature its hash and weights.
func decodeModel(b []byte) (*model, error) {
	bad := errors.New("truncated or not a model")
	if !strings.HasPrefix(string(b), modelMagic) {
		return nil, bad
	}
	b = b[len(modelMagic):]
	if len(b) < 1 {
		return nil, bad
	}
	m := &model{}
	n := int(b[0])
	if n > maxLabels {
		return nil, errors.New("more classes than a reading holds")
	}
	b = b[1:]
	for i := 0; i < n; i++ {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return nil, bad
		}
		m.labels = append(m.labels, string(b[1:1+int(b[0])]))
		b = b[1+int(b[0]):]
	}
	if len(b) < 12 {
		return nil, bad
	}
	m.scale = math.Float64frombits(binary.LittleEndian.Uint64(b))
	rows := int(binary.LittleEndian.Uint32(b[8:]))
	b = b[12:]
	if len(b) != rows*(8+2*n) {
		return nil, bad
	}
	m.table = newRowTable(rows)
	m.w = make([]int16, rows*n)
	for r := 0; r < rows; r++ {
		h := binary.LittleEndian.Uint64(b)
		if _, dup := m.table.get(h); dup || h == 0 {
			return nil, errors.New("a feature twice, or hash 0")
		}
		m.table.put(h, int32(r*n))
		b = b[8:]
		for k := 0; k < n; k++ {
			m.w[r*n+k] = int16(binary.LittleEndian.Uint16(b))
			b = b[2:]
		}
	}
	return m, nil
}

// encodeModel is decodeModel's inverse; rows are written in the order
// given (the trainer sorts them, so a model's bytes are reproducible).
func encodeModel(labels []string, scale float64, hashes []uint64, w []int16) []byte {
	b := []byte(modelMagic)
	b = append(b, byte(len(labels)))
	for _, l := range labels {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(scale))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(hashes)))
	for r, h := range hashes {
		b = binary.LittleEndian.AppendUint64(b, h)
		for k := range labels {
			b = binary.LittleEndian.AppendUint16(b, uint16(w[r*len(labels)+k]))
		}
	}
	return b
}

// fnv is an FNV-1a hash of a word, built without allocating.
type fnv uint64

const fnvStart fnv = 14695981039346656037

func (h fnv) str(s string) fnv {
	for i := 0; i < len(s); i++ {
		h = (h ^ fnv(s[i])) * 1099511628211
	}
	return h
}

func (h fnv) byte(b byte) fnv { return (h ^ fnv(b)) * 1099511628211 }

// mix joins a feature's parts, each already hashed.
func mix(h, x uint64) uint64 {
	h = (h ^ x) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

func hashOf(s string) uint64 { return uint64(fnvStart.str(s)) }

// Feature families; a feature's hash is its family mixed with its parts.
var (
	fBias  = hashOf("bias")
	fWhere = hashOf("where")
	fKind  = hashOf("kind")
	fWord  = hashOf("w")
	fPair  = hashOf("b")
	fGram  = fnvStart.str("c")
	fMatch = hashOf("wid")
	fCue   = hashOf("cue")
	fKWord = hashOf("kw")
	fKCue  = hashOf("kcue")
	fQWord = hashOf("qw")
	fNeg   = hashOf("neg")
	hStart = hashOf("^")
	hEnd   = hashOf("$")
)

// maxModelTokens bounds the words the learned reader looks at; what a
// student means is in the first lines.
const maxModelTokens = 60

// whereKey names c as the examples do: "" out of context, "welcome",
// "yesno:ask_old_phone", "step:step08", ...
func whereKey(c Context) (kind, full string) {
	switch c.Where {
	case AtWelcome:
		return "welcome", "welcome"
	case AtYesNo:
		kind = "yesno"
	case AtTrouble:
		kind = "trouble"
	case AtStep:
		kind = "step"
	case AtCheck:
		kind = "check"
	case AtCard:
		kind = "card"
	case AtEnd:
		return "end", "end"
	default:
		return "", ""
	}
	return kind, kind + ":" + c.Step
}

// features calls f with the hash of every feature of the message a read
// where the student is (kind, full from whereKey): its words, word
// pairs, letter groups, the index's typo-tolerant matches of each word,
// and the cues present; the words and cues also crossed with the kind of
// place.
func features(kind, full string, a *analysis, emit func(uint64)) {
	f := func(h uint64) { emit(nonZero(h)) }
	x := theIndex()
	kh := hashOf(kind)
	f(fBias)
	f(mix(fWhere, hashOf(full)))
	f(mix(fKind, kh))
	kWord, kCue := mix(fKWord, kh), mix(fKCue, kh)
	// an answer's words are read against the question asked ("veranderd"
	// answers ask_same_number with no, not ask_old_phone)
	question := kind == "yesno" || kind == "trouble"
	qWord := mix(fQWord, hashOf(full))
	toks := a.toks
	if len(toks) > maxModelTokens {
		toks = toks[:maxModelTokens]
	}
	prev := hStart
	lastNeg := -10
	for i, t := range toks {
		th := hashOf(t)
		f(mix(fWord, th))
		// in an answer, a word just after a negation is its own
		// feature: "niet kwijt", "not broken", "never changed" answer
		// yes
		if negation[t] {
			lastNeg = i
		} else if question && i-lastNeg <= negationScope {
			f(mix(mix(fNeg, qWord), th))
		}
		f(mix(mix(fPair, prev), th))
		if kind != "" {
			f(mix(kWord, th))
		}
		if question {
			f(mix(qWord, th))
		}
		// letter groups of 3 of "<t>", for typos and word forms (groups
		// of 4 as well read no better on left-out sets, and cost 25% of
		// the time)
		const n = 3
		for s := -1; s+n <= len(t)+1; s++ {
			h := fGram.byte(byte(n))
			for j := s; j < s+n; j++ {
				switch {
				case j < 0:
					h = h.byte('<')
				case j >= len(t):
					h = h.byte('>')
				default:
					h = h.byte(t[j])
				}
			}
			f(uint64(h))
		}
		for _, id := range a.ids[i] {
			f(mix(fMatch, x.wordHash[id]))
		}
		prev = th
	}
	f(mix(mix(fPair, prev), hEnd))
	for _, c := range allCues {
		if c.in(a) {
			f(mix(fCue, c.hash))
			if kind != "" {
				f(mix(kCue, c.hash))
			}
		}
	}
}

// negation are the words whose next few words (negationScope) are read
// as negated.
var negation = map[string]bool{
	"niet": true, "nie": true, "geen": true, "nooit": true, "niks": true, "niets": true, "nee": true, "zonder": true,
	"not": true, "no": true, "never": true, "nothing": true, "nope": true, "without": true, "dont": true,
	"didnt": true, "doesnt": true, "isnt": true, "wasnt": true, "havent": true, "hasnt": true, "cant": true,
	"wont": true, "arent": true, "aint": true,
}

const negationScope = 3

// allowedAt reports whether label is a possible reading where the
// student is: "yes" and "no" only answer a question, and a situation is
// told at the welcome (or out of context), not inside the steps.
func allowedAt(kind, label string) bool {
	question := kind == "yesno" || kind == "trouble"
	if label == AnswerYes || label == AnswerNo {
		return question
	}
	switch kind {
	case "", "welcome", "end":
		return true
	case "yesno", "trouble":
		return !situation(Intent(label)) && label != string(IntentDone) && label != string(IntentFailed)
	}
	return !situation(Intent(label))
}

// maxLabels bounds the classes, so that scores live on the stack.
const maxLabels = 32

// read is the model's reading of a where the student is: the best
// allowed class and its margin over the next one, in weight units.
func (m *model) read(c Context, a *analysis) (label string, margin float64) {
	return m.readExcept(c, a, "")
}

// readExcept is read with one class (except) not possible.
func (m *model) readExcept(c Context, a *analysis, except Intent) (label string, margin float64) {
	kind, full := whereKey(c)
	var scores [maxLabels]int32
	n := len(m.labels)
	features(kind, full, a, func(h uint64) {
		if off, ok := m.table.get(h); ok {
			for k, w := range m.w[off : off+int32(n)] {
				scores[k] += int32(w)
			}
		}
	})
	best, second := -1, -1
	for k := 0; k < n; k++ {
		if !allowedAt(kind, m.labels[k]) || m.labels[k] == string(except) {
			continue
		}
		switch {
		case best < 0 || scores[k] > scores[best]:
			best, second = k, best
		case second < 0 || scores[k] > scores[second]:
			second = k
		}
	}
	if best < 0 {
		return string(IntentOther), 0
	}
	d := float64(scores[best])
	if second >= 0 {
		d -= float64(scores[second])
	}
	return m.labels[best], d / m.scale
}

// marginConfident is the margin from which the model's readings are as
// reliable as the rules' confident ones. Measured on sets left out of
// training (sets 7, 9 and 10, 1,460 messages): readings with a margin
// below 30 were right 77% of the time, those above it 97% or more.
const marginConfident = 30

// confidenceOf maps a margin to 0..1: 0.8 at marginConfident, above
// KeywordThreshold (0.7) from two thirds of it.
func confidenceOf(margin float64) float64 {
	if margin <= 0 {
		return 0.5
	}
	// 0.5 + 0.5*m/(m+k) is 0.8 at m = 1.5k, 0.7 at m = 2k/3.
	k := marginConfident / 1.5
	return math.Round((0.5+0.5*margin/(margin+k))*100) / 100
}
