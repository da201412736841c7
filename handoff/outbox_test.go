package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"mfabot/store"
)

// sent is one Notifier call as the Connector would receive it, and the
// instance that made it.
type sent struct {
	Instance, Op, Conversation, Text string
	Card                             json.RawMessage
}

// recorder logs the calls of several instances' Notifiers in one order;
// fail makes the next calls of an operation fail.
type recorder struct {
	mu      sync.Mutex
	log     []sent
	fail    map[string]int   // op -> calls still to fail
	failErr map[string]error // op -> the error they fail with; default a 502
	tries   []sent           // every call, failed or not
}

// statusError is how the bot's Notifier reports a Connector status
// (connector.HTTPError, wrapped).
type statusError struct{ status int }

func (e *statusError) Error() string   { return fmt.Sprintf("connector: send: status %d", e.status) }
func (e *statusError) HTTPStatus() int { return e.status }

func (r *recorder) record(s sent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries = append(r.tries, s)
	if r.fail[s.Op] > 0 {
		r.fail[s.Op]--
		if err := r.failErr[s.Op]; err != nil {
			return err
		}
		return errors.New("connector: 502 Bad Gateway")
	}
	r.log = append(r.log, s)
	return nil
}

func (r *recorder) failNext(op string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail == nil {
		r.fail = map[string]int{}
	}
	r.fail[op] = n
}

func (r *recorder) failNextWith(op string, n int, err error) {
	r.failNext(op, n)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failErr == nil {
		r.failErr = map[string]error{}
	}
	r.failErr[op] = err
}

func (r *recorder) attempts(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.tries {
		if s.Op == op {
			n++
		}
	}
	return n
}

func (r *recorder) messages() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sent
	for _, s := range r.log {
		if s.Op == "notify" {
			out = append(out, s)
		}
	}
	return out
}

func (r *recorder) updates() []sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sent
	for _, s := range r.log {
		if s.Op == "update" {
			out = append(out, s)
		}
	}
	return out
}

// recNotifier is one instance's Notifier writing to a shared recorder.
type recNotifier struct {
	fakeNotifier // card posts and member lookups
	name         string
	rec          *recorder
}

func newRecNotifier(name string, rec *recorder) *recNotifier {
	return &recNotifier{fakeNotifier: fakeNotifier{upns: map[string]string{}}, name: name, rec: rec}
}

func (n *recNotifier) UpdateStaffCard(ctx context.Context, threadID, activityID string, card json.RawMessage) error {
	return n.rec.record(sent{Instance: n.name, Op: "update", Text: activityID, Card: card})
}

func (n *recNotifier) NotifyStudent(ctx context.Context, conversationID, text string) error {
	return n.rec.record(sent{Instance: n.name, Op: "notify", Conversation: conversationID, Text: text})
}

func waitSvc(t *testing.T, svcs ...*Service) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range svcs {
		if err := s.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func sentTexts(ms []sent) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return strings.Join(out, " | ")
}

