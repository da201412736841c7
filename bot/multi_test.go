package bot

import (
	"context"
	"fmt"
	"mfabot/internal/testenv"
	"sync"
	"testing"
	"time"

	"mfabot/bot/connector"
	"mfabot/dialogs"
	"mfabot/store"
)

// countingTurns tells which instance ran a turn; the turns themselves are
// recorded, in the order they ran, by the echoTurns both share.
type countingTurns struct {
	inner *echoTurns
	mu    *sync.Mutex
	by    map[string]int
	name  string
}

func (c countingTurns) Handle(ctx context.Context, t dialogs.Turn, typing func()) ([]dialogs.Reply, error) {
	c.mu.Lock()
	c.by[c.name]++
	c.mu.Unlock()
	return c.inner.Handle(ctx, t, typing)
}

// replyCounts counts the connector's replies per activity id.
func replyCounts(e *env) map[string]int {
	n := map[string]int{}
	for _, r := range e.conn.Requests() {
		if r.Op == "reply" {
			n[r.ActivityID]++
		}
	}
	return n
}

// TestTwoInstancesOnePostgres: two bot servers share one PostgreSQL
// database, as two replicas behind a load balancer do. Activities of
// several conversations arrive at both; each is answered exactly once,
// and the turns of a conversation run in the order they were sent.
func TestTwoInstancesOnePostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	shared := &echoTurns{}
	var mu sync.Mutex
	by := map[string]int{}
	lifted := []connector.Window{{N: 100000, Per: time.Second}}
	mk := func(name string, reuse *env) *env {
		return newEnv(t, envOpts{storeURL: url, reuse: reuse, tenantLimits: lifted, convLimits: lifted,
			turns: shared, mutate: func(o *Options) {
				o.Turns = countingTurns{inner: shared, mu: &mu, by: by, name: name}
				o.InstanceID = name
			}})
	}
	a := mk("instance-a", nil)
	b := mk("instance-b", a) // same Teams, same database

	const convs, per = 5, 8
	var wg sync.WaitGroup
	for c := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				// Teams sends a conversation's messages one after the
				// other; the load balancer spreads them over both.
				e := []*env{a, b}[(c+i)%2]
				act := e.activity(fmt.Sprintf("mi-%d-%d", c, i), fmt.Sprintf("m%d", i))
				act["conversation"] = map[string]any{"id": fmt.Sprintf("a:multi-%d", c), "conversationType": "personal", "tenantId": testTenant}
				resp, _ := e.post(mustJSON(act), e.token(e.conn.ServiceURL()), nil)
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	// A Teams retry of an answered activity, at the other instance.
	retry := b.activity("mi-0-0", "m0")
	retry["conversation"] = map[string]any{"id": "a:multi-0", "conversationType": "personal", "tenantId": testTenant}
	if resp, _ := b.post(mustJSON(retry), b.token(b.conn.ServiceURL()), nil); resp.StatusCode != 200 {
		t.Fatalf("retry status %d", resp.StatusCode)
	}

	deadline := time.Now().Add(waitTimeout)
	for len(replyCounts(a)) < convs*per || a.pendingCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d activities answered, %d pending", len(replyCounts(a)), convs*per, a.pendingCount())
		}
		select {
		case <-a.sender.done:
		case <-b.sender.done:
		case <-time.After(10 * time.Millisecond):
		}
	}
	// Both instances polled after the last reply: nothing more may come.
	a.srv.signal()
	b.srv.signal()
	a.stop()
	b.stop()

	replies := replyCounts(a)
	for c := range convs {
		for i := range per {
			id := fmt.Sprintf("mi-%d-%d", c, i)
			if replies[id] != 1 {
				t.Errorf("%s answered %d times; want once", id, replies[id])
			}
		}
	}
	seen := map[string]int{}
	next := map[string]int{}
	for _, tn := range shared.Turns() {
		seen[tn.ActivityID]++
		if want := fmt.Sprintf("m%d", next[tn.Ref.ConversationID]); tn.Text != want {
			t.Errorf("%s: turn %q ran when %q was next", tn.Ref.ConversationID, tn.Text, want)
		}
		next[tn.Ref.ConversationID]++
	}
	if len(seen) != convs*per {
		t.Errorf("%d distinct turns; want %d", len(seen), convs*per)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s ran %d times", id, n)
		}
	}
	if got := len(a.texts()); got != convs*per {
		t.Errorf("%d messages sent; want %d", got, convs*per)
	}
	mu.Lock()
	split := fmt.Sprint(by)
	mu.Unlock()
	t.Logf("%d activities over 2 instances, each answered once, in order per conversation; turns per instance %s", convs*per, split)
}

