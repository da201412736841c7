package store

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A form's one-time key is claimed once, also when two requests (two
// instances) race for it; old keys are swept.
func TestClaimActionKey(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t).(*sqlStore)
			ctx := context.Background()
			first, err := s.ClaimActionKey(ctx, "key-aaaaaaaaaaaaaaaa", 7, "tap", t0)
			if err != nil || !first {
				t.Fatalf("first claim: %v %v", first, err)
			}
			again, err := s.ClaimActionKey(ctx, "key-aaaaaaaaaaaaaaaa", 7, "tap", t0)
			if err != nil || again {
				t.Fatalf("second claim: %v %v", again, err)
			}
			var wg sync.WaitGroup
			wins := make(chan bool, 8)
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.ClaimActionKey(ctx, "key-bbbbbbbbbbbbbbbb", 7, "tap", t0)
					if err != nil {
						t.Error(err)
					}
					wins <- ok
				}()
			}
			wg.Wait()
			close(wins)
			n := 0
			for ok := range wins {
				if ok {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%d of 8 racing claims won, want 1", n)
			}
			if _, err := s.ClaimActionKey(ctx, "", 7, "tap", t0); err == nil {
				t.Fatal("an empty key was accepted")
			}
			// A day later the old keys are swept by the next claim.
			if _, err := s.ClaimActionKey(ctx, "key-cccccccccccccccc", 7, "tap", t0.Add(25*time.Hour)); err != nil {
				t.Fatal(err)
			}
			var left int
			if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM action_keys`).Scan(&left); err != nil || left != 1 {
				t.Fatalf("keys left after the sweep: %d %v", left, err)
			}
		})
	}
}
