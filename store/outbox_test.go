package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func outboxKinds(items []OutboxItem) string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%d:%s", it.EscalationID, it.Payload))
	}
	return fmt.Sprint(out)
}

func newOutboxEscalation(t *testing.T, s Store, conv string) Escalation {
	t.Helper()
	ctx := context.Background()
	id, err := s.CreateEscalation(ctx, Escalation{ConversationID: conv, Status: StatusOpen, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.GetEscalation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func addOutbox(t *testing.T, s Store, e *Escalation, payloads ...string) {
	t.Helper()
	var items []OutboxItem
	for _, p := range payloads {
		items = append(items, OutboxItem{Kind: OutboxStudentMessage, Payload: []byte(p), CreatedAt: t0})
	}
	v, err := s.UpdateEscalationOutbox(context.Background(), *e, items)
	if err != nil {
		t.Fatal(err)
	}
	e.Version = v
}

func TestOutbox(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := context.Background()
			e1 := newOutboxEscalation(t, s, "c1")
			e2 := newOutboxEscalation(t, s, "c2")

			// The change and its items are stored together, or neither.
			stale := e1
			e1.Status, e1.ClaimedBy = StatusClaimed, "Anna"
			addOutbox(t, s, &e1, "a1", "a2")
			stale.Status = StatusResolved
			if _, err := s.UpdateEscalationOutbox(ctx, stale, []OutboxItem{{Kind: OutboxCardUpdate, Payload: []byte("lost")}}); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale update: %v, want ErrConflict", err)
			}
			if got, _ := s.GetEscalation(ctx, e1.ID); got.Status != StatusClaimed || got.Version != e1.Version {
				t.Fatalf("escalation after the update: %s v%d, want claimed v%d", got.Status, got.Version, e1.Version)
			}
			addOutbox(t, s, &e2, "b1")
			addOutbox(t, s, &e1, "a3")

			// Oldest first, one item per escalation at a time.
			got, err := s.ClaimOutbox(ctx, "A", 10, time.Minute, t0)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("[%d:a1 %d:b1]", e1.ID, e2.ID)
			if outboxKinds(got) != want {
				t.Fatalf("A claimed %s, want %s", outboxKinds(got), want)
			}
			if got[0].Kind != OutboxStudentMessage || got[0].Attempts != 1 || !got[0].CreatedAt.Equal(t0) {
				t.Fatalf("claimed item %+v", got[0])
			}
			a1, b1 := got[0], got[1]
			// Leased items go to nobody else, not even A again.
			for _, owner := range []string{"B", "A"} {
				if got, err := s.ClaimOutbox(ctx, owner, 10, time.Minute, t0.Add(30*time.Second)); err != nil || len(got) != 0 {
					t.Fatalf("%s claimed %s, %v while A holds the lease", owner, outboxKinds(got), err)
				}
			}
			// a1 sent: a2 is next; b1 failed: due again in a minute.
			if err := s.DeleteOutbox(ctx, a1.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.RetryOutbox(ctx, b1.ID, "B", t0); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.ClaimOutbox(ctx, "B", 10, 90*time.Second, t0); outboxKinds(got) != fmt.Sprintf("[%d:a2]", e1.ID) {
				t.Fatalf("B claimed %s; want a2 only (b1 is A's: B cannot release it)", outboxKinds(got))
			}
			if err := s.RetryOutbox(ctx, b1.ID, "A", t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.ClaimOutbox(ctx, "A", 10, time.Minute, t0.Add(59*time.Second)); len(got) != 0 {
				t.Fatalf("claimed %s before b1 is due again", outboxKinds(got))
			}
			got, _ = s.ClaimOutbox(ctx, "A", 10, time.Minute, t0.Add(time.Minute))
			if outboxKinds(got) != fmt.Sprintf("[%d:b1]", e2.ID) || got[0].Attempts != 2 {
				t.Fatalf("after the retry delay: %s (%+v), want b1 on its second attempt", outboxKinds(got), got)
			}
			// B died holding a2: its lease runs out and A takes it over;
			// a3 waits for it.
			got, _ = s.ClaimOutbox(ctx, "A", 10, time.Minute, t0.Add(2*time.Minute))
			if outboxKinds(got) != fmt.Sprintf("[%d:a2 %d:b1]", e1.ID, e2.ID) {
				t.Fatalf("after the leases ran out: %s, want a2 and b1", outboxKinds(got))
			}
			for _, it := range got {
				if err := s.DeleteOutbox(ctx, it.ID); err != nil {
					t.Fatal(err)
				}
			}
			got, _ = s.ClaimOutbox(ctx, "A", 10, time.Minute, t0.Add(2*time.Minute))
			if outboxKinds(got) != fmt.Sprintf("[%d:a3]", e1.ID) {
				t.Fatalf("last: %s, want a3", outboxKinds(got))
			}
			if _, err := s.ClaimOutbox(ctx, "", 1, time.Minute, t0); err == nil {
				t.Error("claim without an owner accepted")
			}
		})
	}
}

// Two stores (instances) on one database drain the outbox: every item is
// handed out once, and an escalation's items in the order they were added.
func TestConcurrentOutboxClaims(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			url := b.url(t)
			s1, s2 := mustOpen(t, url), mustOpen(t, url)
			const escs, per = 8, 6
			var ids []int64
			for c := range escs {
				e := newOutboxEscalation(t, s1, fmt.Sprintf("conv%d", c))
				ids = append(ids, e.ID)
				for i := range per {
					addOutbox(t, s1, &e, fmt.Sprintf("%02d", i))
				}
			}
			var mu sync.Mutex
			handled := map[int64]string{}
			next := map[int64]int{}
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
						items, err := s.ClaimOutbox(ctx, owner, 3, time.Hour, t0)
						if err != nil {
							t.Error(err)
							return
						}
						if len(items) == 0 {
							var n int
							if err := s.(*sqlStore).r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil || n == 0 {
								return
							}
							continue
						}
						for _, it := range items {
							mu.Lock()
							if prev, dup := handled[it.ID]; dup {
								t.Errorf("item %d handed to %s and %s", it.ID, prev, owner)
							}
							handled[it.ID] = owner
							var i int
							fmt.Sscanf(string(it.Payload), "%d", &i)
							if i != next[it.EscalationID] {
								t.Errorf("escalation %d: item %d handed out when %d was next", it.EscalationID, i, next[it.EscalationID])
							}
							next[it.EscalationID] = i + 1
							mu.Unlock()
							if err := s.DeleteOutbox(ctx, it.ID); err != nil {
								t.Error(err)
								return
							}
						}
					}
				}()
			}
			close(start)
			wg.Wait()
			if len(handled) != escs*per {
				t.Fatalf("handled %d items; want %d", len(handled), escs*per)
			}
		})
	}
}

