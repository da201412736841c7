package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"mfabot/dialogs"
	"mfabot/store"
)

// scriptTurns answers every message turn with replies(turn).
type scriptTurns struct {
	mu      sync.Mutex
	n       int
	replies func(t dialogs.Turn) []dialogs.Reply
}

func (s *scriptTurns) Handle(ctx context.Context, t dialogs.Turn, typing func()) ([]dialogs.Reply, error) {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return s.replies(t), nil
}

func (s *scriptTurns) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

var testCitations = []dialogs.Citation{
	{Name: "Stap 1 van 12: Open de website", Abstract: "Ga op je laptop naar aka.ms/mfasetup.", URL: "https://mfa.school.example/hulp?lang=nl#step01"},
	{Name: "ICT Servicedesk", Abstract: "088 - 469 9070 · Zwolle F2.03: ma-vr 8:00-16:00"},
}

const stepCard = `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"Stap 1 van 12"}]}`

// answerTurns answers "vraag ..." with the model's answer and the step
// card, anything else with the bot's own text.
func answerTurns() *scriptTurns {
	return &scriptTurns{replies: func(t dialogs.Turn) []dialogs.Reply {
		if strings.HasPrefix(t.Text, "vraag") {
			return []dialogs.Reply{
				{Text: "Dat doe je op je **laptop**.", AI: &dialogs.AIContent{Step: "step01", Citations: testCitations}},
				{Card: json.RawMessage(stepCard)},
			}
		}
		return []dialogs.Reply{{Text: "Dat begreep ik niet."}, {Card: json.RawMessage(stepCard)}}
	}}
}

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// replyBodies are the bodies of the messages the fake Connector got for
// one conversation, in order.
func replyBodies(e *env, conv string) []map[string]any {
	var out []map[string]any
	for _, r := range e.conn.Requests() {
		if (r.Op == "send" || r.Op == "reply") && r.ConversationID == conv && r.Body["type"] == "message" && r.Status < 300 {
			out = append(out, r.Body)
		}
	}
	return out
}

// The model's answer reaches Teams as one message with the AI-generated
// label, its sources as citations (referenced in the text) and the
// feedback buttons, exactly in the shapes of the reference; the step
// card after it and the bot's own texts carry none of it.
func TestAIAnswerOnTheWire(t *testing.T) {
	turns := answerTurns()
	e := newEnv(t, envOpts{mutate: func(o *Options) { o.Turns = turns }})
	if resp, _ := e.postActivity(e.activity("m-1", "vraag: waarom op mijn laptop?")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 2)
	waitPending(t, e, 0)
	bodies := replyBodies(e, "a:conv-1")
	if len(bodies) != 2 {
		t.Fatalf("%d messages, want the answer and the card apart: %+v", len(bodies), bodies)
	}
	ans := bodies[0]
	wantEntity := decode(t, `{"type":"https://schema.org/Message","@type":"Message","@context":"https://schema.org","additionalType":["AIGeneratedContent"],
		"citation":[
			{"@type":"Claim","position":1,"appearance":{"@type":"DigitalDocument","name":"Stap 1 van 12: Open de website","abstract":"Ga op je laptop naar aka.ms/mfasetup.","url":"https://mfa.school.example/hulp?lang=nl#step01"}},
			{"@type":"Claim","position":2,"appearance":{"@type":"DigitalDocument","name":"ICT Servicedesk","abstract":"088 - 469 9070 · Zwolle F2.03: ma-vr 8:00-16:00"}}]}`)
	if got := ans["entities"]; !reflect.DeepEqual(got, []any{wantEntity}) {
		b, _ := json.Marshal(got)
		t.Errorf("entities on the wire:\n%s\nwant exactly the AI entity with its citations", b)
	}
	if got, want := ans["channelData"], decode(t, `{"feedbackLoop":{"type":"default"}}`); !reflect.DeepEqual(got, want) {
		t.Errorf("channelData %v, want %v (and no feedbackLoopEnabled)", got, want)
	}
	if ans["text"] != "Dat doe je op je **laptop**. [1] [2]" || ans["textFormat"] != "markdown" || ans["attachments"] != nil || ans["suggestedActions"] != nil {
		t.Errorf("answer message %v", ans)
	}
	for k := range ans {
		switch k {
		case "type", "text", "textFormat", "entities", "channelData", "conversation", "replyToId":
		default:
			t.Errorf("answer message has %q", k)
		}
	}
	card := bodies[1]
	if card["entities"] != nil || card["channelData"] != nil || card["attachments"] == nil {
		t.Errorf("the step card after the answer: %v", card)
	}

	// A text the bot wrote itself: no label, no feedback buttons.
	if resp, _ := e.postActivity(e.activity("m-2", "hallo")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 1)
	waitPending(t, e, 0)
	bodies = replyBodies(e, "a:conv-1")
	for _, b := range bodies[2:] {
		if b["entities"] != nil || b["channelData"] != nil {
			t.Errorf("a text the bot wrote itself went out as AI: %v", b)
		}
	}
	// The answer was kept with the id Teams gave it, the others not.
	st, err := e.store.FeedbackStats(context.Background(), time.Time{}, 10)
	if err != nil || st.Answers != 1 {
		t.Fatalf("answers recorded: %+v, %v", st, err)
	}
}

