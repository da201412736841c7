package bot

import (
	"net/http"
	"testing"
	"time"

	"mfabot/dialogs"
	"mfabot/graph"
	"mfabot/store"
)

// TestCommitsPerTurn: a student's turn through the server, with the real
// dialog, costs four commits: the activity and its conversation
// reference accepted before the 200, the lease on the entry, the turn
// (state, transcript, step events, sessions, timers), and the entry
// marked done after the replies went out. The ask for the conversation's
// next entry after the turn finds none and commits nothing.
func TestCommitsPerTurn(t *testing.T) {
	var ms *markStore
	e := newEnv(t, envOpts{mutate: func(o *Options) {
		r, err := dialogs.NewRunner(dialogs.RunnerOptions{Store: o.Store, Directory: graph.NewDemo(), Escalator: quietEscalator{}})
		if err != nil {
			t.Fatal(err)
		}
		o.Turns = r
		ms = newMarkStore(o.Store)
		o.Store = ms
		o.PollInterval = time.Hour // no periodic poll during the count
	}})
	cc := e.store.(store.CommitCounter)
	time.Sleep(50 * time.Millisecond) // the start-up poll
	student := func(id, text string) map[string]any {
		a := e.activity(id, text)
		a["from"].(map[string]any)["aadObjectId"] = graph.DemoUserID("sam")
		return a
	}
	turn := func(what string, act map[string]any) {
		t.Helper()
		before := cc.Commits()
		if resp, _ := e.postActivity(act); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", what, resp.StatusCode)
		}
		if r := ms.next(t); r.err != nil || r.op != "done" {
			t.Fatalf("%s: %+v", what, r)
		}
		time.Sleep(50 * time.Millisecond) // the ask for the next entry
		if n := cc.Commits() - before; n != 4 {
			t.Errorf("%s: %d commits, want 4", what, n)
		}
	}
	cu := student("cu-1", "")
	cu["type"] = "conversationUpdate"
	cu["membersAdded"] = []any{map[string]any{"id": "28:" + testAppID}}
	turn("welcome", cu)
	turn("situation", student("m-1", "ik wil de app naar een nieuwe telefoon overzetten"))
	turn("step 1 done", student("m-2", "gelukt"))
	if n := len(e.texts()); n < 3 {
		t.Fatalf("%d replies: %q", n, e.texts())
	}
}
