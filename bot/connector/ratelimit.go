package connector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// ErrRateLimitBeyondDeadline: the next free slot of a rate limit lies
// beyond the call's deadline, so the call fails at once (it also matches
// context.DeadlineExceeded).
var ErrRateLimitBeyondDeadline = errors.New("connector: next rate-limit slot lies beyond the deadline")

// Window is one sliding-window limit: at most N requests in any period of
// length Per.
type Window struct {
	N   int
	Per time.Duration
}

// Teams' limits for a bot (Microsoft's published numbers).
var (
	// ConversationLimits apply per conversation.
	ConversationLimits = []Window{{7, time.Second}, {8, 2 * time.Second}, {60, 30 * time.Second}, {1800, time.Hour}}
	// TenantLimits apply per app and tenant.
	TenantLimits = []Window{{50, time.Second}}
)

// limiter holds sliding-window limits per key for several classes of key
// (conversation, tenant). reserve books, for all given keys at once, the
// earliest slot that keeps every window of every key within its limit,
// and the caller waits for it: requests queue instead of failing. A
// reservation whose wait is abandoned is released.
//
// A FIFO class (the conversation) never books a slot ahead of an earlier
// one of the same key, so a conversation's messages keep their order. A
// shared class (the tenant) books the earliest slot that fits among the
// slots already booked, before or after them: a conversation pushed
// seconds ahead by its own window does not hold that future slot against
// the tenant's other conversations, which take the free slots before it.
type limiter struct {
	classes map[string][]Window
	longest map[string]time.Duration // per class
	fifo    map[string]bool

	mu      sync.Mutex
	keys    map[limitKey][]time.Time // reserved slots, ascending
	acquire int
}

type limitKey struct {
	class, key string
}

// newLimiter returns a limiter for the classes; those named in fifo keep
// their slots in request order.
func newLimiter(classes map[string][]Window, fifo ...string) *limiter {
	l := &limiter{classes: classes, longest: map[string]time.Duration{}, fifo: map[string]bool{}, keys: map[limitKey][]time.Time{}}
	for class, ws := range classes {
		for _, w := range ws {
			if w.Per > l.longest[class] {
				l.longest[class] = w.Per
			}
		}
	}
	for _, c := range fifo {
		l.fifo[c] = true
	}
	return l
}

// reserve books one slot at or after now, shared by all keys, and returns it.
func (l *limiter) reserve(now time.Time, keys ...limitKey) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acquire++
	if l.acquire%1024 == 0 {
		l.sweepLocked(now)
	}
	t := now
	for _, k := range keys {
		ev := l.prune(k, now)
		if !l.fifo[k.class] {
			continue
		}
		// FIFO: after the key's last slot, and at least Per after its
		// N-th last for every window. Later is always fine for this key.
		if n := len(ev); n > 0 && ev[n-1].After(t) {
			t = ev[n-1]
		}
		for _, w := range l.classes[k.class] {
			if w.N > 0 && len(ev) >= w.N {
				if earliest := ev[len(ev)-w.N].Add(w.Per); earliest.After(t) {
					t = earliest
				}
			}
		}
	}
	// Shared keys: move t to the earliest time that fits every one of
	// them (moving later never breaks a FIFO key's fit).
	for moved := true; moved; {
		moved = false
		for _, k := range keys {
			if l.fifo[k.class] {
				continue
			}
			if f := l.fit(k, t); f.After(t) {
				t, moved = f, true
			}
		}
	}
	for _, k := range keys {
		ev := l.keys[k]
		i := sort.Search(len(ev), func(i int) bool { return ev[i].After(t) })
		ev = append(ev, time.Time{})
		copy(ev[i+1:], ev[i:])
		ev[i] = t
		l.keys[k] = ev
	}
	return t
}

// prune drops the slots of k that no window can see any more.
func (l *limiter) prune(k limitKey, now time.Time) []time.Time {
	ev := l.keys[k]
	cut := 0
	horizon := now.Add(-l.longest[k.class])
	for cut < len(ev) && !ev[cut].After(horizon) {
		cut++
	}
	ev = ev[cut:]
	l.keys[k] = ev
	return ev
}

// fit is the earliest time at or after t at which one more slot keeps
// every window of k within its limit, given all of k's booked slots.
func (l *limiter) fit(k limitKey, t time.Time) time.Time {
	if l.fits(k, t) {
		return t
	}
	// The next candidates: a window boundary Per after a booked slot.
	var cand []time.Time
	for _, s := range l.keys[k] {
		for _, w := range l.classes[k.class] {
			if c := s.Add(w.Per); c.After(t) {
				cand = append(cand, c)
			}
		}
	}
	sort.Slice(cand, func(i, j int) bool { return cand[i].Before(cand[j]) })
	for _, c := range cand {
		if l.fits(k, c) {
			return c
		}
	}
	// Unreachable: after the last booked slot plus the longest window
	// every window is empty.
	return t.Add(l.longest[k.class])
}

// fits tells whether a slot at c keeps every window of k within its limit:
// no N booked slots and c lie within less than Per of each other.
func (l *limiter) fits(k limitKey, c time.Time) bool {
	ev := l.keys[k]
	for _, w := range l.classes[k.class] {
		if w.N <= 0 {
			continue
		}
		lo := sort.Search(len(ev), func(i int) bool { return ev[i].After(c.Add(-w.Per)) })
		hi := sort.Search(len(ev), func(i int) bool { return !ev[i].Before(c.Add(w.Per)) })
		near := ev[lo:hi]
		for j := 0; j+w.N-1 < len(near); j++ {
			first, last := near[j], near[j+w.N-1]
			if c.Before(first) {
				first = c
			}
			if c.After(last) {
				last = c
			}
			if last.Sub(first) < w.Per {
				return false
			}
		}
	}
	return true
}

// release gives back a slot that will not be used.
func (l *limiter) release(slot time.Time, keys ...limitKey) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ev := l.keys[k]
		for i := len(ev) - 1; i >= 0; i-- {
			if ev[i].Equal(slot) {
				l.keys[k] = append(ev[:i:i], ev[i+1:]...)
				break
			}
		}
	}
}

func (l *limiter) sweepLocked(now time.Time) {
	for k, ev := range l.keys {
		if len(ev) == 0 || !ev[len(ev)-1].After(now.Add(-l.longest[k.class])) {
			delete(l.keys, k)
		}
	}
}

// size is the number of keys tracked (for tests).
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// wait reserves a slot for the conversation and the tenant and waits for
// it, bounded by ctx. It returns how long it waited. A slot beyond ctx's
// deadline is not waited for: wait fails at once with
// ErrRateLimitBeyondDeadline.
func (c *Client) wait(ctx context.Context, conversationID, tenantID string) (time.Duration, error) {
	now := c.now()
	keys := []limitKey{{"conversation", conversationID}, {"tenant", tenantID}}
	slot := c.limits.reserve(now, keys...)
	d := slot.Sub(now)
	if d <= 0 {
		return 0, nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		// The slot lies beyond the caller's deadline: fail now instead of
		// waiting out the deadline, and leave the slot to someone else.
		c.limits.release(slot, keys...)
		return 0, fmt.Errorf("%w (in %v): %w", ErrRateLimitBeyondDeadline, d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	rateLimitWaits.Observe(d.Seconds())
	if err := c.sleep(ctx, d); err != nil {
		c.limits.release(slot, keys...)
		return d, err
	}
	return d, nil
}