// sentAnswerID is the activity id the fake Connector gave the first
// message of conv with the AI entity.
func sentAnswerID(t *testing.T, e *env, conv string) string {
	t.Helper()
	for _, r := range e.conn.Requests() {
		if r.ConversationID == conv && (r.Op == "reply" || r.Op == "send") && strings.Contains(string(r.Raw), "AIGeneratedContent") {
			return r.ReturnedID
		}
	}
	t.Fatalf("no answer sent in %s", conv)
	return ""
}

// feedbackInvoke is a click on the feedback buttons as Teams sends it.
func (e *env) feedbackInvoke(id, replyTo string, value any) map[string]any {
	a := e.activity(id, "")
	delete(a, "text")
	a["type"], a["name"], a["replyToId"] = "invoke", "message/submitAction", replyTo
	if value != nil {
		a["value"] = value
	}
	return a
}

func feedbackValue(reaction, form string) map[string]any {
	return map[string]any{"actionName": "feedback", "actionValue": map[string]any{"reaction": reaction, "feedback": form}}
}

// askAnswer has the student of conv ask a question and returns the id of
// the answer sent.
func (e *env) askAnswer(t *testing.T, conv, id string) string {
	t.Helper()
	a := e.activity(id, "vraag: hoe dan?")
	a["conversation"] = map[string]any{"id": conv, "conversationType": "personal", "tenantId": testTenant}
	if resp, _ := e.postActivity(a); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 2)
	waitPending(t, e, 0)
	return sentAnswerID(t, e, conv)
}

// A like with a comment, through the real HTTP path and token check: 200
// at once with an empty body, stored with the conversation (redacted);
// the same invoke again changes nothing; a changed mind replaces it.
func TestFeedbackInvokeStored(t *testing.T) {
	turns := answerTurns()
	e := newEnv(t, envOpts{mutate: func(o *Options) { o.Turns = turns }})
	answerID := e.askAnswer(t, "a:conv-1", "m-1")
	sent := len(e.conn.Requests())

	form := `{"feedbackText":"Heel duidelijk! Bel me anders op 06-12345678, groet Sam Student"}`
	inv := e.feedbackInvoke("fb-1", answerID, feedbackValue("like", form))
	resp, body := e.postActivity(inv)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("feedback answered %d %q, want 200 with an empty body", resp.StatusCode, body)
	}
	st := feedbackStats(t, e)
	if st.Likes != 1 || st.Dislikes != 0 || len(st.Conversations) != 1 {
		t.Fatalf("stored %+v", st)
	}
	c := st.Conversations[0]
	if c.ConversationID != "a:conv-1" || len(c.Recent) != 1 || c.Recent[0].Step != "step01" {
		t.Fatalf("conversation %+v", c)
	}
	text := c.Recent[0].Text
	if !strings.HasPrefix(text, "Heel duidelijk!") || strings.Contains(text, "12345678") || strings.Contains(text, "Sam") || !strings.Contains(text, "[phone]") {
		t.Errorf("stored feedback text %q: want it redacted (no number, no name)", text)
	}
	at := c.LastAt

	// Teams delivers the same invoke again: 200, nothing changes.
	e.clock.Advance(time.Minute)
	if resp, body := e.postActivity(inv); resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("redelivery answered %d %q", resp.StatusCode, body)
	}
	if again := feedbackStats(t, e); again.Likes != 1 || !again.Conversations[0].LastAt.Equal(at) {
		t.Errorf("redelivery changed the feedback: %+v", again)
	}
	// A changed mind: the dislike replaces the like.
	if resp, _ := e.postActivity(e.feedbackInvoke("fb-2", answerID, feedbackValue("dislike", `{"feedbackText":""}`))); resp.StatusCode != http.StatusOK {
		t.Fatalf("dislike answered %d", resp.StatusCode)
	}
	if st := feedbackStats(t, e); st.Likes != 0 || st.Dislikes != 1 {
		t.Errorf("after the dislike %+v", st)
	}
	// Feedback sends nothing to the student, runs no turn, leaves no inbox entry.
	if n := len(e.conn.Requests()); n != sent {
		t.Errorf("feedback made %d Connector requests", n-sent)
	}
	if turns.count() != 1 || e.pendingCount() != 0 {
		t.Errorf("%d turns, %d pending: feedback must not reach the dialog", turns.count(), e.pendingCount())
	}
}

