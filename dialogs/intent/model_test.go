package intent

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateModel = flag.Bool("update", false, "retrain model.bin from testdata/examples and the labelled TSVs")

// example is one labelled message the model learns from.
type example struct {
	where Context
	text  string
	label string // an intent, or "yes"/"no" for an answer
	set   string // the file it came from
}

// trainingExamples are the labelled messages in testdata/examples and
// the two TSVs. testdata/heldout-twentysecond.jsonl is not among them: it
// is the clean set the model is scored on and never learns from.
func trainingExamples(t *testing.T) []example {
	t.Helper()
	var out []example
	files, err := filepath.Glob("testdata/examples/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	sort.Strings(files)
	for _, f := range files {
		for _, h := range loadHeldOut(t, f) {
			out = append(out, example{contextOf(h.Context), h.Text, h.Intent, filepath.Base(f)})
		}
	}
	for _, f := range []string{"testdata/intents.tsv", "testdata/intents_holdout.tsv"} {
		for _, l := range loadLabelled(t, f) {
			out = append(out, example{Context{}, l.text, string(l.want), filepath.Base(f)})
		}
	}
	return out
}

// contextOf reads the examples' context names ("yesno:ask_old_phone").
func contextOf(s string) Context {
	kind, step, _ := strings.Cut(s, ":")
	where := map[string]Where{"": Anywhere, "welcome": AtWelcome, "yesno": AtYesNo, "trouble": AtTrouble,
		"step": AtStep, "check": AtCheck, "card": AtCard, "end": AtEnd}[kind]
	return Context{Where: where, Step: step}
}

// train fits averaged perceptrons to the examples, one per shuffle of
// trainingRuns, and sums their weights: still one linear model, steadier
// than any one run. Everything is integer arithmetic in a fixed order,
// so the same examples always give the same bytes.
func train(examples []example, epochs int) []byte {
	labels := []string{AnswerYes, AnswerNo}
	for _, in := range AllIntents {
		labels = append(labels, string(in))
	}
	sort.Strings(labels)
	class := map[string]int{}
	for i, l := range labels {
		class[l] = i
	}
	n := len(labels)
	feats := make([][]uint64, len(examples))
	kinds := make([]string, len(examples))
	sum := map[uint64][]float64{}
	for i, e := range examples {
		toks := normalize(e.text)
		if len(toks) > maxTokens {
			toks = toks[:maxTokens]
		}
		kind, full := whereKey(e.where)
		kinds[i] = kind
		features(kind, full, analyze(toks), func(h uint64) { feats[i] = append(feats[i], h) })
		for _, h := range feats[i] {
			if sum[h] == nil {
				sum[h] = make([]float64, n)
			}
		}
	}
	for run := 1; run <= trainingRuns; run++ {
		for h, a := range perceptron(feats, kinds, examples, labels, class, epochs, uint64(run)) {
			for k := range a {
				sum[h][k] += a[k]
			}
		}
	}
	// stored as int16 times a scale that fits the largest weight
	var hashes []uint64
	maxAbs := 0.0
	for h, a := range sum {
		zero := true
		for _, v := range a {
			maxAbs = math.Max(maxAbs, math.Abs(v))
			zero = zero && v == 0
		}
		if !zero {
			hashes = append(hashes, h)
		}
	}
	sort.Slice(hashes, func(i, j int) bool { return hashes[i] < hashes[j] })
	scale := 32000 / maxAbs
	w := make([]int16, 0, len(hashes)*n)
	for _, h := range hashes {
		for _, v := range sum[h] {
			w = append(w, int16(math.Round(v*scale)))
		}
	}
	// margins are read in the units of one run
	return encodeModel(labels, scale*float64(trainingRuns), hashes, w)
}

// perceptron is one averaged perceptron, its examples shuffled from seed:
// the average over all steps of each feature's weights.
func perceptron(feats [][]uint64, kinds []string, examples []example, labels []string, class map[string]int, epochs int, seed uint64) map[uint64][]float64 {
	n := len(labels)
	type row struct{ w, total []int64 } // total: the sum of w over time
	rows := map[uint64]*row{}
	for _, fs := range feats {
		for _, h := range fs {
			if rows[h] == nil {
				rows[h] = &row{make([]int64, n), make([]int64, n)}
			}
		}
	}
	order := make([]int, len(examples))
	for i := range order {
		order[i] = i
	}
	var tick int64
	scores := make([]int64, n)
	for e := 0; e < epochs; e++ {
		for i := len(order) - 1; i > 0; i-- { // a fixed shuffle
			seed = seed*6364136223846793005 + 1442695040888963407
			j := int(seed>>33) % (i + 1)
			order[i], order[j] = order[j], order[i]
		}
		for _, i := range order {
			tick++
			clear(scores)
			for _, h := range feats[i] {
				for k, w := range rows[h].w {
					scores[k] += w
				}
			}
			guess := -1
			for k := range scores {
				if allowedAt(kinds[i], labels[k]) && (guess < 0 || scores[k] > scores[guess]) {
					guess = k
				}
			}
			want := class[examples[i].label]
			if guess == want {
				continue
			}
			for _, h := range feats[i] {
				r := rows[h]
				r.w[want]++
				r.w[guess]--
				r.total[want] += tick
				r.total[guess] -= tick
			}
		}
	}
	avg := make(map[uint64][]float64, len(rows))
	for h, r := range rows {
		a := make([]float64, n)
		for k := range a {
			a[k] = float64(r.w[k]) - float64(r.total[k])/float64(tick)
		}
		avg[h] = a
	}
	return avg
}

// trainingEpochs is how often the trainer goes through the examples.
const trainingEpochs = 20

// trainingRuns is how many perceptrons, each with its own shuffle, are
// summed into the model.
const trainingRuns = 5

// TestModelIsTrainedFromTheExamples fails when model.bin is not what the
// examples and the rules train (an example, a cue or the features
// changed): go test ./dialogs/intent -run TestModelIsTrainedFromTheExamples -update
func TestModelIsTrainedFromTheExamples(t *testing.T) {
	got := train(trainingExamples(t), trainingEpochs)
	if *updateModel {
		if err := os.WriteFile("model.bin", got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("model.bin rewritten: %d bytes", len(got))
		return
	}
	if !bytes.Equal(got, modelBin) {
		t.Fatalf("model.bin is stale (%d bytes, trained %d): run go test ./dialogs/intent -run TestModelIsTrainedFromTheExamples -update", len(modelBin), len(got))
	}
	m, err := decodeModel(got)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("model: %d labels, %d features, %d bytes", len(m.labels), m.table.n, len(got))
}

// A broken or truncated model is an error, not a panic or a model.
func TestDecodeModelRefusesBrokenBytes(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":        nil,
		"no magic":     []byte("hello"),
		"magic only":   []byte(modelMagic),
		"short labels": append([]byte(modelMagic), 3, 2, 'n'),
		"truncated":    modelBin[:len(modelBin)-1],
	} {
		if _, err := decodeModel(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

var leaveOut = flag.String("leaveout", "", "TestLeaveOneSetOut: the example sets to score, each by a model trained without it (comma-separated file names, or all)")

// TestLeaveOneSetOut estimates how the reader does on messages it never
// saw: for each named set of testdata/examples, it trains on the other
// sets and scores that one (go test ./dialogs/intent -run
// TestLeaveOneSetOut -leaveout all -v). It takes a few seconds per set,
// so it runs only when asked.
func TestLeaveOneSetOut(t *testing.T) {
	if *leaveOut == "" {
		t.Skip("run with -leaveout all (or -leaveout 9-monday.jsonl,...)")
	}
	all := trainingExamples(t)
	sets := strings.Split(*leaveOut, ",")
	if *leaveOut == "all" {
		files, _ := filepath.Glob("testdata/examples/*.jsonl")
		sets = sets[:0]
		for _, f := range files {
			sets = append(sets, filepath.Base(f))
		}
	}
	defer func(m func() *model) { theModel = m }(theModel)
	var tot heldOutScore
	for _, set := range sets {
		var rest []example
		for _, e := range all {
			if e.set != set {
				rest = append(rest, e)
			}
		}
		m, err := decodeModel(train(rest, trainingEpochs))
		if err != nil {
			t.Fatal(err)
		}
		theModel = func() *model { return m }
		sc := scoreHeldOut(t, "testdata/examples/"+set, !testing.Verbose() || os.Getenv("LEAVEOUT_MISSES") == "")
		t.Logf("%s, trained without it: %s", set, sc)
		tot.outOK, tot.outN, tot.inOK, tot.inN, tot.susp = tot.outOK+sc.outOK, tot.outN+sc.outN, tot.inOK+sc.inOK, tot.inN+sc.inN, tot.susp+sc.susp
	}
	t.Logf("all: %s", tot)
}
