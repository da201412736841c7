package dialogs

import (
	"fmt"
	"strings"
	"testing"

	"mfabot/dialogs/texts"
	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/store"
)

func TestValidate(t *testing.T) {
	if err := Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateCatchesBrokenTables(t *testing.T) {
	saved := flow
	defer func() { flow = saved; flowIndex = indexFlow(flow) }()

	broken := append([]StepDef{}, saved...)
	broken[0].Next = map[Action][]string{SitMovePhone: {"step99"}}
	flow, flowIndex = broken, indexFlow(broken)
	err := Validate()
	if err == nil || !strings.Contains(err.Error(), `unknown step "step99"`) || !strings.Contains(err.Error(), "not reachable") {
		t.Fatalf("Validate() = %v, want unknown target and unreachable steps", err)
	}

	broken = append([]StepDef{}, saved...)
	broken = append(broken, StepDef{ID: "orphan", Kind: KindGuide, Next: map[Action][]string{ActExplain: {"orphan"}}, Keys: []string{"orphan.title"}})
	flow, flowIndex = broken, indexFlow(broken)
	err = Validate()
	for _, want := range []string{"orphan: not reachable", "orphan: no path to done or hand-off", `"orphan.title" missing in nl`, `"orphan.title" missing in en`,
		"staff name of step orphan missing in nl", "staff name of step orphan missing in en"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want %q", err, want)
		}
	}
}

func TestTextsSameKeysInBothLanguages(t *testing.T) {
	nl, en := textKeys("nl"), textKeys("en")
	if d := keyDiff(nl, en); d != "" {
		t.Fatalf("nl/en keys differ: %s", d)
	}
	for _, k := range nl {
		if strings.TrimSpace(tr("nl", k, nil)) == "" || strings.TrimSpace(tr("en", k, nil)) == "" {
			t.Errorf("text %q is empty", k)
		}
	}
}

func TestFlowGraph(t *testing.T) {
	m, err := FlowGraph("mermaid")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"flowchart TD", "step10 -->|done| verify_new", "verify_old -->|wrong_entry| wrong_entry", "suspicious_prompt| handoff"} {
		if !strings.Contains(m, want) {
			t.Errorf("mermaid lacks %q:\n%s", want, m)
		}
	}
	d, err := FlowGraph("dot")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d, "digraph mfabot {") || !strings.Contains(d, `"step11" -> "done" [label="skip"];`) {
		t.Errorf("dot output unexpected:\n%s", d)
	}
	if _, err := FlowGraph("png"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestStepOrder(t *testing.T) {
	order := StepOrder()
	if order[0] != StepWelcome || len(order) != len(flow) {
		t.Fatalf("StepOrder() = %v", order)
	}
	i1, i12 := indexOf(order, "step01"), indexOf(order, "step12")
	if i1 < 0 || i12 != i1+11 {
		t.Fatalf("guide steps not in order: %v", order)
	}
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

func TestStepLabelsNameEveryStep(t *testing.T) {
	for _, lang := range []string{"nl", "en"} {
		labels := StepLabels(lang)
		for _, id := range StepOrder() {
			if labels[id] == "" || labels[id] == id {
				t.Errorf("%s: no label for %s (%q)", lang, id, labels[id])
			}
		}
	}
	if got := StepLabels("nl")["step03"]; got != "Stap 3: Aanmeldingsmethode toevoegen" {
		t.Errorf("step03 label = %q", got)
	}
}

// Every step of the flow table, every situation, every reason for a
// hand-off, every outcome, status and kind of sign-in method has a name
// for staff in both languages: what the staff card and the dashboard show
// instead of the id.
func TestStaffNamesForEveryCode(t *testing.T) {
	kinds := []graph.MethodKind{graph.KindAuthenticator, graph.KindPhone, graph.KindFIDO2, graph.KindWindowsHello,
		graph.KindSoftwareOATH, graph.KindEmail, graph.KindTAP, graph.KindPassword, graph.KindOther}
	methods := []string{"authenticator_passkey", "security_key"}
	for _, k := range kinds {
		methods = append(methods, string(k))
	}
	var steps []string
	for _, d := range flow {
		steps = append(steps, d.ID)
	}
	groups := []struct {
		group string
		name  func(lang, code string) string
		codes []string
	}{
		{"step", texts.Step, steps},
		{"situation", texts.Situation, Situations},
		{"reason", texts.Reason, handoff.Reasons},
		{"outcome", texts.Outcome, []string{store.OutcomeVerifiedResolved, store.OutcomeSelfReportedResolved,
			store.OutcomeEscalated, store.OutcomeSecurityEscalated, store.OutcomeAbandoned}},
		{"status", texts.Status, []string{store.StatusOpen, store.StatusClaimed, store.StatusResolved}},
		{"method", texts.Method, methods},
	}
	for _, lang := range Languages {
		for _, g := range groups {
			seen := map[string]string{}
			for _, code := range g.codes {
				name := g.name(lang, code)
				if !texts.HasLabel(lang, g.group, code) || name == "" || name == code || strings.ContainsAny(name, "{}") {
					t.Errorf("%s: %s %q has no name for staff (got %q)", lang, g.group, code, name)
					continue
				}
				if other, dup := seen[name]; dup {
					t.Errorf("%s: %s %q and %q are both called %q", lang, g.group, other, code, name)
				}
				seen[name] = code
			}
		}
		// The guide's steps carry their number and the title the student sees.
		for _, d := range flow {
			if d.Kind != KindGuide {
				continue
			}
			word := map[string]string{"nl": "Stap", "en": "Step"}[lang]
			want := fmt.Sprintf("%s %d: %s", word, d.Number, tr(lang, d.ID+".title", nil))
			if got := texts.Step(lang, d.ID); got != want {
				t.Errorf("%s: step %s is called %q, want %q", lang, d.ID, got, want)
			}
		}
	}
	if got := texts.Step("nl", "step07"); got != "Stap 7: Voeg je schoolaccount toe" {
		t.Errorf("step07 = %q", got)
	}
	if got := texts.Step("en", "verify_new_failed"); got != "New phone not found by the check" {
		t.Errorf("verify_new_failed in English = %q", got)
	}
	// A code the language files do not know stays visible as it is.
	if got := texts.Step("nl", "step99"); got != "step99" {
		t.Errorf("unknown step = %q", got)
	}
}
