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

func samRequest(conv string) Request {
	return Request{
		ConversationID:  conv,
		SessionID:       "sess-" + conv,
		StudentObjectID: "aad-sam",
		StudentName:     "Sam de Vries",
		StudentUPN:      "sam.devries@student.example.nl",
		StudentUserID:   "29:sam",
		Situation:       "move_phone",
		FailedStep:      "step08",
		Reason:          ReasonTwoFailures,
		Methods:         []string{"Microsoft Authenticator (iPhone 12)", "Telefoon (mobiel): +31 6 ** ** ** 78"},
		Language:        "nl",
	}
}

func TestEscalateEveryReason(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	reasons := []string{ReasonTwoFailures, ReasonAskedForHuman, ReasonNoUsableMethod, ReasonSuspicious, ReasonGraphUnavailable, ReasonNotConfirmed}
	for i, reason := range reasons {
		conv := "a:conv-" + reason
		if err := f.st.AppendTranscript(ctx, store.TranscriptLine{ConversationID: conv, Role: "student", Text: "mijn nummer is 06-12345678", At: f.clock.Now().Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := f.st.AppendTranscript(ctx, store.TranscriptLine{ConversationID: conv, Role: "bot", Text: "Bel 088 - 469 9070", At: f.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		r := samRequest(conv)
		r.Reason = reason
		r.StudentObjectID = fmt.Sprintf("aad-%d", i) // distinct students: no repeat contact
		r.Security = reason == ReasonSuspicious
		res, err := f.svc.Escalate(ctx, r)
		if err != nil {
			t.Fatalf("%s: %v", reason, err)
		}
		if !res.Created {
			t.Fatalf("%s: Created = false", reason)
		}
		got, err := f.st.GetEscalation(ctx, res.Escalation.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Reason != reason || got.Status != store.StatusOpen || got.ConversationID != conv ||
			got.StudentName != "Sam de Vries" || got.StudentUPN != r.StudentUPN || got.Situation != "move_phone" ||
			got.FailedStep != "step08" || got.Language != "nl" || got.RepeatContact {
			t.Errorf("%s: stored %+v", reason, got)
		}
		if got.Security != (reason == ReasonSuspicious) {
			t.Errorf("%s: security = %v", reason, got.Security)
		}
		if len(got.Methods) != 2 || got.Methods[1] != "Telefoon (mobiel): +31 6 ** ** ** 78" {
			t.Errorf("%s: methods %q", reason, got.Methods)
		}
		if len(got.Transcript) != 2 || got.Transcript[0].Text != "mijn nummer is ** ** ** 78" || got.Transcript[1].Text != "Bel 088 - 469 9070" {
			t.Errorf("%s: transcript %+v", reason, got.Transcript)
		}
		if got.StaffActivityID == "" || !strings.HasPrefix(got.StaffThreadID, "19:staff@thread.tacv2") {
			t.Errorf("%s: staff card ids not stored: %q %q", reason, got.StaffThreadID, got.StaffActivityID)
		}
	}
	posts, _, _ := f.n.snapshot()
	if len(posts) != len(reasons) {
		t.Fatalf("staff cards posted: %d, want %d", len(posts), len(reasons))
	}
	if !strings.Contains(string(posts[3]), "BEVEILIGING") {
		t.Errorf("security escalation card lacks the banner:\n%s", posts[3])
	}
	if strings.Contains(string(posts[0]), "BEVEILIGING") {
		t.Errorf("ordinary card has the security banner")
	}
	if strings.Contains(f.logs.String(), "12345678") {
		t.Error("a full phone number reached the log")
	}
	// The queue puts the security case first.
	list, err := f.st.ListEscalations(ctx, store.EscalationFilter{})
	if err != nil || len(list) != len(reasons) || !list[0].Security {
		t.Errorf("queue: %v, first %+v", err, list)
	}
}

func TestEscalateNoDuplicateOnRetry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	first, err := f.svc.Escalate(ctx, samRequest("a:conv1"))
	if err != nil || !first.Created {
		t.Fatalf("first: %+v %v", first, err)
	}
	r := samRequest("a:conv1")
	r.Reason = ReasonAskedForHuman // "medewerker" typed again
	again, err := f.svc.Escalate(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.Escalation.ID != first.Escalation.ID {
		t.Fatalf("repeat: Created=%v id=%d, want the existing %d", again.Created, again.Escalation.ID, first.Escalation.ID)
	}

	// A burst of concurrent retries still makes no second escalation.
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.svc.Escalate(ctx, samRequest("a:conv2"))
			if err != nil {
				t.Error(err)
			}
			_ = res
		}()
	}
	wg.Wait()
	list, err := f.st.ListEscalations(ctx, store.EscalationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("escalations: %d, want 2", len(list))
	}
	posts, _, _ := f.n.snapshot()
	if len(posts) != 2 {
		t.Errorf("staff cards posted: %d, want 2", len(posts))
	}

	// Once resolved, a new request makes a new escalation (a repeat contact).
	if _, err := f.svc.Resolve(ctx, first.Escalation.ID, "Anna", ""); err != nil {
		t.Fatal(err)
	}
	next, err := f.svc.Escalate(ctx, samRequest("a:conv1"))
	if err != nil || !next.Created || next.Escalation.ID == first.Escalation.ID {
		t.Fatalf("after resolve: %+v %v", next, err)
	}
}

func TestRepeatContactWithinSevenDays(t *testing.T) {
	ctx := context.Background()
	t0 := ams(2026, 11, 2, 10, 0)
	f := newFixture(t, seedInstitution(), t0)
	first, err := f.svc.Escalate(ctx, samRequest("a:week1"))
	if err != nil || first.Escalation.RepeatContact {
		t.Fatalf("first: %+v %v", first.Escalation, err)
	}
	if _, err := f.svc.Resolve(ctx, first.Escalation.ID, "Anna", "TAP gegeven"); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(t0.Add(6*24*time.Hour + 23*time.Hour))
	second, err := f.svc.Escalate(ctx, samRequest("a:week1-again"))
	if err != nil || !second.Created || !second.Escalation.RepeatContact {
		t.Fatalf("within 7 days: %+v %v", second.Escalation, err)
	}
	if !strings.Contains(string(f.svc.StaffCard(second.Escalation, f.clock.Now())), "Herhaald contact") {
		t.Error("staff card does not show the repeat contact")
	}

	// Another student, who came back after 8 days, is no repeat contact.
	r := samRequest("a:other1")
	r.StudentObjectID = "aad-lars"
	f.clock.Set(t0)
	if _, err := f.svc.Escalate(ctx, r); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(t0.Add(8 * 24 * time.Hour))
	r.ConversationID = "a:other2"
	late, err := f.svc.Escalate(ctx, r)
	if err != nil || !late.Created || late.Escalation.RepeatContact {
		t.Fatalf("after 8 days: %+v %v", late.Escalation, err)
	}
}

func TestSecurityRequestUpgradesOpenEscalation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 28, 23, 0))
	first, err := f.svc.Escalate(ctx, samRequest("a:conv"))
	if err != nil {
		t.Fatal(err)
	}
	r := samRequest("a:conv")
	r.Reason, r.Security = ReasonSuspicious, true
	up, err := f.svc.Escalate(ctx, r)
	if err != nil || up.Created || up.Escalation.ID != first.Escalation.ID {
		t.Fatalf("upgrade: %+v %v", up, err)
	}
	got, _ := f.st.GetEscalation(ctx, first.Escalation.ID)
	if !got.Security || got.Reason != ReasonSuspicious {
		t.Errorf("not upgraded: %+v", got)
	}
	posts, updates, _ := f.n.snapshot()
	if len(updates) != 1 || !strings.Contains(string(updates[0].Card), "BEVEILIGING") {
		t.Errorf("staff card not updated with the security banner: %+v", updates)
	}
	// A new thread, so that the channel notices; the escalation follows it.
	if len(posts) != 2 || !strings.Contains(string(posts[1]), "BEVEILIGING") {
		t.Fatalf("no new security card posted: %d posts", len(posts))
	}
	if got.StaffActivityID != "1:activity-2" || up.Escalation.StaffActivityID != "1:activity-2" {
		t.Errorf("escalation still points at the old card: %q", got.StaffActivityID)
	}
	if len(list(t, f)) != 1 {
		t.Error("upgrade created a second escalation")
	}
}

