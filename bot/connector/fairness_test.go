package connector

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

func teamsLimiter() *limiter {
	return newLimiter(map[string][]Window{"conversation": ConversationLimits, "tenant": TenantLimits}, "conversation")
}

// TestOneConversationsWindowDelaysNoOther is issue 11's reproduction: A
// sends 10 messages at once and its own window pushes the last ones 1-2 s
// ahead; B in the same tenant, 10 ms later, goes at once (the tenant is
// far below 50/s), like C in another tenant.
func TestOneConversationsWindowDelaysNoOther(t *testing.T) {
	l := teamsLimiter()
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	var a []time.Duration
	for range 10 {
		a = append(a, l.reserve(t0, limitKey{"conversation", "A"}, limitKey{"tenant", "T"}).Sub(t0))
	}
	want := []time.Duration{0, 0, 0, 0, 0, 0, 0, time.Second, 2 * time.Second, 2 * time.Second}
	for i := range want {
		if a[i] != want[i] {
			t.Fatalf("A's slots %v, want %v", a, want)
		}
	}
	at := t0.Add(10 * time.Millisecond)
	if b := l.reserve(at, limitKey{"conversation", "B"}, limitKey{"tenant", "T"}); !b.Equal(at) {
		t.Errorf("B waited %v behind A's window", b.Sub(at))
	}
	if c := l.reserve(at, limitKey{"conversation", "C"}, limitKey{"tenant", "U"}); !c.Equal(at) {
		t.Errorf("C waited %v", c.Sub(at))
	}
	// A's own order is kept: its 11th message comes after its 10th.
	if a11 := l.reserve(at, limitKey{"conversation", "A"}, limitKey{"tenant", "T"}); a11.Sub(t0) < 2*time.Second {
		t.Errorf("A's 11th message at %v, before its 10th", a11.Sub(t0))
	}
}

// TestTenantBudgetFullAndFair: 200 conversations of one tenant each send
// 5 messages in a rush. Every window of every key holds (checked on the
// booked slots), each conversation's messages stay in order, the tenant
// runs at its 50 a second, and nobody starves: the conversation that
// asked first for its first message gets one of the first slots.
func TestTenantBudgetFullAndFair(t *testing.T) {
	l := teamsLimiter()
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	type req struct{ conv, n int }
	var order []req
	next := make([]int, 200)
	for len(order) < 1000 {
		c := rng.IntN(200)
		if next[c] < 5 {
			order = append(order, req{c, next[c]})
			next[c]++
		}
	}
	slots := map[int][]time.Time{}
	var all []time.Time
	for i, r := range order {
		now := t0.Add(time.Duration(i) * time.Millisecond) // a rush: 1,000 in one second
		s := l.reserve(now, limitKey{"conversation", string(rune('a'+r.conv%26)) + string(rune('A'+r.conv/26))}, limitKey{"tenant", "T"})
		if n := len(slots[r.conv]); n > 0 && s.Before(slots[r.conv][n-1]) {
			t.Fatalf("conversation %d: message %d booked before message %d", r.conv, r.n, r.n-1)
		}
		slots[r.conv] = append(slots[r.conv], s)
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	for _, w := range TenantLimits {
		for i := range all {
			j := sort.Search(len(all), func(j int) bool { return !all[j].Before(all[i].Add(w.Per)) })
			if j-i > w.N {
				t.Fatalf("%d tenant slots within %v from %v", j-i, w.Per, all[i].Sub(t0))
			}
		}
	}
	for c, ss := range slots {
		for _, w := range ConversationLimits {
			for i := range ss {
				n := 0
				for _, s := range ss[i:] {
					if s.Sub(ss[i]) < w.Per {
						n++
					}
				}
				if n > w.N {
					t.Fatalf("conversation %d: %d slots within %v", c, n, w.Per)
				}
			}
		}
	}
	// 1,000 messages at 50 a second: done in about 20 s, not more.
	if span := all[len(all)-1].Sub(t0); span > 21*time.Second {
		t.Errorf("the rush took %v, want about 20 s (the tenant's budget used)", span)
	}
	first := slots[order[0].conv][0]
	if first.Sub(t0) > 0 {
		t.Errorf("the first request waited %v", first.Sub(t0))
	}
}
