package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"mfabot/store"
)

func staffClick(verb string, id int64) StaffAction {
	return StaffAction{
		Verb: verb, EscalationID: id, ActorName: "Anna Jansen", ActorObjectID: "aad-anna",
		ChannelID: staffChannel, ConversationID: "19:staffchannel@thread.tacv2;messageid=1",
	}
}

func TestStaffCardClaimResolveReopen(t *testing.T) {
	ctx := context.Background()
	created := ams(2026, 11, 25, 10, 30)
	f := newFixture(t, seedInstitution(), created)
	res, err := f.svc.Escalate(ctx, samRequest("a:sam"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.Escalation.ID
	posts, _, _ := f.n.snapshot()
	if len(posts) != 1 {
		t.Fatalf("posted %d cards", len(posts))
	}
	jsonHas(t, posts[0],
		`"verb":"mfabot.staff"`, `"data":{"escalationId":1,"verb":"claim"}`, `"title":"Ik pak dit op"`,
		`"data":{"escalationId":1,"verb":"resolve"}`, `"title":"Opgelost"`, `"id":"note"`,
		"Sam de Vries (sam.devries@student.example.nl)", "Overzetten naar andere telefoon", "Stap 8: Scan de QR-code",
		"Stap twee keer mislukt", "Microsoft Authenticator (iPhone 12); Telefoon (mobiel): +31 6 ** ** ** 78",
		"25-11-2026 10:30", "Open · de student wacht al minder dan een minuut",
		`"url":"https://teams.microsoft.com/l/chat/0/0?users=sam.devries%40student.example.nl"`,
		`"url":"https://mfabot.example.nl/staff/escalations/1"`)

	// Claim from the staff channel at 10:42.
	f.clock.Set(ams(2026, 11, 25, 10, 42))
	card, err := f.svc.HandleStaffAction(ctx, staffClick(VerbClaim, id))
	if err != nil {
		t.Fatal(err)
	}
	jsonHas(t, card, "Opgepakt door Anna Jansen om 10:42", "12 min (tot de eerste reactie)", `"verb":"resolve"`)
	if strings.Contains(string(card), `"verb":"claim"`) {
		t.Error("claimed card still offers the claim button")
	}
	golden(t, "staff_claimed.json", card)
	got, _ := f.st.GetEscalation(ctx, id)
	if got.Status != store.StatusClaimed || got.ClaimedBy != "Anna Jansen" || got.FirstResponseAt == nil ||
		!got.FirstResponseAt.Equal(ams(2026, 11, 25, 10, 42)) || !got.ClaimedAt.Equal(ams(2026, 11, 25, 10, 42)) {
		t.Errorf("after claim: %+v", got)
	}
	f.wait(t)
	_, updates, msgs := f.n.snapshot()
	if len(updates) != 1 || updates[0].ActivityID != got.StaffActivityID || updates[0].ThreadID != got.StaffThreadID ||
		string(updates[0].Card) != string(card) {
		t.Errorf("card update: %+v (stored %q %q)", updates, got.StaffThreadID, got.StaffActivityID)
	}
	if len(msgs) != 1 || msgs[0].ConversationID != "a:sam" ||
		msgs[0].Text != "Een medewerker van de ICT Servicedesk (Anna Jansen) heeft je vraag opgepakt." {
		t.Errorf("student messages: %+v", msgs)
	}

	// A second claim (another staff member, a double click) is refused and shows the current card.
	other := staffClick(VerbClaim, id)
	other.ActorName = "Piet"
	card, err = f.svc.HandleStaffAction(ctx, other)
	if !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("second claim: %v", err)
	}
	jsonHas(t, card, "Opgepakt door Anna Jansen om 10:42")

	// Resolve with a note at 11:05.
	f.clock.Set(ams(2026, 11, 25, 11, 5))
	click := staffClick(VerbResolve, id)
	click.Note = "TAP uitgegeven, Authenticator opnieuw gekoppeld. Student belde vanaf 0612345678."
	card, err = f.svc.HandleStaffAction(ctx, click)
	if err != nil {
		t.Fatal(err)
	}
	jsonHas(t, card, "Opgelost door Anna Jansen om 11:05", `"title":"Heropenen"`, `"verb":"reopen"`,
		"TAP uitgegeven, Authenticator opnieuw gekoppeld. Student belde vanaf ** ** ** 78.")
	golden(t, "staff_resolved.json", card)
	if strings.Contains(string(card), `"id":"note"`) {
		t.Error("resolved card still has the note input")
	}
	f.wait(t)
	_, updates, msgs = f.n.snapshot()
	if len(updates) != 2 || len(msgs) != 2 ||
		msgs[1].Text != `De ICT Servicedesk heeft je vraag als opgelost gemarkeerd. Werkt het toch nog niet? Typ dan "medewerker".` {
		t.Errorf("after resolve: %d updates, messages %+v", len(updates), msgs)
	}

	// Reopen.
	f.clock.Set(ams(2026, 11, 25, 11, 30))
	card, err = f.svc.HandleStaffAction(ctx, staffClick(VerbReopen, id))
	if err != nil {
		t.Fatal(err)
	}
	jsonHas(t, card, `"title":"Ik pak dit op"`, "Open · de student wacht al")
	got, _ = f.st.GetEscalation(ctx, id)
	if got.Status != store.StatusOpen || got.ClaimedBy != "" || got.ResolvedAt != nil || got.FirstResponseAt == nil {
		t.Errorf("after reopen: %+v", got)
	}

	if strings.Contains(f.logs.String(), "12345678") {
		t.Error("a full phone number reached the log")
	}
	audit, err := f.st.Audit(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action+":"+a.Actor)
	}
	want := "create:mfabot claim:Anna Jansen resolve:Anna Jansen reopen:Anna Jansen"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit %q, want %q", strings.Join(actions, " "), want)
	}
	for _, a := range audit {
		if a.Action == VerbResolve && !strings.Contains(a.Detail, "TAP uitgegeven") {
			t.Errorf("resolve audit detail %q lacks the note", a.Detail)
		}
		if a.Action == VerbClaim && !strings.Contains(a.Detail, "aad-anna") {
			t.Errorf("claim audit detail %q lacks the actor's object id", a.Detail)
		}
	}
}

func TestForgedStaffActionRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	res, err := f.svc.Escalate(ctx, samRequest("a:sam"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.Escalation.ID
	before, _ := f.st.GetEscalation(ctx, id)

	forged := []StaffAction{
		// The same payload, sent from the student's own 1:1 chat.
		{Verb: VerbClaim, EscalationID: id, ActorName: "Sam de Vries", ActorObjectID: "aad-sam", ConversationID: "a:sam"},
		{Verb: VerbResolve, EscalationID: id, ActorName: "Sam de Vries", ChannelID: "19:otherchannel@thread.tacv2", ConversationID: "19:otherchannel@thread.tacv2"},
		{Verb: VerbClaim, EscalationID: id, ActorName: "Sam", ChannelID: staffChannel + " "},
	}
	for _, a := range forged {
		card, err := f.svc.HandleStaffAction(ctx, a)
		if !errors.Is(err, ErrNotStaffChannel) || card != nil {
			t.Errorf("forged %+v: card=%s err=%v", a, card, err)
		}
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"handoff: staff action refused: not from the staff channel"`) ||
		!strings.Contains(logs, `"actor":"Sam de Vries"`) || !strings.Contains(logs, `"actor_object_id":"aad-sam"`) {
		t.Errorf("refusal not logged with the actor:\n%s", logs)
	}
	after, _ := f.st.GetEscalation(ctx, id)
	if after.Version != before.Version || after.Status != store.StatusOpen || after.ClaimedBy != "" {
		t.Errorf("escalation changed: %+v", after)
	}
	f.wait(t)
	_, updates, msgs := f.n.snapshot()
	if len(updates) != 0 || len(msgs) != 0 {
		t.Errorf("forged action sent something: %+v %+v", updates, msgs)
	}
	if audit, _ := f.st.Audit(ctx, id); len(audit) != 1 {
		t.Errorf("audit entries: %+v", audit)
	}

	// Without a configured staff channel every card action is refused.
	bare, err := NewService(Options{Store: f.st, Notifier: f.n, Institution: seedInstitution(), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bare.HandleStaffAction(ctx, StaffAction{Verb: VerbClaim, EscalationID: id, ActorName: "X"}); !errors.Is(err, ErrNotStaffChannel) {
		t.Errorf("no staff channel configured: %v", err)
	}
}

func TestInvalidTransitions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	res, err := f.svc.Escalate(ctx, samRequest("a:sam"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.Escalation.ID
	if _, err := f.svc.Reopen(ctx, id, "Anna"); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("reopen open: %v", err)
	}
	if _, err := f.svc.Claim(ctx, id, ""); !errors.Is(err, ErrNoActor) {
		t.Errorf("claim without actor: %v", err)
	}
	if _, err := f.svc.Claim(ctx, 999, "Anna"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("claim unknown: %v", err)
	}
	if card, err := f.svc.HandleStaffAction(ctx, staffClick("delete", id)); !errors.Is(err, ErrUnknownVerb) || card != nil {
		t.Errorf("unknown verb: %v", err)
	}
	if _, err := f.svc.Claim(ctx, id, "Anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Claim(ctx, id, "Anna"); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("claim claimed: %v", err)
	}
	// Resolving straight from open is allowed (e.g. a duplicate); from resolved it is not.
	if _, err := f.svc.Resolve(ctx, id, "Anna", ""); err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func() error{
		"resolve resolved": func() error { _, err := f.svc.Resolve(ctx, id, "Anna", ""); return err },
		"claim resolved":   func() error { _, err := f.svc.Claim(ctx, id, "Anna"); return err },
	} {
		if err := fn(); !errors.Is(err, ErrInvalidTransition) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The student came back: a new escalation is open, so the old one cannot be reopened.
	if _, err := f.svc.Escalate(ctx, samRequest("a:sam")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Reopen(ctx, id, "Anna"); !errors.Is(err, ErrInvalidTransition) {
		t.Errorf("reopen with another open escalation: %v", err)
	}
}

func TestStudentMessagesInTheirLanguage(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	r := samRequest("a:en")
	r.Language = "en"
	res, err := f.svc.Escalate(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Claim(ctx, res.Escalation.ID, "Anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Resolve(ctx, res.Escalation.ID, "Anna", ""); err != nil {
		t.Fatal(err)
	}
	f.wait(t)
	_, _, msgs := f.n.snapshot()
	want := []string{
		"Someone from the ICT Servicedesk (Anna) has picked up your question.",
		`The ICT Servicedesk has marked your question as solved. Still not working? Type "talk to a person".`,
	}
	if len(msgs) != 2 || msgs[0].Text != want[0] || msgs[1].Text != want[1] {
		t.Errorf("messages %+v", msgs)
	}
}

func TestStaffCardGolden(t *testing.T) {
	f := newFixture(t, seedInstitution(), time.Time{})
	created := ams(2026, 11, 28, 23, 5)
	e := store.Escalation{
		ID: 7, ConversationID: "a:kim", StudentName: "Kim Bakker", StudentUPN: "kim.bakker@student.example.nl",
		StudentObjectID: "aad-kim", Situation: "suspicious_prompt", FailedStep: "", Reason: ReasonSuspicious,
		Security: true, RepeatContact: true, Methods: []string{"Microsoft Authenticator (Pixel 8)", "Telefoon (mobiel): +31 6 ** ** ** 12"},
		Language: "en", Status: store.StatusOpen, CreatedAt: created, Version: 1,
	}
	golden(t, "staff_open_security.json", f.svc.StaffCard(e, created.Add(95*time.Minute)))

	var card map[string]any
	if err := json.Unmarshal(f.svc.StaffCard(e, created), &card); err != nil || card["version"] != "1.5" {
		t.Fatalf("card: %v %v", err, card["version"])
	}
	e.Reason, e.Security, e.Methods, e.StudentUPN, e.RepeatContact = ReasonGraphUnavailable, false, nil, "", false
	jsonHas(t, f.svc.StaffCard(e, created.Add(26*time.Hour)), "onbekend (Graph niet bereikbaar)", "Kim Bakker (UPN onbekend)",
		"de student wacht al 1 dag 2 uur")
}

// slowNotifier holds every card update and student message until release
// is closed, telling started each time one begins.
type slowNotifier struct {
	fakeNotifier
	started chan string
	release chan struct{}
}

func (n *slowNotifier) hold(ctx context.Context, what string) error {
	n.started <- what
	select {
	case <-n.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (n *slowNotifier) UpdateStaffCard(ctx context.Context, threadID, activityID string, card json.RawMessage) error {
	if err := n.hold(ctx, "update"); err != nil {
		return err
	}
	return n.fakeNotifier.UpdateStaffCard(ctx, threadID, activityID, card)
}

func (n *slowNotifier) NotifyStudent(ctx context.Context, conversationID, text string) error {
	if err := n.hold(ctx, "notify"); err != nil {
		return err
	}
	return n.fakeNotifier.NotifyStudent(ctx, conversationID, text)
}

// With a slow Connector the staff member's click is answered with the new
// card at once; the card update for everyone and the student's message
// follow in the background, each kind in order, even after the request
// has ended.
func TestStaffActionAnswersBeforeSlowNotifier(t *testing.T) {
	f := newFixture(t, seedInstitution(), ams(2026, 11, 25, 10, 30))
	res, err := f.svc.Escalate(context.Background(), samRequest("a:sam"))
	if err != nil {
		t.Fatal(err)
	}
	id := res.Escalation.ID
	slow := &slowNotifier{started: make(chan string, 16), release: make(chan struct{})}
	svc := instance(t, f.st, slow, f.clock, "slow")
	released := false
	release := func() {
		if !released {
			released = true
			close(slow.release)
		}
	}
	t.Cleanup(release)

	act := func(verb string) json.RawMessage {
		t.Helper()
		reqCtx, cancel := context.WithCancel(context.Background())
		type answer struct {
			card json.RawMessage
			err  error
		}
		done := make(chan answer, 1)
		go func() {
			card, err := svc.HandleStaffAction(reqCtx, staffClick(verb, id))
			done <- answer{card, err}
		}()
		select {
		case a := <-done:
			cancel() // the invoke request is over
			if a.err != nil {
				t.Fatalf("%s: %v", verb, a.err)
			}
			return a.card
		case <-time.After(10 * time.Second):
			release()
			t.Fatalf("%s: HandleStaffAction waited for the Notifier", verb)
		}
		return nil
	}
	jsonHas(t, act(VerbClaim), "Opgepakt door Anna Jansen")
	// The card update and the student's message go out side by side.
	if got := []string{<-slow.started, <-slow.started}; !(got[0] == "update" && got[1] == "notify" || got[0] == "notify" && got[1] == "update") {
		t.Fatalf("first background calls %q, want the card update and the message", got)
	}
	jsonHas(t, act(VerbResolve), "Opgelost door Anna Jansen")
	if got, _ := f.st.GetEscalation(context.Background(), id); got.Status != store.StatusResolved {
		t.Fatalf("status %s while the Notifier hangs, want resolved", got.Status)
	}
	if _, updates, msgs := slow.snapshot(); len(updates)+len(msgs) != 0 {
		t.Fatalf("sent before the Connector answered: %d updates, %d messages", len(updates), len(msgs))
	}
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	_, updates, msgs := slow.snapshot()
	if len(updates) != 2 || len(msgs) != 2 {
		t.Fatalf("%d updates, %d messages after the release; want 2 and 2", len(updates), len(msgs))
	}
	jsonHas(t, updates[1].Card, "Opgelost door Anna Jansen")
	if !strings.Contains(msgs[0].Text, "opgepakt") || !strings.Contains(msgs[1].Text, "opgelost") {
		t.Errorf("student messages out of order: %+v", msgs)
	}
}

// The staff card names the failed step as the dashboard does, for the
// guide's steps and the others alike; an id it does not know stays
// visible rather than hidden.
func TestStaffCardNamesSteps(t *testing.T) {
	f := newFixture(t, seedInstitution(), time.Time{})
	created := ams(2026, 11, 25, 10, 30)
	for step, want := range map[string]string{
		"step07":            "Stap 7: Voeg je schoolaccount toe",
		"step12":            "Stap 12: Bevestig",
		"welcome":           "Begin: situatie kiezen",
		"verify_new_failed": "Nieuwe telefoon niet gevonden bij de controle",
		"verify_old":        "Controle: oude telefoon verwijderd",
		"handoff":           "Doorgezet naar de servicedesk",
		"stopped":           "Gestopt",
		"":                  "-",
		"step_from_2025":    "step_from_2025",
	} {
		e := store.Escalation{ID: 3, ConversationID: "a:x", StudentName: "Sam", Situation: "lost_phone", FailedStep: step,
			Reason: ReasonNoUsableMethod, Language: "nl", Status: store.StatusOpen, CreatedAt: created}
		jsonHas(t, f.svc.StaffCard(e, created), `{"title":"Mislukte stap","value":"`+want+`"}`,
			`{"title":"Situatie","value":"Telefoon kwijt of kapot"}`, `{"title":"Reden","value":"Geen bruikbare aanmeldmethode"}`)
	}
}
