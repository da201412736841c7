package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"mfabot/dialogs"
	"mfabot/internal/safe"
	"mfabot/store"
)

// pollLimit is how many inbox entries and timers one poll takes.
const pollLimit = 256

// job is one unit of work for a worker: an inbox entry or a due timer.
type job struct {
	item  *store.InboxItem
	timer *store.Timer
}

// Run processes the inbox until ctx ends: unfinished entries first (those
// left by a previous process), then new ones as they are accepted, and
// the due timers. A conversation has at most one entry in flight, and its
// entries run in the order they were accepted (a failed one is retried,
// with a growing delay, before the next). When ctx ends Run stops taking
// work, lets the turns in flight finish (they run on a context that ctx
// does not cancel, bounded by TurnTimeout), gives back what it still
// held, and returns nil.
//
// Work is leased from the store (store.ClaimPending, ClaimDueTimers)
// under Options.InstanceID, so several instances can share one database:
// each entry and timer is run by one of them, a conversation's entries
// stay in order across them, and the work of an instance that died is
// taken over once its leases run out (Options.ClaimLease). Every poll
// renews the leases of the work this instance holds; a job whose lease
// has less than TurnTimeout left is not started (it is claimed again).
func (s *Server) Run(ctx context.Context) error {
	d := &dispatcher{
		s:     s,
		slots: make(chan struct{}, s.o.Workers),
	}
	s.disp.Store(d)
	defer s.disp.Store(nil)
	ticker := time.NewTicker(s.o.PollInterval)
	defer ticker.Stop()
	poll := true // at the start: what a previous process left
	for {
		if poll {
			d.poll(ctx)
			d.kicked(ctx, kick{conv: slotFree}) // slots the poll left free go to the backlog
		}
		poll = true
		select {
		case <-ctx.Done():
			// Jobs still queued are dropped by the workers (see do):
			// they stay in the store for the next start.
			d.stopping.Store(true)
			d.running.Wait()
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.o.Store.ReleaseClaims(rctx, s.o.InstanceID); err != nil {
				s.log.Warn("leases not released; other instances take them over when they run out", "err", err)
			}
			cancel()
			return nil
		case <-s.wake:
		case <-ticker.C:
		case k := <-s.kicks:
			// New work in one conversation, or a free slot: claim that
			// conversation's next entry alone (and the other kicks
			// waiting), before any full poll.
			d.kicked(ctx, k)
			for more := true; more; {
				select {
				case k := <-s.kicks:
					d.kicked(ctx, k)
				default:
					more = false
				}
			}
			poll = false
		}
	}
}

// dispatcher hands each job to a goroutine of its own, at most
// Options.Workers at once. A conversation has at most one job in flight,
// so a turn that waits (for Graph, or for its Teams rate-limit slot)
// holds up only its own conversation, never others that would share a
// worker with it.
type dispatcher struct {
	s       *Server
	slots   chan struct{} // one per running job
	running sync.WaitGroup
	// backlog holds, oldest first, the conversations whose next entry
	// waits for a free slot; only the Run goroutine touches it.
	backlog   []string
	inBacklog map[string]bool
	waiting   atomic.Int64 // len(backlog), for other goroutines (see mayRunNow)

	busyMu sync.Mutex
	busy   map[string]bool // conversations with an inbox entry running

	items  tracker // inbox seqs
	timers tracker // timer ids

	retries timerRetries // failed timers waiting for their next attempt

	stopping atomic.Bool
}

// timerAttempts is how many times a timer turn is tried before the
// student gets the apology and the timer is dropped.
const timerAttempts = 3

// timerRetries counts the failed attempts of timers and holds each back
// for a growing delay (PollInterval doubled per attempt) before the
// next. The delay runs on real time: it paces retries, it decides
// nothing. The count lives in this process: after a restart a timer
// gets its attempts anew.
type timerRetries struct {
	mu sync.Mutex
	m  map[int64]timerRetry
}

type timerRetry struct {
	failed int       // attempts that failed
	until  time.Time // not tried again before
}

