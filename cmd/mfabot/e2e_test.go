package main

// End-to-end tests of the wired binary: production mode, every Microsoft
// endpoint pointed at local fakes (Bot Framework OpenID, Entra ID tokens,
// the Connector, Microsoft Graph) over real HTTP(S), real SQLite, the
// real dialog engine, Graph client and service desk hand-off.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mfabot/internal/testenv"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mfabot/config"
	"mfabot/graph/graphfake"
	"mfabot/internal/msfake"
	"mfabot/store"
)

const (
	e2eAppID     = "11111111-2222-3333-4444-555555555555"
	e2eTenant    = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	e2eSecret    = "e2e-client-secret"
	e2eStaffChan = "19:servicedesk@thread.tacv2"
	// The student's full phone number: it must never leave Graph unmasked.
	e2ePhone       = "+31 612345678"
	e2ePhoneDigits = "612345678"
)

// world is one production mfabot wired to the fakes.
type world struct {
	t      *testing.T
	openid *msfake.OpenID
	tokens *msfake.TokenServer
	conn   *msfake.Connector
	graph  *graphfake.Graph
	app    *app
	http   *httptest.Server
	logs   *testenv.LogBuffer
	seq    int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, logs: &testenv.LogBuffer{}}
	w.openid = msfake.NewOpenID(t, msfake.OpenIDOptions{TLS: true})
	w.tokens = msfake.NewTokenServer(t, msfake.TokenServerOptions{TenantID: e2eTenant, ClientID: e2eAppID, ClientSecret: e2eSecret})
	w.conn = msfake.NewConnector(t, msfake.ConnectorOptions{TLS: true})
	w.conn.RequireAuth(w.tokens.ValidBearer)
	w.graph = graphfake.New(t, graphfake.Options{ValidBearer: w.tokens.ValidBearer})

	t.Setenv("MFABOT_MODE", "production")
	t.Setenv("MFABOT_BOT_APP_ID", e2eAppID)
	t.Setenv("MFABOT_BOT_APP_PASSWORD", e2eSecret)
	t.Setenv("MFABOT_BOT_TENANT_ID", e2eTenant)
	t.Setenv("MFABOT_BOT_OPENID_METADATA_URL", w.openid.MetadataURL())
	t.Setenv("MFABOT_AZURE_AUTHORITY_HOST", w.tokens.AuthorityHost())
	t.Setenv("MFABOT_GRAPH_BASE_URL", w.graph.BaseURL())
	t.Setenv("MFABOT_STORE_URL", "sqlite:"+filepath.Join(t.TempDir(), "mfabot.db"))
	t.Setenv("MFABOT_STAFF_CHANNEL_ID", e2eStaffChan)
	t.Setenv("MFABOT_STAFF_SERVICE_URL", w.conn.ServiceURL())
	t.Setenv("MFABOT_HTTP_ADDR", "127.0.0.1:0")
	cfg, err := config.Load("")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hc := msfake.TrustingClient(w.openid.Server, w.tokens.Server, w.conn.Server, w.graph.Server)
	ctx, cancel := context.WithCancel(context.Background())
	w.app, err = newAppWith(ctx, cfg, log, appOptions{HTTPClient: hc})
	if err != nil {
		cancel()
		t.Fatalf("newApp: %v", err)
	}
	w.http = httptest.NewServer(w.app.Handler())
	done := make(chan error, 1)
	go func() { done <- w.app.RunWorkers(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("workers did not stop")
		}
		w.http.Close()
		w.app.Close()
	})
	return w
}

// student is one Teams user in a personal chat with the bot.
type student struct {
	w        *world
	objectID string
	userID   string
	name     string
	convID   string
}

func (w *world) student(objectID, name string) *student {
	return &student{w: w, objectID: objectID, userID: "29:1" + objectID[:8], name: name, convID: "a:1personal-" + objectID[:8]}
}

