package dialogs

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"mfabot/dialogs/intent"
	"mfabot/graph"
	"mfabot/store"
)

// BenchmarkRunnerTurn measures one student turn through the runner (load
// state from SQLite, engine, effects, save): a click on "Gelukt" at the
// current step, restarting the flow whenever it ends.
func BenchmarkRunnerTurn(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r, err := NewRunner(RunnerOptions{Store: st, Directory: graph.NewDemo(), Escalator: &fakeEscalator{}, Settings: testSettings})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		conv := fmt.Sprintf("a:bench-%d", i/16)
		ref := store.ConversationRef{ConversationID: conv, ServiceURL: "http://127.0.0.1:1/", UserID: "29:b", UserAADObjectID: graph.DemoUserID("sam"), Locale: "nl-NL"}
		t := Turn{Ref: ref, Kind: TurnMessage, At: now, ActivityID: fmt.Sprint(i)}
		switch i % 16 {
		case 0:
			t.Kind = TurnWelcome
		case 1:
			t.Text = "ik wil de app naar een nieuwe telefoon overzetten"
		default:
			t.Text = "gelukt"
		}
		if _, err := r.Handle(ctx, t, func() {}); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Second)
	}
}

// BenchmarkMatch measures the keyword matcher on a typical message.
func BenchmarkMatch(b *testing.B) {
	for i := 0; i < b.N; i++ {
		intent.Match("ik heb een nieuwe iphone en nu werkt de authenticater niet meer", "nl")
	}
}
