package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"mfabot/internal/safe"
	"mfabot/store"
)

// The outbox makes the notifications of a staff action durable: the card
// update for everyone and the message to the student are stored in the
// same transaction as the action (store.UpdateEscalationOutbox) and
// deleted once sent. A sender in this process starts right after the
// action (the normal case: the student hears within a second);
// RunOutbox wakes it periodically for retries and for what another
// instance left behind when it stopped or died. The store leases each row
// to one instance and hands out an escalation's rows of one kind one after
// another, so they are sent once and in order (the student's messages);
// a card update does not wait for a student message, and only the newest
// pending card update of an escalation is sent. A permanent failure (the
// student blocked the bot, the conversation or card is gone) is given up
// at once, so the student's next message is not held up by it.

const (
	// outboxLease covers one send: the re-read of the escalation and one
	// Notifier call, each bounded by notifyTimeout, with room to spare.
	// A row whose sender died is taken over after it.
	outboxLease = 3 * notifyTimeout
	// outboxBatch bounds the rows one claim takes (at most one per
	// escalation and kind); they are sent concurrently.
	outboxBatch = 8
	// outboxMaxAttempts: a notification that failed this often (not
	// permanently) is given up (logged and counted), after about 10
	// minutes of retries. Only the escalation's later rows of the same
	// kind wait for it; a newer card update replaces a waiting one.
	outboxMaxAttempts = 8
	// outboxFirstRetry doubles with every failed attempt up to outboxMaxRetry.
	outboxFirstRetry = 5 * time.Second
	outboxMaxRetry   = 10 * time.Minute
	// OutboxPollInterval is how often RunOutbox looks for due rows that
	// no action of this process announced (retries, other instances).
	OutboxPollInterval = 5 * time.Second
)

