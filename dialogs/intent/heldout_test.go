package intent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// heldOut is one labelled message of testdata/heldout2026.jsonl: written
// by people who never saw the word lists, and only ever scored here, never
// tuned on. context, when set, is where the student is: "welcome",
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

func (sc heldOutScore) outPct() float64 { return 100 * float64(sc.outOK) / float64(sc.outN) }
func (sc heldOutScore) inPct() float64  { return 100 * float64(sc.inOK) / float64(sc.inN) }

// scoreHeldOut reads every message of path and logs each miss.
func scoreHeldOut(t *testing.T, path string) heldOutScore {
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
			t.Logf("SECURITY MISS [%s] %q: read %s", where, h.Text, got)
			continue
		}
		t.Logf("miss [%s] %q: read %s, want %s", where, h.Text, got, h.Intent)
	}
	return sc
}

// TestHeldOut2026 scores the held-out set and enforces the targets: at
// least 97% read right out of context, at least 99% in context, and no
// description of unrequested sign-ins read as anything but
// suspicious_prompt or human. (Its misses were seen while the matcher
// was improved: TestHeldOutFresh is the clean figure.)
func TestHeldOut2026(t *testing.T) {
	sc := scoreHeldOut(t, "testdata/heldout2026.jsonl")
	t.Logf("held-out 2026: %s", sc)
	if sc.outPct() < 97 {
		t.Errorf("out of context %.1f%% read right, want at least 97%%", sc.outPct())
	}
	if sc.inPct() < 99 {
		t.Errorf("in context %.1f%% read right, want at least 99%%", sc.inPct())
	}
	if sc.susp > 0 {
		t.Errorf("%d suspicious messages read as something other than suspicious_prompt or human", sc.susp)
	}
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

// TestHeldOutLaterSets scores the later sets, each written (2026-12-07)
// by someone who saw neither the word lists nor the other sets, after the
// matcher's last change. Each set's first score, untouched, was the
// honest figure; the matcher was then improved on its misses (by kind of
// message, security first), so a set now only guards against getting
// worse than after that. The last set scored before a change is the
// clean figure of that change.
func TestHeldOutLaterSets(t *testing.T) {
	for _, c := range []struct {
		file, first string  // the first, honest score
		out, in     float64 // its floors after tuning
	}{
		{"heldout-fresh.jsonl", "out of context 153/192 = 79.7%, in context 147/172 = 85.5%, 12 of 56 suspicious misread", 97, 98.5},
		{"heldout-third.jsonl", "out of context 154/201 = 76.6%, in context 124/151 = 82.1%, 21 of 61 suspicious misread", 93, 96.5},
		{"heldout-fourth.jsonl", "out of context 155/200 = 77.5%, in context 139/152 = 91.4%, 14 of 56 suspicious misread", 91, 96},
		{"heldout-fifth.jsonl", "out of context 205/244 = 84.0%, in context 163/187 = 87.2%, 19 of 97 suspicious misread", 94, 96},
	} {
		t.Run(c.file, func(t *testing.T) {
			sc := scoreHeldOut(t, "testdata/"+c.file)
			t.Logf("%s: %s (first score: %s)", c.file, sc, c.first)
			if sc.outPct() < c.out || sc.inPct() < c.in || sc.susp > 0 {
				t.Errorf("worse than after its tuning (out of context >= %.1f%%, in context >= %.1f%%, 0 suspicious misread): %s", c.out, c.in, sc)
			}
		})
	}
}

// TestHeldOutSixth scores a sixth set (389 messages), written (2026-12-07)
// by someone who saw neither the word lists nor the other sets, after the
// matcher's last change, and never tuned on: the clean figure of the
// matcher as it is (out of context 194/219 = 88.6%, in context
// 155/170 = 91.2%, 2 of 54 suspicious messages misread). Its first score
// is its floor; change the matcher on its misses only with a new set to
// measure by.
func TestHeldOutSixth(t *testing.T) {
	sc := scoreHeldOut(t, "testdata/heldout-sixth.jsonl")
	t.Logf("held-out sixth: %s", sc)
	if sc.outPct() < 88.5 || sc.inPct() < 91 || sc.susp > 2 {
		t.Errorf("worse than its first score (out of context 88.6%%, in context 91.2%%, 2 suspicious misread): %s", sc)
	}
}
