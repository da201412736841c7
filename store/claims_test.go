package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClaims(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"OrderAcrossOwners", testClaimOrderAcrossOwners},
		{"ExpiredLeaseTakenOver", testClaimExpiredLease},
		{"FailedAndReleased", testClaimFailedAndReleased},
		{"Timers", testClaimTimers},
		{"InboxAndTimersOfOneConversation", testClaimInboxAndTimers},
		{"EscalationPost", testClaimEscalationPost},
		{"EscalationPostRace", testClaimEscalationPostRace},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.fn(t, b.open(t)) })
			}
		})
	}
}

func enqueue(t *testing.T, s Store, conv string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if ok, err := s.Enqueue(context.Background(), InboxItem{ActivityID: id, ConversationID: conv, Body: []byte(`{"id":"` + id + `"}`), ReceivedAt: t0}); err != nil || !ok {
			t.Fatalf("Enqueue(%s) = %v, %v", id, ok, err)
		}
	}
}

func activityIDs(items []InboxItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ActivityID)
	}
	return out
}

func claimIDs(t *testing.T, s Store, owner string, now time.Time) ([]string, []InboxItem) {
	t.Helper()
	items, err := s.ClaimPending(context.Background(), owner, 10, time.Minute, now)
	if err != nil {
		t.Fatalf("ClaimPending(%s): %v", owner, err)
	}
	return activityIDs(items), items
}

func testClaimOrderAcrossOwners(t *testing.T, s Store) {
	ctx := context.Background()
	enqueue(t, s, "ca", "a1", "a2", "a3")
	enqueue(t, s, "cb", "b1")
	got, items := claimIDs(t, s, "A", t0)
	if fmt.Sprint(got) != "[a1 b1]" {
		t.Fatalf("A claims %v; want [a1 b1] (only the oldest of each conversation)", got)
	}
	if got, _ := claimIDs(t, s, "B", t0); len(got) != 0 {
		t.Fatalf("B claims %v while A holds the head of every conversation; want nothing", got)
	}
	// A asks again: its own leases come back (renewed), nothing new.
	if got, _ := claimIDs(t, s, "A", t0.Add(30*time.Second)); fmt.Sprint(got) != "[a1 b1]" {
		t.Fatalf("A claims again %v; want [a1 b1]", got)
	}
	if err := s.MarkDone(ctx, items[0].Seq); err != nil {
		t.Fatal(err)
	}
	// a2 may go now, to whoever asks; b1 stays A's.
	got, items = claimIDs(t, s, "B", t0.Add(time.Second))
	if fmt.Sprint(got) != "[a2]" {
		t.Fatalf("B claims %v after a1 is done; want [a2]", got)
	}
	if got, _ := claimIDs(t, s, "A", t0.Add(time.Second)); fmt.Sprint(got) != "[b1]" {
		t.Fatalf("A claims %v; want [b1] (a2 is B's, a3 waits behind it)", got)
	}
	// Pending still lists everything unfinished, whoever holds it.
	if p, _ := s.Pending(ctx, 10); fmt.Sprint(activityIDs(p)) != "[a2 a3 b1]" {
		t.Fatalf("Pending = %v", activityIDs(p))
	}
	if err := s.MarkDone(ctx, items[0].Seq); err != nil {
		t.Fatal(err)
	}
	if got, _ := claimIDs(t, s, "A", t0.Add(2*time.Second)); fmt.Sprint(got) != "[a3 b1]" {
		t.Fatalf("A claims %v; want [a3 b1]", got)
	}
	if _, err := s.ClaimPending(ctx, "", 10, time.Minute, t0); err == nil {
		t.Error("ClaimPending with an empty owner succeeded")
	}
}

