package connector

import (
	"testing"
	"time"
)

func TestLimiterWindowsAndMemory(t *testing.T) {
	l := newLimiter(map[string][]Window{"conversation": ConversationLimits, "tenant": TenantLimits})
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
