package bot

import (
	"context"
	"net/http"
	"testing"
	"time"

	"mfabot/dialogs"
	"mfabot/graph"
	"mfabot/store"
)

// TestCommitsPerTurn: a student's turn through the server, with the real
// dialog, costs three commits: the activity and its conversation
// reference accepted before the 200, leased to this instance in the same
// commit (a slot is free), the turn (state, transcript, step events,
// sessions, timers), and the entry marked done after the replies went
// out. The ask for the conversation's next entry after the turn finds
// none and commits nothing.
func TestCommitsPerTurn(t *testing.T) {
	var ms *markStore
	e := newEnv(t, envOpts{mutate: func(o *Options) {
		r, err := dialogs.NewRunner(dialogs.RunnerOptions{Store: o.Store.(store.Store), Directory: graph.NewDemo(), Escalator: quietEscalator{}})
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
		if n := cc.Commits() - before; n != 3 {
			t.Errorf("%s: %d commits, want 3", what, n)
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

// TestAcceptLeasesOnlyWhatRunsAtOnce: with every slot taken, an accepted
// entry is not leased to this instance (had it died then, the entry would
// have waited for the lease to run out): another instance may claim it
// at once. With a free slot, the accept leases it and no other instance
// can.
func TestAcceptLeasesOnlyWhatRunsAtOnce(t *testing.T) {
	turns := &echoTurns{block: make(chan struct{}), entered: make(chan struct{}, 4)}
	e := newEnv(t, envOpts{turns: turns, mutate: func(o *Options) {
		o.Workers = 1
		o.PollInterval = time.Hour
	}})
	time.Sleep(50 * time.Millisecond) // the start-up poll
	other := func(conv, id string) map[string]any {
		a := e.activity(id, "hallo")
		a["conversation"].(map[string]any)["id"] = conv
		return a
	}
	if resp, _ := e.postActivity(other("a:busy", "b-1")); resp.StatusCode != http.StatusOK {
		t.Fatal("not accepted")
	}
	<-turns.entered // the one slot is taken
	if _, ok, err := e.store.ClaimPendingOf(context.Background(), "another-instance", "a:busy", time.Minute, time.Now()); err != nil || ok {
		t.Fatalf("another instance claimed the running entry: %v %v", ok, err)
	}
	if resp, _ := e.postActivity(other("a:waiting", "w-1")); resp.StatusCode != http.StatusOK {
		t.Fatal("not accepted")
	}
	if _, ok, err := e.store.ClaimPendingOf(context.Background(), "another-instance", "a:waiting", time.Minute, time.Now()); err != nil || !ok {
		t.Fatalf("an entry accepted while every slot is taken was leased here: another instance could not claim it (%v %v)", ok, err)
	}
	close(turns.block)
}