// A Connector that fails at first: the student's messages are kept and
// sent on the retry, in order (claimed before resolved); the card updates
// do not wait for them, and the card shows the newest state at once.
func TestOutboxRetriesFailedNotification(t *testing.T) {
	for name, open := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			clk := &testClock{t: ams(2026, 11, 25, 10, 30)}
			rec := &recorder{}
			svc := instance(t, st, newRecNotifier("a", rec), clk, "a")
			res, err := svc.Escalate(ctx, samRequest("a:sam"))
			if err != nil || res.Escalation.StaffActivityID == "" {
				t.Fatalf("%+v %v", res, err)
			}
			id := res.Escalation.ID
			retries := testutil.ToFloat64(metricOutbox.WithLabelValues(store.OutboxStudentMessage, "retry"))

			rec.failNext("notify", 1)
			if _, err := svc.HandleStaffAction(ctx, staffClick(VerbClaim, id)); err != nil {
				t.Fatal(err)
			}
			waitSvc(t, svc)
			if _, err := svc.HandleStaffAction(ctx, staffClick(VerbResolve, id)); err != nil {
				t.Fatal(err)
			}
			waitSvc(t, svc)
			if ms := rec.messages(); len(ms) != 0 {
				t.Fatalf("sent before the claim's message: %s", sentTexts(ms))
			}
			ups := rec.updates()
			if len(ups) != 2 {
				t.Fatalf("%d card updates while the claim's message waits for its retry, want 2", len(ups))
			}
			jsonHas(t, ups[1].Card, "Opgelost door Anna Jansen")
			if d := testutil.ToFloat64(metricOutbox.WithLabelValues(store.OutboxStudentMessage, "retry")) - retries; d != 1 {
				t.Errorf("retry metric moved by %v, want 1", d)
			}
			// Not due yet: nothing is sent.
			clk.Set(clk.Now().Add(outboxFirstRetry - time.Second))
			if n, err := svc.SendOutbox(ctx); err != nil || n != 0 {
				t.Fatalf("SendOutbox before the retry is due = %d, %v", n, err)
			}
			clk.Set(clk.Now().Add(time.Second))
			if n, err := svc.SendOutbox(ctx); err != nil || n != 2 {
				t.Fatalf("SendOutbox after the retry delay = %d, %v; want 2 (claim message, resolve message)", n, err)
			}
			ms := rec.messages()
			if len(ms) != 2 || !strings.Contains(ms[0].Text, "opgepakt") || !strings.Contains(ms[1].Text, "opgelost") {
				t.Fatalf("student messages %q; want the claim's, then the resolve's", sentTexts(ms))
			}
			if ms[0].Conversation != "a:sam" {
				t.Errorf("message to %q", ms[0].Conversation)
			}
			if ups := rec.updates(); len(ups) != 2 {
				t.Fatalf("%d card updates, want 2", len(ups))
			}
			if n, err := svc.SendOutbox(ctx); err != nil || n != 0 {
				t.Errorf("SendOutbox after everything was sent = %d, %v", n, err)
			}
		})
	}
}