// failed records a failed attempt of timer id and returns how many
// attempts have failed now.
func (r *timerRetries) failed(id int64, base time.Duration) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[int64]timerRetry{}
	}
	tr := r.m[id]
	tr.failed++
	tr.until = time.Now().Add(base << tr.failed)
	r.m[id] = tr
	return tr.failed
}

// attempts returns how many attempts of timer id failed so far.
func (r *timerRetries) attempts(id int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id].failed
}

// held tells whether timer id waits for its next attempt.
func (r *timerRetries) held(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	tr, ok := r.m[id]
	return ok && time.Now().Before(tr.until)
}

// forget drops the count of a timer that ran or was given up, and of
// timers that stopped coming back (deleted by their conversation).
func (r *timerRetries) forget(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, id)
}

func (r *timerRetries) prune(older time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, tr := range r.m {
		if tr.until.Before(older) {
			delete(r.m, id)
		}
	}
}

// tracker keeps a poll from handing out work that is in flight, or that
// finished while the poll's snapshot of the store was being read (the
// snapshot still shows it; running it again would answer twice).
type tracker struct {
	mu       sync.Mutex
	epoch    uint64              // incremented before every snapshot
	inflight map[int64]time.Time // queued or running -> its lease's end
	finished map[int64]uint64    // id -> epoch in which it finished
}

// begin starts a snapshot and returns its epoch.
func (t *tracker) begin() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inflight == nil {
		t.inflight, t.finished = map[int64]time.Time{}, map[int64]uint64{}
	}
	t.epoch++
	return t.epoch
}

// claim marks id in flight, its store lease ending at until, unless it is
// in flight already (then only its lease is renewed), or the snapshot of
// epoch e may predate its end.
func (t *tracker) claim(id int64, e uint64, until time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.inflight[id]; ok {
		t.inflight[id] = until
		return false
	}
	if f, ok := t.finished[id]; ok && f >= e {
		return false
	}
	t.inflight[id] = until
	return true
}

// renew records the renewed lease of an id in flight (the poll's claim
// renewed it in the store).
func (t *tracker) renew(id int64, until time.Time) {
	t.mu.Lock()
	if _, ok := t.inflight[id]; ok {
		t.inflight[id] = until
	}
	t.mu.Unlock()
}

// leaseEnd is when the store lease of an id in flight ends.
func (t *tracker) leaseEnd(id int64) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inflight[id]
}

// unclaim gives id back (it was not handed out).
func (t *tracker) unclaim(id int64) {
	t.mu.Lock()
	delete(t.inflight, id)
	t.mu.Unlock()
}

// done records that id finished (its store row was updated).
func (t *tracker) done(id int64) {
	t.mu.Lock()
	delete(t.inflight, id)
	t.finished[id] = t.epoch
	t.mu.Unlock()
}

// end forgets what finished before the snapshot of epoch e was taken:
// every later snapshot reflects it.
func (t *tracker) end(e uint64) {
	t.mu.Lock()
	for id, f := range t.finished {
		if f < e {
			delete(t.finished, id)
		}
	}
	t.mu.Unlock()
}

// start runs j on a goroutine of its own if a slot is free.
func (d *dispatcher) start(j job) bool {
	select {
	case d.slots <- struct{}{}:
	default:
		return false
	}
	if j.item != nil {
		d.setBusy(j.item.ConversationID, true)
	}
	d.running.Add(1)
	go func() {
		defer d.running.Done()
		defer func() {
			if j.item != nil {
				d.setBusy(j.item.ConversationID, false) // also when do returned early
			}
			<-d.slots
			d.s.kick(slotFree) // the backlog's next conversation may go
		}()
		d.do(j)
	}()
	return true
}

func (d *dispatcher) setBusy(conv string, busy bool) {
	d.busyMu.Lock()
	defer d.busyMu.Unlock()
	if d.busy == nil {
		d.busy = map[string]bool{}
	}
	if busy {
		d.busy[conv] = true
	} else {
		delete(d.busy, conv)
	}
}

func (d *dispatcher) isBusy(conv string) bool {
	d.busyMu.Lock()
	defer d.busyMu.Unlock()
	return d.busy[conv]
}