func feedbackStats(t *testing.T, e *env) store.FeedbackStats {
	t.Helper()
	st, err := e.store.FeedbackStats(context.Background(), time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Crafted feedback invokes get a clear answer and change nothing: a
// malformed one 400, one about another conversation's answer (or a
// message that is no answer) 200 and ignored, one from a channel 200 and
// ignored, one without a valid token 401.
func TestFeedbackInvokeCrafted(t *testing.T) {
	turns := answerTurns()
	e := newEnv(t, envOpts{mutate: func(o *Options) { o.Turns = turns }})
	mine := e.askAnswer(t, "a:conv-1", "m-1")
	theirs := e.askAnswer(t, "a:conv-2", "m-2")
	sent := len(e.conn.Requests())

	huge := `{"feedbackText":"` + strings.Repeat("x", maxFeedbackField) + `"}`
	cases := []struct {
		name   string
		act    map[string]any
		status int
	}{
		{"unknown reaction", e.feedbackInvoke("c-1", mine, feedbackValue("love", "")), http.StatusBadRequest},
		{"no value", e.feedbackInvoke("c-2", mine, nil), http.StatusBadRequest},
		{"value not an object", e.feedbackInvoke("c-3", mine, "like"), http.StatusBadRequest},
		{"other action", e.feedbackInvoke("c-4", mine, map[string]any{"actionName": "delete", "actionValue": map[string]any{"reaction": "like"}}), http.StatusBadRequest},
		{"huge feedback", e.feedbackInvoke("c-5", mine, feedbackValue("dislike", huge)), http.StatusBadRequest},
		{"feedback of the wrong type", e.feedbackInvoke("c-6", mine, map[string]any{"actionName": "feedback", "actionValue": map[string]any{"reaction": "like", "feedback": 42}}), http.StatusBadRequest},
		{"feedbackText of the wrong type", e.feedbackInvoke("c-7", mine, feedbackValue("like", `{"feedbackText":["a"]}`)), http.StatusBadRequest},
		{"no replyToId", e.feedbackInvoke("c-8", "", feedbackValue("like", "")), http.StatusBadRequest},
		{"another conversation's answer", e.feedbackInvoke("c-9", theirs, feedbackValue("dislike", `{"feedbackText":"nep"}`)), http.StatusOK},
		{"a message that is no answer", e.feedbackInvoke("c-10", "1700000000999", feedbackValue("dislike", "")), http.StatusOK},
	}
	channel := e.feedbackInvoke("c-11", mine, feedbackValue("dislike", ""))
	channel["conversation"] = map[string]any{"id": "19:general@thread.tacv2;messageid=1", "conversationType": "channel", "tenantId": testTenant}
	cases = append(cases, struct {
		name   string
		act    map[string]any
		status int
	}{"from a channel", channel, http.StatusOK})
	for _, c := range cases {
		resp, body := e.postActivity(c.act)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %q, want %d", c.name, resp.StatusCode, body, c.status)
		}
	}
	// Without a token, and with a token for another service URL.
	b, _ := json.Marshal(e.feedbackInvoke("c-12", mine, feedbackValue("dislike", "")))
	if resp, _ := e.post(b, "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp, _ := e.post(b, e.token("https://evil.example/"), nil); resp.StatusCode < 400 {
		t.Errorf("token for another service URL: %d", resp.StatusCode)
	}

	st := feedbackStats(t, e)
	if st.Answers != 2 || st.Likes != 0 || st.Dislikes != 0 || len(st.Conversations) != 0 {
		t.Errorf("crafted invokes changed the feedback: %+v", st)
	}
	if n := len(e.conn.Requests()); n != sent || turns.count() != 2 || e.pendingCount() != 0 {
		t.Errorf("crafted invokes: %d Connector requests, %d turns, %d pending", n-sent, turns.count(), e.pendingCount())
	}
	// The real one still works after all that.
	if resp, _ := e.postActivity(e.feedbackInvoke("ok", mine, feedbackValue("like", ""))); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if st := feedbackStats(t, e); st.Likes != 1 || len(st.Conversations) != 1 || st.Conversations[0].ConversationID != "a:conv-1" {
		t.Errorf("the real like: %+v", st)
	}
}

// Suggested actions go out as imBack actions, at most three, in the
// shape Teams takes; a reply without suggestions has none.
func TestSuggestedActionsOnTheWire(t *testing.T) {
	var five []dialogs.Suggestion
	for i := 1; i <= 5; i++ {
		five = append(five, dialogs.Suggestion{Title: fmt.Sprintf("Knop %d", i), Value: fmt.Sprintf("waarde %d", i)})
	}
	turns := &scriptTurns{replies: func(t dialogs.Turn) []dialogs.Reply {
		return []dialogs.Reply{{Text: "Dank je wel voor je beoordeling! Typ 'opnieuw' als je nog iets wilt regelen.", Suggest: five}}
	}}
	e := newEnv(t, envOpts{mutate: func(o *Options) { o.Turns = turns }})
	if resp, _ := e.postActivity(e.activity("m-1", "5")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 1)
	bodies := replyBodies(e, "a:conv-1")
	if len(bodies) != 1 {
		t.Fatalf("%d messages", len(bodies))
	}
	want := decode(t, `{"actions":[
		{"type":"imBack","title":"Knop 1","value":"waarde 1"},
		{"type":"imBack","title":"Knop 2","value":"waarde 2"},
		{"type":"imBack","title":"Knop 3","value":"waarde 3"}]}`)
	if got := bodies[0]["suggestedActions"]; !reflect.DeepEqual(got, want) {
		b, _ := json.Marshal(got)
		t.Errorf("suggestedActions %s, want the first three as imBack", b)
	}
	if bodies[0]["entities"] != nil || bodies[0]["channelData"] != nil {
		t.Errorf("a text the bot wrote itself went out as AI: %v", bodies[0])
	}
}

// Whatever the dialog asks for, no activity the bot sends has more than
// three suggested actions or the AI label without a text.
func TestOutgoingNeverMoreThanThreeSuggestions(t *testing.T) {
	for n := 0; n <= 8; n++ {
		var sg []dialogs.Suggestion
		for i := 0; i < n; i++ {
			sg = append(sg, dialogs.Suggestion{Title: fmt.Sprint(i), Value: fmt.Sprint(i)})
		}
		for _, r := range []dialogs.Reply{
			{Text: "t", Suggest: sg},
			{Card: json.RawMessage(stepCard), Suggest: sg},
			{Text: "t", AI: &dialogs.AIContent{}, Suggest: sg},
			{AI: &dialogs.AIContent{Citations: testCitations}, Card: json.RawMessage(stepCard), Suggest: sg},
		} {
			a := outgoing(r)
			b, _ := json.Marshal(a)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if sa, ok := m["suggestedActions"].(map[string]any); ok {
				if acts, _ := sa["actions"].([]any); len(acts) > dialogs.MaxSuggestions || len(acts) == 0 {
					t.Errorf("%d suggestions in: %s", len(acts), b)
				}
			} else if n > 0 {
				t.Errorf("%d suggestions dropped: %s", n, b)
			}
			if r.Text == "" && (m["entities"] != nil || m["channelData"] != nil) {
				t.Errorf("the AI label without a text: %s", b)
			}
		}
	}
}

// A long abstract is cut to what Teams shows.
func TestCitationAbstractBounded(t *testing.T) {
	a := outgoing(dialogs.Reply{Text: "x", AI: &dialogs.AIContent{Citations: []dialogs.Citation{{Name: "n", Abstract: strings.Repeat("é", 400)}}}})
	var e aiEntity
	if err := json.Unmarshal(a.Entities[0], &e); err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(e.Citation[0].Appearance.Abstract)); n != dialogs.MaxAbstract {
		t.Errorf("abstract of %d characters", n)
	}
}

