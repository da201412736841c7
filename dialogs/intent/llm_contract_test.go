package intent_test

import (
	"testing"

	"mfabot/dialogs/intent"
	"mfabot/llm"
)

// The llm package keeps its own copy of the closed set (it imports no
// project package); the two must stay equal, and *llm.Client must be a
// Classifier.
func TestLLMClosedSetMatches(t *testing.T) {
	if len(llm.Intents) != len(intent.AllIntents) {
		t.Fatalf("llm.Intents has %d names, intent.AllIntents %d", len(llm.Intents), len(intent.AllIntents))
	}
	for i, in := range intent.AllIntents {
		if llm.Intents[i] != string(in) {
			t.Errorf("llm.Intents[%d] = %q, want %q", i, llm.Intents[i], in)
		}
	}
	var _ intent.Classifier = (*llm.Client)(nil)
}