func TestEscalateLooksUpUPN(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	f.n.upns["29:sam"] = "sam.devries@student.example.nl"
	r := samRequest("a:conv")
	r.StudentUPN = ""
	res, err := f.svc.Escalate(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Escalation.StudentUPN != "sam.devries@student.example.nl" {
		t.Errorf("UPN %q", res.Escalation.StudentUPN)
	}
	got, _ := f.st.GetEscalation(ctx, res.Escalation.ID)
	if got.StudentUPN != "sam.devries@student.example.nl" {
		t.Errorf("stored UPN %q", got.StudentUPN)
	}
	posts, _, _ := f.n.snapshot()
	if !strings.Contains(string(posts[0]), `"url":"https://teams.microsoft.com/l/chat/0/0?users=sam.devries%40student.example.nl"`) {
		t.Errorf("card lacks the chat deep link:\n%s", posts[0])
	}

	// A failed lookup still escalates; the card says the UPN is unknown.
	r = samRequest("a:conv-unknown")
	r.StudentUPN, r.StudentUserID = "", "29:nobody"
	res, err = f.svc.Escalate(ctx, r)
	if err != nil || !res.Created || res.Escalation.StudentUPN != "" {
		t.Fatalf("%+v %v", res, err)
	}
	posts, _, _ = f.n.snapshot()
	if card := string(posts[1]); !strings.Contains(card, "UPN onbekend") || strings.Contains(card, "Chat met student") {
		t.Errorf("card without UPN:\n%s", card)
	}
}

func TestNotifierFailureKeepsEscalation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	f.n.postErr = errors.New("connector: 502")
	failures := testutil.ToFloat64(metricNotifierFailures.WithLabelValues("post_staff_card"))
	created := testutil.ToFloat64(metricCreated.WithLabelValues(ReasonTwoFailures, "false"))
	res, err := f.svc.Escalate(ctx, samRequest("a:conv"))
	if err != nil || !res.Created {
		t.Fatalf("%+v %v", res, err)
	}
	got, err := f.st.GetEscalation(ctx, res.Escalation.ID)
	if err != nil || got.Status != store.StatusOpen || got.StaffActivityID != "" {
		t.Fatalf("stored: %+v %v", got, err)
	}
	if d := testutil.ToFloat64(metricNotifierFailures.WithLabelValues("post_staff_card")) - failures; d != 1 {
		t.Errorf("notifier failure metric moved by %v, want 1", d)
	}
	if d := testutil.ToFloat64(metricCreated.WithLabelValues(ReasonTwoFailures, "false")) - created; d != 1 {
		t.Errorf("created metric moved by %v, want 1", d)
	}
	// Later the card is posted after all (PostPending leaves a new
	// escalation to the instance that created it for a moment).
	f.n.mu.Lock()
	f.n.postErr = nil
	f.n.mu.Unlock()
	if n, err := f.svc.PostPending(ctx); err != nil || n != 0 {
		t.Fatalf("PostPending right away = %d, %v; want 0", n, err)
	}
	f.clock.Set(f.clock.Now().Add(time.Minute))
	n, err := f.svc.PostPending(ctx)
	if err != nil || n != 1 {
		t.Fatalf("PostPending = %d, %v", n, err)
	}
	got, _ = f.st.GetEscalation(ctx, res.Escalation.ID)
	if got.StaffActivityID == "" {
		t.Error("card ids not stored after PostPending")
	}
	if n, _ := f.svc.PostPending(ctx); n != 0 {
		t.Errorf("second PostPending posted %d again", n)
	}
}