// slotFree is the kick of a finished job: a slot is free.
const slotFree = ""

// defer_ queues conv at the end of the backlog (once).
func (d *dispatcher) defer_(conv string) {
	if d.inBacklog == nil {
		d.inBacklog = map[string]bool{}
	}
	if !d.inBacklog[conv] {
		d.inBacklog[conv] = true
		d.backlog = append(d.backlog, conv)
		d.waiting.Store(int64(len(d.backlog)))
	}
}

// mayRunNow tells whether an entry accepted now would start at once: a
// slot is free and no conversation waits for one. Only then does the
// accept lease it to this instance (an entry leased here but left waiting
// would wait for its lease to run out if this process died).
func (d *dispatcher) mayRunNow() bool {
	return d != nil && !d.stopping.Load() && len(d.slots) < cap(d.slots) && d.waiting.Load() == 0
}

// kicked handles one kick: with a backlog the conversation queues behind
// the ones that waited longer (no conversation overtakes another during a
// rush); then the backlog gets the free slots, oldest first.
func (d *dispatcher) kicked(ctx context.Context, k kick) {
	if conv := k.conv; conv != slotFree {
		if len(d.backlog) > 0 {
			d.defer_(conv) // a leased entry stays leased here: its claim returns it
		} else if d.claimOne(ctx, conv, k.leased, k.until) == noSlot {
			d.defer_(conv)
		}
	}
	for len(d.backlog) > 0 && len(d.slots) < cap(d.slots) && ctx.Err() == nil {
		next := d.backlog[0]
		if d.claimOne(ctx, next, nil, time.Time{}) == noSlot {
			return // stays first
		}
		d.backlog = d.backlog[1:]
		d.waiting.Store(int64(len(d.backlog)))
		delete(d.inBacklog, next)
	}
}

// claimResult says what claimOne did.
type claimResult int

const (
	started claimResult = iota
	nothing             // no entry to hand out now (none, busy, held, error)
	noSlot              // an entry, but every slot is taken
)

// claimOne hands out the next entry of one conversation: the work a kick
// names, at a cost that does not grow with the inbox. A conversation
// with an entry running is left alone (its end kicks it again); anything
// this cannot hand out (held for a retry, no free slot, a store error) is
// left for the periodic poll.
func (d *dispatcher) claimOne(ctx context.Context, conv string, leased *store.InboxItem, leasedUntil time.Time) claimResult {
	s := d.s
	if ctx.Err() != nil || d.isBusy(conv) {
		return nothing
	}
	if len(d.slots) == cap(d.slots) {
		return noSlot // not even asking the store
	}
	now := s.o.Now()
	until := now.Add(s.o.ClaimLease)
	epoch := d.items.begin()
	defer d.items.end(epoch)
	if leased != nil && d.leaseLeft(leasedUntil) {
		// Leased to this instance by its accept: no claim needed.
		if s.held(leased.Seq) || !d.items.claim(leased.Seq, epoch, leasedUntil) {
			return nothing
		}
		if !d.start(job{item: leased}) {
			d.items.unclaim(leased.Seq)
			return noSlot
		}
		return started
	}
	it, ok, err := s.o.Store.ClaimPendingOf(ctx, s.o.InstanceID, conv, s.o.ClaimLease, now)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("inbox claim failed", "err", err)
			s.signal()
		}
		return nothing
	}
	if !ok {
		return nothing
	}
	d.items.renew(it.Seq, until)
	if s.held(it.Seq) || !d.items.claim(it.Seq, epoch, until) {
		return nothing
	}
	if !d.start(job{item: &it}) {
		d.items.unclaim(it.Seq)
		return noSlot
	}
	return started
}

