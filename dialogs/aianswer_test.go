package dialogs

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"mfabot/dialogs/intent"
	"mfabot/graph"
)

// withAnswerer gives the harness a runner with ans and settings s.
func withAnswerer(t *testing.T, h *harness, ans Answerer, s Settings) {
	t.Helper()
	r, err := NewRunner(RunnerOptions{Store: h.st, Directory: h.dir, Escalator: h.esc, Answerer: ans, Settings: s, Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
}

// aiReplies are the replies marked as the model's.
func aiReplies(rs []Reply) []Reply {
	var out []Reply
	for _, r := range rs {
		if r.AI != nil {
			out = append(out, r)
		}
	}
	return out
}

// The model's answer is one reply marked as AI-written, with the current
// step (its public help page section) and the service desk as sources;
// the step card after it, and every text the bot wrote itself, is not.
func TestGroundedAnswerIsMarkedWithSources(t *testing.T) {
	for _, lang := range []string{"nl", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			if lang == "en" {
				h.ref.Locale = "en-GB"
			}
			set := testSettings
			set.PublicHelpURL = "https://mfa.school.example/hulp"
			ans := &fakeAnswerer{answer: "Open **aka.ms/mfasetup** op je laptop: daar voeg je de app toe.", ok: true}
			withAnswerer(t, h, ans, set)
			toStep(h, 3)
			for _, r := range h.last {
				if r.AI != nil {
					t.Fatalf("a reply the bot wrote itself is marked as AI: %+v", r)
				}
			}
			q := "waarom moet ik hier een aanmeldmethode toevoegen?"
			if lang == "en" {
				q = "why do I need this step?"
			}
			rs := h.say(q)
			ai := aiReplies(rs)
			if len(ai) != 1 {
				t.Fatalf("%d AI replies, want 1:\n%s", len(ai), all(rs))
			}
			got := ai[0]
			if got.Text != ans.answer || len(got.Card) != 0 || len(got.Suggest) != 0 {
				t.Errorf("AI reply = %+v, want the answer's text alone", got)
			}
			d := lookupStep(guideID(3))
			tt := &turn{set: set.withDefaults(), s: State{LangChoice: lang}}
			want := []Citation{
				{
					Name:     tr(lang, "label.progress", map[string]string{"n": "3"}) + ": " + plainText(tt.stepText(d, "title")),
					Abstract: abstract(tt.stepText(d, "do")),
					URL:      "https://mfa.school.example/hulp?lang=" + lang + "#step03",
				},
				{Name: "ICT Servicedesk", Abstract: "088 - 469 9070 · Zwolle F2.03: ma-vr 8:00-16:00", URL: "https://mfa.school.example/hulp?lang=" + lang + "#servicedesk"},
			}
			if got.AI.Step != "step03" || !reflect.DeepEqual(got.AI.Citations, want) {
				t.Errorf("AI content = %+v\nwant step03 with %+v", got.AI, want)
			}
			for _, c := range got.AI.Citations {
				if n := utf8.RuneCountInString(c.Abstract); n > MaxAbstract || n == 0 || strings.Contains(c.Abstract, "**") {
					t.Errorf("abstract %q: %d characters, want plain text of 1..%d", c.Abstract, n, MaxAbstract)
				}
			}
			for _, r := range rs {
				if r.AI == nil && strings.Contains(r.Text, "aka.ms/mfasetup** op je laptop") {
					t.Errorf("the answer also went out unmarked: %+v", r)
				}
			}
			// The step card still follows, unmarked.
			if last := rs[len(rs)-1]; last.AI != nil || len(last.Card) == 0 {
				t.Errorf("last reply %+v, want the step card", last)
			}

			// No answer in the material: the bot's own explanation, unmarked.
			ans.ok = false
			if ai := aiReplies(h.say(q)); len(ai) != 0 {
				t.Errorf("the bot's own explanation is marked as AI: %+v", ai)
			}
		})
	}
}

// Without http.public_help_url the sources have no address; a step that
// is not one of the twelve (a trouble step) has none either.
func TestSourcesWithoutPublicPage(t *testing.T) {
	h := newHarness(t, "sam", nil)
	withAnswerer(t, h, &fakeAnswerer{answer: "Trek het scherm omlaag.", ok: true}, testSettings)
	h.welcome()
	h.press("signin_problem")
	h.wantStep(StepTroubleNotif)
	ai := aiReplies(h.say("waarom moet ik dit doen?"))
	if len(ai) != 1 || len(ai[0].AI.Citations) != 2 {
		t.Fatalf("AI replies %+v", ai)
	}
	for _, c := range ai[0].AI.Citations {
		if c.URL != "" || c.Name == "" || c.Abstract == "" {
			t.Errorf("citation %+v: want a name and an abstract, no address", c)
		}
	}
	if c := ai[0].AI.Citations[0]; strings.HasPrefix(c.Name, "Stap") {
		t.Errorf("a trouble step cited as a guide step: %+v", c)
	}
}

