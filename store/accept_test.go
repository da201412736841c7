package store

import (
	"context"
	"testing"
	"time"
)

// TestAcceptLeased: an accepted entry that may run at once comes back
// leased to the accepting owner (on SQLite), so it needs no claim; one
// that must wait (an earlier entry of its conversation unfinished, or
// another owner running the conversation's timer) is not leased, and a
// Teams retry stores nothing. No other owner can claim a leased entry
// before its lease ends.
func TestAcceptLeased(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			ref := func(conv string) ConversationRef {
				return ConversationRef{ConversationID: conv, ServiceURL: "https://smba.example/", ChannelID: "msteams"}
			}
			accept := func(owner, conv, id string, now time.Time) (InboxItem, bool, bool) {
				t.Helper()
				it, fresh, leased, err := s.AcceptLeased(ctx, ref(conv), InboxItem{ActivityID: id, ConversationID: conv, Body: []byte(`{"type":"message"}`), ReceivedAt: now},
					owner, time.Minute, now)
				if err != nil {
					t.Fatalf("AcceptLeased(%s): %v", id, err)
				}
				return it, fresh, leased
			}
			it, fresh, leased := accept("A", "c", "c1", t0)
			sqlite := b.name == "sqlite"
			if !fresh || leased != sqlite || leased && it.Seq == 0 {
				t.Fatalf("first entry: fresh %v leased %v seq %d; want fresh, leased (with its seq) on SQLite only", fresh, leased, it.Seq)
			}
			if _, fresh, _ := accept("A", "c", "c1", t0); fresh {
				t.Fatal("a Teams retry was stored again")
			}
			if _, fresh, leased := accept("A", "c", "c2", t0); !fresh || leased {
				t.Fatalf("second entry while c1 is unfinished: fresh %v leased %v; want stored, not leased", fresh, leased)
			}
			if sqlite {
				if _, ok, _ := s.ClaimPendingOf(ctx, "B", "c", time.Minute, t0); ok {
					t.Fatal("B claimed c1 while A's lease from the accept runs")
				}
				if got, ok, _ := s.ClaimPendingOf(ctx, "A", "c", time.Minute, t0); !ok || got.Seq != it.Seq {
					t.Fatalf("A's own claim: %+v %v, want c1 again", got, ok)
				}
			}
			if rows, err := s.Pending(ctx, 10); err != nil || len(rows) != 2 {
				t.Fatalf("pending: %d entries, %v; want c1 and c2", len(rows), err)
			}

			// Another owner runs d's timer: d's entry waits.
			if _, err := s.AddTimer(ctx, Timer{ConversationID: "d", Due: t0.Add(-time.Second), Payload: []byte("1")}); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveRef(ctx, ref("d")); err != nil {
				t.Fatal(err)
			}
			if tms, err := s.ClaimDueTimers(ctx, "B", 10, time.Minute, t0); err != nil || len(tms) != 1 {
				t.Fatalf("B claims d's timer: %d, %v", len(tms), err)
			}
			if _, fresh, leased := accept("A", "d", "d1", t0); !fresh || leased {
				t.Fatalf("entry while B runs the timer: fresh %v leased %v; want stored, not leased", fresh, leased)
			}
		})
	}
}
