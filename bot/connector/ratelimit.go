package connector

import (
	"context"
	"errors"
	"fmt"
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
// earliest slot that keeps every window of every key within its limit, in
// FIFO order per key, and the caller waits for it: requests queue instead
// of failing. A reservation whose wait is abandoned is released.
type limiter struct {
	classes map[string][]Window
	longest map[string]time.Duration // per class

	mu      sync.Mutex
	keys    map[limitKey][]time.Time // reserved slots, ascending
	acquire int
}

type limitKey struct {
	class, key string
}

func newLimiter(classes map[string][]Window) *limiter {
	l := &limiter{classes: classes, longest: map[string]time.Duration{}, keys: map[limitKey][]time.Time{}}
	for class, ws := range classes {
		for _, w := range ws {
			if w.Per > l.longest[class] {
				l.longest[class] = w.Per
			}
		}
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
		ev := l.keys[k]
		// Drop slots that no window can see any more.
		cut := 0
		horizon := now.Add(-l.longest[k.class])
		for cut < len(ev) && !ev[cut].After(horizon) {
			cut++
		}
		ev = ev[cut:]
		l.keys[k] = ev
		if n := len(ev); n > 0 && ev[n-1].After(t) {
			t = ev[n-1] // FIFO: never ahead of an earlier reservation
		}
		for _, w := range l.classes[k.class] {
			if w.N > 0 && len(ev) >= w.N {
				if earliest := ev[len(ev)-w.N].Add(w.Per); earliest.After(t) {
					t = earliest
				}
			}
		}
	}
	for _, k := range keys {
		l.keys[k] = append(l.keys[k], t)
	}
	return t
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
