package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mfabot/internal/testenv"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// t0 is the fixed "now" of the suite.
var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

type backend struct {
	name string
	// url names a fresh, empty database.
	url func(t *testing.T) string
}

func (b backend) open(t *testing.T) Store { return mustOpen(t, b.url(t)) }

func backends(t *testing.T) []backend {
	bs := []backend{{name: "sqlite", url: func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "data", "mfabot.db")
	}}}
	pgURL, ok := testenv.PostgresBase(t)
	if !ok {
		t.Log("postgres: skipped (MFABOT_TEST_POSTGRES_URL not set)")
		return bs
	}
	return append(bs, backend{name: "postgres", url: func(t *testing.T) string {
		return testenv.FreshSchema(t, pgURL)
	}})
}

func mustOpen(t *testing.T, url string) Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	s.(*sqlStore).now = func() time.Time { return t0 }
	return s
}

func setNow(s Store, now time.Time) { s.(*sqlStore).now = func() time.Time { return now } }

func TestStore(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"InboxDedup", testInboxDedup},
		{"InboxFailures", testInboxFailures},
		{"ConversationVersions", testConversationVersions},
		{"ConcurrentSaves", testConcurrentSaves},
		{"Timers", testTimers},
		{"Sessions", testSessions},
		{"AbandonIdle", testAbandonIdle},
		{"TranscriptAndAudit", testTranscriptAndAudit},
		{"Escalations", testEscalations},
		{"EscalationQueue", testEscalationQueue},
		{"EscalationCountAndNewestFirst", testEscalationCountAndNewestFirst},
		{"Stats", testStats},
		{"Purge", testPurge},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					c.fn(t, b.open(t))
				})
			}
		})
	}
}

func testInboxDedup(t *testing.T, s Store) {
	ctx := context.Background()
	ok, err := s.Enqueue(ctx, InboxItem{ActivityID: "a1", ConversationID: "c1", Body: []byte(`{"id":"a1"}`), ReceivedAt: t0})
	if err != nil || !ok {
		t.Fatalf("first Enqueue = %v, %v; want true", ok, err)
	}
	ok, err = s.Enqueue(ctx, InboxItem{ActivityID: "a1", ConversationID: "c1", Body: []byte(`{"id":"a1"}`)})
	if err != nil || ok {
		t.Fatalf("retried Enqueue = %v, %v; want false, nil", ok, err)
	}
	for _, id := range []string{"a2", "a3"} {
		if ok, err := s.Enqueue(ctx, InboxItem{ActivityID: id, ConversationID: "c1", Body: []byte(id)}); !ok || err != nil {
			t.Fatalf("Enqueue %s = %v, %v", id, ok, err)
		}
	}
	items, err := s.Pending(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].ActivityID != "a1" || items[1].ActivityID != "a2" || items[2].ActivityID != "a3" {
		t.Fatalf("Pending = %+v; want a1, a2, a3", items)
	}
	if string(items[0].Body) != `{"id":"a1"}` || !items[0].ReceivedAt.Equal(t0) || items[0].ConversationID != "c1" {
		t.Errorf("Pending[0] = %+v", items[0])
	}
	if got, _ := s.Pending(ctx, 2); len(got) != 2 {
		t.Errorf("Pending(limit 2) returned %d items", len(got))
	}
	if err := s.MarkDone(ctx, items[0].Seq); err != nil {
		t.Fatal(err)
	}
	// A retry after processing is still recognised.
	if ok, err := s.Enqueue(ctx, InboxItem{ActivityID: "a1", ConversationID: "c1"}); ok || err != nil {
		t.Fatalf("Enqueue after MarkDone = %v, %v; want false", ok, err)
	}
	items, _ = s.Pending(ctx, 10)
	if len(items) != 2 || items[0].ActivityID != "a2" {
		t.Fatalf("Pending after MarkDone = %+v", items)
	}
	if err := s.MarkDone(ctx, 999999); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkDone(unknown) = %v; want ErrNotFound", err)
	}
	if _, err := s.Enqueue(ctx, InboxItem{ConversationID: "c1"}); err == nil {
		t.Error("Enqueue without activity id succeeded")
	}
}

func testInboxFailures(t *testing.T, s Store) {
	ctx := context.Background()
	if ok, err := s.Enqueue(ctx, InboxItem{ActivityID: "f1", ConversationID: "c1", Body: []byte("x")}); !ok || err != nil {
		t.Fatal(ok, err)
	}
	items, _ := s.Pending(ctx, 10)
	seq := items[0].Seq
	for i := 1; i < MaxInboxAttempts; i++ {
		if err := s.MarkFailed(ctx, seq, "connector 503"); err != nil {
			t.Fatal(err)
		}
		items, _ = s.Pending(ctx, 10)
		if len(items) != 1 || items[0].Attempts != i {
			t.Fatalf("after %d failures Pending = %+v; want the item with Attempts %d", i, items, i)
		}
	}
	if err := s.MarkFailed(ctx, seq, "connector 503"); err != nil {
		t.Fatal(err)
	}
	if items, _ = s.Pending(ctx, 10); len(items) != 0 {
		t.Fatalf("after %d failures the item is still pending: %+v", MaxInboxAttempts, items)
	}
	if ok, _ := s.Enqueue(ctx, InboxItem{ActivityID: "f1", ConversationID: "c1"}); ok {
		t.Error("a given-up activity was accepted again")
	}
	if err := s.MarkFailed(ctx, 424242, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkFailed(unknown) = %v; want ErrNotFound", err)
	}
}