func testClaimExpiredLease(t *testing.T, s Store) {
	enqueue(t, s, "c", "x1", "x2")
	if got, _ := claimIDs(t, s, "A", t0); fmt.Sprint(got) != "[x1]" {
		t.Fatalf("A claims %v", got)
	}
	// A dies. Before its lease runs out nobody else gets x1 ...
	if got, _ := claimIDs(t, s, "B", t0.Add(59*time.Second)); len(got) != 0 {
		t.Fatalf("B claims %v before the lease ran out", got)
	}
	// ... after it, B takes it over (and x2 still waits behind it).
	got, items := claimIDs(t, s, "B", t0.Add(time.Minute))
	if fmt.Sprint(got) != "[x1]" || items[0].Attempts != 0 || string(items[0].Body) != `{"id":"x1"}` {
		t.Fatalf("B claims %+v after the lease ran out; want x1 with its body", items)
	}
	// A comes back: x1 is B's now.
	if got, _ := claimIDs(t, s, "A", t0.Add(61*time.Second)); len(got) != 0 {
		t.Fatalf("A claims %v after B took over", got)
	}
}

func testClaimFailedAndReleased(t *testing.T, s Store) {
	ctx := context.Background()
	enqueue(t, s, "c", "f1")
	enqueue(t, s, "d", "g1")
	_, items := claimIDs(t, s, "A", t0)
	if len(items) != 2 {
		t.Fatalf("A claims %v", activityIDs(items))
	}
	if err := s.MarkFailed(ctx, items[0].Seq, "connector 503"); err != nil {
		t.Fatal(err)
	}
	got, again := claimIDs(t, s, "B", t0)
	if fmt.Sprint(got) != "[f1]" || again[0].Attempts != 1 {
		t.Fatalf("B claims %+v after A's failure; want f1 with 1 attempt", again)
	}
	// A stops cleanly: g1 is free at once.
	if err := s.ReleaseClaims(ctx, "A"); err != nil {
		t.Fatal(err)
	}
	if got, _ := claimIDs(t, s, "C", t0); fmt.Sprint(got) != "[g1]" {
		t.Fatalf("C claims %v after A released; want [g1]", got)
	}
	// Releasing does not touch another owner's leases.
	if got, _ := claimIDs(t, s, "D", t0); len(got) != 0 {
		t.Fatalf("D claims %v", got)
	}
}

func timerIDs(ts []Timer) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ConversationID+":"+string(t.Payload))
	}
	return out
}