// outboxPayload is what a row needs to be sent. A card update carries
// nothing: the card shows the escalation's state at send time.
type outboxPayload struct {
	Verb           string `json:"verb,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	Text           string `json:"text,omitempty"`
}

// outboxItems are the notifications of verb applied to e.
func (s *Service) outboxItems(verb string, e store.Escalation, actor string, now time.Time) []store.OutboxItem {
	if s.n == nil {
		return nil
	}
	var items []store.OutboxItem
	if e.StaffActivityID != "" || s.staffChannel != "" {
		p, _ := json.Marshal(outboxPayload{Verb: verb})
		items = append(items, store.OutboxItem{Kind: store.OutboxCardUpdate, Payload: p, CreatedAt: now})
	}
	if msg := StudentMessage(verb, e.Language, s.inst.Name, actor); msg != "" {
		p, _ := json.Marshal(outboxPayload{Verb: verb, ConversationID: e.ConversationID, Text: msg})
		items = append(items, store.OutboxItem{Kind: store.OutboxStudentMessage, Payload: p, CreatedAt: now})
	}
	return items
}

// outboxSender runs at most one drain of this process's outbox at a time
// and remembers a wake-up that came while one ran.
type outboxSender struct {
	mu    sync.Mutex
	again bool
	done  chan struct{} // closed when the running drain ends; nil: none runs
}

// wait blocks until no drain runs, or ctx ends.
func (o *outboxSender) wait(ctx context.Context) error {
	for {
		o.mu.Lock()
		done := o.done
		o.mu.Unlock()
		if done == nil {
			return nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// wake starts sending due outbox rows in the background, unless a drain
// runs already (it then looks again when it is done).
func (s *Service) wake() {
	if s.n == nil {
		return
	}
	o := &s.outbox
	o.mu.Lock()
	if o.done != nil {
		o.again = true
		o.mu.Unlock()
		return
	}
	done := make(chan struct{})
	o.done = done
	o.mu.Unlock()
	go func() {
		defer close(done)
		for {
			s.drainOutbox()
			o.mu.Lock()
			if !o.again {
				o.done = nil
				o.mu.Unlock()
				return
			}
			o.again = false
			o.mu.Unlock()
		}
	}()
}

// drainOutbox sends what is due once. A panic (in the store, the
// notifier) is recovered here, so the drain loop still clears its flag
// and later wakes start a new one; the rows stay stored for the retry.
func (s *Service) drainOutbox() {
	defer safe.Recover(s.log, "outbox")
	// Detached: the rows are stored; each call has its own timeout.
	if _, err := s.SendOutbox(context.Background()); err != nil {
		s.log.Error("handoff: outbox not sent", "err", err)
	}
}

// RunOutbox sends the outbox's due notifications now and every
// OutboxPollInterval until ctx ends: retries, and the rows of an instance
// that stopped or died before sending them. Run it on every instance;
// Wait lets the last send finish.
func (s *Service) RunOutbox(ctx context.Context) {
	if s.n == nil {
		return
	}
	t := time.NewTicker(OutboxPollInterval)
	defer t.Stop()
	for {
		s.wake()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendOutbox sends the outbox's due notifications once, until none is
// due (rows that failed wait for their retry time), and returns how many
// were sent. Several calls, in this or other instances, never send one
// row twice.
func (s *Service) SendOutbox(ctx context.Context) (int, error) {
	if s.n == nil {
		return 0, nil
	}
	sent := 0
	for ctx.Err() == nil {
		items, err := s.st.ClaimOutbox(ctx, s.owner, outboxBatch, outboxLease, s.now())
		if err != nil {
			return sent, fmt.Errorf("handoff: outbox: %w", err)
		}
		if len(items) == 0 {
			return sent, nil
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, it := range items { // one row per escalation and kind: concurrently
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A panic leaves the row claimed: it is sent again when its lease ends.
				defer safe.Recover(s.log, "outbox item")
				if s.sendOutboxItem(ctx, it) {
					mu.Lock()
					sent++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	return sent, ctx.Err()
}

// sendOutboxItem sends one claimed row and deletes it, or schedules its
// retry; it reports whether it was sent.
func (s *Service) sendOutboxItem(ctx context.Context, it store.OutboxItem) bool {
	var p outboxPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		s.finishOutbox(ctx, it, "invalid")
		s.log.Error("handoff: outbox row unreadable; dropped", "escalation", it.EscalationID, "kind", it.Kind, "err", err)
		return false
	}
	var err error
	switch it.Kind {
	case store.OutboxCardUpdate:
		err = s.sendCardUpdate(ctx, it.EscalationID)
	case store.OutboxStudentMessage:
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
		err = s.n.NotifyStudent(cctx, p.ConversationID, p.Text)
		cancel()
		if err != nil {
			metricNotifierFailures.WithLabelValues("notify_student").Inc()
		}
	default:
		s.finishOutbox(ctx, it, "invalid")
		s.log.Error("handoff: outbox row of an unknown kind; dropped", "escalation", it.EscalationID, "kind", it.Kind)
		return false
	}
	switch {
	case err == nil:
		s.finishOutbox(ctx, it, "sent")
		return true
	case errors.Is(err, errEscalationGone):
		s.finishOutbox(ctx, it, "dropped")
		s.log.Info("handoff: outbox row of a deleted escalation dropped", "escalation", it.EscalationID, "kind", it.Kind)
		return false
	case permanentFailure(err):
		// Retrying cannot help and would hold up the next row of its kind.
		s.finishOutbox(ctx, it, "rejected")
		s.log.Error("handoff: notification rejected; not retried", "escalation", it.EscalationID, "kind", it.Kind,
			"verb", p.Verb, "attempt", it.Attempts, "err", err)
		return false
	case it.Kind == store.OutboxStudentMessage && maybeDelivered(err):
		// Like a staff card post: a message that may have reached the
		// student is not sent twice.
		s.finishOutbox(ctx, it, "maybe_delivered")
		s.log.Error("handoff: student message may have been delivered; it is not sent again",
			"escalation", it.EscalationID, "verb", p.Verb, "err", err)
		return false
	case it.Attempts >= outboxMaxAttempts:
		s.finishOutbox(ctx, it, "given_up")
		s.log.Error("handoff: notification given up", "escalation", it.EscalationID, "kind", it.Kind,
			"verb", p.Verb, "attempts", it.Attempts, "err", err)
		return false
	}
	delay := outboxFirstRetry
	for i := 1; i < it.Attempts && delay < outboxMaxRetry; i++ {
		delay *= 2
	}
	delay = min(delay, outboxMaxRetry)
	metricOutbox.WithLabelValues(it.Kind, "retry").Inc()
	s.log.Warn("handoff: notification failed; retrying", "escalation", it.EscalationID, "kind", it.Kind,
		"verb", p.Verb, "attempt", it.Attempts, "retry_in", delay.String(), "err", err)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if rerr := s.st.RetryOutbox(rctx, it.ID, s.owner, s.now().Add(delay)); rerr != nil {
		// The lease runs out and the row is tried again after it.
		s.log.Error("handoff: outbox retry not scheduled", "escalation", it.EscalationID, "err", rerr)
	}
	return false
}

// permanentFailure reports whether a Notifier error is final: the
// Connector answered with a client error other than 408 (timeout) and 429
// (throttled), e.g. 403 when the student blocked the bot or 404 when the
// conversation or card is gone; or the student's conversation is not
// stored (store.ErrNotFound). The Notifier's errors carry the status
// through a method HTTPStatus() int (bot/connector.HTTPError).
func permanentFailure(err error) bool {
	if errors.Is(err, store.ErrNotFound) {
		return true
	}
	var h interface{ HTTPStatus() int }
	if !errors.As(err, &h) {
		return false
	}
	st := h.HTTPStatus()
	return st >= 400 && st < 500 && st != 408 && st != 429
}

// errEscalationGone: the escalation of an outbox row no longer exists
// (purged): there is nothing to update or tell.
var errEscalationGone = errors.New("handoff: escalation gone")

// sendCardUpdate updates the staff card with the escalation's state now
// (later actions included); without a card there is nothing to update.
func (s *Service) sendCardUpdate(ctx context.Context, id int64) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	e, err := s.st.GetEscalation(rctx, id)
	cancel()
	if errors.Is(err, store.ErrNotFound) {
		return errEscalationGone
	}
	if err != nil {
		return fmt.Errorf("read escalation: %w", err)
	}
	if e.StaffActivityID == "" {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if err := s.n.UpdateStaffCard(cctx, e.StaffThreadID, e.StaffActivityID, s.StaffCard(e, s.now())); err != nil {
		metricNotifierFailures.WithLabelValues("update_staff_card").Inc()
		return err
	}
	return nil
}

func (s *Service) finishOutbox(ctx context.Context, it store.OutboxItem, result string) {
	metricOutbox.WithLabelValues(it.Kind, result).Inc()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if err := s.st.DeleteOutbox(dctx, it.ID); err != nil {
		// The lease runs out and the row is handled again after it.
		s.log.Error("handoff: outbox row not deleted", "escalation", it.EscalationID, "kind", it.Kind, "err", err)
	}
}
