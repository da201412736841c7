package handoff

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"mfabot/dialogs/texts"
	"mfabot/store"
)

// Errors of the staff actions.
var (
	// ErrInvalidTransition: the action does not fit the escalation's
	// status (claim of a claimed case, reopen of an open one, ...).
	ErrInvalidTransition = errors.New("handoff: invalid status transition")
	// ErrNotStaffChannel: a staff action that did not come from the
	// configured staff channel (for example a forged card click in a
	// student's chat). Nothing is changed.
	ErrNotStaffChannel = errors.New("handoff: staff action not from the staff channel")
	// ErrUnknownVerb: the card data carried a verb handoff does not know.
	ErrUnknownVerb = errors.New("handoff: unknown staff action")
	// ErrNoActor: a staff action without anyone to attribute it to.
	ErrNoActor = errors.New("handoff: staff action without an actor")
	// ErrMaybeDelivered: a Notifier wraps this (or returns an error with a
	// MaybeDelivered() bool method reporting true) when a post was sent
	// but failed in a way that it may have reached Teams (a timeout, a
	// lost connection). Handoff then does not post that card again.
	ErrMaybeDelivered = errors.New("handoff: may have been delivered")
	// errNoChange: a mutation found nothing to change.
	errNoChange = errors.New("handoff: nothing to change")
)

// maybeDelivered tells whether a failed post may still have reached
// Teams: the Notifier says so, or the call ran out of time (the request
// may have been sent and answered too late).
func maybeDelivered(err error) bool {
	if errors.Is(err, ErrMaybeDelivered) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var md interface{ MaybeDelivered() bool }
	return errors.As(err, &md) && md.MaybeDelivered()
}

const (
	// repeatWindow: a student with an escalation this recent is a repeat contact.
	repeatWindow = 7 * 24 * time.Hour
	// transcriptWindow and maxTranscriptLines bound the copied transcript.
	transcriptWindow   = 7 * 24 * time.Hour
	maxTranscriptLines = 200
	// notifyTimeout bounds each Notifier call. The calls run detached
	// from the caller's cancellation (context.WithoutCancel): once an
	// escalation or a staff action is stored, the card and the student
	// are told even if the request that caused it has given up.
	notifyTimeout = 10 * time.Second
	// pendingGrace: PostPending leaves a new escalation this long to the
	// instance that created it (which looks the student's UPN up first).
	pendingGrace = 30 * time.Second
	// pendingBatch bounds the cards one PostPending run posts.
	pendingBatch = 50
	maxNoteLen   = 2000
	maxFieldLen  = 300
	systemActor  = "mfabot"
)

// escalationStore is what the hand-off keeps in the store: the
// escalations, their outbox and audit log; of the history it only reads
// the transcript that a new escalation copies.
type escalationStore interface {
	store.Escalations
	store.Outbox
	store.AuditLog
	Transcript(ctx context.Context, conversationID string, since time.Time) ([]store.TranscriptLine, error)
}

// Options configure a Service. Store (a store.Store) is required; the
// rest has defaults.
type Options struct {
	Store escalationStore
	// Notifier posts the staff card and messages students; nil: nothing
	// is sent (escalations are still stored and shown on the dashboard).
	Notifier    Notifier
	Institution Institution
	// StaffChannelID is the Teams channel (19:...@thread.tacv2) staff
	// cards are posted to and the only place staff actions are accepted
	// from; empty: no cards, every card action refused.
	StaffChannelID string
	// DashboardURL is the dashboard's base URL (https://host/staff/); when
	// set, the staff card links to the escalation's detail page.
	DashboardURL string
	// InstanceID names this instance in the store's record of who posted
	// a staff card (several instances may share one database); empty:
	// the host name and a random suffix.
	InstanceID string
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service implements the hand-off: contact details, escalations and the
// staff actions. It satisfies dialogs.Escalator and staff.Actions.
type Service struct {
	st           escalationStore
	n            Notifier
	inst         Institution
	sched        schedule
	desks        []window
	phone        *window
	staffChannel string
	dashboardURL string
	owner        string
	now          func() time.Time
	log          *slog.Logger
	convLocks    keyedMutex
	outbox       outboxSender
}

// NewService checks the institution's hours and builds a Service.
func NewService(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("handoff: Options.Store is required")
	}
	s := &Service{
		st:           o.Store,
		n:            o.Notifier,
		inst:         o.Institution,
		staffChannel: strings.TrimSpace(o.StaffChannelID),
		dashboardURL: strings.TrimSpace(o.DashboardURL),
		owner:        strings.TrimSpace(o.InstanceID),
		now:          o.Now,
		log:          o.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.owner == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "mfabot"
		}
		var b [4]byte
		_, _ = rand.Read(b[:])
		s.owner = host + "-" + hex.EncodeToString(b[:])
	}
	if strings.TrimSpace(s.inst.Name) == "" {
		s.inst.Name = "ICT Servicedesk"
	}
	var err error
	if s.sched, err = newSchedule(s.inst); err != nil {
		return nil, err
	}
	for _, d := range s.inst.Desks {
		w, err := parseWindow(d.Days, d.Open, d.Close)
		if err != nil {
			return nil, fmt.Errorf("handoff: desk %q: %w", d.Name, err)
		}
		s.desks = append(s.desks, w)
	}
	if h := s.inst.PhoneHours; h != nil {
		w, err := parseWindow(h.Days, h.Open, h.Close)
		if err != nil {
			return nil, fmt.Errorf("handoff: phone hours: %w", err)
		}
		s.phone = &w
	}
	return s, nil
}