func (d *dispatcher) poll(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	s := d.s
	full := false                // every slot taken: the rest waits for the next poll
	waiting := map[string]bool{} // conversation behind a held entry

	now := s.o.Now()
	until := now.Add(s.o.ClaimLease)
	epoch := d.items.begin()
	// The store hands out (at most) the oldest unfinished entry of each
	// conversation, and the ones this instance holds again, renewed.
	items, err := s.o.Store.ClaimPending(ctx, s.o.InstanceID, pollLimit, s.o.ClaimLease, now)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("inbox poll failed", "err", err)
		}
		return
	}
	metricInboxDepth.Set(float64(len(items)))
	for i := range items {
		it := items[i]
		d.items.renew(it.Seq, until)
		if waiting[it.ConversationID] {
			continue
		}
		if full {
			// No slot: the conversation waits its turn in the backlog,
			// in the order of its oldest entry.
			if !s.held(it.Seq) && !d.isBusy(it.ConversationID) {
				d.defer_(it.ConversationID)
			}
			waiting[it.ConversationID] = true
			continue
		}
		if s.held(it.Seq) {
			// A failed entry waits for its retry; later entries of its
			// conversation wait with it, so that their order is kept.
			waiting[it.ConversationID] = true
			continue
		}
		// One entry per conversation at a time: the next one is handed
		// out once this one is done (a failed one is retried first).
		waiting[it.ConversationID] = true
		if !d.items.claim(it.Seq, epoch, until) {
			continue
		}
		if !d.start(job{item: &it}) {
			// Oldest first: nothing later may overtake the entry that
			// did not fit; a finishing job hands its slot on.
			full = true
			d.items.unclaim(it.Seq)
			d.defer_(it.ConversationID)
		}
	}
	d.items.end(epoch)

	epoch = d.timers.begin()
	// Timers of conversations the bot cannot message (the terminal
	// chat's) are never handed out: that process runs them itself.
	timers, err := s.o.Store.ClaimDueTimers(ctx, s.o.InstanceID, pollLimit, s.o.ClaimLease, now)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("timer poll failed", "err", err)
		}
		return
	}
	d.retries.prune(time.Now().Add(-time.Hour))
	for i := range timers {
		t := timers[i]
		d.timers.renew(t.ID, until)
		if full || d.retries.held(t.ID) || !d.timers.claim(t.ID, epoch, until) {
			continue
		}
		if !d.start(job{timer: &t}) {
			full = true
			d.timers.unclaim(t.ID)
		}
	}
	d.timers.end(epoch)
}

func (d *dispatcher) do(j job) {
	if d.stopping.Load() {
		return // left in the store for the next start
	}
	defer func() {
		// The processing functions recover the handlers' panics; this
		// keeps a worker alive (and its conversations moving) whatever
		// else goes wrong.
		if v := recover(); v != nil {
			d.s.log.Error("panic in inbox worker", "panic", fmt.Sprint(v))
			if j.item != nil {
				d.items.done(j.item.Seq)
			} else {
				d.timers.done(j.timer.ID)
			}
		}
	}()
	// A job that waited in its queue so long that its lease could run out
	// during the turn is left for the next poll, which renews the lease
	// if it is still this instance's (else another instance has it).
	if j.item != nil {
		if !d.leaseLeft(d.items.leaseEnd(j.item.Seq)) {
			d.items.unclaim(j.item.Seq)
			d.s.signal()
			return
		}
		d.s.processItem(*j.item)
		d.items.done(j.item.Seq)
		d.setBusy(j.item.ConversationID, false)
		d.s.kick(j.item.ConversationID) // the conversation's next entry may go now
	} else {
		if !d.leaseLeft(d.timers.leaseEnd(j.timer.ID)) {
			d.timers.unclaim(j.timer.ID)
			d.s.signal()
			return
		}
		id := j.timer.ID
		if d.s.processTimer(*j.timer, d.retries.attempts(id)+1) {
			d.retries.forget(id)
		} else {
			d.retries.failed(id, d.s.o.PollInterval)
		}
		d.timers.done(id)
		d.s.kick(j.timer.ConversationID) // entries of its conversation held back by the timer may go
	}
}

// leaseLeft: a turn started now ends (TurnTimeout) before the lease does.
func (d *dispatcher) leaseLeft(end time.Time) bool {
	return d.s.o.Now().Add(d.s.o.TurnTimeout).Before(end)
}

