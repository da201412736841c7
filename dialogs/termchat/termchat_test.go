package termchat

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mfabot/dialogs"
	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/store"
)

type escalator struct{ reqs []handoff.Request }

func (e *escalator) Escalate(ctx context.Context, r handoff.Request) (handoff.Result, error) {
	e.reqs = append(e.reqs, r)
	return handoff.Result{Created: true}, nil
}
func (e *escalator) Contact(now time.Time) handoff.Contact {
	return handoff.Contact{Name: "ICT Servicedesk", Phone: "088 - 469 9070"}
}
func (e *escalator) ContactCard(now time.Time, lang string, lost, sec bool) json.RawMessage {
	return json.RawMessage(`{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"ICT Servicedesk","weight":"Bolder"},{"type":"FactSet","facts":[{"title":"Telefoon","value":"088 - 469 9070"}]}],"actions":[{"type":"Action.OpenUrl","title":"Bel","url":"tel:+31884699070"}]}`)
}

func newRunner(t *testing.T) (*dialogs.Runner, store.Store, *escalator) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	esc := &escalator{}
	r, err := dialogs.NewRunner(dialogs.RunnerOptions{Store: st, Directory: graph.NewDemo(), Escalator: esc,
		Settings: dialogs.Settings{VoiceCalls: true}})
	if err != nil {
		t.Fatal(err)
	}
	return r, st, esc
}

func chatOnce(t *testing.T, r *dialogs.Runner, o Options, input string) string {
	t.Helper()
	var out strings.Builder
	o.Runner = r
	if err := Run(context.Background(), strings.NewReader(input), &out, o); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestHappyPathByNumbers(t *testing.T) {
	r, _, _ := newRunner(t)
	// 2 = moving to another phone; then "1" (Gelukt) twelve times; 5 stars.
	input := "2\n" + strings.Repeat("1\n", 12) + "5\n"
	out := chatOnce(t, r, Options{Student: "sam"}, input)
	for _, want := range []string{
		"Hoi Sam!", "Je hebt de Authenticator-app op 'iPhone 12' en telefoonnummer +31 6 ** ** ** 78.",
		"[1] Problemen met inloggen via Authenticator", "[2] Overzetten naar een andere telefoon",
		"| Stap 1 van 12", "Ga naar https://aka.ms/mfasetup.", "[1] Gelukt   [2] Lukt niet   [3] Uitleg",
		"Klik op + Aanmeldingsmethode toevoegen.", "| Stap 12 van 12",
		"Gelukt: ik zie de Authenticator-app op 'iPhone 15'", "Top: je oude telefoon staat niet meer",
		"# Klaar!", "Dank je wel voor je beoordeling!", "Tot ziens!",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(strings.ReplaceAll(out, "** ** **", ""), "**") {
		t.Errorf("markdown left in the output")
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestEnglishTypedAndHandOff(t *testing.T) {
	r, _, esc := newRunner(t)
	out := chatOnce(t, r, Options{Student: "lars", Lang: "en"}, "my phone is broken and I lost it\n")
	for _, want := range []string{"Hi Lars!", "You can't do either right now", "ICT Servicedesk", "Telefoon: 088 - 469 9070", "Bel: tel:+31884699070", "Bye!"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if len(esc.reqs) != 1 || esc.reqs[0].Reason != handoff.ReasonNoUsableMethod {
		t.Fatalf("escalations %+v", esc.reqs)
	}
}

func TestContinuesWhereItWas(t *testing.T) {
	r, _, _ := newRunner(t)
	chatOnce(t, r, Options{Student: "sam"}, "2\n1\n1\n")
	out := chatOnce(t, r, Options{Student: "sam"}, "")
	if !strings.Contains(out, "Stap 3 van 12") || strings.Contains(out, "Hoi Sam!") {
		t.Fatalf("second run did not continue at step 3:\n%s", out)
	}
}

func TestEchoAndExit(t *testing.T) {
	r, _, _ := newRunner(t)
	out := chatOnce(t, r, Options{Student: "noor"}, "hallo\nexit\nnot read\n")
	if !strings.Contains(out, "> hallo") || strings.Contains(out, "> not read") {
		t.Fatalf("echo/exit:\n%s", out)
	}
}

func TestPlainAndWrap(t *testing.T) {
	if got := plain("Ga naar [aka.ms/mfasetup](https://aka.ms/mfasetup) en klik **Volgende**. Nummer +31 6 ** ** ** 78"); got != "Ga naar https://aka.ms/mfasetup en klik Volgende. Nummer +31 6 ** ** ** 78" {
		t.Errorf("plain = %q", got)
	}
	if got := plain("[wachtwoord wijzigen](https://x.example/pw)"); got != "wachtwoord wijzigen (https://x.example/pw)" {
		t.Errorf("plain = %q", got)
	}
	w := wrap("| ", strings.Repeat("woord ", 30), 40)
	for _, l := range strings.Split(w, "\n") {
		if len(l) > 40 || !strings.HasPrefix(l, "| ") {
			t.Errorf("line %q", l)
		}
	}
}

type answerer struct{}

func (answerer) Answer(ctx context.Context, lang, q, material string) (string, bool, error) {
	return "Dat doe je op je laptop.", true, nil
}

// The model's answer is shown as the model's, with its sources, as
// Teams labels it; the bot's own texts are not.
func TestModelAnswerLabelled(t *testing.T) {
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r, err := dialogs.NewRunner(dialogs.RunnerOptions{Store: st, Directory: graph.NewDemo(), Escalator: &escalator{}, Answerer: answerer{},
		Settings: dialogs.Settings{VoiceCalls: true, PublicHelpURL: "https://mfa.school.example/hulp"}})
	if err != nil {
		t.Fatal(err)
	}
	out := chatOnce(t, r, Options{Student: "sam", Width: 200}, "2\nwaarom moet ik dit op mijn laptop doen?\n")
	for _, want := range []string{"bot (AI): Dat doe je op je laptop.", "[1] Stap 1 van 12: Open de website - https://mfa.school.example/hulp?lang=nl#step01", "[2] ICT Servicedesk"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q\n%s", want, out)
		}
	}
	if strings.Count(out, "(AI)") != 1 {
		t.Errorf("only the model's answer is labelled:\n%s", out)
	}
}
