package staff

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mfabot/store"
)

// countingStore records how many escalations the dashboard loads.
type countingStore struct {
	store.Store
	mu          sync.Mutex
	rows        int
	transcripts int
}

func (c *countingStore) ListEscalations(ctx context.Context, f store.EscalationFilter) ([]store.Escalation, error) {
	list, err := c.Store.ListEscalations(ctx, f)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rows += len(list)
	for _, e := range list {
		c.transcripts += len(e.Transcript)
	}
	return list, err
}

func (c *countingStore) reset() (rows, transcripts int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows, transcripts = c.rows, c.transcripts
	c.rows, c.transcripts = 0, 0
	return rows, transcripts
}

// Past the list's 200 rows the resolved and all views still show the
// cases resolved last, and the queue's numbers count everything without
// loading every escalation (with its transcript) on each poll.
func TestQueueBeyondTheListLimit(t *testing.T) {
	st := &countingStore{Store: openStore(t)}
	h, err := New(Options{Store: st, Actions: fakeActions{st: st, now: time.Now}, Dev: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{st: st, srv: srv}

	start := time.Now().Add(-30 * 24 * time.Hour)
	transcript := []store.TranscriptLine{{Role: "student", Text: strings.Repeat("lange regel ", 50), At: start}}
	for i := 1; i <= queueLimit+10; i++ {
		resolvedAt := start.Add(time.Duration(i) * time.Hour)
		addEscalation(t, st, store.Escalation{StudentName: fmt.Sprintf("Opgelost %03d", i), Status: store.StatusResolved,
			CreatedAt: start.Add(time.Duration(i) * time.Hour), ResolvedAt: &resolvedAt, ResolvedBy: "Ine", Transcript: transcript})
	}
	for i := 1; i <= queueLimit+5; i++ {
		addEscalation(t, st, store.Escalation{StudentName: fmt.Sprintf("Wachtend %03d", i), Security: i == queueLimit+5,
			CreatedAt: start.Add(time.Duration(i) * time.Minute), Transcript: transcript})
	}
	c := e.devSignIn(t, "Ine")
	st.reset()

	newest := fmt.Sprintf("Opgelost %03d", queueLimit+10)
	for _, view := range []string{"resolved", "all"} {
		_, body := get(t, c, srv.URL+"/staff/?status="+view)
		if !strings.Contains(body, newest) {
			t.Errorf("%s view does not show the newest case %q", view, newest)
		}
		if strings.Contains(body, "Opgelost 001<") {
			t.Errorf("%s view shows the oldest case instead of a newer one", view)
		}
		if view == "resolved" {
			if i, j := strings.Index(body, newest), strings.Index(body, fmt.Sprintf("Opgelost %03d", queueLimit+9)); i < 0 || j < 0 || i > j {
				t.Errorf("resolved view is not newest first")
			}
			if !strings.Contains(body, "Nog 10 escalaties in deze weergave staan niet in de lijst") {
				t.Errorf("resolved view does not say that 10 are not shown")
			}
		}
	}
	// The working queue: the security case first, then the longest waiting.
	_, body := get(t, c, srv.URL+"/staff/queue/fragment?status=active")
	sec, first, last := strings.Index(body, fmt.Sprintf("Wachtend %03d", queueLimit+5)), strings.Index(body, "Wachtend 001<"), strings.Index(body, "Wachtend 002<")
	if sec < 0 || first < 0 || last < 0 || !(sec < first && first < last) {
		t.Errorf("active queue order: security at %d, oldest at %d, next at %d", sec, first, last)
	}
	if !strings.Contains(body, fmt.Sprintf("<strong>%d</strong> open", queueLimit+5)) ||
		!strings.Contains(body, `<strong class="sec-text">1</strong> beveiliging`) {
		t.Errorf("queue numbers wrong:\n%.400s", body)
	}
	rows, transcripts := st.reset()
	if rows > 4*queueLimit || transcripts != 0 {
		t.Errorf("three views and a poll loaded %d escalations and %d transcript lines; want at most %d and none", rows, transcripts, 4*queueLimit)
	}
	// The detail page still has the transcript.
	_, body = get(t, c, srv.URL+"/staff/escalations/1")
	if !strings.Contains(body, "lange regel") {
		t.Error("detail page lacks the transcript")
	}
}