// Escalate records a hand-off. While the conversation has an open or
// claimed escalation, that one is returned with Created false (a Teams
// retry or a repeated "medewerker"); a security request upgrades it. The
// escalation is stored before anything is sent, so a Notifier failure
// never loses it.
func (s *Service) Escalate(ctx context.Context, r Request) (Result, error) {
	if strings.TrimSpace(r.ConversationID) == "" {
		return Result{}, errors.New("handoff: escalate: no conversation id")
	}
	unlock := s.convLocks.lock(r.ConversationID)
	defer unlock()

	security := r.Security || r.Reason == ReasonSuspicious
	existing, err := s.st.OpenEscalationFor(ctx, r.ConversationID)
	switch {
	case err == nil:
		return s.existing(ctx, existing, r, security)
	case !errors.Is(err, store.ErrNotFound):
		return Result{}, fmt.Errorf("handoff: escalate: look up open escalation: %w", err)
	}

	now := s.now()
	e := store.Escalation{
		ConversationID:  r.ConversationID,
		SessionID:       r.SessionID,
		StudentName:     clip(r.StudentName, maxFieldLen),
		StudentUPN:      clip(r.StudentUPN, maxFieldLen),
		StudentObjectID: clip(r.StudentObjectID, maxFieldLen),
		Situation:       clip(r.Situation, maxFieldLen),
		FailedStep:      clip(r.FailedStep, maxFieldLen),
		Reason:          clip(r.Reason, maxFieldLen),
		Security:        security,
		Language:        normLang(r.Language),
		Status:          store.StatusOpen,
		CreatedAt:       now,
	}
	for _, m := range r.Methods {
		e.Methods = append(e.Methods, maskPhones(clip(m, maxFieldLen), ""))
	}
	if e.StudentObjectID != "" {
		_, err := s.st.LastEscalationOf(ctx, e.StudentObjectID, now.Add(-repeatWindow))
		switch {
		case err == nil:
			e.RepeatContact = true
		case !errors.Is(err, store.ErrNotFound):
			s.log.Warn("handoff: repeat-contact check failed", "conversation", e.ConversationID, "err", err)
		}
	}
	lines, err := s.st.Transcript(ctx, e.ConversationID, now.Add(-transcriptWindow))
	if err != nil {
		s.log.Warn("handoff: transcript not copied", "conversation", e.ConversationID, "err", err)
	}
	if len(lines) > maxTranscriptLines {
		lines = lines[len(lines)-maxTranscriptLines:]
	}
	for _, l := range lines {
		l.Text = maskPhones(l.Text, s.inst.Phone)
		e.Transcript = append(e.Transcript, l)
	}

	id, err := s.st.CreateEscalation(ctx, e)
	if err != nil {
		// The store refuses a second not-resolved escalation of a
		// conversation (another instance got there first): answer with it.
		if ex, err2 := s.st.OpenEscalationFor(ctx, r.ConversationID); err2 == nil {
			return s.existing(ctx, ex, r, security)
		}
		return Result{}, fmt.Errorf("handoff: escalate: store: %w", err)
	}
	if stored, err := s.st.GetEscalation(ctx, id); err == nil {
		e = stored
	} else {
		e.ID = id
		s.log.Error("handoff: read back new escalation", "escalation", id, "err", err)
	}
	metricCreated.WithLabelValues(reasonLabel(e.Reason), boolLabel(e.Security)).Inc()
	if e.RepeatContact {
		metricRepeat.Inc()
	}
	s.audit(ctx, store.AuditEntry{At: now, Actor: systemActor, Action: "create", EscalationID: e.ID,
		Detail: fmt.Sprintf("reason=%s security=%t repeat=%t", e.Reason, e.Security, e.RepeatContact)})
	s.log.Info("handoff: escalation created", "escalation", e.ID, "conversation", e.ConversationID,
		"reason", e.Reason, "security", e.Security, "repeat_contact", e.RepeatContact)

	e = s.publish(ctx, e, r.StudentUserID, false)
	return Result{Escalation: e, Created: true}, nil
}