func testConversationVersions(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.GetConversation(ctx, "c1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing = %v; want ErrNotFound", err)
	}
	ref := ConversationRef{ConversationID: "c1", ServiceURL: "https://smba.trafficmanager.net/emea/", ChannelID: "msteams",
		TenantID: "tid", UserID: "29:1", UserAADObjectID: "oid-1", UserName: "Sam", Locale: "nl-NL", ConversationType: "personal"}
	v, err := s.SaveConversation(ctx, Conversation{ID: "c1", Ref: ref, State: []byte(`{"step":"a"}`)})
	if err != nil || v != 1 {
		t.Fatalf("insert = %d, %v; want 1", v, err)
	}
	if _, err := s.SaveConversation(ctx, Conversation{ID: "c1", State: []byte(`{}`)}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second insert = %v; want ErrConflict", err)
	}
	c, err := s.GetConversation(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 1 || string(c.State) != `{"step":"a"}` || c.Ref != ref || !c.UpdatedAt.Equal(t0) {
		t.Fatalf("Get = %+v", c)
	}
	c.State = []byte(`{"step":"b"}`)
	if v, err = s.SaveConversation(ctx, c); err != nil || v != 2 {
		t.Fatalf("update = %d, %v; want 2", v, err)
	}
	if _, err := s.SaveConversation(ctx, c); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update = %v; want ErrConflict", err)
	}
	// SaveRef changes the reference, never the state or version.
	ref2 := ref
	ref2.ServiceURL = "https://smba.trafficmanager.net/amer/"
	if err := s.SaveRef(ctx, ref2); err != nil {
		t.Fatal(err)
	}
	c, _ = s.GetConversation(ctx, "c1")
	if c.Version != 2 || c.Ref.ServiceURL != ref2.ServiceURL || string(c.State) != `{"step":"b"}` {
		t.Fatalf("after SaveRef: %+v", c)
	}
	// A stale ref in a later save does not undo SaveRef.
	c.Ref = ref
	if _, err := s.SaveConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c, _ = s.GetConversation(ctx, "c1"); c.Ref.ServiceURL != ref2.ServiceURL {
		t.Errorf("SaveConversation overwrote the ref: %+v", c.Ref)
	}

	// A conversation first seen through SaveRef reads back with version 0
	// and the first save takes it over.
	ref3 := ConversationRef{ConversationID: "c2", ServiceURL: "https://x/", UserName: "Lisa"}
	if err := s.SaveRef(ctx, ref3); err != nil {
		t.Fatal(err)
	}
	c2, err := s.GetConversation(ctx, "c2")
	if err != nil || c2.Version != 0 || c2.Ref != ref3 || len(c2.State) != 0 {
		t.Fatalf("Get after SaveRef = %+v, %v", c2, err)
	}
	c2.State = []byte(`{"n":1}`)
	if v, err := s.SaveConversation(ctx, c2); err != nil || v != 1 {
		t.Fatalf("first save after SaveRef = %d, %v", v, err)
	}
	if c2, _ = s.GetConversation(ctx, "c2"); c2.Ref != ref3 || string(c2.State) != `{"n":1}` {
		t.Errorf("after first save: %+v", c2)
	}
}