// holdRetry keeps a failed entry back for a growing delay (PollInterval
// doubled per attempt) before it is tried again. The delay runs on real
// time: it paces retries, it decides nothing.
func (s *Server) holdRetry(it store.InboxItem) {
	d := s.o.PollInterval << (it.Attempts + 1)
	s.mu.Lock()
	s.holds[it.Seq] = time.Now().Add(d)
	s.mu.Unlock()
}

func (s *Server) held(seq int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.holds[seq]
	if !ok {
		return false
	}
	if time.Now().Before(until) {
		return true
	}
	delete(s.holds, seq)
	return false
}

// turnContext is the context of one turn: not canceled by shutdown (an
// in-flight turn finishes), bounded by TurnTimeout.
func (s *Server) turnContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.o.TurnTimeout)
}

// bookkeepingTimeout bounds the writes after a turn: marking its inbox
// entry done or failed, the apology, deleting a timer.
const bookkeepingTimeout = 5 * time.Second

// bookkeeping is the context of the writes that finish a turn. It keeps
// ctx's values but not its deadline: a turn that used up its time (a
// slow handler, replies queued behind Retry-After or the rate limiter)
// must still be marked done, or it is delivered and applied again; a
// failed one must still count its attempt, or it is retried forever.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
}

// processItem runs one inbox entry to its end: done, or one failed
// attempt counted (the store gives up after store.MaxInboxAttempts).
func (s *Server) processItem(it store.InboxItem) {
	ctx, cancel := s.turnContext()
	defer cancel()
	log := s.log.With("seq", it.Seq, "conversation", shortID(it.ConversationID))
	start := time.Now()

	act, err := ParseActivity(it.Body)
	if err != nil {
		// Accepted bodies parsed before; this only happens to a damaged row.
		log.Error("inbox entry unreadable; giving up", "err", err)
		s.giveUp(ctx, log, it, "unreadable")
		return
	}
	log = log.With("activity_id", act.ID, "activity_type", string(act.Type))
	s.trust(act.ServiceURL) // validated before it was enqueued
	ref := act.ref()

	switch s.classify(act) {
	case routeIgnore, routeFeedback:
		// (Feedback is answered and stored by the HTTP handler; an entry
		// of it is never enqueued.)
		s.markDone(ctx, log, it)
		return
	case routeRefusedStaff:
		if act.Type == schema.Message {
			s.sendText(ctx, log, ref, act.ID, neutralText(act.Locale))
		}
		metricTurns.WithLabelValues("refused", "ok").Inc()
		s.markDone(ctx, log, it)
		return
	case routeNotPersonal:
		// No dialog, no state, no directory read: one fixed text.
		if act.Type == schema.Message {
			s.sendText(ctx, log, ref, act.ID, personalOnlyText(act.Locale))
		}
		metricTurns.WithLabelValues("not_personal", "ok").Inc()
		s.markDone(ctx, log, it)
		return
	case routeStaff, routeStaffInvoke:
		s.processStaffSubmit(ctx, log, it, act)
		return
	case routeWelcome:
		if s.welcomeTwin(ref.ConversationID) {
			log.Info("second welcome of one install dropped")
			s.markDone(ctx, log, it)
			return
		}
		s.processTurn(ctx, log, it, act, dialogs.Turn{
			Ref:        ref,
			ActivityID: act.ID,
			Kind:       dialogs.TurnWelcome,
			Platform:   act.Platform(),
			At:         s.at(it.ReceivedAt),
		}, start)
	case routeTurn:
		replyTo := act.ReplyToID
		text := ""
		if act.Type == schema.Message {
			text = StripMentions(act.Text)
		}
		s.processTurn(ctx, log, it, act, dialogs.Turn{
			Ref:        ref,
			ActivityID: act.ID,
			ReplyToID:  replyTo,
			Kind:       dialogs.TurnMessage,
			Text:       text,
			Value:      act.turnValue(),
			Platform:   act.Platform(),
			At:         s.at(it.ReceivedAt),
		}, start)
	}
}

func (s *Server) at(received time.Time) time.Time {
	if received.IsZero() {
		return s.o.Now()
	}
	return received
}