// existing answers a repeated request with the conversation's open
// escalation, upgrading it to a security case when the new request is one.
func (s *Service) existing(ctx context.Context, e store.Escalation, r Request, security bool) (Result, error) {
	metricDuplicates.Inc()
	if !security || e.Security {
		return Result{Escalation: e, Created: false}, nil
	}
	reason := clip(r.Reason, maxFieldLen)
	up, err := s.update(ctx, e.ID, func(cur *store.Escalation) error {
		if cur.Security {
			return errNoChange // another instance upgraded it: it posts the new card
		}
		cur.Security = true
		if reason != "" {
			cur.Reason = reason
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		return Result{Escalation: up, Created: false}, nil
	}
	if err != nil {
		s.log.Error("handoff: upgrade to security failed", "escalation", e.ID, "err", err)
		return Result{Escalation: e, Created: false}, nil
	}
	metricCreated.WithLabelValues(reasonLabel(up.Reason), "true").Inc()
	s.audit(ctx, store.AuditEntry{At: s.now(), Actor: systemActor, Action: "security", EscalationID: up.ID,
		Detail: "marked as security: " + up.Reason})
	s.log.Warn("handoff: escalation upgraded to security", "escalation", up.ID, "conversation", up.ConversationID)
	// The old card gets the banner; a new thread makes sure the channel
	// notices (an edited card does not notify anyone).
	// The upgrade above happens once (the version check), so this card
	// is posted once; without a first card, publish posts the card as
	// for a new escalation.
	s.refreshCard(ctx, up)
	if posted := s.publish(ctx, up, r.StudentUserID, up.StaffActivityID != ""); posted.StaffActivityID != "" {
		up = posted
	}
	return Result{Escalation: up, Created: false}, nil
}

// publish looks up a missing UPN and posts the staff card, then stores
// what it learned. Failures are logged and counted, never returned. A
// first card is posted only after the store recorded this instance's
// attempt (so several instances never both post it); repost posts a new
// card for an escalation that has one (it became a security case).
func (s *Service) publish(ctx context.Context, e store.Escalation, studentUserID string, repost bool) store.Escalation {
	if s.n == nil {
		return e
	}
	ctx = context.WithoutCancel(ctx) // the escalation is stored: finish telling staff
	upn := ""
	if e.StudentUPN == "" && studentUserID != "" {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
		got, err := s.n.MemberUPN(cctx, e.ConversationID, studentUserID)
		cancel()
		if err != nil {
			metricNotifierFailures.WithLabelValues("member_upn").Inc()
			s.log.Warn("handoff: member lookup failed", "escalation", e.ID, "err", err)
		} else {
			upn = clip(strings.TrimSpace(got), maxFieldLen)
			e.StudentUPN = upn
		}
	}
	var thread, activity string
	if s.staffChannel != "" && (repost || e.StaffActivityID == "") {
		thread, activity = s.postCard(ctx, e, !repost)
	}
	if upn == "" && activity == "" {
		return e
	}
	up, err := s.update(ctx, e.ID, func(cur *store.Escalation) error {
		if upn != "" && cur.StudentUPN == "" {
			cur.StudentUPN = upn
		}
		if activity != "" {
			cur.StaffThreadID, cur.StaffActivityID = thread, activity
		}
		return nil
	})
	if err != nil {
		// The post stays recorded as attempted: the card is not posted again.
		s.log.Error("handoff: could not store staff card ids", "escalation", e.ID, "err", err)
		if activity != "" {
			metricCardPosts.WithLabelValues("ids_not_saved").Inc()
		}
		return e
	}
	return up
}

// postCard posts e's staff card. With claim, the store first records
// this instance's attempt and nothing is posted when another attempt is
// recorded; an attempt that surely failed is cleared for a later
// PostPending, one that may have reached Teams is kept (staff still see
// the escalation on the dashboard).
func (s *Service) postCard(ctx context.Context, e store.Escalation, claim bool) (thread, activity string) {
	if claim {
		ok, err := s.st.ClaimEscalationPost(ctx, e.ID, s.owner, s.now())
		if err != nil {
			metricCardPosts.WithLabelValues("claim_failed").Inc()
			s.log.Error("handoff: staff card not posted: cannot record the attempt", "escalation", e.ID, "err", err)
			return "", ""
		}
		if !ok {
			metricCardPosts.WithLabelValues("claimed_elsewhere").Inc()
			s.log.Info("handoff: staff card already being posted or attempted", "escalation", e.ID)
			return "", ""
		}
	}
	cctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	thread, activity, err := s.n.PostStaffCard(cctx, s.StaffCard(e, s.now()))
	cancel()
	if err == nil && activity != "" {
		metricCardPosts.WithLabelValues("posted").Inc()
		return thread, activity
	}
	if err == nil {
		err = errors.New("no activity id in the answer")
	}
	metricNotifierFailures.WithLabelValues("post_staff_card").Inc()
	if maybeDelivered(err) {
		metricCardPosts.WithLabelValues("maybe_delivered").Inc()
		s.log.Error("handoff: staff card may have been posted; it is not posted again (the dashboard shows the escalation)",
			"escalation", e.ID, "err", err)
		return "", ""
	}
	metricCardPosts.WithLabelValues("failed").Inc()
	s.log.Error("handoff: staff card not posted", "escalation", e.ID, "err", err)
	if claim {
		if rerr := s.st.ReleaseEscalationPost(ctx, e.ID, s.owner); rerr != nil {
			s.log.Error("handoff: failed post not cleared; the card is not retried", "escalation", e.ID, "err", rerr)
		}
	}
	return "", ""
}

// PostPending posts the staff card of open or claimed escalations whose
// card is not in the staff channel yet because an earlier post surely
// failed (a post that may have reached Teams is not repeated). Run
// periodically on every instance: the store hands each card to one.
// It returns how many cards were posted.
func (s *Service) PostPending(ctx context.Context) (int, error) {
	if s.n == nil || s.staffChannel == "" {
		return 0, nil
	}
	ids, err := s.st.PendingEscalationPosts(ctx, s.now().Add(-pendingGrace), pendingBatch)
	if err != nil {
		return 0, fmt.Errorf("handoff: post pending cards: %w", err)
	}
	posted := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			return posted, ctx.Err()
		}
		e, err := s.st.GetEscalation(ctx, id)
		if err != nil {
			s.log.Warn("handoff: pending card: escalation not read", "escalation", id, "err", err)
			continue
		}
		if e.StaffActivityID != "" || e.Status == store.StatusResolved {
			continue
		}
		if s.publish(ctx, e, "", false).StaffActivityID != "" {
			posted++
		}
	}
	return posted, nil
}