// Order is kept per escalation and kind: a student message that keeps
// failing does not hold up the card update, and of an escalation's card
// updates only the newest is sent (an older one in flight is left to its
// owner, and the newer waits for it).
func TestOutboxKinds(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := context.Background()
			e := newOutboxEscalation(t, s, "c1")
			add := func(kind, payload string) {
				t.Helper()
				v, err := s.UpdateEscalationOutbox(ctx, e, []OutboxItem{{Kind: kind, Payload: []byte(payload), CreatedAt: t0}})
				if err != nil {
					t.Fatal(err)
				}
				e.Version = v
			}
			claim := func(owner string, at time.Time) []OutboxItem {
				t.Helper()
				got, err := s.ClaimOutbox(ctx, owner, 10, time.Minute, at)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			// Claim: card and message go out side by side.
			add(OutboxCardUpdate, "card-claimed")
			add(OutboxStudentMessage, "msg-claimed")
			got := claim("A", t0)
			if outboxKinds(got) != fmt.Sprintf("[%d:card-claimed %d:msg-claimed]", e.ID, e.ID) {
				t.Fatalf("claimed %s; want the card update and the message", outboxKinds(got))
			}
			card, msg := got[0], got[1]
			// The card went out; the message failed and waits for its retry.
			if err := s.DeleteOutbox(ctx, card.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.RetryOutbox(ctx, msg.ID, "A", t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			// Resolve: its card update goes out at once; its message waits
			// behind the claim's.
			add(OutboxCardUpdate, "card-resolved")
			add(OutboxStudentMessage, "msg-resolved")
			got = claim("A", t0.Add(time.Second))
			if outboxKinds(got) != fmt.Sprintf("[%d:card-resolved]", e.ID) {
				t.Fatalf("claimed %s; want only the resolve's card update", outboxKinds(got))
			}
			held := got[0]
			// Two more card updates while one is in flight: the older
			// pending one is dropped, the newest waits for the one in flight.
			add(OutboxCardUpdate, "card-2")
			add(OutboxCardUpdate, "card-3")
			if got := claim("B", t0.Add(2*time.Second)); len(got) != 0 {
				t.Fatalf("claimed %s while a card update is in flight", outboxKinds(got))
			}
			if err := s.DeleteOutbox(ctx, held.ID); err != nil {
				t.Fatal(err)
			}
			got = claim("B", t0.Add(3*time.Second))
			if outboxKinds(got) != fmt.Sprintf("[%d:card-3]", e.ID) {
				t.Fatalf("claimed %s; want only the newest card update", outboxKinds(got))
			}
			if err := s.DeleteOutbox(ctx, got[0].ID); err != nil {
				t.Fatal(err)
			}
			// The messages in order once the retry is due.
			got = claim("B", t0.Add(time.Hour))
			if outboxKinds(got) != fmt.Sprintf("[%d:msg-claimed]", e.ID) || got[0].Attempts != 2 {
				t.Fatalf("claimed %s; want the claim's message on its second attempt", outboxKinds(got))
			}
			if err := s.DeleteOutbox(ctx, got[0].ID); err != nil {
				t.Fatal(err)
			}
			got = claim("B", t0.Add(time.Hour))
			if outboxKinds(got) != fmt.Sprintf("[%d:msg-resolved]", e.ID) {
				t.Fatalf("claimed %s; want the resolve's message", outboxKinds(got))
			}
			if err := s.DeleteOutbox(ctx, got[0].ID); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := s.(*sqlStore).r.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("%d rows left, %v", n, err)
			}
		})
	}
}