// welcomeTwin tells whether a welcome turn of the same conversation
// succeeded within welcomeTwinWindow (entries of one conversation run one
// at a time, so check and record cannot interleave).
func (s *Server) welcomeTwin(conversationID string) bool {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.welcomed {
		if now.Sub(t) > welcomeTwinWindow {
			delete(s.welcomed, id)
		}
	}
	t, ok := s.welcomed[conversationID]
	return ok && now.Sub(t) <= welcomeTwinWindow
}

func (s *Server) welcomeDone(conversationID string) {
	s.mu.Lock()
	s.welcomed[conversationID] = s.o.Now()
	s.mu.Unlock()
}

func (s *Server) processTurn(ctx context.Context, log *slog.Logger, it store.InboxItem, act *Activity, t dialogs.Turn, start time.Time) {
	kind := string(t.Kind)
	replies, err := s.handle(ctx, t)
	if err != nil {
		last := it.Attempts+1 >= store.MaxInboxAttempts
		log.Error("turn failed", "attempt", it.Attempts+1, "final", last, "err", err)
		s.markFailed(ctx, log, it, "turn handler error")
		if last {
			metricTurnFailures.Inc()
			metricTurns.WithLabelValues(kind, "failed").Inc()
			replyTo := ""
			if act.Type == schema.Message {
				replyTo = act.ID
			}
			bctx, cancel := bookkeeping(ctx)
			s.sendReply(bctx, log, t.Ref, replyTo, s.apologyReply(t.Ref.Locale))
			cancel()
		}
		return
	}
	replyTo := ""
	if act.Type == schema.Message {
		replyTo = act.ID
	}
	if t.Kind == dialogs.TurnWelcome {
		s.welcomeDone(t.Ref.ConversationID)
	}
	s.sendReplies(ctx, log, t.Ref, replyTo, replies)
	s.markDone(ctx, log, it)
	metricTurns.WithLabelValues(kind, "ok").Inc()
	metricTurnLatency.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

// handle calls the turn handler with a typing function, turning a panic
// into an error.
func (s *Server) handle(ctx context.Context, t dialogs.Turn) (replies []dialogs.Reply, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("turn handler panicked: %v", v)
		}
	}()
	ty := s.newTyping(ctx, t.Ref)
	defer ty.stop()
	return s.o.Turns.Handle(ctx, t, ty.start)
}

// typingMinGap: Teams shows the indicator for about 3 s; sending it more
// often only costs rate-limit budget.
const typingMinGap = 2500 * time.Millisecond

// typing sends Teams' typing indicator for a turn that takes a while: the
// turn asks for it (before a Graph read or an LLM call), and it goes out
// only if the turn is still running Options.TypingDelay later. A reply
// that comes within that time needs no indicator, and the indicator
// would only spend the conversation's and the tenant's rate limits.
type typing struct {
	s   *Server
	ctx context.Context
	ref store.ConversationRef

	mu      sync.Mutex
	pending *time.Timer
	last    time.Time
	done    bool
}

func (s *Server) newTyping(ctx context.Context, ref store.ConversationRef) *typing {
	return &typing{s: s, ctx: ctx, ref: ref}
}

// start asks for the indicator.
func (ty *typing) start() {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	if ty.done || ty.pending != nil {
		return
	}
	if !ty.last.IsZero() && ty.s.o.Now().Sub(ty.last) < typingMinGap {
		return
	}
	if ty.s.o.TypingDelay <= 0 {
		ty.last = ty.s.o.Now()
		ty.pending = time.AfterFunc(0, ty.send)
		return
	}
	ty.pending = time.AfterFunc(ty.s.o.TypingDelay, ty.send)
}

func (ty *typing) send() {
	defer safe.Recover(ty.s.log, "typing")
	ty.mu.Lock()
	if ty.done {
		ty.mu.Unlock()
		return
	}
	ty.last = ty.s.o.Now()
	ty.mu.Unlock()
	tctx, cancel := context.WithTimeout(ty.ctx, 3*time.Second)
	defer cancel()
	if err := ty.s.typing(tctx, ty.ref); err != nil {
		metricSendErrors.WithLabelValues("typing").Inc()
		ty.s.log.Debug("typing indicator not sent", "err", err)
	}
	ty.mu.Lock()
	ty.pending = nil
	ty.mu.Unlock()
}