// Claim: a staff member picks up an open escalation.
func (s *Service) Claim(ctx context.Context, id int64, actor string) (store.Escalation, error) {
	return s.act(ctx, VerbClaim, id, actor, "", "")
}

// Resolve closes an open or claimed escalation with an optional note.
func (s *Service) Resolve(ctx context.Context, id int64, actor, note string) (store.Escalation, error) {
	return s.act(ctx, VerbResolve, id, actor, note, "")
}

// Reopen puts a resolved escalation back in the queue (open), unless the
// conversation has another open escalation by now.
func (s *Service) Reopen(ctx context.Context, id int64, actor string) (store.Escalation, error) {
	return s.act(ctx, VerbReopen, id, actor, "", "")
}

// HandleStaffAction applies a click on the staff card and returns the
// updated card (for the invoke response) without waiting for the
// Connector: the card update for everyone and the student's message are
// sent in the background. Actions from anywhere but the
// staff channel are refused with ErrNotStaffChannel and change nothing.
// On ErrInvalidTransition the returned card shows the escalation's
// current state; show it instead of the stale one.
func (s *Service) HandleStaffAction(ctx context.Context, a StaffAction) (json.RawMessage, error) {
	if s.staffChannel == "" || a.ChannelID != s.staffChannel {
		metricStaffActions.WithLabelValues(verbLabel(a.Verb), "refused").Inc()
		s.log.Warn("handoff: staff action refused: not from the staff channel",
			"actor", a.ActorName, "actor_object_id", a.ActorObjectID, "channel", a.ChannelID,
			"conversation", a.ConversationID, "verb", a.Verb, "escalation", a.EscalationID)
		return nil, ErrNotStaffChannel
	}
	actor := strings.TrimSpace(a.ActorName)
	if actor == "" {
		actor = strings.TrimSpace(a.ActorObjectID)
	}
	detail := "teams"
	if a.ActorObjectID != "" {
		detail += " aad=" + a.ActorObjectID
	}
	e, err := s.act(ctx, a.Verb, a.EscalationID, actor, a.Note, detail)
	if err != nil {
		if e.ID != 0 {
			return s.StaffCard(e, s.now()), err
		}
		return nil, err
	}
	return s.StaffCard(e, s.now()), nil
}