// FuzzParseFeedback: whatever value a feedback invoke carries, parsing
// never panics, and what it accepts is a known reaction with a bounded
// text and an answer id.
func FuzzParseFeedback(f *testing.F) {
	for _, seed := range []string{
		`{"actionName":"feedback","actionValue":{"reaction":"like","feedback":"{\"feedbackText\":\"top\"}"}}`,
		`{"actionName":"feedback","actionValue":{"reaction":"dislike","feedback":{"feedbackText":"nee"}}}`,
		`{"actionName":"feedback","actionValue":{"reaction":"dislike"}}`,
		`{"actionName":"feedback","actionValue":{"reaction":"like","feedback":"gewoon tekst"}}`,
		`{"actionName":"feedback","actionValue":{"reaction":"like","feedback":"{\"feedbackText\":7}"}}`,
		`{"actionName":"feedback","actionValue":null}`, `[]`, `"x"`, `null`, ``,
	} {
		f.Add([]byte(seed), "1700000000001")
	}
	f.Fuzz(func(t *testing.T, value []byte, replyTo string) {
		fb, reason, err := parseFeedback(&Activity{Value: value, ReplyToID: replyTo})
		if err != nil {
			if reason == "" {
				t.Fatalf("refused without a reason: %q", value)
			}
			return
		}
		if fb.reaction != store.ReactionLike && fb.reaction != store.ReactionDislike {
			t.Fatalf("accepted reaction %q", fb.reaction)
		}
		if len(fb.text) > maxFeedbackField || fb.replyToID == "" {
			t.Fatalf("accepted %d bytes of text, reply to %q", len(fb.text), fb.replyToID)
		}
		_ = dialogs.FeedbackText(fb.text, "Sam Student")
	})
}