// stop ends the turn: an indicator not sent yet is not sent.
func (ty *typing) stop() {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	ty.done = true
	if ty.pending != nil {
		ty.pending.Stop()
	}
}

// sendReplies sends the turn's replies: the first as a reply to the
// student's activity (when there is one), the rest as new messages.
// combine puts a text followed by a card into one activity (Teams shows
// the text above the card): one message instead of two against the
// conversation's and the tenant's rate limits. The model's answer stays
// a message of its own: its AI label and feedback buttons are about its
// text, not about the step card after it.
func combine(replies []dialogs.Reply) []dialogs.Reply {
	out := make([]dialogs.Reply, 0, len(replies))
	for i := 0; i < len(replies); i++ {
		r := replies[i]
		if r.Text != "" && len(r.Card) == 0 && r.AI == nil && len(r.Suggest) == 0 &&
			i+1 < len(replies) && replies[i+1].Text == "" && len(replies[i+1].Card) > 0 && replies[i+1].AI == nil {
			r.Card = replies[i+1].Card
			i++
		}
		out = append(out, r)
	}
	return out
}

func (s *Server) sendReplies(ctx context.Context, log *slog.Logger, ref store.ConversationRef, replyTo string, replies []dialogs.Reply) {
	for i, r := range combine(replies) {
		if r.Text == "" && len(r.Card) == 0 {
			continue
		}
		to := ""
		if i == 0 {
			to = replyTo
		}
		id, err := s.send(ctx, ref, to, r)
		if err != nil {
			metricSendErrors.WithLabelValues("send").Inc()
			log.Error("reply not delivered", "index", i, "err", err)
			continue
		}
		if r.AI != nil {
			s.recordAnswer(ctx, log, ref, id, r.AI)
		}
	}
}

func (s *Server) sendText(ctx context.Context, log *slog.Logger, ref store.ConversationRef, replyTo, text string) {
	s.sendReply(ctx, log, ref, replyTo, dialogs.Reply{Text: text})
}

func (s *Server) sendReply(ctx context.Context, log *slog.Logger, ref store.ConversationRef, replyTo string, r dialogs.Reply) {
	if _, err := s.send(ctx, ref, replyTo, r); err != nil {
		metricSendErrors.WithLabelValues("send").Inc()
		log.Error("message not delivered", "err", err)
	}
}

func (s *Server) markDone(ctx context.Context, log *slog.Logger, it store.InboxItem) {
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := s.o.Store.MarkDone(ctx, it.Seq); err != nil {
		log.Error("mark done failed", "err", err)
	}
}

// markFailed counts one failed attempt of an entry and holds it back
// before its retry.
func (s *Server) markFailed(ctx context.Context, log *slog.Logger, it store.InboxItem, reason string) {
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := s.o.Store.MarkFailed(ctx, it.Seq, reason); err != nil {
		log.Error("mark failed", "err", err)
	}
	s.holdRetry(it)
}

// giveUp fails an entry for good (all remaining attempts).
func (s *Server) giveUp(ctx context.Context, log *slog.Logger, it store.InboxItem, reason string) {
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	for a := it.Attempts; a < store.MaxInboxAttempts; a++ {
		if err := s.o.Store.MarkFailed(ctx, it.Seq, reason); err != nil {
			log.Error("mark failed", "err", err)
			return
		}
	}
	metricTurnFailures.Inc()
}

