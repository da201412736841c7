package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"mfabot/dialogs"
	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/internal/msfake"
	"mfabot/store"
)

// markStore reports every MarkDone and MarkFailed with its result, and
// can fail chosen MarkDone calls (the process dying between the turn's
// save and the mark).
type markStore struct {
	botStore
	marks chan markResult

	mu        sync.Mutex
	doneCalls int
	crashOn   map[int]bool // 1-based MarkDone calls that "crash"
}

type markResult struct {
	op  string // done | failed
	err error
}

func newMarkStore(st botStore) *markStore {
	return &markStore{botStore: st, marks: make(chan markResult, 64), crashOn: map[int]bool{}}
}

func (m *markStore) MarkDone(ctx context.Context, seq int64) error {
	m.mu.Lock()
	m.doneCalls++
	crash := m.crashOn[m.doneCalls]
	m.mu.Unlock()
	err := errors.New("process died before the mark")
	if !crash {
		err = m.botStore.MarkDone(ctx, seq)
	}
	m.marks <- markResult{"done", err}
	return err
}

func (m *markStore) MarkFailed(ctx context.Context, seq int64, reason string) error {
	err := m.botStore.MarkFailed(ctx, seq, reason)
	m.marks <- markResult{"failed", err}
	return err
}

func (m *markStore) next(t *testing.T) markResult {
	t.Helper()
	select {
	case r := <-m.marks:
		return r
	case <-time.After(waitTimeout):
		t.Fatal("no inbox entry marked")
	}
	return markResult{}
}

