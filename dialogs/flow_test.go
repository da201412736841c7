package dialogs

import (
	"strings"
	"testing"
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
	for _, want := range []string{"orphan: not reachable", "orphan: no path to done or hand-off", `"orphan.title" missing in nl`, `"orphan.title" missing in en`} {
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
			if labels[id] == "" {
				t.Errorf("%s: no label for %s", lang, id)
			}
		}
	}
	if got := StepLabels("nl")["step03"]; got != "Stap 3: Aanmeldingsmethode toevoegen" {
		t.Errorf("step03 label = %q", got)
	}
}