// processStaffSubmit runs a staff card click that came as a message (or
// an invoke the HTTP handler enqueued) and replaces the card.
func (s *Server) processStaffSubmit(ctx context.Context, log *slog.Logger, it store.InboxItem, act *Activity) {
	sa, _ := act.staffActionOf()
	sctx, cancel := context.WithTimeout(ctx, s.o.StaffTimeout)
	card, err := s.runStaff(sctx, sa)
	cancel()
	if err != nil && len(card) > 0 {
		log.Warn("staff action not applied", "verb", sa.Verb, "escalation", sa.EscalationID, "err", err)
		err = nil
	}
	if err != nil {
		last := it.Attempts+1 >= store.MaxInboxAttempts
		log.Error("staff action failed", "verb", sa.Verb, "escalation", sa.EscalationID, "final", last, "err", err)
		s.markFailed(ctx, log, it, "staff handler error")
		if last {
			metricTurnFailures.Inc()
			metricTurns.WithLabelValues("staff", "failed").Inc()
			bctx, cancel := bookkeeping(ctx)
			s.sendText(bctx, log, act.ref(), act.ID, staffText("staff.action_failed"))
			cancel()
		}
		return
	}
	if len(card) > 0 && act.ReplyToID != "" {
		if err := s.update(ctx, act.ServiceURL, act.Conversation.ID, act.ReplyToID, card); err != nil {
			metricSendErrors.WithLabelValues("update").Inc()
			log.Error("staff card not updated", "err", err)
		}
	}
	log.Info("staff action done", "verb", sa.Verb, "escalation", sa.EscalationID)
	metricTurns.WithLabelValues("staff", "ok").Inc()
	s.markDone(ctx, log, it)
}

// processTimer runs a due timer as a TurnTimer turn and deletes it.
// attempt counts from 1. A failed turn keeps the timer for another
// attempt (false is returned); after timerAttempts the student gets the
// apology and the timer is dropped. true means the timer is finished.
func (s *Server) processTimer(t store.Timer, attempt int) bool {
	ctx, cancel := s.turnContext()
	defer cancel()
	log := s.log.With("timer", t.ID, "conversation", shortID(t.ConversationID))
	start := time.Now()
	conv, err := s.o.Store.GetConversation(ctx, t.ConversationID)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("timer for an unknown conversation dropped")
		s.deleteTimer(ctx, log, t.ID)
		return true
	}
	if err != nil {
		log.Error("timer: load conversation", "err", err)
		return true // tried again at the next poll
	}
	if conv.Ref.ServiceURL == "" {
		// Not a Teams conversation (the terminal chat, sharing the
		// database, runs its own timers); the store does not hand these
		// out, so this is only a reference replaced meanwhile. Left alone.
		log.Warn("timer of a conversation without a service URL left to its own process")
		return true
	}
	s.trust(conv.Ref.ServiceURL)
	conv.Ref.ConversationID = t.ConversationID
	turn := dialogs.Turn{
		Ref:          conv.Ref,
		Kind:         dialogs.TurnTimer,
		TimerPayload: t.Payload,
		At:           t.Due,
	}
	replies, err := s.handle(ctx, turn)
	if err != nil {
		final := attempt >= timerAttempts
		log.Error("timer turn failed", "attempt", attempt, "final", final, "err", err)
		metricTurns.WithLabelValues(string(dialogs.TurnTimer), "failed").Inc()
		if !final {
			// Kept (still leased to this instance): the verification
			// re-check runs again after a delay.
			return false
		}
		metricTurnFailures.Inc()
		bctx, cancel := bookkeeping(ctx)
		s.sendReply(bctx, log, conv.Ref, "", s.apologyReply(conv.Ref.Locale))
		cancel()
		s.deleteTimer(ctx, log, t.ID)
		return true
	}
	s.sendReplies(ctx, log, conv.Ref, "", replies)
	s.deleteTimer(ctx, log, t.ID)
	metricTurns.WithLabelValues(string(dialogs.TurnTimer), "ok").Inc()
	metricTurnLatency.WithLabelValues(string(dialogs.TurnTimer)).Observe(time.Since(start).Seconds())
	return true
}

func (s *Server) deleteTimer(ctx context.Context, log *slog.Logger, id int64) {
	ctx, cancel := bookkeeping(ctx)
	defer cancel()
	if err := s.o.Store.DeleteTimer(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Error("delete timer", "err", err)
	}
}

// shortID shortens a conversation id for logs (ids are long, and a
// prefix is enough to correlate).
func shortID(id string) string {
	if len(id) > 24 {
		return id[:24] + "..."
	}
	return id
}