// A reply held up by Teams (Retry-After, the rate limiter) until the turn's
// time is up must not keep the entry from being marked done: it would be
// delivered again and the student's "gelukt" applied twice.
func TestSlowRepliesStillMarkDone(t *testing.T) {
	var ms *markStore
	e := newEnv(t, envOpts{mutate: func(o *Options) {
		ms = newMarkStore(o.Store)
		o.Store = ms
		o.TurnTimeout = 300 * time.Millisecond
		o.PollInterval = 5 * time.Millisecond
	}})
	e.conn.Enqueue(msfake.Response{Hang: true}) // the reply hangs past the turn's deadline
	if resp, _ := e.postActivity(e.activity("slow-reply-1", "gelukt")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if r := ms.next(t); r.op != "done" || r.err != nil {
		t.Fatalf("after a slow reply: mark %s: %v", r.op, r.err)
	}
	e.stop()
	if n := len(e.turns.Turns()); n != 1 {
		t.Fatalf("one activity handled %d times", n)
	}
	if n := e.pendingCount(); n != 0 {
		t.Fatalf("%d entries still pending", n)
	}
}

// A handler that runs past TurnTimeout still has its failed attempt
// counted: after store.MaxInboxAttempts the entry is given up and the
// student gets the apology, instead of a retry forever that blocks the
// conversation.
func TestTurnPastDeadlineCountsItsAttempts(t *testing.T) {
	var ms *markStore
	turns := &echoTurns{block: make(chan struct{})} // never released: every turn times out
	e := newEnv(t, envOpts{turns: turns, mutate: func(o *Options) {
		ms = newMarkStore(o.Store)
		o.Store = ms
		o.TurnTimeout = 100 * time.Millisecond
		o.PollInterval = 5 * time.Millisecond
	}})
	if resp, _ := e.postActivity(e.activity("stuck-1", "hallo")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for i := 0; i < store.MaxInboxAttempts; i++ {
		if r := ms.next(t); r.op != "failed" || r.err != nil {
			t.Fatalf("attempt %d: mark %s: %v", i+1, r.op, r.err)
		}
	}
	e.sender.waitMessages(t, 1)
	if texts := e.texts(); len(texts) != 1 || texts[0] != apologyText("nl-NL") {
		t.Fatalf("texts %q, want the apology", texts)
	}
	e.stop()
	if n := len(turns.Turns()); n != store.MaxInboxAttempts {
		t.Fatalf("%d attempts, want %d", n, store.MaxInboxAttempts)
	}
	if n := e.pendingCount(); n != 0 {
		t.Fatalf("%d entries still pending", n)
	}
}

// quietEscalator is enough of handoff for the dialog to run.
type quietEscalator struct{}

func (quietEscalator) Escalate(context.Context, handoff.Request) (handoff.Result, error) {
	return handoff.Result{Escalation: store.Escalation{ID: 1}, Created: true}, nil
}
func (quietEscalator) Contact(time.Time) handoff.Contact {
	return handoff.Contact{Name: "ICT Servicedesk"}
}
func (quietEscalator) ContactCard(time.Time, string, bool, bool) json.RawMessage {
	return json.RawMessage(`{"type":"AdaptiveCard","version":"1.5","body":[]}`)
}

// With the real dialog: the process dies after the turn saved the
// conversation and sent its replies, before the entry was marked done.
// The entry is delivered again; the click must not be applied twice (no
// second answer, the conversation one step on, not two).
func TestRedeliveryAfterCrashNotAppliedTwice(t *testing.T) {
	var ms *markStore
	var runner *dialogs.Runner
	e := newEnv(t, envOpts{mutate: func(o *Options) {
		r, err := dialogs.NewRunner(dialogs.RunnerOptions{Store: o.Store.(store.Store), Directory: graph.NewDemo(), Escalator: quietEscalator{}})
		if err != nil {
			t.Fatal(err)
		}
		runner = r
		o.Turns = r
		ms = newMarkStore(o.Store)
		ms.crashOn[2] = true // the click's first MarkDone
		o.Store = ms
		o.PollInterval = 5 * time.Millisecond
	}})
	student := func(id string) map[string]any {
		a := e.activity(id, "")
		a["from"].(map[string]any)["aadObjectId"] = graph.DemoUserID("sam")
		return a
	}
	cu := student("cu-1")
	cu["type"] = "conversationUpdate"
	cu["membersAdded"] = []any{map[string]any{"id": "28:" + testAppID}}
	if resp, _ := e.postActivity(cu); resp.StatusCode != http.StatusOK {
		t.Fatalf("welcome: %d", resp.StatusCode)
	}
	if r := ms.next(t); r.err != nil {
		t.Fatalf("welcome: %v", r.err)
	}
	// The first button of the welcome card.
	var value map[string]any
	var cardID string
	for _, r := range e.conn.Requests() {
		atts, _ := r.Body["attachments"].([]any)
		for _, a := range atts {
			content, _ := a.(map[string]any)["content"].(map[string]any)
			actions, _ := content["actions"].([]any)
			for _, ac := range actions {
				if d, ok := ac.(map[string]any)["data"].(map[string]any); ok && value == nil {
					value, cardID = d, r.ReturnedID
				}
			}
		}
	}
	if value == nil {
		t.Fatalf("no welcome card with a button: %q", e.texts())
	}
	before, err := runner.State(context.Background(), "a:conv-1")
	if err != nil {
		t.Fatal(err)
	}
	click := student("click-1")
	click["value"], click["replyToId"] = value, cardID
	if resp, _ := e.postActivity(click); resp.StatusCode != http.StatusOK {
		t.Fatalf("click: %d", resp.StatusCode)
	}
	if r := ms.next(t); r.err == nil {
		t.Fatal("the crash was not simulated")
	}
	if r := ms.next(t); r.err != nil { // the redelivered entry
		t.Fatalf("redelivery: %v", r.err)
	}
	e.stop()
	after, err := runner.State(context.Background(), "a:conv-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(after.History) != len(before.History)+1 {
		t.Fatalf("history %v -> %v: the click was applied %d times", before.History, after.History, len(after.History)-len(before.History))
	}
	// The runner cannot tell a crash after sending from one before it:
	// the redelivered click gets the same replies again (a duplicate
	// beats silence), and nothing new.
	var answers []string
	for _, r := range e.conn.Requests() {
		if r.Op == "reply" && r.ActivityID == "click-1" {
			answers = append(answers, string(mustJSON(r.Body["attachments"]))+fmt.Sprint(r.Body["text"]))
		}
	}
	if n := len(answers); n == 0 || n%2 != 0 || !slices.Equal(answers[:n/2], answers[n/2:]) {
		t.Fatalf("the click was answered %d times; want its replies twice, the same:\n%q", n, answers)
	}
	if n := e.pendingCount(); n != 0 {
		t.Fatalf("%d entries pending", n)
	}
}
