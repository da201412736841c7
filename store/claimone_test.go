package store

import (
	"context"
	"testing"
	"time"
)

// TestClaimPendingOf: one conversation's next entry, with the rules of
// ClaimPending: oldest first, never to two owners, taken over after the
// lease, not while another owner runs the conversation's timer, and
// blind to other conversations.
func TestClaimPendingOf(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			enqueue(t, s, "c", "c1", "c2")
			enqueue(t, s, "d", "d1")
			claim := func(owner, conv string, now time.Time) string {
				t.Helper()
				it, ok, err := s.ClaimPendingOf(ctx, owner, conv, time.Minute, now)
				if err != nil {
					t.Fatalf("ClaimPendingOf(%s, %s): %v", owner, conv, err)
				}
				if !ok {
					return ""
				}
				if it.ConversationID != conv || len(it.Body) == 0 {
					t.Fatalf("claimed %+v for %s", it, conv)
				}
				return it.ActivityID
			}
			if got := claim("A", "c", t0); got != "c1" {
				t.Fatalf("A claims %q of c, want c1 (the oldest)", got)
			}
			if got := claim("B", "c", t0); got != "" {
				t.Fatalf("B claims %q while A holds c1", got)
			}
			if got := claim("A", "c", t0); got != "c1" {
				t.Fatalf("A claims %q again, want c1 renewed", got)
			}
			if got := claim("B", "d", t0); got != "d1" {
				t.Fatalf("B claims %q of d, want d1", got)
			}
			if got := claim("B", "c", t0.Add(2*time.Minute)); got != "c1" {
				t.Fatalf("after A's lease B claims %q, want c1", got)
			}
			items, _ := s.Pending(ctx, 10)
			for _, it := range items {
				if it.ActivityID == "c1" {
					if err := s.MarkDone(ctx, it.Seq); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got := claim("B", "c", t0.Add(2*time.Minute)); got != "c2" {
				t.Fatalf("after c1 is done B claims %q, want c2", got)
			}
			if got := claim("A", "none", t0); got != "" {
				t.Fatalf("a conversation without work: %q", got)
			}
			// Another owner runs the conversation's timer: not handed out.
			if err := s.SaveRef(ctx, ConversationRef{ConversationID: "e", ServiceURL: "https://smba.example/"}); err != nil {
				t.Fatal(err)
			}
			s.AddTimer(ctx, Timer{ConversationID: "e", Due: t0, Payload: []byte("t")})
			if ts, _ := s.ClaimDueTimers(ctx, "A", 5, time.Minute, t0); len(ts) != 1 {
				t.Fatalf("A claims %d timers", len(ts))
			}
			enqueue(t, s, "e", "e1")
			if got := claim("B", "e", t0); got != "" {
				t.Fatalf("B claims %q while A runs e's timer", got)
			}
			if got := claim("A", "e", t0); got != "e1" {
				t.Fatalf("A claims %q of e, want e1", got)
			}
		})
	}
}
