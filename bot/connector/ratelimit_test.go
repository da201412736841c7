package connector

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLimiterWindowsAndMemory(t *testing.T) {
	l := newLimiter(map[string][]Window{"conversation": ConversationLimits, "tenant": TenantLimits}, "conversation")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var slots []time.Time
	for i := 0; i < 10; i++ {
		slots = append(slots, l.reserve(now, limitKey{"conversation", "c"}, limitKey{"tenant", "t"}))
	}
	// 7 at once, the 8th after a second, the 9th after two (8 per 2 s).
	for i := 0; i < 7; i++ {
		if !slots[i].Equal(now) {
			t.Fatalf("slot %d at %v", i, slots[i].Sub(now))
		}
	}
	if slots[7].Sub(now) != time.Second || slots[8].Sub(now) != 2*time.Second {
		t.Fatalf("slots 7, 8 at %v, %v", slots[7].Sub(now), slots[8].Sub(now))
	}
	// Releasing a slot frees it for the next caller.
	l.release(slots[9], limitKey{"conversation", "c"}, limitKey{"tenant", "t"})
	if again := l.reserve(now, limitKey{"conversation", "c"}); !again.Equal(slots[9]) {
		t.Fatalf("released slot not reused: %v vs %v", again.Sub(now), slots[9].Sub(now))
	}
	// A busy tenant keeps only its last second of slots.
	for i := 0; i < 5000; i++ {
		now = now.Add(25 * time.Millisecond)
		l.reserve(now, limitKey{"tenant", "busy"})
	}
	l.mu.Lock()
	n := len(l.keys[limitKey{"tenant", "busy"}])
	l.mu.Unlock()
	if n > 60 {
		t.Fatalf("tenant key holds %d slots", n)
	}
	// Idle keys are swept.
	now = now.Add(2 * time.Hour)
	for i := 0; i < 1024; i++ {
		l.reserve(now, limitKey{"conversation", "fresh"})
	}
	if s := l.size(); s != 1 {
		t.Fatalf("%d keys after the sweep, want 1", s)
	}
}

// A call whose next rate-limit slot lies beyond its deadline fails at
// once, instead of sleeping until the deadline and failing then (a turn's
// bookkeeping after it would find its context expired), and gives its
// slot back.
func TestWaitBeyondDeadlineFailsAtOnce(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var slept []time.Duration
	c := New(Config{
		Now: func() time.Time { return now },
		Sleep: func(ctx context.Context, d time.Duration) error {
			slept = append(slept, d)
			return nil
		},
		ConversationLimits: []Window{{1, time.Minute}},
		TenantLimits:       []Window{{100, time.Second}},
	})
	if d, err := c.wait(context.Background(), "c", "t"); err != nil || d != 0 {
		t.Fatalf("first call waited %v, %v", d, err)
	}
	// The next slot is a minute away; the caller has 5 s.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.wait(ctx, "c", "t")
	if !errors.Is(err, ErrRateLimitBeyondDeadline) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrRateLimitBeyondDeadline", err)
	}
	if len(slept) != 0 {
		t.Fatalf("slept %v before failing", slept)
	}
	// The refused call's slot was released: the next caller without a
	// deadline gets the first free slot, a minute on, not two.
	d, err := c.wait(context.Background(), "c", "t")
	if err != nil || d != time.Minute || len(slept) != 1 {
		t.Fatalf("next call waited %v (%v), slept %v", d, err, slept)
	}
	// A slot within the deadline is still waited for.
	now = now.Add(2 * time.Minute)
	c.wait(context.Background(), "c2", "t")
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel2()
	if d, err := c.wait(ctx2, "c2", "t"); err != nil || d != time.Minute {
		t.Fatalf("slot within the deadline: waited %v, %v", d, err)
	}
}