// The apology for a failed turn asks the student to type "medewerker"
// without a card: it offers that as a suggested action, in the
// student's language.
func TestApologySuggestsAPerson(t *testing.T) {
	for _, c := range []struct{ locale, title, value string }{
		{"nl-NL", "Praat met een medewerker", "medewerker"},
		{"en-GB", "Talk to a person", "talk to a person"},
	} {
		t.Run(c.locale, func(t *testing.T) {
			e := newEnv(t, envOpts{turns: &echoTurns{fail: store.MaxInboxAttempts}, mutate: func(o *Options) { o.PollInterval = 5 * time.Millisecond }})
			a := e.activity("fail-1", "hallo")
			a["locale"] = c.locale
			if resp, _ := e.postActivity(a); resp.StatusCode != http.StatusOK {
				t.Fatal("not accepted")
			}
			e.sender.waitMessages(t, 1)
			bodies := replyBodies(e, "a:conv-1")
			want := []any{map[string]any{"type": "imBack", "title": c.title, "value": c.value}}
			if len(bodies) != 1 || !strings.HasPrefix(bodies[0]["text"].(string), "Sorry") {
				t.Fatalf("messages %v, want one apology", bodies)
			}
			if sa, _ := bodies[0]["suggestedActions"].(map[string]any); !reflect.DeepEqual(sa["actions"], want) {
				t.Errorf("suggestedActions %v, want %v", bodies[0]["suggestedActions"], want)
			}
		})
	}
}
