package dialogs

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfabot/graph"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var samMethods = []graph.Method{
	{ID: "pw", Kind: graph.KindPassword},
	{ID: "auth-old", Kind: graph.KindAuthenticator, DisplayName: "iPhone 12"},
	{ID: "phone", Kind: graph.KindPhone, PhoneMasked: "+31 6 ** ** ** 78", PhoneType: "mobile"},
}

// benMethods: an old iPhone with an Authenticator entry and a passkey in
// Authenticator, a security key and a phone number.
var benMethods = []graph.Method{
	{ID: "pw", Kind: graph.KindPassword},
	{ID: "auth-old", Kind: graph.KindAuthenticator, DisplayName: "iPhone 11"},
	{ID: "passkey-old", Kind: graph.KindFIDO2, DisplayName: "iPhone 11", AAGUID: graph.AAGUIDAuthenticatorIOS, Model: "Microsoft Authenticator for iOS"},
	{ID: "key", Kind: graph.KindFIDO2, DisplayName: "YubiKey", AAGUID: "cb69481e-8ff7-4039-93ec-0a2729a154a8", Model: "YubiKey 5 NFC"},
	{ID: "phone", Kind: graph.KindPhone, PhoneMasked: "+31 6 ** ** ** 90", PhoneType: "mobile"},
}

// goldenCards builds every card the engine can show, in every variant.
func goldenCards(lang string) map[string]Card {
	base := State{FlowVersion: FlowVersion, LangChoice: lang, UserName: "Sam de Vries", StartRead: true, MethodsKnown: true,
		Snapshot: samMethods, Route: RouteOldPhone}
	mk := func(mut func(*State)) *turn {
		s := cloneState(base)
		if mut != nil {
			mut(&s)
		}
		return &turn{set: testSettings.withDefaults(), s: s}
	}
	cards := map[string]Card{}
	cards["welcome"] = mk(nil).welcomeCard()
	cards["welcome_unknown_methods"] = mk(func(s *State) { s.MethodsKnown, s.Snapshot, s.UserName = false, nil, "" }).welcomeCard()
	cards["welcome_demo"] = mk(func(s *State) { s.Simulated = true }).welcomeCard()
	for _, d := range flow {
		d := d
		switch d.Kind {
		case KindGuide, KindTrouble, KindQuestion, KindCard:
			cards[d.ID] = mk(nil).stepCard(&d)
		}
	}
	step := func(id string) *StepDef { return lookupStep(id) }
	cards["step01_mobile"] = mk(func(s *State) { s.Platform = "Android" }).stepCard(step("step01"))
	cards["step02_call"] = mk(func(s *State) { s.Route = RouteCall }).stepCard(step("step02"))
	cards["step02_call_direct"] = mk(func(s *State) {
		s.Route, s.Snapshot = RouteCall, []graph.Method{samMethods[0], samMethods[2]}
	}).stepCard(step("step02"))
	cards["step02_either"] = mk(func(s *State) { s.Route = RouteEither }).stepCard(step("step02"))
	cards["step07_link"] = mk(func(s *State) { s.PairLink = true }).stepCard(step("step07"))
	cards["step08_link"] = mk(func(s *State) { s.PairLink = true }).stepCard(step("step08"))
	cards["step03_link"] = mk(func(s *State) { s.PairLink = true }).stepCard(step("step03"))
	for _, n := range []string{"step08", "step09", "step10"} {
		cards[n+"_signin"] = mk(func(s *State) { s.Pairing = PairingSignIn }).stepCard(step(n))
	}
	cards["welcome_passkeys"] = mk(func(s *State) { s.Snapshot = benMethods }).welcomeCard()
	cards["step11_passkey_and_key"] = mk(func(s *State) { s.Snapshot = benMethods }).stepCard(step("step11"))
	cards["step11_unknown_device"] = mk(func(s *State) { s.MethodsKnown, s.Snapshot = false, nil }).stepCard(step("step11"))
	cards["step11_two_old_devices"] = mk(func(s *State) {
		s.Snapshot = append(s.Snapshot, graph.Method{ID: "auth-ipad", Kind: graph.KindAuthenticator, DisplayName: "iPad"})
	}).stepCard(step("step11"))
	failedOnce := mk(func(s *State) { s.Step = "step07" })
	failedOnce.stepFailed()
	cards["step07_failed_once"] = *failedOnce.outs[0].Card
	explained := mk(func(s *State) { s.Step = "step09" })
	explained.explain()
	cards["step09_explained"] = *explained.outs[0].Card
	for name, mut := range map[string]func(*State){
		"done_verified":         func(s *State) { s.Step, s.VerifiedNew, s.OldGone = "step12", true, true },
		"done_self_reminder":    func(s *State) { s.Step, s.SkippedRemoval = "step11", true },
		"done_trouble_solved":   func(s *State) { s.Step = StepTroubleNumber },
		"done_call_route":       func(s *State) { s.Step, s.Route, s.VerifiedNew, s.OldGone = "step12", RouteCall, true, true },
		"suspicious_then_hand":  func(s *State) { s.Step = StepWelcome },
		"end_handoff":           func(s *State) { s.Step = StepHandoff },
		"end_stopped":           func(s *State) { s.Step = StepStopped },
		"end_done_after_rating": func(s *State) { s.Step = StepDone },
	} {
		t := mk(mut)
		switch {
		case strings.HasPrefix(name, "done_"):
			t.finish()
		case name == "suspicious_then_hand":
			t.in.ConversationID = "c"
			t.choose(SitSuspicious)
		default:
			t.view()
		}
		for _, o := range t.outs {
			if o.Card != nil {
				cards[name] = *o.Card
				break
			}
		}
	}
	return cards
}