// A redelivered activity gets its replies again as they were, the AI
// mark and the sources included (LastReplies).
func TestRedeliveredAnswerKeepsItsMark(t *testing.T) {
	h := newHarness(t, "sam", nil)
	withAnswerer(t, h, &fakeAnswerer{answer: "Dat doe je op je laptop.", ok: true}, testSettings)
	toStep(h, 1)
	first := h.turn(Turn{Kind: TurnMessage, ActivityID: "act-q", Text: "waarom moet dit op mijn laptop?"})
	again := h.turn(Turn{Kind: TurnMessage, ActivityID: "act-q", Text: "waarom moet dit op mijn laptop?"})
	if len(aiReplies(first)) != 1 || len(again) != len(first) || !reflect.DeepEqual(aiReplies(first), aiReplies(again)) {
		t.Fatalf("first %+v\nagain %+v", first, again)
	}
}

// After the rating the bot says "type 'start over'" without a card: it
// offers that as a suggested action, in the student's language, and a
// tap (the value sent as the student's message) does it.
func TestRatingThanksSuggestsStartOver(t *testing.T) {
	for _, lang := range []string{"nl", "en"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, "sam", nil)
			if lang == "en" {
				h.ref.Locale = "en-US"
			}
			toStep(h, 1)
			for i := 1; i <= guideSteps; i++ {
				h.press("done")
			}
			h.wantStep(StepDone)
			rs := h.rate(5)
			last := rs[len(rs)-1]
			want := []Suggestion{{Title: tr(lang, "button.restart", nil), Value: tr(lang, "suggest.restart", nil)}}
			if last.Text != tr(lang, "done.thanks", nil) || len(last.Card) != 0 || !reflect.DeepEqual(last.Suggest, want) {
				t.Fatalf("thanks reply = %+v, want %q with %+v", last, tr(lang, "done.thanks", nil), want)
			}
			rs = h.say(last.Suggest[0].Value)
			contains(t, rs, tr(lang, "msg.restarted", nil))
			h.wantStep(StepWelcome)
		})
	}
}

// Every suggested action's value is the typed equivalent of its button
// in that language, so that a tap does what the title says.
func TestSuggestionValuesAreUnderstood(t *testing.T) {
	want := map[Action]intent.Intent{ActRestart: intent.IntentRestart, ActHuman: intent.IntentHuman}
	for _, lang := range Languages {
		tt := &turn{set: testSettings, s: State{LangChoice: lang}}
		for _, a := range suggestActions {
			sg := tt.suggest(a)
			if len(sg) != 1 || sg[0].Title != tr(lang, "button."+string(a), nil) {
				t.Fatalf("%s %s: %+v", lang, a, sg)
			}
			if got := intent.Match(sg[0].Value, lang); got.Intent != want[a] || got.Confidence < intent.KeywordThreshold {
				t.Errorf("%s: %q reads as %s (%.2f), want %s", lang, sg[0].Value, got.Intent, got.Confidence, want[a])
			}
		}
		if n := len(tt.suggest(ActRestart, ActHuman, ActRestart, ActHuman)); n > MaxSuggestions {
			t.Errorf("suggest gave %d suggestions", n)
		}
	}
}

// walkTexts are typed messages of every sort for the random walk.
var walkTexts = []string{
	"ja", "nee", "gelukt", "lukt niet", "uitleg", "help", "stop", "opnieuw", "nog eens", "terug", "medewerker",
	"start over", "talk to a person", "English please", "Nederlands", "waarom moet ik dit doen?",
	"hoe werkt de QR-code precies?", "1", "5", "7", "ik ben mijn telefoon kwijt", "nieuwe telefoon",
	"wat slaan jullie over mij op?", "123456", "hallo", "", "Aanmelden", "QR-code scannen",
}