// A notification that keeps failing is given up after its attempts, with
// a log line and the metric; the student's message does not wait for it.
func TestOutboxGivesUp(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	rec := &recorder{}
	svc := instance(t, f.st, newRecNotifier("a", rec), f.clock, "a")
	svc.log = f.svc.log
	res, err := svc.Escalate(ctx, samRequest("a:sam"))
	if err != nil {
		t.Fatal(err)
	}
	before := testutil.ToFloat64(metricOutbox.WithLabelValues(store.OutboxCardUpdate, "given_up"))
	rec.failNext("update", 100)
	if _, err := svc.Claim(ctx, res.Escalation.ID, "Anna Jansen"); err != nil {
		t.Fatal(err)
	}
	waitSvc(t, svc)
	if ms := rec.messages(); len(ms) != 1 || !strings.Contains(ms[0].Text, "opgepakt") {
		t.Fatalf("student messages %q; want the claim's while the card update fails", sentTexts(ms))
	}
	for i := 0; i < outboxMaxAttempts; i++ {
		f.clock.Set(f.clock.Now().Add(outboxMaxRetry))
		if _, err := svc.SendOutbox(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if d := testutil.ToFloat64(metricOutbox.WithLabelValues(store.OutboxCardUpdate, "given_up")) - before; d != 1 {
		t.Errorf("given_up metric moved by %v, want 1", d)
	}
	if !strings.Contains(f.logs.String(), "notification given up") {
		t.Errorf("no log line for the given-up card update:\n%s", f.logs.String())
	}
	if n := rec.attempts("update"); n != outboxMaxAttempts {
		t.Errorf("card update tried %d times, want %d", n, outboxMaxAttempts)
	}
	if n, err := svc.SendOutbox(ctx); err != nil || n != 0 {
		t.Errorf("SendOutbox after giving up = %d, %v", n, err)
	}
}

// noSendStore is an instance that dies right after a staff action was
// stored: it never gets to send.
type noSendStore struct{ store.Store }

func (noSendStore) ClaimOutbox(context.Context, string, int, time.Duration, time.Time) ([]store.OutboxItem, error) {
	return nil, nil
}

// hangNotifier is a Connector call that never ends while the instance
// making it is killed.
type hangNotifier struct {
	recNotifier
	entered chan string
	release chan struct{}
}

func (h *hangNotifier) UpdateStaffCard(ctx context.Context, threadID, activityID string, card json.RawMessage) error {
	h.entered <- "update"
	<-h.release
	return errors.New("killed")
}

func (h *hangNotifier) NotifyStudent(ctx context.Context, conversationID, text string) error {
	h.entered <- "notify"
	<-h.release
	return errors.New("killed")
}

// An instance that stopped (or was killed) after a staff action, before
// or while sending its notifications: a new instance on the same store
// sends them, once, in order.
func TestOutboxSurvivesCrash(t *testing.T) {
	for name, open := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			clk := &testClock{t: ams(2026, 11, 25, 10, 30)}
			rec := &recorder{}

			// Killed after the commit, before sending.
			dead := instance(t, noSendStore{st}, newRecNotifier("dead", rec), clk, "dead")
			res, err := dead.Escalate(ctx, samRequest("a:sam"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dead.HandleStaffAction(ctx, staffClick(VerbClaim, res.Escalation.ID)); err != nil {
				t.Fatal(err)
			}
			waitSvc(t, dead)
			// A new instance starts and sends them.
			fresh := instance(t, st, newRecNotifier("fresh", rec), clk, "fresh")
			if n, err := fresh.SendOutbox(ctx); err != nil || n != 2 {
				t.Fatalf("new instance sent %d, %v; want the card update and the message", n, err)
			}
			if ms := rec.messages(); len(ms) != 1 || ms[0].Conversation != "a:sam" || !strings.Contains(ms[0].Text, "opgepakt") {
				t.Fatalf("messages %+v", ms)
			}

			// Killed while sending: its Connector call never returns.
			hang := &hangNotifier{recNotifier: *newRecNotifier("hung", rec), entered: make(chan string, 4), release: make(chan struct{})}
			hung := instance(t, st, hang, clk, "hung")
			res2, err := hung.Escalate(ctx, samRequest("a:kim"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := hung.Claim(ctx, res2.Escalation.ID, "Anna Jansen"); err != nil {
				t.Fatal(err)
			}
			// The card update and the message go out side by side.
			if got := []string{<-hang.entered, <-hang.entered}; !(got[0] == "update" && got[1] == "notify" || got[0] == "notify" && got[1] == "update") {
				t.Fatalf("hung instance sent %q, want the card update and the message", got)
			}
			defer func() { close(hang.release); waitSvc(t, hung) }()

			// The other instance takes them over once the lease ran out.
			if n, err := fresh.SendOutbox(ctx); err != nil || n != 0 {
				t.Fatalf("sent %d, %v while the hung instance holds the lease", n, err)
			}
			clk.Set(clk.Now().Add(outboxLease))
			if n, err := fresh.SendOutbox(ctx); err != nil || n != 2 {
				t.Fatalf("after the lease: sent %d, %v; want 2", n, err)
			}
			ms := rec.messages()
			if len(ms) != 2 || ms[1].Conversation != "a:kim" {
				t.Fatalf("messages %+v", ms)
			}
			for _, s := range rec.log {
				if s.Instance != "fresh" {
					t.Errorf("%s sent by %s", s.Op, s.Instance)
				}
			}
			if n, err := fresh.SendOutbox(ctx); err != nil || n != 0 {
				t.Errorf("sent again: %d, %v", n, err)
			}
		})
	}
}

// Two instances on one database, staff acting through both: each
// notification is sent exactly once, and per escalation the claim's
// message before the resolve's.
func TestOutboxOnceAcrossInstances(t *testing.T) {
	for name, open := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			clk := &testClock{t: ams(2026, 11, 25, 10, 30)}
			rec := &recorder{}
			a := instance(t, st, newRecNotifier("a", rec), clk, "a")
			b := instance(t, st, newRecNotifier("b", rec), clk, "b")
			const n = 10
			var ids []int64
			for i := range n {
				res, err := a.Escalate(ctx, samRequest(fmt.Sprintf("a:student%d", i)))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, res.Escalation.ID)
			}
			var wg sync.WaitGroup
			for i, id := range ids {
				first, second := a, b
				if i%2 == 1 {
					first, second = b, a
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := first.HandleStaffAction(ctx, staffClick(VerbClaim, id)); err != nil {
						t.Error(err)
						return
					}
					// Both instances also poll while actions come in.
					if _, err := second.SendOutbox(ctx); err != nil {
						t.Error(err)
					}
					if _, err := second.HandleStaffAction(ctx, staffClick(VerbResolve, id)); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			waitSvc(t, a, b)
			for _, s := range []*Service{a, b} {
				if _, err := s.SendOutbox(ctx); err != nil {
					t.Fatal(err)
				}
			}
			waitSvc(t, a, b)
			per := map[string][]string{}
			by := map[string]int{}
			for _, m := range rec.messages() {
				per[m.Conversation] = append(per[m.Conversation], m.Text)
				by[m.Instance]++
			}
			if len(per) != n {
				t.Fatalf("messages to %d conversations, want %d", len(per), n)
			}
			for conv, ms := range per {
				if len(ms) != 2 || !strings.Contains(ms[0], "opgepakt") || !strings.Contains(ms[1], "opgelost") {
					t.Errorf("%s got %q; want the claim's message, then the resolve's, once each", conv, ms)
				}
			}
			// A card update still pending when the resolve's came is
			// dropped; the last one of every card shows the resolve.
			last := map[string]json.RawMessage{}
			ups := rec.updates()
			for _, u := range ups {
				last[u.Text] = u.Card
			}
			if len(ups) < n || len(ups) > 2*n || len(last) != n {
				t.Errorf("%d card updates of %d cards; want %d..%d of %d", len(ups), len(last), n, 2*n, n)
			}
			for _, card := range last {
				jsonHas(t, card, "Opgelost door")
			}
			t.Logf("%d messages, each once and in order; sent by %v", 2*n, by)
		})
	}
}

// signalNotifier tells each student message on a channel.
type signalNotifier struct {
	recNotifier
	notified chan string
}

func (n *signalNotifier) NotifyStudent(ctx context.Context, conversationID, text string) error {
	err := n.recNotifier.NotifyStudent(ctx, conversationID, text)
	n.notified <- text
	return err
}

// RunOutbox (what cmd runs with the workers) sends what is due when it
// starts, and returns when its context ends.
func TestRunOutboxSendsAtStart(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	dead := instance(t, noSendStore{f.st}, newRecNotifier("dead", &recorder{}), f.clock, "dead")
	res, err := dead.Escalate(ctx, samRequest("a:sam"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Resolve(ctx, res.Escalation.ID, "Anna Jansen", ""); err != nil {
		t.Fatal(err)
	}
	n := &signalNotifier{recNotifier: *newRecNotifier("fresh", &recorder{}), notified: make(chan string, 1)}
	fresh := instance(t, f.st, n, f.clock, "fresh")
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		fresh.RunOutbox(runCtx)
		close(stopped)
	}()
	select {
	case got := <-n.notified:
		if !strings.Contains(got, "opgelost") {
			t.Errorf("message %q", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("RunOutbox did not send the pending message")
	}
	cancel()
	<-stopped
	waitSvc(t, fresh)
}

// The student blocked the bot (403) when staff claimed the case: the
// claim's message is given up at once, not retried, and the resolve's
// card update and message go out right away, not ~10 minutes later.
func TestOutboxPermanentFailureGivenUpAtOnce(t *testing.T) {
	for name, open := range testStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			clk := &testClock{t: ams(2026, 11, 25, 10, 30)}
			rec := &recorder{}
			svc := instance(t, st, newRecNotifier("a", rec), clk, "a")
			res, err := svc.Escalate(ctx, samRequest("a:sam"))
			if err != nil {
				t.Fatal(err)
			}
			id := res.Escalation.ID
			rejected := testutil.ToFloat64(metricOutbox.WithLabelValues(store.OutboxStudentMessage, "rejected"))
			retries := testutil.ToFloat64(metricOutbox.WithLabelValues(store.OutboxStudentMessage, "retry"))

			rec.failNextWith("notify", 1, fmt.Errorf("bot: notify student: %w", &statusError{403}))
			if _, err := svc.HandleStaffAction(ctx, staffClick(VerbClaim, id)); err != nil {
				t.Fatal(err)
			}
			waitSvc(t, svc)
			if d := testutil.ToFloat64(metricOutbox.WithLabelValues(store.OutboxStudentMessage, "rejected")) - rejected; d != 1 {
				t.Errorf("rejected metric moved by %v, want 1", d)
			}
			if d := testutil.ToFloat64(metricOutbox.WithLabelValues(store.OutboxStudentMessage, "retry")) - retries; d != 0 {
				t.Errorf("retry metric moved by %v, want 0", d)
			}
			// The clock does not move: nothing waits for a retry.
			if _, err := svc.HandleStaffAction(ctx, staffClick(VerbResolve, id)); err != nil {
				t.Fatal(err)
			}
			waitSvc(t, svc)
			ups := rec.updates()
			if len(ups) != 2 {
				t.Fatalf("%d card updates, want the claim's and the resolve's", len(ups))
			}
			jsonHas(t, ups[1].Card, "Opgelost door Anna Jansen")
			ms := rec.messages()
			if len(ms) != 1 || !strings.Contains(ms[0].Text, "opgelost") {
				t.Fatalf("student messages %q; want only the resolve's", sentTexts(ms))
			}
			if n := rec.attempts("notify"); n != 2 {
				t.Errorf("%d student message attempts, want 2 (the claim's once, the resolve's)", n)
			}
			clk.Set(clk.Now().Add(outboxMaxRetry))
			if n, err := svc.SendOutbox(ctx); err != nil || n != 0 {
				t.Errorf("SendOutbox later = %d, %v; want nothing left", n, err)
			}
		})
	}
}

// Which Notifier errors are final: client errors except 408 and 429, and
// a conversation or escalation that is gone. Others are retried.
func TestOutboxPermanentFailures(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("bot: notify student: %w", &statusError{403}), true},
		{fmt.Errorf("bot: update staff card: %w", &statusError{404}), true},
		{&statusError{400}, true},
		{&statusError{401}, true},
		{fmt.Errorf("bot: notify student: %w", store.ErrNotFound), true},
		{&statusError{408}, false},
		{&statusError{429}, false},
		{&statusError{500}, false},
		{&statusError{503}, false},
		{errors.New("connection reset"), false},
		{context.DeadlineExceeded, false},
	} {
		if got := permanentFailure(tc.err); got != tc.want {
			t.Errorf("permanentFailure(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A card that is gone (404) is not retried; the student's message still
// goes out.
func TestOutboxCardUpdateRejected(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	rec := &recorder{}
	svc := instance(t, f.st, newRecNotifier("a", rec), f.clock, "a")
	res, err := svc.Escalate(ctx, samRequest("a:sam"))
	if err != nil {
		t.Fatal(err)
	}
	rec.failNextWith("update", 100, fmt.Errorf("bot: update staff card: %w", &statusError{404}))
	if _, err := svc.Claim(ctx, res.Escalation.ID, "Anna Jansen"); err != nil {
		t.Fatal(err)
	}
	waitSvc(t, svc)
	if n := rec.attempts("update"); n != 1 {
		t.Errorf("card update tried %d times, want once", n)
	}
	if ms := rec.messages(); len(ms) != 1 || !strings.Contains(ms[0].Text, "opgepakt") {
		t.Errorf("student messages %q; want the claim's", sentTexts(ms))
	}
	f.clock.Set(f.clock.Now().Add(outboxMaxRetry))
	if n, err := svc.SendOutbox(ctx); err != nil || n != 0 {
		t.Errorf("SendOutbox later = %d, %v; want nothing left", n, err)
	}
}