func TestCardsGolden(t *testing.T) {
	for _, lang := range Languages {
		cards := goldenCards(lang)
		dir := filepath.Join("testdata", "cards", lang)
		if *update {
			os.RemoveAll(dir)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if !*update && len(files) != len(cards) {
			t.Errorf("%s: %d golden files for %d cards (run go test ./dialogs -run TestCardsGolden -update)", lang, len(files), len(cards))
		}
		for name, c := range cards {
			got := append(c.JSON(), '\n')
			path := filepath.Join(dir, name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%s: %v (run with -update)", path, err)
				continue
			}
			if string(want) != string(got) {
				t.Errorf("%s differs from the golden file; run with -update and review the diff.\ngot:\n%s", path, got)
			}
		}
	}
}

// TestCardsAreValidAdaptiveCards checks what Teams needs of every card:
// schema 1.5 at most, TextBlocks that wrap, and buttons whose data carry
// the step id and an action.
func TestCardsAreValidAdaptiveCards(t *testing.T) {
	for _, lang := range Languages {
		for name, c := range goldenCards(lang) {
			var v struct {
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type string `json:"type"`
					Text string `json:"text"`
					Wrap bool   `json:"wrap"`
				} `json:"body"`
				Actions []struct {
					Type  string         `json:"type"`
					Title string         `json:"title"`
					Data  map[string]any `json:"data"`
				} `json:"actions"`
			}
			raw := c.JSON()
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatalf("%s/%s: %v", lang, name, err)
			}
			if v.Type != "AdaptiveCard" || v.Version != "1.5" || len(v.Body) == 0 {
				t.Errorf("%s/%s: type %q version %q", lang, name, v.Type, v.Version)
			}
			for _, b := range v.Body {
				if b.Type != "TextBlock" || !b.Wrap || strings.TrimSpace(b.Text) == "" || strings.Contains(b.Text, "{") {
					t.Errorf("%s/%s: bad block %+v", lang, name, b)
				}
			}
			for _, a := range v.Actions {
				if a.Type != "Action.Submit" || a.Title == "" || a.Data["step"] == "" || a.Data["action"] == "" {
					t.Errorf("%s/%s: bad action %+v", lang, name, a)
				}
				if lookupStep(a.Data["step"].(string)) == nil {
					t.Errorf("%s/%s: button for unknown step %v", lang, name, a.Data["step"])
				}
			}
			if len(raw) > 28*1024 {
				t.Errorf("%s/%s: %d bytes", lang, name, len(raw))
			}
		}
	}
}