// act applies one staff verb with the optimistic version check, writes
// the audit entry, and stores updating the staff card and telling the
// student in the outbox with the change (see outbox.go and Wait).
// On an invalid transition it returns the current escalation with the error.
func (s *Service) act(ctx context.Context, verb string, id int64, actor, note, detail string) (store.Escalation, error) {
	actor = clip(strings.TrimSpace(actor), maxFieldLen)
	if actor == "" {
		metricStaffActions.WithLabelValues(verbLabel(verb), "invalid").Inc()
		return store.Escalation{}, ErrNoActor
	}
	if verb != VerbClaim && verb != VerbResolve && verb != VerbReopen {
		metricStaffActions.WithLabelValues("other", "invalid").Inc()
		return store.Escalation{}, fmt.Errorf("%w: %q", ErrUnknownVerb, verb)
	}
	note = maskPhones(clip(strings.TrimSpace(note), maxNoteLen), s.inst.Phone)
	now := s.now()
	notify := func(e store.Escalation) []store.OutboxItem { return s.outboxItems(verb, e, actor, now) }
	e, err := s.updateWith(ctx, id, notify, func(e *store.Escalation) error {
		switch verb {
		case VerbClaim:
			if e.Status != store.StatusOpen {
				return fmt.Errorf("%w: escalation %d is %s, only an open one can be claimed", ErrInvalidTransition, id, e.Status)
			}
			e.Status, e.ClaimedBy, e.ClaimedAt = store.StatusClaimed, actor, &now
		case VerbResolve:
			if e.Status != store.StatusOpen && e.Status != store.StatusClaimed {
				return fmt.Errorf("%w: escalation %d is %s already", ErrInvalidTransition, id, e.Status)
			}
			e.Status, e.ResolvedBy, e.ResolvedAt, e.ResolutionNote = store.StatusResolved, actor, &now, note
		case VerbReopen:
			if e.Status != store.StatusResolved {
				return fmt.Errorf("%w: escalation %d is %s, only a resolved one can be reopened", ErrInvalidTransition, id, e.Status)
			}
			other, err := s.st.OpenEscalationFor(ctx, e.ConversationID)
			if err == nil && other.ID != e.ID {
				return fmt.Errorf("%w: the student's conversation has open escalation %d", ErrInvalidTransition, other.ID)
			}
			e.Status = store.StatusOpen
			e.ClaimedBy, e.ClaimedAt = "", nil
			e.ResolvedBy, e.ResolvedAt, e.ResolutionNote = "", nil, ""
		}
		if e.FirstResponseAt == nil && verb != VerbReopen {
			e.FirstResponseAt = &now
		}
		return nil
	})
	if err != nil {
		result := "error"
		switch {
		case errors.Is(err, ErrInvalidTransition):
			result = "invalid"
		case errors.Is(err, store.ErrDuplicate):
			// Reopen raced a new escalation of the same conversation.
			result = "invalid"
			err = fmt.Errorf("%w: the student's conversation has another open escalation (%w)", ErrInvalidTransition, err)
		case errors.Is(err, store.ErrNotFound):
			result = "not_found"
			err = fmt.Errorf("handoff: escalation %d: %w", id, err)
		default:
			err = fmt.Errorf("handoff: %s escalation %d: %w", verb, id, err)
		}
		metricStaffActions.WithLabelValues(verb, result).Inc()
		s.log.Info("handoff: staff action not applied", "verb", verb, "escalation", id, "actor", actor, "err", err)
		return e, err
	}
	metricStaffActions.WithLabelValues(verb, "ok").Inc()
	auditDetail := detail
	if verb == VerbResolve && note != "" {
		auditDetail = strings.TrimSpace(auditDetail + " note: " + note)
	}
	s.audit(ctx, store.AuditEntry{At: now, Actor: actor, Action: verb, EscalationID: id, Detail: auditDetail})
	s.log.Info("handoff: staff action", "verb", verb, "escalation", id, "actor", actor)
	// The action is applied and its notifications are in the outbox: the
	// staff member gets the new card at once. Updating the card for
	// everyone and telling the student can take a slow Connector seconds
	// each; the outbox sender starts on them now, in order per escalation
	// (see outbox.go), and Wait lets a stopping instance finish them.
	s.wake()
	return e, nil
}