func testClaimTimers(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.SaveRef(ctx, ConversationRef{ConversationID: "a:teams", ServiceURL: "https://smba.example/emea/", ChannelID: "msteams"}); err != nil {
		t.Fatal(err)
	}
	// The terminal chat saves its conversation without a service URL.
	if _, err := s.SaveConversation(ctx, Conversation{ID: "termchat:sam", Ref: ConversationRef{ConversationID: "termchat:sam", ChannelID: "terminal"}, State: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	// Many terminal-chat timers fall due first: they must not crowd out
	// the server's.
	for i := range 30 {
		if _, err := s.AddTimer(ctx, Timer{ConversationID: "termchat:sam", Due: t0.Add(-time.Hour + time.Duration(i)*time.Second), Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	s.AddTimer(ctx, Timer{ConversationID: "a:teams", Due: t0.Add(-time.Minute), Payload: []byte("1")})
	s.AddTimer(ctx, Timer{ConversationID: "gone", Due: t0.Add(-time.Second), Payload: []byte("2")})
	s.AddTimer(ctx, Timer{ConversationID: "a:teams", Due: t0.Add(time.Minute), Payload: []byte("later")})

	got, err := s.ClaimDueTimers(ctx, "A", 5, time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(timerIDs(got)) != "[a:teams:1 gone:2]" {
		t.Fatalf("A claims timers %v; want [a:teams:1 gone:2] (no terminal-chat timer, none not due)", timerIDs(got))
	}
	if b, _ := s.ClaimDueTimers(ctx, "B", 5, time.Minute, t0); len(b) != 0 {
		t.Fatalf("B claims %v while A holds them", timerIDs(b))
	}
	if a, _ := s.ClaimDueTimers(ctx, "A", 5, time.Minute, t0.Add(time.Second)); len(a) != 2 {
		t.Fatalf("A claims again %v; want its two", timerIDs(a))
	}
	// Expired: B takes over.
	if b, _ := s.ClaimDueTimers(ctx, "B", 5, time.Minute, t0.Add(61*time.Second)); fmt.Sprint(timerIDs(b)) != "[a:teams:1 gone:2 a:teams:later]" {
		t.Fatalf("B claims %v after A's lease ran out", timerIDs(b))
	}
	if err := s.DeleteTimer(ctx, got[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseClaims(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.ClaimDueTimers(ctx, "A", 5, time.Minute, t0.Add(62*time.Second)); fmt.Sprint(timerIDs(a)) != "[gone:2 a:teams:later]" {
		t.Fatalf("A claims %v after B released", timerIDs(a))
	}
	// The terminal chat still finds all of its own.
	mine, err := s.DueTimersOf(ctx, "termchat:sam", t0)
	if err != nil || len(mine) != 30 || string(mine[0].Payload) != "0" || string(mine[29].Payload) != "29" {
		t.Fatalf("DueTimersOf(termchat:sam) = %d timers, %v; want 30 in due order", len(mine), err)
	}
	if all, _ := s.DueTimers(ctx, t0, 100); len(all) != 31 {
		t.Fatalf("DueTimers = %d; want 31 (30 terminal chat + gone)", len(all))
	}
}

func testClaimInboxAndTimers(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.SaveRef(ctx, ConversationRef{ConversationID: "c", ServiceURL: "https://smba.example/"}); err != nil {
		t.Fatal(err)
	}
	s.AddTimer(ctx, Timer{ConversationID: "c", Due: t0, Payload: []byte("t")})
	enqueue(t, s, "c", "m1")
	if got, _ := claimIDs(t, s, "A", t0); fmt.Sprint(got) != "[m1]" {
		t.Fatalf("A claims %v", got)
	}
	// B may not run the conversation's timer while A runs its message.
	if b, _ := s.ClaimDueTimers(ctx, "B", 5, time.Minute, t0); len(b) != 0 {
		t.Fatalf("B claims timers %v of a conversation A is busy with", timerIDs(b))
	}
	if a, _ := s.ClaimDueTimers(ctx, "A", 5, time.Minute, t0); len(a) != 1 {
		t.Fatalf("A claims timers %v; want its conversation's timer", timerIDs(a))
	}
	items, _ := s.Pending(ctx, 10)
	s.MarkDone(ctx, items[0].Seq)
	enqueue(t, s, "c", "m2")
	// And the other way round: A holds the timer, so m2 is not B's.
	if got, _ := claimIDs(t, s, "B", t0); len(got) != 0 {
		t.Fatalf("B claims %v while A runs the conversation's timer", got)
	}
	if got, _ := claimIDs(t, s, "A", t0); fmt.Sprint(got) != "[m2]" {
		t.Fatalf("A claims %v", got)
	}
}

// TestSimultaneousClaims: four instances claim at the same moment; they
// split the work without overlap.
func TestSimultaneousClaims(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			url := b.url(t)
			stores := []Store{mustOpen(t, url), mustOpen(t, url), mustOpen(t, url), mustOpen(t, url)}
			for c := range 40 {
				enqueue(t, stores[0], fmt.Sprintf("conv%d", c), fmt.Sprintf("m%d", c))
			}
			got := make([][]InboxItem, len(stores))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for k, s := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					items, err := s.ClaimPending(context.Background(), fmt.Sprintf("instance-%d", k), 10, time.Hour, t0)
					if err != nil {
						t.Error(err)
					}
					got[k] = items
				}()
			}
			close(start)
			wg.Wait()
			seen := map[int64]int{}
			for k, items := range got {
				for _, it := range items {
					if prev, dup := seen[it.Seq]; dup {
						t.Errorf("%s claimed by instance %d and %d", it.ActivityID, prev, k)
					}
					seen[it.Seq] = k
				}
			}
			if len(seen) != 40 {
				t.Fatalf("%d items claimed; want all 40 (4 x 10)", len(seen))
			}
		})
	}
}

// TestConcurrentClaims: two instances (two connections to one database)
// drain the inbox at the same time; every item is handled exactly once,
// and the items of a conversation in the order they came.
func TestConcurrentClaims(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			url := b.url(t)
			s1, s2 := mustOpen(t, url), mustOpen(t, url)
			const convs, per = 12, 10
			for i := range per {
				for c := range convs {
					enqueue(t, s1, fmt.Sprintf("conv%d", c), fmt.Sprintf("conv%d-%02d", c, i))
				}
			}
			var mu sync.Mutex
			var log []string // activity ids in the order they were handled
			by := map[string]int{}
			handled := map[int64]string{}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for k, s := range []Store{s1, s2} {
				owner := fmt.Sprintf("instance-%d", k)
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := context.Background()
					<-start
					for {
						items, err := s.ClaimPending(ctx, owner, 3, time.Hour, t0)
						if err != nil {
							t.Error(err)
							return
						}
						if len(items) == 0 {
							if p, err := s.Pending(ctx, 1); err != nil || len(p) == 0 {
								return
							}
							continue
						}
						for _, it := range items {
							mu.Lock()
							if prev, dup := handled[it.Seq]; dup {
								t.Errorf("%s handed to %s and %s", it.ActivityID, prev, owner)
							}
							handled[it.Seq] = owner
							log = append(log, it.ActivityID)
							by[owner]++
							mu.Unlock()
							if err := s.MarkDone(ctx, it.Seq); err != nil {
								t.Error(err)
								return
							}
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			if len(handled) != convs*per {
				t.Fatalf("handled %d items; want %d", len(handled), convs*per)
			}
			next := map[string]int{}
			for _, id := range log {
				var c, i int
				fmt.Sscanf(id, "conv%d-%d", &c, &i)
				key := fmt.Sprint(c)
				if i != next[key] {
					t.Fatalf("conversation %d: item %d handled when %d was next", c, i, next[key])
				}
				next[key]++
			}
			owners := []string{}
			for o, n := range by {
				owners = append(owners, fmt.Sprintf("%s=%d", o, n))
			}
			sort.Strings(owners)
			t.Logf("%d items, each once, in order per conversation; split %v", len(handled), owners)
		})
	}
}

// TestClaimsMigrationKeepsTimers: a database made before the claims
// migration gets service_url filled in from the stored references, so the
// server keeps running the timers of its Teams conversations.
func TestClaimsMigrationKeepsTimers(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			url := b.url(t)
			d, driver, dsn := dialectSQLite, "sqlite", strings.TrimPrefix(url, "sqlite:")
			if strings.HasPrefix(url, "postgres") {
				d, driver, dsn = dialectPostgres, "pgx", url
			}
			os.MkdirAll(filepath.Dir(dsn), 0o750)
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := loadMigrations(d)
			if err != nil || len(ms) < 2 || ms[0].version != 1 {
				t.Fatalf("migrations %v, %v", len(ms), err)
			}
			old := &sqlStore{d: d}
			for _, q := range []string{ms[0].sql,
				`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
				`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`,
				`INSERT INTO conversations (id, ref, version, updated_at) VALUES
					('teams', '{"conversationId":"teams","serviceUrl":"https://smba.example/"}', 1, 0),
					('termchat:sam', '{"conversationId":"termchat:sam","serviceUrl":"","channelId":"terminal"}', 1, 0),
					('bare', '', 1, 0)`,
				`INSERT INTO timers (conversation_id, due, payload) VALUES ('teams', 0, ''), ('termchat:sam', 0, ''), ('bare', 0, '')`,
			} {
				if _, err := db.Exec(old.rebind(q)); err != nil {
					t.Fatalf("%.40s: %v", q, err)
				}
			}
			db.Close()
			s := mustOpen(t, url)
			got, err := s.ClaimDueTimers(context.Background(), "A", 10, time.Minute, t0)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(timerIDs(got)) != "[teams:]" {
				t.Fatalf("after the upgrade the server claims %v; want only the Teams conversation's timer", timerIDs(got))
			}
		})
	}
}

func pendingPosts(t *testing.T, s Store, before time.Time) string {
	t.Helper()
	ids, err := s.PendingEscalationPosts(context.Background(), before, 10)
	if err != nil {
		t.Fatalf("PendingEscalationPosts: %v", err)
	}
	return fmt.Sprint(ids)
}

func claimPost(t *testing.T, s Store, id int64, owner string) bool {
	t.Helper()
	ok, err := s.ClaimEscalationPost(context.Background(), id, owner, t0)
	if err != nil {
		t.Fatalf("ClaimEscalationPost(%d, %s): %v", id, owner, err)
	}
	return ok
}

// The staff card of an escalation is posted by one instance, once, unless
// the attempt surely failed.
func testClaimEscalationPost(t *testing.T, s Store) {
	ctx := context.Background()
	id1, err := s.CreateEscalation(ctx, Escalation{ConversationID: "c1", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.CreateEscalation(ctx, Escalation{ConversationID: "c2", CreatedAt: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]int64{id1, id2})
	if got := pendingPosts(t, s, t0.Add(2*time.Minute)); got != want {
		t.Fatalf("pending posts %s, want %s", got, want)
	}
	if got := pendingPosts(t, s, t0.Add(time.Minute)); got != fmt.Sprint([]int64{id1}) {
		t.Fatalf("pending posts created before t0+1m: %s, want [%d]", got, id1)
	}
	if !claimPost(t, s, id1, "A") {
		t.Fatal("A could not claim the post of a new escalation")
	}
	if claimPost(t, s, id1, "B") || claimPost(t, s, id1, "A") {
		t.Fatal("the post was claimed twice")
	}
	if got := pendingPosts(t, s, t0.Add(time.Hour)); got != fmt.Sprint([]int64{id2}) {
		t.Fatalf("pending posts after A's claim: %s, want [%d]", got, id2)
	}
	// The claim is no change of the escalation: staff actions never conflict with it.
	e, err := s.GetEscalation(ctx, id1)
	if err != nil || e.Version != 1 {
		t.Fatalf("escalation after the claim: version %d, %v", e.Version, err)
	}
	// Only the owner clears its attempt (it surely failed): then it may be posted again.
	if err := s.ReleaseEscalationPost(ctx, id1, "B"); err != nil {
		t.Fatal(err)
	}
	if claimPost(t, s, id1, "B") {
		t.Fatal("B's release cleared A's attempt")
	}
	if err := s.ReleaseEscalationPost(ctx, id1, "A"); err != nil {
		t.Fatal(err)
	}
	if got := pendingPosts(t, s, t0.Add(time.Hour)); got != want {
		t.Fatalf("pending posts after the release: %s, want %s", got, want)
	}
	if !claimPost(t, s, id1, "B") {
		t.Fatal("B could not claim after A released")
	}
	// Posted: the card ids are stored; nothing is pending or claimable, a
	// late release changes nothing.
	e, _ = s.GetEscalation(ctx, id1)
	e.StaffThreadID, e.StaffActivityID = "19:t", "1:a"
	if _, err := s.UpdateEscalation(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseEscalationPost(ctx, id1, "B"); err != nil {
		t.Fatal(err)
	}
	if claimPost(t, s, id1, "C") {
		t.Fatal("an escalation with a card was claimed for posting")
	}
	// Resolved escalations are not posted.
	e2, _ := s.GetEscalation(ctx, id2)
	e2.Status = StatusResolved
	if _, err := s.UpdateEscalation(ctx, e2); err != nil {
		t.Fatal(err)
	}
	if got := pendingPosts(t, s, t0.Add(time.Hour)); got != "[]" {
		t.Fatalf("pending posts: %s, want none", got)
	}
	if claimPost(t, s, id2, "A") {
		t.Fatal("a resolved escalation was claimed for posting")
	}
	if _, err := s.ClaimEscalationPost(ctx, id2, "", t0); err == nil {
		t.Error("claim without an owner accepted")
	}
}

func testClaimEscalationPostRace(t *testing.T, s Store) {
	ctx := context.Background()
	id, err := s.CreateEscalation(ctx, Escalation{ConversationID: "race", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ok, err := s.ClaimEscalationPost(ctx, id, fmt.Sprintf("owner-%d", i), t0)
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d owners claimed the post, want exactly 1", won)
	}
}