func testConcurrentSaves(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.SaveConversation(ctx, Conversation{ID: "c", State: []byte(`{"n":0}`)}); err != nil {
		t.Fatal(err)
	}
	// Everyone saves against version 1: exactly one wins.
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.SaveConversation(ctx, Conversation{ID: "c", Version: 1, State: []byte(`{"n":0}`)})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrConflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 7 {
		t.Fatalf("wins %d conflicts %d; want 1 and 7", wins.Load(), conflicts.Load())
	}
	// Read-modify-write with retry on conflict loses no increment.
	const workers, each = 6, 8
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				for {
					c, err := s.GetConversation(ctx, "c")
					if err != nil {
						t.Error(err)
						return
					}
					var st struct{ N int }
					json.Unmarshal(c.State, &st)
					st.N++
					c.State, _ = json.Marshal(st)
					if _, err := s.SaveConversation(ctx, c); err == nil {
						break
					} else if !errors.Is(err, ErrConflict) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	c, _ := s.GetConversation(ctx, "c")
	var st struct{ N int }
	json.Unmarshal(c.State, &st)
	if st.N != workers*each || c.Version != 2+workers*each {
		t.Fatalf("n = %d version = %d; want %d and %d", st.N, c.Version, workers*each, 2+workers*each)
	}
}

func testTimers(t *testing.T, s Store) {
	ctx := context.Background()
	id3, _ := s.AddTimer(ctx, Timer{ConversationID: "c1", Due: t0.Add(3 * time.Minute), Payload: []byte("3")})
	id1, _ := s.AddTimer(ctx, Timer{ConversationID: "c1", Due: t0.Add(1 * time.Minute), Payload: []byte("1")})
	id2, err := s.AddTimer(ctx, Timer{ConversationID: "c2", Due: t0.Add(2 * time.Minute), Payload: []byte("2")})
	if err != nil || id1 == 0 || id2 == 0 || id3 == 0 {
		t.Fatal(id1, id2, id3, err)
	}
	if due, _ := s.DueTimers(ctx, t0, 10); len(due) != 0 {
		t.Fatalf("DueTimers(t0) = %+v; want none", due)
	}
	due, err := s.DueTimers(ctx, t0.Add(2*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].ID != id1 || due[1].ID != id2 || string(due[0].Payload) != "1" ||
		!due[0].Due.Equal(t0.Add(time.Minute)) || due[1].ConversationID != "c2" {
		t.Fatalf("DueTimers = %+v", due)
	}
	if due, _ := s.DueTimers(ctx, t0.Add(time.Hour), 1); len(due) != 1 || due[0].ID != id1 {
		t.Fatalf("DueTimers(limit 1) = %+v", due)
	}
	if err := s.DeleteTimer(ctx, id1); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTimers(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueTimers(ctx, t0.Add(time.Hour), 10)
	if len(due) != 1 || due[0].ID != id2 {
		t.Fatalf("after deletes DueTimers = %+v; want only %d", due, id2)
	}
}

func testSessions(t *testing.T, s Store) {
	ctx := context.Background()
	if err := s.StartSession(ctx, Session{ID: "s1", ConversationID: "c1", UserID: "u1", StartedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// Restarting the same id fills in the situation only.
	if err := s.StartSession(ctx, Session{ID: "s1", ConversationID: "c1", UserID: "u1", Situation: "new_phone", StartedAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "s1", t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "missing", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("TouchSession(missing) = %v", err)
	}
	if err := s.SetSatisfaction(ctx, "s1", 6); err == nil {
		t.Error("satisfaction 6 accepted")
	}
	if err := s.SetSatisfaction(ctx, "s1", 4); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(ctx, "s1", OutcomeVerifiedResolved, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(ctx, "missing", OutcomeAbandoned, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("EndSession(missing) = %v", err)
	}
	st, err := s.Stats(ctx, t0.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.OutcomesPerDay) != 1 || st.OutcomesPerDay[0].Counts[OutcomeVerifiedResolved] != 1 || st.SatisfactionCounts[4] != 1 {
		t.Fatalf("stats = %+v", st)
	}
	// The step event without a session id lands on the session.
	if err := s.RecordStepEvent(ctx, StepEvent{ConversationID: "c1", Step: "open_app", Event: "shown", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordStepEvent(ctx, StepEvent{ConversationID: "c1", SessionID: "s1", Step: "open_app", Event: "shown", At: t0.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	st, _ = s.Stats(ctx, t0.Add(-time.Hour))
	if len(st.Funnel) != 1 || st.Funnel[0].Reached != 1 {
		t.Fatalf("funnel = %+v; want open_app reached by 1 session", st.Funnel)
	}
}

func testAbandonIdle(t *testing.T, s Store) {
	ctx := context.Background()
	old, recent := t0.Add(-30*time.Hour), t0.Add(-time.Hour)
	for _, se := range []Session{
		{ID: "idle", ConversationID: "c-idle", StartedAt: old},
		{ID: "idle-open", ConversationID: "c-open", StartedAt: old},
		{ID: "idle-claimed", ConversationID: "c-claimed", StartedAt: old},
		{ID: "idle-resolved", ConversationID: "c-resolved", StartedAt: old},
		{ID: "active", ConversationID: "c-active", StartedAt: recent},
		{ID: "ended", ConversationID: "c-ended", StartedAt: old},
	} {
		if err := s.StartSession(ctx, se); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.EndSession(ctx, "ended", OutcomeSelfReportedResolved, old.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	mk := func(conv, status string) {
		id, err := s.CreateEscalation(ctx, Escalation{ConversationID: conv, CreatedAt: old})
		if err != nil {
			t.Fatal(err)
		}
		if status != StatusOpen {
			e, _ := s.GetEscalation(ctx, id)
			e.Status = status
			if _, err := s.UpdateEscalation(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("c-open", StatusOpen)
	mk("c-claimed", StatusClaimed)
	mk("c-resolved", StatusResolved)

	n, err := s.AbandonIdle(ctx, t0.Add(-24*time.Hour), t0)
	if err != nil || n != 2 {
		t.Fatalf("AbandonIdle = %d, %v; want 2 (idle, idle-resolved)", n, err)
	}
	if n, _ := s.AbandonIdle(ctx, t0.Add(-24*time.Hour), t0); n != 0 {
		t.Fatalf("second AbandonIdle = %d; want 0", n)
	}
	st, _ := s.Stats(ctx, t0.Add(-48*time.Hour))
	got := map[string]int{}
	for _, d := range st.OutcomesPerDay {
		for k, v := range d.Counts {
			got[k] += v
		}
	}
	if got[OutcomeAbandoned] != 2 || got[OutcomeSelfReportedResolved] != 1 {
		t.Fatalf("outcomes = %v", got)
	}
}

func testTranscriptAndAudit(t *testing.T, s Store) {
	ctx := context.Background()
	lines := []TranscriptLine{
		{ConversationID: "c1", Role: "student", Text: "hoi", At: t0},
		{ConversationID: "c1", Role: "bot", Text: "Hallo!", At: t0.Add(time.Second)},
		{ConversationID: "c2", Role: "student", Text: "other", At: t0},
		{ConversationID: "c1", Role: "student", Text: "telefoon kwijt", At: t0.Add(2 * time.Second)},
	}
	for _, l := range lines {
		if err := s.AppendTranscript(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Transcript(ctx, "c1", t0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != lines[1] || got[1] != lines[3] {
		t.Fatalf("Transcript = %+v", got)
	}
	for i, a := range []AuditEntry{
		{At: t0, Actor: "anna@school.nl", Action: "claim", EscalationID: 7},
		{At: t0.Add(time.Minute), Actor: "anna@school.nl", Action: "resolve", EscalationID: 7, Detail: "reset done"},
		{At: t0, Actor: "bob@school.nl", Action: "login"},
	} {
		if err := s.AppendAudit(ctx, a); err != nil {
			t.Fatal(i, err)
		}
	}
	au, _ := s.Audit(ctx, 7)
	if len(au) != 2 || au[0].Action != "claim" || au[1].Detail != "reset done" || !au[1].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Audit(7) = %+v", au)
	}
	if all, _ := s.Audit(ctx, 0); len(all) != 3 {
		t.Fatalf("Audit(0) = %d entries; want 3", len(all))
	}
}

func testEscalations(t *testing.T, s Store) {
	ctx := context.Background()
	in := Escalation{
		ConversationID: "c1", SessionID: "s1", StudentName: "Sam de Vries", StudentUPN: "sam@student.school.nl",
		StudentObjectID: "oid-sam", Situation: "new_phone", FailedStep: "scan_qr", Reason: "two_failures",
		Methods:    []string{"Microsoft Authenticator (iPhone 12)", "Telefoon +31 6 ** ** ** 42"},
		Language:   "nl",
		Transcript: []TranscriptLine{{ConversationID: "c1", Role: "student", Text: "lukt niet", At: t0}},
		CreatedAt:  t0,
	}
	id, err := s.CreateEscalation(ctx, in)
	if err != nil || id == 0 {
		t.Fatal(id, err)
	}
	// A retry or a second "medewerker" in the same conversation.
	dup, err := s.CreateEscalation(ctx, in)
	if !errors.Is(err, ErrDuplicate) || dup != id {
		t.Fatalf("duplicate create = %d, %v; want %d, ErrDuplicate", dup, err, id)
	}
	e, err := s.GetEscalation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != StatusOpen || e.Version != 1 || !e.CreatedAt.Equal(t0) || e.StudentUPN != in.StudentUPN ||
		len(e.Methods) != 2 || e.Methods[1] != in.Methods[1] || len(e.Transcript) != 1 || e.Transcript[0] != in.Transcript[0] ||
		e.ClaimedAt != nil || e.Security {
		t.Fatalf("Get = %+v", e)
	}
	if _, err := s.GetEscalation(ctx, id+1000); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(missing) = %v", err)
	}
	if o, err := s.OpenEscalationFor(ctx, "c1"); err != nil || o.ID != id {
		t.Fatalf("OpenEscalationFor = %+v, %v", o, err)
	}
	if _, err := s.OpenEscalationFor(ctx, "c-none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenEscalationFor(none) = %v", err)
	}

	// Claim, then a stale writer loses.
	claimedAt := t0.Add(4 * time.Minute)
	stale := e
	e.Status, e.ClaimedBy, e.ClaimedAt = StatusClaimed, "anna@school.nl", &claimedAt
	e.StaffActivityID, e.StaffThreadID = "1:act", "19:thread"
	v, err := s.UpdateEscalation(ctx, e)
	if err != nil || v != 2 {
		t.Fatalf("claim = %d, %v", v, err)
	}
	stale.Status = StatusResolved
	if _, err := s.UpdateEscalation(ctx, stale); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update = %v; want ErrConflict", err)
	}
	if _, err := s.UpdateEscalation(ctx, Escalation{ID: id + 1000, Version: 1, Status: StatusOpen}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing = %v; want ErrNotFound", err)
	}
	e, _ = s.GetEscalation(ctx, id)
	if e.Status != StatusClaimed || e.ClaimedBy != "anna@school.nl" || !e.ClaimedAt.Equal(claimedAt) || e.Version != 2 || e.StaffThreadID != "19:thread" {
		t.Fatalf("after claim: %+v", e)
	}
	if _, err := s.CreateEscalation(ctx, in); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("create while claimed = %v; want ErrDuplicate", err)
	}

	// Resolve: the conversation may escalate again.
	resolvedAt := t0.Add(30 * time.Minute)
	e.Status, e.ResolvedBy, e.ResolvedAt, e.ResolutionNote = StatusResolved, "anna@school.nl", &resolvedAt, "TAP issued"
	if _, err := s.UpdateEscalation(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenEscalationFor(ctx, "c1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenEscalationFor after resolve = %v", err)
	}
	in2 := in
	in2.CreatedAt = t0.Add(time.Hour)
	id2, err := s.CreateEscalation(ctx, in2)
	if err != nil || id2 == id {
		t.Fatalf("create after resolve = %d, %v", id2, err)
	}
	// Reopening the old one now would make two open escalations.
	e, _ = s.GetEscalation(ctx, id)
	e.Status, e.ResolvedAt = StatusOpen, nil
	if _, err := s.UpdateEscalation(ctx, e); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("reopen with another open = %v; want ErrDuplicate", err)
	}
	if last, err := s.LastEscalationOf(ctx, "oid-sam", t0.Add(-7*24*time.Hour)); err != nil || last.ID != id2 {
		t.Fatalf("LastEscalationOf = %+v, %v; want %d", last.ID, err, id2)
	}
	if _, err := s.LastEscalationOf(ctx, "oid-sam", t0.Add(2*time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastEscalationOf(after) = %v", err)
	}
	if _, err := s.LastEscalationOf(ctx, "oid-other", time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastEscalationOf(other) = %v", err)
	}

	// Concurrent creates for one conversation make one escalation.
	var wg sync.WaitGroup
	var created, dups atomic.Int32
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.CreateEscalation(ctx, Escalation{ConversationID: "race", CreatedAt: t0})
			switch {
			case err == nil:
				created.Add(1)
			case errors.Is(err, ErrDuplicate):
				dups.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if created.Load() != 1 || dups.Load() != 5 {
		t.Fatalf("concurrent creates: %d created, %d duplicates; want 1 and 5", created.Load(), dups.Load())
	}
}

func testEscalationQueue(t *testing.T, s Store) {
	ctx := context.Background()
	mk := func(conv string, security bool, created time.Time, status string) int64 {
		id, err := s.CreateEscalation(ctx, Escalation{ConversationID: conv, Security: security, CreatedAt: created, Status: status})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	oldNormal := mk("c1", false, t0.Add(-3*time.Hour), StatusOpen)
	newSecurity := mk("c2", true, t0.Add(-10*time.Minute), StatusOpen)
	newNormal := mk("c3", false, t0.Add(-time.Hour), StatusClaimed)
	oldSecurity := mk("c4", true, t0.Add(-2*time.Hour), StatusOpen)
	resolved := mk("c5", false, t0.Add(-5*time.Hour), StatusResolved)

	ids := func(es []Escalation) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	eq := func(a, b []int64) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	yes, no := true, false
	for _, c := range []struct {
		name string
		f    EscalationFilter
		want []int64
	}{
		{"all", EscalationFilter{}, []int64{oldSecurity, newSecurity, resolved, oldNormal, newNormal}},
		{"open+claimed", EscalationFilter{Statuses: []string{StatusOpen, StatusClaimed}}, []int64{oldSecurity, newSecurity, oldNormal, newNormal}},
		{"resolved", EscalationFilter{Statuses: []string{StatusResolved}}, []int64{resolved}},
		{"security", EscalationFilter{Security: &yes}, []int64{oldSecurity, newSecurity}},
		{"not security", EscalationFilter{Security: &no, Statuses: []string{StatusOpen}}, []int64{oldNormal}},
		{"since", EscalationFilter{Since: t0.Add(-90 * time.Minute)}, []int64{newSecurity, newNormal}},
		{"limit", EscalationFilter{Limit: 2}, []int64{oldSecurity, newSecurity}},
	} {
		got, err := s.ListEscalations(ctx, c.f)
		if err != nil {
			t.Fatal(c.name, err)
		}
		if !eq(ids(got), c.want) {
			t.Errorf("%s: got %v; want %v", c.name, ids(got), c.want)
		}
	}
}

// The resolved and all lists show the newest cases first (a limit drops
// the oldest), the queue counts come from a count, and a list may leave
// the transcripts out.
func testEscalationCountAndNewestFirst(t *testing.T, s Store) {
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 6; i++ {
		status := StatusResolved
		if i%3 == 0 {
			status = StatusOpen
		}
		id, err := s.CreateEscalation(ctx, Escalation{ConversationID: "n" + string(rune('a'+i)), Security: i == 1,
			CreatedAt: t0.Add(time.Duration(i) * time.Minute), Status: status,
			Transcript: []TranscriptLine{{Role: "student", Text: "hallo", At: t0}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	got, err := s.ListEscalations(ctx, EscalationFilter{Statuses: []string{StatusResolved}, NewestFirst: true, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []int64
	for _, e := range got {
		gotIDs = append(gotIDs, e.ID)
		if len(e.Transcript) != 1 {
			t.Errorf("escalation %d: transcript %v, want it", e.ID, e.Transcript)
		}
	}
	if want := []int64{ids[5], ids[4], ids[2]}; fmt.Sprint(gotIDs) != fmt.Sprint(want) {
		t.Errorf("newest resolved: %v, want %v (the security case is not put first)", gotIDs, want)
	}
	got, err = s.ListEscalations(ctx, EscalationFilter{WithoutTranscript: true})
	if err != nil || len(got) != 6 {
		t.Fatalf("list without transcript: %d, %v", len(got), err)
	}
	for _, e := range got {
		if len(e.Transcript) != 0 || e.ConversationID == "" || e.Status == "" {
			t.Errorf("list without transcript: %+v", e)
		}
	}
	yes := true
	for _, c := range []struct {
		f    EscalationFilter
		want int
	}{
		{EscalationFilter{}, 6},
		{EscalationFilter{Limit: 2}, 6},
		{EscalationFilter{Statuses: []string{StatusOpen}}, 2},
		{EscalationFilter{Statuses: []string{StatusOpen, StatusClaimed}}, 2},
		{EscalationFilter{Statuses: []string{StatusResolved}, Security: &yes}, 1},
		{EscalationFilter{Since: t0.Add(4 * time.Minute)}, 2},
	} {
		n, err := s.CountEscalations(ctx, c.f)
		if err != nil || n != c.want {
			t.Errorf("CountEscalations(%+v) = %d, %v; want %d", c.f, n, err, c.want)
		}
	}
}

// testStats checks the numbers on a known data set.
func testStats(t *testing.T, s Store) {
	ctx := context.Background()
	day1 := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	day2 := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	type sess struct {
		id, outcome string
		start       time.Time
		score       int
	}
	for _, x := range []sess{
		{"s1", OutcomeVerifiedResolved, day1, 5},
		{"s2", OutcomeVerifiedResolved, day1, 4},
		{"s3", OutcomeEscalated, day1, 0},
		{"s4", OutcomeAbandoned, day2, 0},
		{"s5", OutcomeSecurityEscalated, day2, 2},
		{"s6", "", day2, 0}, // still running
		{"old", OutcomeVerifiedResolved, day1.Add(-10 * 24 * time.Hour), 1},
	} {
		if err := s.StartSession(ctx, Session{ID: x.id, ConversationID: "c-" + x.id, StartedAt: x.start}); err != nil {
			t.Fatal(err)
		}
		if x.outcome != "" {
			if err := s.EndSession(ctx, x.id, x.outcome, x.start.Add(20*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		if x.score > 0 {
			if err := s.SetSatisfaction(ctx, x.id, x.score); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Funnel: s1..s4 see "open_app"; s3 fails it twice; s1, s2, s3 see
	// "scan_qr"; s3 and s4 fail it.
	ev := func(sid, step, event string, at time.Time) {
		if err := s.RecordStepEvent(ctx, StepEvent{ConversationID: "c-" + sid, Step: step, Event: event, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	for i, sid := range []string{"s1", "s2", "s3", "s4"} {
		at := day1.Add(time.Duration(i+1) * time.Minute)
		if sid == "s4" {
			at = day2.Add(time.Minute)
		}
		ev(sid, "open_app", "shown", at)
		ev(sid, "open_app", "shown", at.Add(time.Second)) // shown twice, counted once
	}
	ev("s3", "open_app", "failed", day1.Add(5*time.Minute))
	ev("s3", "open_app", "failed", day1.Add(6*time.Minute))
	for _, sid := range []string{"s1", "s2", "s3"} {
		ev(sid, "scan_qr", "shown", day1.Add(10*time.Minute))
	}
	ev("s3", "scan_qr", "failed", day1.Add(11*time.Minute))
	ev("s4", "scan_qr", "failed", day2.Add(2*time.Minute))
	ev("old", "ancient_step", "shown", day1.Add(-10*24*time.Hour))

	// Escalations: first response 10m (claim), 4m (message before a
	// claim at 6m), 20m; resolutions 60m, 30m; one never answered.
	mk := func(conv string, created time.Time, claimed, first, resolved time.Duration) {
		e := Escalation{ConversationID: conv, CreatedAt: created, Status: StatusOpen}
		if claimed > 0 {
			at := created.Add(claimed)
			e.ClaimedAt, e.Status = &at, StatusClaimed
		}
		if first > 0 {
			at := created.Add(first)
			e.FirstResponseAt = &at
		}
		if resolved > 0 {
			at := created.Add(resolved)
			e.ResolvedAt, e.Status = &at, StatusResolved
		}
		if _, err := s.CreateEscalation(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	mk("e1", day1, 10*time.Minute, 0, 60*time.Minute)
	mk("e2", day1, 6*time.Minute, 4*time.Minute, 30*time.Minute)
	mk("e3", day2, 20*time.Minute, 0, 0)
	mk("e4", day2, 0, 0, 0)
	mk("e-old", day1.Add(-10*24*time.Hour), time.Hour, 0, 2*time.Hour)

	st, err := s.Stats(ctx, day1.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.OutcomesPerDay) != 2 {
		t.Fatalf("OutcomesPerDay = %+v", st.OutcomesPerDay)
	}
	d1, d2 := st.OutcomesPerDay[0], st.OutcomesPerDay[1]
	if d1.Day != "2026-03-09" || d1.Counts[OutcomeVerifiedResolved] != 2 || d1.Counts[OutcomeEscalated] != 1 || len(d1.Counts) != 2 {
		t.Errorf("day 1 = %+v", d1)
	}
	if d2.Day != "2026-03-10" || d2.Counts[OutcomeAbandoned] != 1 || d2.Counts[OutcomeSecurityEscalated] != 1 || len(d2.Counts) != 2 {
		t.Errorf("day 2 = %+v", d2)
	}
	want := []FunnelRow{{Step: "open_app", Reached: 4, Failed: 1}, {Step: "scan_qr", Reached: 3, Failed: 2}}
	if len(st.Funnel) != len(want) || st.Funnel[0] != want[0] || st.Funnel[1] != want[1] {
		t.Errorf("Funnel = %+v; want %+v", st.Funnel, want)
	}
	if st.MedianFirstResponse != 10*time.Minute {
		t.Errorf("MedianFirstResponse = %v; want 10m (4m, 10m, 20m)", st.MedianFirstResponse)
	}
	if st.MedianResolution != 45*time.Minute {
		t.Errorf("MedianResolution = %v; want 45m (30m, 60m)", st.MedianResolution)
	}
	if len(st.SatisfactionCounts) != 3 || st.SatisfactionCounts[5] != 1 || st.SatisfactionCounts[4] != 1 || st.SatisfactionCounts[2] != 1 {
		t.Errorf("SatisfactionCounts = %v", st.SatisfactionCounts)
	}
	if st.OpenEscalations != 2 {
		t.Errorf("OpenEscalations = %d; want 2 (e3 claimed, e4 open)", st.OpenEscalations)
	}
	empty, err := s.Stats(ctx, t0.Add(24*time.Hour))
	if err != nil || len(empty.OutcomesPerDay) != 0 || len(empty.Funnel) != 0 || empty.MedianResolution != 0 || empty.OpenEscalations != 2 {
		t.Errorf("Stats(future) = %+v, %v", empty, err)
	}
}

func testPurge(t *testing.T, s Store) {
	ctx := context.Background()
	old := t0.Add(-40 * 24 * time.Hour)
	ancient := t0.Add(-200 * 24 * time.Hour)
	s.AppendTranscript(ctx, TranscriptLine{ConversationID: "c1", Role: "student", Text: "old", At: old})
	s.AppendTranscript(ctx, TranscriptLine{ConversationID: "c1", Role: "student", Text: "new", At: t0})
	tr := []TranscriptLine{{ConversationID: "c-a", Role: "student", Text: "evidence", At: ancient}}
	mk := func(conv string, created time.Time, resolved *time.Time) int64 {
		st := StatusOpen
		if resolved != nil {
			st = StatusResolved
		}
		id, err := s.CreateEscalation(ctx, Escalation{ConversationID: conv, CreatedAt: created, Status: st, ResolvedAt: resolved, Transcript: tr})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ancientRes, oldRes, newRes := ancient.Add(time.Hour), old.Add(time.Hour), t0.Add(-time.Hour)
	goneID := mk("c-a", ancient, &ancientRes)
	strippedID := mk("c-b", old, &oldRes)
	keptID := mk("c-c", t0.Add(-2*time.Hour), &newRes)
	openID := mk("c-d", ancient, nil) // never purged while open

	// Inbox: a done item from 3 days ago goes, one from yesterday stays
	// (dedup floor), a pending one stays whatever its age.
	setNow(s, t0.Add(-72*time.Hour))
	s.Enqueue(ctx, InboxItem{ActivityID: "done-old", ConversationID: "c1", ReceivedAt: t0.Add(-72 * time.Hour)})
	s.Enqueue(ctx, InboxItem{ActivityID: "pending-old", ConversationID: "c1", ReceivedAt: t0.Add(-72 * time.Hour)})
	s.Enqueue(ctx, InboxItem{ActivityID: "done-new", ConversationID: "c1", ReceivedAt: t0.Add(-24 * time.Hour)})
	items, _ := s.Pending(ctx, 10)
	s.MarkDone(ctx, items[0].Seq)
	s.MarkDone(ctx, items[2].Seq)
	setNow(s, t0)

	s.StartSession(ctx, Session{ID: "s-ancient", ConversationID: "c-x", StartedAt: ancient})
	s.EndSession(ctx, "s-ancient", OutcomeAbandoned, ancient)
	s.RecordStepEvent(ctx, StepEvent{ConversationID: "c-x", Step: "a", Event: "shown", At: ancient})
	setNow(s, ancient)
	s.SaveConversation(ctx, Conversation{ID: "c-x", State: []byte("{}")})
	s.SaveConversation(ctx, Conversation{ID: "c-d", State: []byte("{}")}) // has an open escalation
	setNow(s, t0.Add(-40*24*time.Hour))
	s.SaveConversation(ctx, Conversation{ID: "c-month", State: []byte(`{"userName":"Sam"}`)})
	setNow(s, t0.Add(-10*24*time.Hour))
	s.SaveConversation(ctx, Conversation{ID: "c-recent", State: []byte("{}")})
	setNow(s, t0)

	// Processed activity ids are remembered for two days.
	if err := s.Purge(ctx, t0.Add(-30*24*time.Hour), t0.Add(-180*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if lines, _ := s.Transcript(ctx, "c1", time.Time{}); len(lines) != 1 || lines[0].Text != "new" {
		t.Errorf("transcript after purge = %+v", lines)
	}
	if _, err := s.GetEscalation(ctx, goneID); !errors.Is(err, ErrNotFound) {
		t.Errorf("escalation resolved 200 days ago survived: %v", err)
	}
	if e, err := s.GetEscalation(ctx, strippedID); err != nil || len(e.Transcript) != 0 {
		t.Errorf("escalation resolved 40 days ago: %v, transcript %+v; want kept without transcript", err, e.Transcript)
	}
	for _, id := range []int64{keptID, openID} {
		if e, err := s.GetEscalation(ctx, id); err != nil || len(e.Transcript) != 1 {
			t.Errorf("escalation %d: %v, transcript %d lines; want kept whole", id, err, len(e.Transcript))
		}
	}
	for id, want := range map[string]bool{"done-old": true, "pending-old": false, "done-new": false} {
		ok, err := s.Enqueue(ctx, InboxItem{ActivityID: id, ConversationID: "c1"})
		if err != nil || ok != want {
			t.Errorf("Enqueue(%s) after purge = %v, %v; want %v", id, ok, err, want)
		}
	}
	if _, err := s.GetConversation(ctx, "c-x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("idle conversation survived purge: %v", err)
	}
	if _, err := s.GetConversation(ctx, "c-d"); err != nil {
		t.Errorf("conversation with an open escalation was purged: %v", err)
	}
	// The dialog state (name, masked methods) follows the transcript retention.
	if _, err := s.GetConversation(ctx, "c-month"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a conversation idle for 40 days outlived the 30-day transcript retention: %v", err)
	}
	if _, err := s.GetConversation(ctx, "c-recent"); err != nil {
		t.Errorf("a conversation idle for 10 days was purged: %v", err)
	}
	st, _ := s.Stats(ctx, time.Time{})
	if len(st.Funnel) != 0 {
		t.Errorf("ancient step events survived: %+v", st.Funnel)
	}
	for _, d := range st.OutcomesPerDay {
		if d.Counts[OutcomeAbandoned] > 0 {
			t.Errorf("ancient session survived: %+v", d)
		}
	}
}

// TestTwoProcesses opens one database twice at the same moment, as mfabot
// serve and mfabot chat do with one SQLite file (or two instances with
// one PostgreSQL database): migrations run once and what one writes the
// other reads.
func TestTwoProcesses(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testTwoProcesses(t, b.url(t)) })
	}
}

func testTwoProcesses(t *testing.T, url string) {
	ctx := context.Background()
	var wg sync.WaitGroup
	stores := make([]Store, 2)
	errs := make([]error, 2)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(ctx, url)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	serve, chat := stores[0], stores[1]

	id, err := chat.CreateEscalation(ctx, Escalation{ConversationID: "chat-1", StudentName: "Sam", FailedStep: "scan_qr"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := serve.ListEscalations(ctx, EscalationFilter{Statuses: []string{StatusOpen}})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].StudentName != "Sam" {
		t.Fatalf("server sees %+v, %v", list, err)
	}
	// Both write at the same time; busy_timeout lets them take turns.
	var wg2 sync.WaitGroup
	for i, s := range stores {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for j := 0; j < 20; j++ {
				if _, err := s.Enqueue(ctx, InboxItem{ActivityID: "p" + string(rune('a'+i)) + string(rune('a'+j)), ConversationID: "c"}); err != nil {
					t.Error(err)
					return
				}
				if err := s.AppendTranscript(ctx, TranscriptLine{ConversationID: "c", Role: "bot", Text: "x"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg2.Wait()
	if items, _ := serve.Pending(ctx, 100); len(items) != 40 {
		t.Errorf("pending after concurrent writes = %d; want 40", len(items))
	}
	var n int
	ms, _ := loadMigrations(serve.(*sqlStore).d)
	if err := serve.(*sqlStore).r.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(ms) {
		t.Errorf("schema_migrations rows = %d, %v; want %d (each migration once)", n, err, len(ms))
	}
	if serve.(*sqlStore).d == dialectSQLite {
		var mode string
		var sync int
		serve.(*sqlStore).w.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
		serve.(*sqlStore).w.QueryRow(`PRAGMA synchronous`).Scan(&sync)
		if mode != "wal" || sync != 1 {
			t.Errorf("journal_mode = %q, synchronous = %d; want wal, 1 (NORMAL)", mode, sync)
		}
	}
}

func TestOpenAgainIsIdempotent(t *testing.T) {
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	s1, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s1.SaveConversation(ctx, Conversation{ID: "c", State: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	s2, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if c, err := s2.GetConversation(ctx, "c"); err != nil || c.Version != 1 {
		t.Fatalf("after reopen: %+v, %v", c, err)
	}
	if err := s2.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSQLiteFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "mfabot.db")
	s := mustOpen(t, "sqlite:"+path)
	if _, err := s.SaveConversation(context.Background(), Conversation{ID: "c", State: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; want no access for group and others", filepath.Base(p), fi.Mode().Perm())
		}
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "mysql://x", "sqlite:", "sqlite:x.db?_pragma=foo", "sqlite::memory:", "sqlite:file:x.db"} {
		if s, err := Open(context.Background(), u); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}