// A random walk through the conversation (buttons, typed text, the
// suggested actions, timers), with the answerer on and off: no reply
// ever offers more than MaxSuggestions suggested actions, or offers them
// with a card; only the model's answers are marked as AI, and each has
// at most two sources with short abstracts.
func TestWalkSuggestionsAndAIMarks(t *testing.T) {
	students := []string{"sam", "lars", "noor", "eva", "kim"}
	seenAI, seenSuggest := 0, 0
	defer func() {
		t.Logf("the walk met %d AI answers and %d suggested actions", seenAI, seenSuggest)
		// The walk must have met both, or it checked nothing.
		if seenAI == 0 || seenSuggest == 0 {
			t.Errorf("the walk met %d AI answers and %d suggested actions", seenAI, seenSuggest)
		}
	}()
	for seed := uint64(1); seed <= 24; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			h := newHarness(t, students[rng.IntN(len(students))], graph.NewDemo())
			ans := &fakeAnswerer{answer: "MODEL-ANSWER: zo werkt het.", ok: true}
			set := testSettings
			set.PublicHelpURL = "https://mfa.school.example/help"
			withAnswerer(t, h, ans, set)
			check := func(rs []Reply) {
				t.Helper()
				for _, r := range rs {
					if len(r.Suggest) > MaxSuggestions {
						t.Fatalf("%d suggested actions: %+v", len(r.Suggest), r)
					}
					if len(r.Suggest) > 0 && (len(r.Card) > 0 || r.Text == "") {
						t.Fatalf("suggested actions with a card or without text: %+v", r)
					}
					if len(r.Suggest) > 0 {
						seenSuggest++
					}
					model := strings.Contains(r.Text, "MODEL-ANSWER")
					if model != (r.AI != nil) {
						t.Fatalf("AI mark %v on %q", r.AI != nil, r.Text)
					}
					if r.AI != nil {
						seenAI++
						if len(r.Card) > 0 || len(r.AI.Citations) == 0 || len(r.AI.Citations) > 2 {
							t.Fatalf("AI reply %+v", r)
						}
						for _, c := range r.AI.Citations {
							if utf8.RuneCountInString(c.Abstract) > MaxAbstract {
								t.Fatalf("abstract of %d characters", utf8.RuneCountInString(c.Abstract))
							}
						}
					}
				}
			}
			check(h.welcome())
			for i := 0; i < 60; i++ {
				ans.ok = rng.IntN(3) > 0
				var rs []Reply
				switch k := rng.IntN(10); {
				case k < 5:
					var bs []map[string]any
					for _, r := range h.last {
						bs = append(bs, buttons(r.Card)...)
					}
					if len(bs) == 0 {
						rs = h.say(walkTexts[rng.IntN(len(walkTexts))])
						break
					}
					rs = h.turn(Turn{Kind: TurnMessage, Value: bs[rng.IntN(len(bs))]})
				case k < 6:
					var sg []Suggestion
					for _, r := range h.last {
						sg = append(sg, r.Suggest...)
					}
					if len(sg) == 0 {
						rs = h.fireTimers(RecheckDelay)
						break
					}
					rs = h.say(sg[rng.IntN(len(sg))].Value)
				case k < 9:
					rs = h.say(walkTexts[rng.IntN(len(walkTexts))])
				default:
					rs = h.fireTimers(RecheckDelay)
				}
				check(rs)
			}
		})
	}
}

// The feedback text stored is redacted like the transcript and bounded.
func TestFeedbackText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"  Heel duidelijk,\n dank je!  ", "Heel duidelijk, dank je!"},
		{"bel me op 06-12345678 of sam@student.example.nl", "bel me op [phone] of [email]"},
		{"Sam de Vries vond het niks, Vries ook", "[name] vond het niks, [name] ook"},
		{"mijn code is 123456", "[withheld: code]"},
	} {
		got := FeedbackText(c.in, "Sam de Vries")
		if c.want == "[withheld: code]" {
			if !strings.HasPrefix(got, "[withheld: ") {
				t.Errorf("FeedbackText(%q) = %q, want it withheld", c.in, got)
			}
			continue
		}
		if got != c.want {
			t.Errorf("FeedbackText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := FeedbackText(strings.Repeat("lang verhaal ", 500))
	if n := utf8.RuneCountInString(long); n > MaxFeedbackText || !strings.HasSuffix(long, "…") {
		t.Errorf("a long feedback text is %d characters", n)
	}
	if got := FeedbackText("ok\xff\xfe"); !utf8.ValidString(got) {
		t.Errorf("invalid UTF-8 kept: %q", got)
	}
}