// TestTerminalChatTimersLeftAlone: `mfabot chat` and `mfabot serve` share
// one SQLite file. The chat's re-check timers (a conversation without a
// service URL) are its own: the server neither runs nor deletes them,
// however many there are, and still runs its own timers.
func TestTerminalChatTimersLeftAlone(t *testing.T) {
	e := newEnv(t, envOpts{dev: true, noRun: true, mutate: func(o *Options) { o.PollInterval = 5 * time.Millisecond }})
	testTerminalChatTimers(t, e, openStore(t, e.dbPath))
}

func TestTerminalChatTimersLeftAlonePostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	e := newEnv(t, envOpts{dev: true, noRun: true, storeURL: url, mutate: func(o *Options) { o.PollInterval = 5 * time.Millisecond }})
	chat, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chat.Close() })
	testTerminalChatTimers(t, e, chat)
}

func testTerminalChatTimers(t *testing.T, e *env, chat store.Store) {
	ctx := context.Background()
	const chatTimers = pollLimit + 44 // more than one poll takes
	chatRef := store.ConversationRef{ConversationID: "termchat:sam", ChannelID: "terminal", UserID: "termchat:sam", Locale: "nl-NL"}
	if _, err := chat.SaveConversation(ctx, store.Conversation{ID: chatRef.ConversationID, Ref: chatRef, State: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	for i := range chatTimers {
		// All due before the server's own timer.
		if _, err := chat.AddTimer(ctx, store.Timer{ConversationID: chatRef.ConversationID, Due: time.Now().Add(-time.Hour + time.Duration(i)*time.Millisecond), Payload: []byte("chat-recheck")}); err != nil {
			t.Fatal(err)
		}
	}
	ref := store.ConversationRef{ConversationID: "conv-teams", ServiceURL: e.conn.ServiceURL(), ChannelID: "msteams", Locale: "en-US"}
	if err := e.store.SaveRef(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddTimer(ctx, store.Timer{ConversationID: "conv-teams", Due: time.Now().Add(-time.Second), Payload: []byte("recheck")}); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.sender.waitMessages(t, 1)
	// The poll that ran the Teams timer saw the chat's timers first; a few
	// more polls go by before we look.
	for range 3 {
		e.srv.signal()
		select {
		case <-e.sender.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
	e.stop()
	if got := e.texts(); len(got) != 1 || got[0] != "timer recheck" {
		t.Fatalf("server sent %q; want only its own timer's message", got)
	}
	for _, tn := range e.turns.Turns() {
		if tn.Ref.ConversationID == chatRef.ConversationID {
			t.Fatalf("server ran a terminal-chat turn: %+v", tn)
		}
	}
	mine, err := chat.DueTimersOf(ctx, chatRef.ConversationID, time.Now())
	if err != nil || len(mine) != chatTimers {
		t.Fatalf("terminal chat finds %d of its %d timers (%v)", len(mine), chatTimers, err)
	}
	if due, _ := e.store.DueTimers(ctx, time.Now(), 1000); len(due) != chatTimers {
		t.Fatalf("%d timers due; want the chat's %d (the server's ran and was deleted)", len(due), chatTimers)
	}
}

// TestExpiredLeaseTakenOver: an instance died holding an accepted
// activity; once its lease ran out another instance answers it.
func TestExpiredLeaseTakenOver(t *testing.T) {
	first := newEnv(t, envOpts{noRun: true})
	if resp, _ := first.postActivity(first.activity("dead-1", "hallo")); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	ctx := context.Background()
	held, err := first.store.ClaimPending(ctx, "dead-instance", 10, time.Minute, time.Now().Add(-2*time.Minute))
	if err != nil || len(held) != 1 {
		t.Fatalf("dead instance claims %d, %v", len(held), err)
	}
	// A live lease of the dead instance is respected ...
	if got, _ := first.store.ClaimPending(ctx, "someone-else", 10, time.Minute, time.Now().Add(-90*time.Second)); len(got) != 0 {
		t.Fatalf("a live lease was taken: %+v", got)
	}
	// ... an expired one is taken over by a running instance.
	second := newEnv(t, envOpts{dbPath: first.dbPath, reuse: first})
	second.sender.waitMessages(t, 1)
	if got := second.texts(); len(got) != 1 || got[0] != "echo: hallo" {
		t.Fatalf("texts %q", got)
	}
	waitPending(t, second, 0)
}

// TestShortLeaseNotStarted: a job whose lease could run out during the
// turn is not started (another instance may take it over meanwhile); with
// a renewed lease it runs.
func TestShortLeaseNotStarted(t *testing.T) {
	e := newEnv(t, envOpts{noRun: true})
	if resp, _ := e.postActivity(e.activity("lease-1", "hallo")); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	items, err := e.store.ClaimPending(context.Background(), e.srv.o.InstanceID, 10, e.srv.o.ClaimLease, time.Now())
	if err != nil || len(items) != 1 {
		t.Fatalf("claim: %d, %v", len(items), err)
	}
	d := &dispatcher{s: e.srv}
	ep := d.items.begin()
	if !d.items.claim(items[0].Seq, ep, time.Now().Add(e.srv.o.TurnTimeout/2)) {
		t.Fatal("tracker refused")
	}
	d.do(job{item: &items[0]})
	if n := len(e.turns.Turns()); n != 0 {
		t.Fatalf("%d turns ran on a lease shorter than the turn timeout", n)
	}
	if !d.items.claim(items[0].Seq, d.items.begin(), time.Now().Add(e.srv.o.ClaimLease)) {
		t.Fatal("the skipped job is still marked in flight")
	}
	d.do(job{item: &items[0]})
	if got := e.texts(); len(got) != 1 || got[0] != "echo: hallo" {
		t.Fatalf("texts %q after the lease was renewed", got)
	}
	if n := e.pendingCount(); n != 0 {
		t.Fatalf("%d pending", n)
	}
}

// TestStopReleasesLeases: work an instance took but had not started when
// it stopped is free for the others at once, not after the lease.
func TestStopReleasesLeases(t *testing.T) {
	turns := &echoTurns{block: make(chan struct{}), entered: make(chan struct{}, 4)}
	e := newEnv(t, envOpts{turns: turns, mutate: func(o *Options) { o.Workers = 1 }})
	if resp, _ := e.postActivity(e.activity("rel-1", "first")); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	<-turns.entered // rel-1 runs (and blocks) on the only worker
	second := e.activity("rel-2", "second")
	second["conversation"] = map[string]any{"id": "a:conv-2", "conversationType": "personal", "tenantId": testTenant}
	if resp, _ := e.postActivity(second); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	ctx := context.Background()
	deadline := time.Now().Add(waitTimeout)
	for {
		// rel-2 is queued behind rel-1 once the server holds it.
		got, err := e.store.ClaimPending(ctx, "probe", 10, time.Minute, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		if err := e.store.ReleaseClaims(ctx, "probe"); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never took rel-2")
		}
		e.srv.signal()
		time.Sleep(5 * time.Millisecond) // waiting for the server's poll, not timing anything
	}
	stopped := make(chan struct{})
	go func() { e.stop(); close(stopped) }()
	close(turns.block)
	<-stopped
	got, err := e.store.ClaimPending(ctx, "other-instance", 10, time.Minute, time.Now())
	if err != nil || len(got) != 1 || got[0].ActivityID != "a:conv-2|rel-2" {
		t.Fatalf("after the stop another instance claims %+v, %v; want rel-2 at once", got, err)
	}
}