func TestEscalateWithoutNotifierOrChannel(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	svc, err := NewService(Options{Store: f.st, Institution: seedInstitution(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Escalate(ctx, samRequest("a:conv"))
	if err != nil || !res.Created {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := svc.Escalate(ctx, Request{}); err == nil {
		t.Error("escalation without a conversation id was accepted")
	}
}

func TestMaskPhones(t *testing.T) {
	keep := "088 - 469 9070"
	for in, want := range map[string]string{
		"bel 0612345678 aub":            "bel ** ** ** 78 aub",
		"+31 6 12345678":                "** ** ** 78",
		"0031 6-1234 5678 is van mij":   "** ** ** 78 is van mij",
		"+31 6 ** ** ** 78":             "+31 6 ** ** ** 78",
		"Bel 088 - 469 9070":            "Bel 088 - 469 9070",
		"code 123456":                   "code 123456",
		"op 2026-11-25 10:42":           "op 2026-11-25 10:42",
		"ma-vr 8:00-16:00":              "ma-vr 8:00-16:00",
		"Authenticator (iPhone 12 Pro)": "Authenticator (iPhone 12 Pro)",
	} {
		if got := maskPhones(in, keep); got != want {
			t.Errorf("maskPhones(%q) = %q, want %q", in, got, want)
		}
	}
	var e store.Escalation
	e.Methods = []string{"Telefoon 0612345678"}
	svc := newFixture(t, seedInstitution(), time.Time{}).svc
	if card := string(svc.StaffCard(e, time.Now())); strings.Contains(card, "0612345678") {
		t.Error("staff card shows a full phone number")
	}
}

func jsonHas(t *testing.T, raw json.RawMessage, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(string(raw), w) {
			t.Errorf("card lacks %q:\n%s", w, raw)
		}
	}
}

func list(t *testing.T, f *fixture) []store.Escalation {
	t.Helper()
	l, err := f.st.ListEscalations(context.Background(), store.EscalationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