func (w *world) post(act map[string]any) (int, []byte) {
	w.t.Helper()
	body, _ := json.Marshal(act)
	req, _ := http.NewRequest(http.MethodPost, w.http.URL+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.openid.SignActivityToken(e2eAppID, act["serviceUrl"].(string)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("POST /api/messages: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (s *student) activity(typ string) map[string]any {
	s.w.seq++
	return map[string]any{
		"type": typ, "id": fmt.Sprintf("act-%d", s.w.seq), "channelId": "msteams",
		"serviceUrl": s.w.conn.ServiceURL(), "timestamp": time.Now().UTC().Format(time.RFC3339Nano), "locale": "nl-NL",
		"from":         map[string]any{"id": s.userID, "name": s.name, "aadObjectId": s.objectID},
		"recipient":    map[string]any{"id": "28:" + e2eAppID, "name": "MFA-hulp"},
		"conversation": map[string]any{"id": s.convID, "conversationType": "personal", "tenantId": e2eTenant},
		"channelData":  map[string]any{"tenant": map[string]any{"id": e2eTenant}},
		"entities":     []any{map[string]any{"type": "clientInfo", "locale": "nl-NL", "platform": "Windows"}},
	}
}

// turn posts act and waits until the bot has finished the turn (the inbox
// is empty and the bot replied to this activity); it returns the
// activities the bot sent to this student's conversation in the turn.
func (s *student) turn(act map[string]any) []map[string]any {
	s.w.t.Helper()
	before := len(s.sent())
	if code, body := s.w.post(act); code != http.StatusOK {
		s.w.t.Fatalf("POST answered %d: %s", code, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		items, err := s.w.app.store.Pending(context.Background(), 10)
		if err != nil {
			s.w.t.Fatal(err)
		}
		if len(items) == 0 && len(s.sent()) > before {
			return s.sent()[before:]
		}
		if time.Now().After(deadline) {
			s.w.t.Fatalf("no answer to %v", act["text"])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *student) say(text string) []map[string]any {
	a := s.activity("message")
	a["text"] = text
	return s.turn(a)
}

func (s *student) click(data map[string]any, replyTo string) []map[string]any {
	a := s.activity("message")
	a["value"] = data
	a["replyToId"] = replyTo
	return s.turn(a)
}

func (s *student) welcome() []map[string]any {
	a := s.activity("conversationUpdate")
	a["membersAdded"] = []any{map[string]any{"id": "28:" + e2eAppID}}
	return s.turn(a)
}

// sent returns the message activities the bot sent to this student.
func (s *student) sent() []map[string]any {
	var out []map[string]any
	for _, r := range s.w.conn.Requests() {
		if r.ConversationID != s.convID || (r.Op != "send" && r.Op != "reply") {
			continue
		}
		b := r.Body
		if b == nil || b["type"] != "message" {
			continue
		}
		out = append(out, b)
	}
	return out
}

// texts flattens the text and card text blocks of activities.
func texts(acts []map[string]any) string {
	var b strings.Builder
	for _, a := range acts {
		if t, _ := a["text"].(string); t != "" {
			b.WriteString(t + "\n")
		}
		raw, _ := json.Marshal(a["attachments"])
		for _, m := range regexp.MustCompile(`"text":"((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(string(raw), -1) {
			b.WriteString(m[1] + "\n")
		}
		for _, m := range regexp.MustCompile(`"title":"((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(string(raw), -1) {
			b.WriteString("[" + m[1] + "]\n")
		}
	}
	return b.String()
}

// buttons returns the Action.Submit data of the last card that has any.
func buttons(acts []map[string]any) []map[string]any {
	for i := len(acts) - 1; i >= 0; i-- {
		atts, _ := acts[i]["attachments"].([]any)
		var out []map[string]any
		for _, att := range atts {
			content, _ := att.(map[string]any)["content"].(map[string]any)
			actions, _ := content["actions"].([]any)
			for _, a := range actions {
				am, _ := a.(map[string]any)
				if d, ok := am["data"].(map[string]any); ok && am["type"] == "Action.Submit" {
					out = append(out, d)
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

func find(bs []map[string]any, action string) map[string]any {
	for _, b := range bs {
		if b["action"] == action {
			return b
		}
	}
	return nil
}

// outcomes returns the outcome counts of today's sessions.
func (w *world) outcomes() map[string]int {
	w.t.Helper()
	st, err := w.app.store.Stats(context.Background(), time.Now().Add(-24*time.Hour))
	if err != nil {
		w.t.Fatal(err)
	}
	total := map[string]int{}
	for _, d := range st.OutcomesPerDay {
		for k, v := range d.Counts {
			total[k] += v
		}
	}
	return total
}

func TestE2EHappyPathVerifiedThroughGraph(t *testing.T) {
	w := newWorld(t)
	const oid = "0b7c5f3e-1111-4a2b-9c3d-5e6f7a8b9c0d"
	const oldID, newID = "6803c096-c096-6803-96c0-036896c00368", "aa11bb22-cc33-dd44-ee55-ff6677889900"
	w.graph.SetUser(oid, "Sam de Vries", "s1234567@student.example.nl", "nl-NL")
	w.graph.AddMethod(oid, graphfake.Password("28c10230-6103-485e-b985-444c60001490"))
	w.graph.AddMethod(oid, graphfake.Authenticator(oldID, "iPhone 12"))
	w.graph.AddMethod(oid, graphfake.Phone("3179e48a-750b-4051-897c-87b9720928f7", e2ePhone, "mobile"))
	s := w.student(oid, "Sam de Vries")

	var all []map[string]any
	record := func(acts []map[string]any) []map[string]any { all = append(all, acts...); return acts }

	acts := record(s.welcome())
	welcome := texts(acts)
	if !strings.Contains(welcome, "Sam") {
		t.Errorf("the welcome does not greet the student by name:\n%s", welcome)
	}
	bs := buttons(acts)
	if len(bs) < 5 {
		t.Fatalf("the welcome offers %d buttons, want the five situations:\n%s", len(bs), welcome)
	}
	var moveBtn map[string]any
	for _, b := range bs {
		for _, v := range b {
			if v == "move_phone" {
				moveBtn = b
			}
		}
	}
	if moveBtn == nil {
		t.Fatalf("no move_phone button in %v", bs)
	}
	acts = record(s.click(moveBtn, "welcome-card"))
	if !strings.Contains(welcome, "'iPhone 12'") || !strings.Contains(welcome, "+31 6 ** ** ** 78") {
		t.Errorf("the start summary does not name the device and the masked number:\n%s", welcome)
	}
	if got := texts(acts); !strings.Contains(got, "1 van 12") || !strings.Contains(got, "niet op je telefoon") {
		t.Errorf("choosing a situation does not lead to step 1 (not on the phone):\n%s", got)
	}

	added, removed := false, false
	turns := 2
	for turns < 60 {
		bs = buttons(acts)
		if rate := find(bs, "rate"); rate != nil {
			break
		}
		step, _ := func() (string, bool) {
			for _, b := range bs {
				if st, ok := b["step"].(string); ok {
					return st, true
				}
			}
			return "", false
		}()
		switch step {
		case "step10":
			if !added {
				w.graph.AddMethod(oid, graphfake.Authenticator(newID, "Pixel 8"))
				added = true
			}
		case "step11":
			if !removed {
				w.graph.RemoveMethod(oid, oldID)
				removed = true
			}
		}
		next := find(bs, "done")
		if next == nil {
			next = find(bs, "continue")
		}
		if next == nil {
			next = find(bs, "yes")
		}
		if next == nil {
			t.Fatalf("stuck at step %q: no done/continue/yes button in %v\n%s", step, bs, texts(acts))
		}
		acts = record(s.click(next, "card"))
		turns++
	}
	if !added || !removed {
		t.Fatalf("the flow never reached steps 10 and 11 (added=%v removed=%v)", added, removed)
	}
	t.Logf("happy path: %d turns from the welcome to the satisfaction question", turns)
	if rate := find(buttons(acts), "rate"); rate == nil {
		t.Fatalf("no satisfaction question at the end:\n%s", texts(acts))
	}
	if got := w.outcomes()[store.OutcomeVerifiedResolved]; got != 1 {
		t.Errorf("verified_resolved outcomes = %d, want 1 (outcomes %v)", got, w.outcomes())
	}

	// Personal data: the full number never appears in a reply, a log line
	// or the stored transcript.
	everything := texts(all)
	if strings.Contains(everything, e2ePhoneDigits) || strings.Contains(strings.ReplaceAll(everything, " ", ""), e2ePhoneDigits) {
		t.Errorf("a reply contains the full phone number")
	}
	if strings.Contains(strings.ReplaceAll(w.logs.String(), " ", ""), e2ePhoneDigits) {
		t.Errorf("a log line contains the full phone number")
	}
	lines, err := w.app.store.Transcript(context.Background(), s.convID, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 {
		t.Error("no transcript stored")
	}
	for _, l := range lines {
		if strings.Contains(strings.ReplaceAll(l.Text, " ", ""), e2ePhoneDigits) {
			t.Errorf("the transcript contains the full phone number: %q", l.Text)
		}
	}
	// Every outbound call carried the bot's token from the fake Entra ID.
	for _, r := range w.conn.Requests() {
		if !w.tokens.ValidBearer(r.Authorization) {
			t.Errorf("%s %s went without a valid bot token", r.Method, r.Path)
		}
	}
}

func TestE2EHandoffStaffCardClaimAndForgery(t *testing.T) {
	w := newWorld(t)
	const oid = "5d4c3b2a-2222-4a2b-9c3d-5e6f7a8b9c0d"
	w.graph.SetUser(oid, "Eva Jansen", "s7654321@student.example.nl", "nl-NL")
	w.graph.AddMethod(oid, graphfake.Password("28c10230-6103-485e-b985-444c60001490"))
	s := w.student(oid, "Eva Jansen")
	w.conn.SetMember(s.convID, msfake.ConnectorMember{ID: s.userID, Name: "Eva Jansen", AADObjectID: oid, UserPrincipalName: "s7654321@student.example.nl"})

	s.welcome()
	acts := s.say("medewerker")
	if got := texts(acts); !strings.Contains(got, "088") {
		t.Errorf("the hand-off does not give the service desk's phone number:\n%s", got)
	}
	// A Teams retry of the same request, and asking again, make no second escalation.
	s.say("medewerker")
	escs, err := w.app.store.ListEscalations(context.Background(), store.EscalationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(escs) != 1 {
		t.Fatalf("%d escalations, want 1", len(escs))
	}
	esc := escs[0]
	if esc.StudentObjectID != oid || esc.Status != store.StatusOpen {
		t.Errorf("escalation: %+v", esc)
	}

	// The staff card was posted as a new thread in the staff channel.
	var created *msfake.ConnectorRequest
	for _, r := range w.conn.Requests() {
		if r.Op == "create_conversation" {
			r := r
			created = &r
		}
	}
	if created == nil {
		t.Fatal("no staff card posted (no create conversation)")
	}
	raw, _ := json.Marshal(created.Body)
	if !strings.Contains(string(raw), e2eStaffChan) || !strings.Contains(string(raw), "Eva Jansen") {
		t.Errorf("the staff card is not in the staff channel or does not name the student: %s", raw)
	}

	staffInvoke := func(convID, channelID, verb string) (int, []byte) {
		w.seq++
		act := map[string]any{
			"type": "invoke", "name": "adaptiveCard/action", "id": fmt.Sprintf("inv-%d", w.seq), "channelId": "msteams",
			"serviceUrl":   w.conn.ServiceURL(),
			"from":         map[string]any{"id": "29:staff", "name": "Petra (ICT)", "aadObjectId": "99999999-0000-0000-0000-000000000001"},
			"recipient":    map[string]any{"id": "28:" + e2eAppID},
			"conversation": map[string]any{"id": convID, "conversationType": "channel", "tenantId": e2eTenant},
			"channelData":  map[string]any{"tenant": map[string]any{"id": e2eTenant}, "channel": map[string]any{"id": channelID}},
			"value": map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "mfabot.staff",
				"data": map[string]any{"verb": verb, "escalationId": esc.ID}}},
		}
		return w.post(act)
	}

	// A forged claim from the student's own chat is refused and changes nothing.
	code, body := staffInvoke(s.convID, "", "resolve")
	if e, _ := w.app.store.GetEscalation(context.Background(), esc.ID); e.Status != store.StatusOpen {
		t.Fatalf("a staff action from a student's chat changed the escalation to %s (HTTP %d %s)", e.Status, code, body)
	}

	// The real claim from the staff channel updates the card and tells the student.
	code, body = staffInvoke(e2eStaffChan+";messageid=1", e2eStaffChan, "claim")
	if code != http.StatusOK || !strings.Contains(string(body), "Petra") {
		t.Fatalf("claim answered %d %s", code, body)
	}
	e, _ := w.app.store.GetEscalation(context.Background(), esc.ID)
	if e.Status != store.StatusClaimed || e.ClaimedBy != "Petra (ICT)" {
		t.Fatalf("after claim: status %s by %q", e.Status, e.ClaimedBy)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(texts(s.sent()), "Petra") {
		if time.Now().After(deadline) {
			t.Fatalf("the student was not told that staff picked up the case:\n%s", texts(s.sent()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The card update is an outbox item of its own kind: it does not wait
	// for the student's message, nor the message for it.
	updated := func() bool {
		for _, r := range w.conn.Requests() {
			if r.Op == "update" {
				return true
			}
		}
		return false
	}
	for !updated() {
		if time.Now().After(deadline) {
			t.Fatal("the staff card was not updated (no PUT) for everyone")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestE2EForgedTokenAndForeignTenantChangeNothing(t *testing.T) {
	w := newWorld(t)
	s := w.student("7e7e7e7e-3333-4a2b-9c3d-5e6f7a8b9c0d", "Kim")
	act := s.activity("message")
	act["text"] = "hallo"
	body, _ := json.Marshal(act)

	req, _ := http.NewRequest(http.MethodPost, w.http.URL+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+w.openid.SignActivityToken("someone-elses-app", act["serviceUrl"].(string)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		t.Errorf("token for another app: %d", resp.StatusCode)
	}

	act = s.activity("message")
	act["text"] = "hallo"
	act["channelData"] = map[string]any{"tenant": map[string]any{"id": "other-tenant"}}
	act["conversation"].(map[string]any)["tenantId"] = "other-tenant"
	if code, _ := w.post(act); code != http.StatusForbidden {
		t.Errorf("another tenant: %d, want 403", code)
	}
	if items, _ := w.app.store.Pending(context.Background(), 10); len(items) != 0 {
		t.Errorf("refused requests reached the inbox: %d", len(items))
	}
	if n := len(w.conn.Requests()); n != 0 {
		t.Errorf("the bot sent %d requests after refused input", n)
	}
}

// stepOf returns the step id carried by the buttons of the last card.
func stepOf(acts []map[string]any) string {
	for _, b := range buttons(acts) {
		if s, ok := b["step"].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func clickSituation(t *testing.T, s *student, acts []map[string]any, situation string) []map[string]any {
	t.Helper()
	for _, b := range buttons(acts) {
		for _, v := range b {
			if v == situation {
				return s.click(b, "welcome-card")
			}
		}
	}
	t.Fatalf("no %s button in %v", situation, buttons(acts))
	return nil
}

func TestE2EGraphFailureAtStartAsksTheStudent(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			w := newWorld(t)
			const oid = "1a2b3c4d-4444-4a2b-9c3d-5e6f7a8b9c0d"
			w.graph.SetUser(oid, "Noor Bakker", "s1111111@student.example.nl", "nl-NL")
			w.graph.AddMethod(oid, graphfake.Phone("3179e48a-750b-4051-897c-87b9720928f7", e2ePhone, "mobile"))
			rep := graphfake.Reply{Status: status, Body: graphfake.ErrorBody("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")}
			if status == http.StatusTooManyRequests {
				rep.RetryAfter = "120" // beyond the turn's deadline: not waited for
			}
			path := "/users/" + oid + "/authentication/methods"
			w.graph.Enqueue(path, rep, rep, rep, rep)
			s := w.student(oid, "Noor Bakker")
			acts := s.welcome()
			acts = clickSituation(t, s, acts, "lost_phone")
			all := texts(acts)
			if step := stepOf(acts); step != "ask_same_number" {
				t.Errorf("with Graph answering %d the bot should ask the student (ask_same_number), got step %q:\n%s", status, step, all)
			}
			for _, leak := range []string{"graph:", "Authorization_RequestDenied", "privileges", fmt.Sprint(status)} {
				if strings.Contains(all, leak) {
					t.Errorf("the student sees an internal detail %q:\n%s", leak, all)
				}
			}
		})
	}
}

func TestE2ELostPhoneWithoutPhoneMethodHandsOff(t *testing.T) {
	w := newWorld(t)
	const oid = "2b3c4d5e-5555-4a2b-9c3d-5e6f7a8b9c0d"
	w.graph.SetUser(oid, "Eva Jansen", "s2222222@student.example.nl", "nl-NL")
	w.graph.AddMethod(oid, graphfake.Password("28c10230-6103-485e-b985-444c60001490"))
	s := w.student(oid, "Eva Jansen")
	acts := clickSituation(t, s, s.welcome(), "lost_phone")
	all := texts(acts)
	if !strings.Contains(all, "088") || !strings.Contains(strings.ToLower(all), "identiteitsbewijs") {
		t.Errorf("a lost phone without a phone method must hand off with the desk's number and what to bring:\n%s", all)
	}
	escs, _ := w.app.store.ListEscalations(context.Background(), store.EscalationFilter{})
	if len(escs) != 1 || escs[0].Reason != "no_usable_method" || escs[0].Situation != "lost_phone" {
		t.Fatalf("escalations: %+v", escs)
	}
}
