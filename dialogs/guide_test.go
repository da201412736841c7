package dialogs

import (
	"strings"
	"testing"
)

// Guide is the step cards' text for a student the bot knows nothing
// about: every field filled, no placeholder left, step 2 per route.
func TestGuide(t *testing.T) {
	for _, lang := range Languages {
		byRoute := map[string][]GuideStep{}
		for _, route := range []string{RouteOldPhone, RouteCall, RouteEither} {
			steps := Guide(testSettings, lang, route)
			if len(steps) != 12 {
				t.Fatalf("%s %s: %d steps", lang, route, len(steps))
			}
			for i, s := range steps {
				if s.Number != i+1 || s.ID != guideID(i+1) {
					t.Errorf("%s: step %d is %s/%d", lang, i+1, s.ID, s.Number)
				}
				for name, f := range map[string]string{"title": s.Title, "do": s.Do, "where": s.Where, "see": s.See, "help": s.Help, "progress": s.Progress} {
					if f == "" || strings.Contains(f, "{") {
						t.Errorf("%s %s step %d %s = %q", lang, route, s.Number, name, f)
					}
				}
				// The same text as the step card for that state.
				tt := &turn{set: testSettings.withDefaults(), s: State{FlowVersion: FlowVersion, LangChoice: lang, Route: route, Step: s.ID}}
				c := tt.stepCard(lookupStep(s.ID))
				if c.Title != s.Title || c.Body[0] != s.Do || c.Progress != s.Progress ||
					c.Where != tr(lang, "label.where", nil)+" "+s.Where || c.See != tr(lang, "label.see", nil)+" "+s.See {
					t.Errorf("%s %s step %d differs from its card", lang, route, s.Number)
				}
			}
			byRoute[route] = steps
		}
		if byRoute[RouteOldPhone][1].Do == byRoute[RouteCall][1].Do || byRoute[RouteCall][1].Do == byRoute[RouteEither][1].Do {
			t.Errorf("%s: step 2 does not differ per route", lang)
		}
		if !strings.Contains(byRoute[RouteCall][1].Do, tr(lang, "summary.your_number", nil)) {
			t.Errorf("%s: the call route does not name 'your phone number': %q", lang, byRoute[RouteCall][1].Do)
		}
	}
}

func TestText(t *testing.T) {
	got, ok := Text(testSettings, "en", "suspicious.password", nil)
	if !ok || !strings.Contains(got, "](https://passwordreset.microsoftonline.com)") {
		t.Errorf("Text filled no password link: %q %v", got, ok)
	}
	if got, ok := Text(testSettings, "nl", "public.desk_call", map[string]string{"phone": "088 - 469 9070"}); !ok || got != "Bel 088 - 469 9070" {
		t.Errorf("Text with vars: %q %v", got, ok)
	}
	if _, ok := Text(testSettings, "nl", "public.no_such_key", nil); ok {
		t.Error("a missing key is ok")
	}
	if _, ok := Text(testSettings, "de", "public.title", nil); ok {
		t.Error("an unknown language is ok")
	}
}

// The welcome names the help page outside Teams when the school has one.
func TestWelcomeNamesThePublicHelpPage(t *testing.T) {
	set := testSettings
	set.PublicHelpURL = "https://hulp.example.nl/hulp"
	for _, lang := range Languages {
		c := (&turn{set: set.withDefaults(), s: State{LangChoice: lang}}).welcomeCard()
		if !strings.Contains(c.Note, "[hulp.example.nl/hulp](https://hulp.example.nl/hulp)") {
			t.Errorf("%s welcome note: %q", lang, c.Note)
		}
		plain := (&turn{set: testSettings.withDefaults(), s: State{LangChoice: lang}}).welcomeCard()
		hint, _, _ := strings.Cut(tr(lang, "public.welcome_hint", nil), "{")
		if strings.Contains(plain.Note, hint) {
			t.Errorf("%s welcome without a help page names one: %q", lang, plain.Note)
		}
	}
}
