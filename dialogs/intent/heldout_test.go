package intent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// heldOut is one labelled message of a .jsonl set (testdata/examples,
// testdata/heldout-twentysecond.jsonl). context, when set, is where the
// student is: "welcome",
// "yesno:<step>" (a yes/no question), "trouble:<step>" (a check that
// asks whether it helped), "step:<id>", "check:<id>", "card:<id>". In a
// yes/no or trouble context the label is "yes" or "no" for an answer.
type heldOut struct {
	Context string `json:"context"`
	Lang    string `json:"lang"`
	Text    string `json:"text"`
	Intent  string `json:"intent"`
}

func loadHeldOut(t *testing.T, path string) []heldOut {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []heldOut
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var h heldOut
		if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if h.Intent != "yes" && h.Intent != "no" && !Valid(h.Intent) {
			t.Fatalf("line %d: unknown label %q", n, h.Intent)
		}
		rows = append(rows, h)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// heldOutReading is the label the matcher gives h: its intent, or, for an
// answer to a yes/no question or a check, "yes" or "no".
func heldOutReading(h heldOut) string {
	kind, step, _ := strings.Cut(h.Context, ":")
	where := map[string]Where{"": Anywhere, "welcome": AtWelcome, "yesno": AtYesNo, "trouble": AtTrouble,
		"step": AtStep, "check": AtCheck, "card": AtCard}[kind]
	r := MatchIn(Context{Where: where, Step: step}, h.Text, h.Lang)
	if r.Answer != "" {
		return r.Answer
	}
	if kind == "yesno" || kind == "trouble" {
		switch r.Intent {
		case IntentDone:
			return "yes"
		case IntentFailed:
			return "no"
		}
	}
	return string(r.Intent)
}

// heldOutScore is what the matcher reads right of a held-out file.
type heldOutScore struct {
	outOK, outN, inOK, inN, susp int
}

func (sc heldOutScore) String() string {
	return fmt.Sprintf("out of context %d/%d = %.1f%%; in context %d/%d = %.1f%%; suspicious misread %d",
		sc.outOK, sc.outN, sc.outPct(), sc.inOK, sc.inN, sc.inPct(), sc.susp)
}

// outPct and inPct are the shares read right; a set with no message of
// the kind (the sets of answers in context) reads all of them right.
func (sc heldOutScore) outPct() float64 { return pct(sc.outOK, sc.outN) }
func (sc heldOutScore) inPct() float64  { return pct(sc.inOK, sc.inN) }

func pct(ok, n int) float64 {
	if n == 0 {
		return 100
	}
	return 100 * float64(ok) / float64(n)
}

// scoreHeldOut reads every message of path and logs each miss.
func scoreHeldOut(t *testing.T, path string, quiet bool) heldOutScore {
	rows := loadHeldOut(t, path)
	if len(rows) < 300 {
		t.Fatalf("%s has %d messages, want at least 300", path, len(rows))
	}
	var sc heldOutScore
	for _, h := range rows {
		got := heldOutReading(h)
		ok := got == h.Intent
		if h.Context == "" {
			sc.outN++
		} else {
			sc.inN++
		}
		if ok {
			if h.Context == "" {
				sc.outOK++
			} else {
				sc.inOK++
			}
			continue
		}
		where := "out of context"
		if h.Context != "" {
			where = h.Context
		}
		if h.Intent == string(IntentSuspiciousPrompt) && got != string(IntentHuman) {
			sc.susp++
			if quiet {
				continue
			}
			t.Logf("SECURITY MISS [%s] %q: read %s", where, h.Text, got)
			continue
		}
		if quiet {
			continue
		}
		t.Logf("miss [%s] %q: read %s, want %s", where, h.Text, got, h.Intent)
	}
	return sc
}

// BenchmarkMatch measures the keyword matcher on a typical message.
func BenchmarkMatch(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Match("ik heb een nieuwe iphone en nu werkt de authenticater niet meer", "nl")
	}
}

// BenchmarkMatchShort measures a short typed answer (the fuzzy button
// labels are tried).
func BenchmarkMatchShort(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Match("medwerker graag", "nl")
	}
}

// The held-out set: written (2026-12-08) by a helper who saw neither the
// word lists, nor the examples, nor the model, from the brief in
// testdata/labelling.md and the seed guide only; never trained on.
// Twenty-second (568 messages, 344 out of context): keyword rules alone
// 84.6% / 83.5% / 12 suspicious misread; the reader as it was at the
// start of the day (commit 18a189e) 92.2% / 96.9% / 3; as shipped
// 96.8% / 97.8% / 1. Looked at twice: 97.4/97.8/1, then 96.8/97.8/1
// after a duplicated cue was removed (a change the sets left out of
// training read as neutral: 96.15/96.23/39 before, 96.04/96.27/38
// after, 15,081 messages). Only its score is looked at, never
// its misses (t.Logf prints them: run it without -v). The issue's
// targets are 97% out of context, 99% in context, 0 suspicious messages
// misread: none is met (out of context was, on the first look). The
// floors are the scores as shipped.
//
// The earlier clean sets were retired into the examples when their
// misses were read: eighth and twelfth (8-eighth, 12-twelfth),
// nineteenth (25-nineteenth; 93.8/98.3/3 on its first look, 96.2/97.8/2
// on its sixth and last), twentieth (26-twentieth; 97.7/98.7/3 on its
// one look) and twenty-first (29-twentyfirst; 96.8/97.8/0, two looks).
func TestHeldOutClean(t *testing.T) {
	for _, c := range []struct {
		file    string
		out, in float64 // floors
		susp    int     // most suspicious messages misread
	}{
		{"heldout-twentysecond.jsonl", 96.8, 97.7, 1},
	} {
		t.Run(c.file, func(t *testing.T) {
			sc := scoreHeldOut(t, "testdata/"+c.file, false)
			t.Logf("%s: %s (targets: 97%%, 99%%, 0)", c.file, sc)
			if sc.outPct() < c.out || sc.inPct() < c.in || sc.susp > c.susp {
				t.Errorf("worse than as shipped (%.1f%%, %.1f%%, %d suspicious misread): %s", c.out, c.in, c.susp, sc)
			}
		})
	}
}

// TestExamplesAreLearned scores the examples the model is trained on:
// not a measure of new messages, but a check that training and the
// rules around it work (a broken feature or a stale model reads its own
// examples badly).
func TestExamplesAreLearned(t *testing.T) {
	files, _ := filepath.Glob("testdata/examples/*.jsonl")
	for _, f := range files {
		sc := scoreHeldOut(t, f, true)
		t.Logf("%s: %s", filepath.Base(f), sc)
		if sc.outPct() < 95 || sc.inPct() < 95 || sc.susp > 0 {
			t.Errorf("%s: its own examples read badly: %s", filepath.Base(f), sc)
		}
	}
}