// Wait blocks until the outbox sender this process started is done: the
// staff card updates and student messages of earlier staff actions are
// sent, or failed and wait in the outbox for their retry (by any
// instance), or ctx ends. Call it when the instance stops, after the
// servers stopped taking requests and RunOutbox returned.
func (s *Service) Wait(ctx context.Context) error {
	if err := s.outbox.wait(ctx); err != nil {
		return fmt.Errorf("handoff: staff notifications still pending: %w", err)
	}
	return nil
}

// update applies mutate to the stored escalation and writes it with the
// optimistic version check, re-reading and re-applying on a conflict. If
// mutate refuses, the current escalation is returned with its error.
func (s *Service) update(ctx context.Context, id int64, mutate func(*store.Escalation) error) (store.Escalation, error) {
	return s.updateWith(ctx, id, nil, mutate)
}

// updateWith is update that stores the outbox items notify returns for
// the mutated escalation in the same transaction.
func (s *Service) updateWith(ctx context.Context, id int64, notify func(store.Escalation) []store.OutboxItem,
	mutate func(*store.Escalation) error) (store.Escalation, error) {
	for attempt := 0; attempt < 3; attempt++ {
		e, err := s.st.GetEscalation(ctx, id)
		if err != nil {
			return store.Escalation{}, err
		}
		cur := e
		if err := mutate(&e); err != nil {
			return cur, err
		}
		var items []store.OutboxItem
		if notify != nil {
			items = notify(e)
		}
		var v int64
		if len(items) > 0 {
			v, err = s.st.UpdateEscalationOutbox(ctx, e, items)
		} else {
			v, err = s.st.UpdateEscalation(ctx, e)
		}
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return cur, err
		}
		e.Version = v
		return e, nil
	}
	return store.Escalation{}, store.ErrConflict
}

func (s *Service) refreshCard(ctx context.Context, e store.Escalation) {
	if s.n == nil || e.StaffActivityID == "" {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if err := s.n.UpdateStaffCard(cctx, e.StaffThreadID, e.StaffActivityID, s.StaffCard(e, s.now())); err != nil {
		metricNotifierFailures.WithLabelValues("update_staff_card").Inc()
		s.log.Error("handoff: staff card not updated", "escalation", e.ID, "err", err)
	}
}

// StudentMessage is what the student is told after a staff verb, in
// lang; deskName is the service desk's name, actor the staff member.
func StudentMessage(verb, lang, deskName, actor string) string {
	switch verb {
	case VerbClaim, VerbResolve, VerbReopen:
		return texts.T(normLang(lang), "desk_update."+verb, map[string]string{"desk": deskName, "actor": actor})
	}
	return ""
}

func (s *Service) audit(ctx context.Context, a store.AuditEntry) {
	// The action is applied: its audit entry is written even if the
	// request that caused it has given up.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	if err := s.st.AppendAudit(ctx, a); err != nil {
		s.log.Error("handoff: audit entry not written", "action", a.Action, "escalation", a.EscalationID, "err", err)
	}
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// keyedMutex serialises work per key (one conversation's escalations)
// without holding up other conversations.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
