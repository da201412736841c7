package acceptance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"mfabot/internal/msfake"
	"mfabot/store"
)

// TestTeamsAIConventions runs the binary as an operator configures it,
// with a model: after the journey the thanks for the rating offers
// "opnieuw" as a suggested action, and a tap on it starts over; a
// question at step 1 is answered by the model in a message of its own
// with Teams' AI label, its sources and the feedback buttons; a like
// with a comment on it is stored once (a redelivery changes nothing),
// redacted, and crafted feedback changes nothing.
func TestTeamsAIConventions(t *testing.T) {
	t.Parallel()
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	m.addSam()
	ai := newOpenAI(t)
	env := secretEnv()
	env["MFABOT_LLM_API_KEY"] = "sk-acceptance"
	dbURL := sqliteURL(t)
	yaml := m.productionYAML(dbURL, fmt.Sprintf("llm:\n  provider: openai\n  base_url: %s/v1\n  model: gpt-test\n", ai.srv.URL))
	yaml = strings.Replace(yaml, "http:\n", "http:\n  public_help_url: https://hulp.example.nl/hulp\n", 1)
	p := serve(t, m.caFile, yaml, env)
	s := m.student(t, p, samOID, "Sam de Vries")

	// The journey, the rating, and the suggested action after it.
	acts := movePhoneJourney(t, m, s)
	var five map[string]any
	for _, b := range buttons(acts) {
		if b["action"] == "rate" && b["score"] == float64(5) {
			five = b
		}
	}
	if five == nil {
		t.Fatalf("no rating button 5:\n%s", texts(acts))
	}
	acts = s.click(five)
	last := acts[len(acts)-1]
	want := []any{map[string]any{"type": "imBack", "title": "Begin opnieuw", "value": "opnieuw"}}
	if sa, _ := last["suggestedActions"].(map[string]any); !reflect.DeepEqual(sa["actions"], want) || last["attachments"] != nil {
		t.Fatalf("the thanks for the rating: %v\nwant the suggested action %v and no card", last, want)
	}
	for _, a := range s.sent() {
		if sa, _ := a["suggestedActions"].(map[string]any); sa != nil {
			if acts, _ := sa["actions"].([]any); len(acts) > 3 {
				t.Errorf("%d suggested actions: %v", len(acts), a)
			}
		}
		if a["entities"] != nil && strings.Contains(fmt.Sprint(a["entities"]), "AIGeneratedContent") {
			t.Errorf("a text of the bot's own went out as AI-generated: %v", a["text"])
		}
	}
	acts = s.say("opnieuw") // what the tap sends
	if button(buttons(acts), "move_phone") == nil {
		t.Fatalf("tapping 'Begin opnieuw' did not start over:\n%s", texts(acts))
	}

	// A question at step 1, answered by the model.
	acts = s.click(button(buttons(acts), "move_phone"))
	if stepOf(buttons(acts)) != "step01" {
		t.Fatalf("no step 1:\n%s", texts(acts))
	}
	ai.set("", "explain")
	acts = s.say("waarom moet ik dit op een laptop doen?")
	var answer map[string]any
	for _, a := range acts {
		if strings.Contains(fmt.Sprint(a["entities"]), "AIGeneratedContent") {
			if answer != nil {
				t.Fatalf("two AI-labelled messages: %v", acts)
			}
			answer = a
		}
	}
	if answer == nil {
		t.Fatalf("no AI-labelled answer:\n%s", texts(acts))
	}
	if answer["text"] != "Open eerst de website op je laptop, en log daarna in met je schoolaccount. [1] [2]" || answer["attachments"] != nil {
		t.Errorf("answer %v", answer)
	}
	if got := answer["channelData"]; !reflect.DeepEqual(got, map[string]any{"feedbackLoop": map[string]any{"type": "default"}}) {
		t.Errorf("channelData %v", got)
	}
	ents, _ := answer["entities"].([]any)
	e, _ := ents[0].(map[string]any)
	cits, _ := e["citation"].([]any)
	if e["type"] != "https://schema.org/Message" || e["@type"] != "Message" || e["@context"] != "https://schema.org" ||
		!reflect.DeepEqual(e["additionalType"], []any{"AIGeneratedContent"}) || len(cits) != 2 {
		t.Fatalf("AI entity %v", e)
	}
	step, _ := cits[0].(map[string]any)["appearance"].(map[string]any)
	desk, _ := cits[1].(map[string]any)["appearance"].(map[string]any)
	if step["name"] != "Stap 1 van 12: Open de website" || step["url"] != "https://hulp.example.nl/hulp?lang=nl#step01" ||
		desk["url"] != "https://hulp.example.nl/hulp?lang=nl#servicedesk" || cits[1].(map[string]any)["position"] != float64(2) {
		t.Errorf("citations %v", cits)
	}
	if stepOf(buttons(acts)) != "step01" {
		t.Errorf("the step card does not follow the answer:\n%s", texts(acts))
	}
	answerID := ""
	for _, r := range m.conn.Requests() {
		if strings.Contains(string(r.Raw), "AIGeneratedContent") {
			answerID = r.ReturnedID
		}
	}

	// The student likes it, and says why.
	like := s.activity("invoke")
	like["name"], like["replyToId"] = "message/submitAction", answerID
	like["value"] = map[string]any{"actionName": "feedback", "actionValue": map[string]any{"reaction": "like",
		"feedback": `{"feedbackText":"Helder! Mijn nummer is 06 12345678"}`}}
	sent := len(m.conn.Requests())
	for i := 0; i < 2; i++ { // the second time: Teams delivering it again
		if code, body := s.post(p, like); code != http.StatusOK || body != "" {
			t.Fatalf("feedback answered %d %q, want 200 with an empty body", code, body)
		}
	}
	if n := p.metric("mfabot_bot_answer_feedback_total", `result="like"`); n != 1 {
		t.Errorf("%v likes counted, want 1", n)
	}
	if n := p.metric("mfabot_bot_answer_feedback_total", `result="unchanged"`); n != 1 {
		t.Errorf("%v redeliveries counted, want 1", n)
	}
	// Crafted: unknown reaction, another message.
	bad := s.activity("invoke")
	bad["name"], bad["replyToId"] = "message/submitAction", answerID
	bad["value"] = map[string]any{"actionName": "feedback", "actionValue": map[string]any{"reaction": "meh"}}
	if code, _ := s.post(p, bad); code != http.StatusBadRequest {
		t.Errorf("unknown reaction answered %d", code)
	}
	other := s.activity("invoke")
	other["name"], other["replyToId"] = "message/submitAction", "1700000000000"
	other["value"] = map[string]any{"actionName": "feedback", "actionValue": map[string]any{"reaction": "dislike"}}
	if code, _ := s.post(p, other); code != http.StatusOK {
		t.Errorf("feedback on another message answered %d", code)
	}
	if n := len(m.conn.Requests()); n != sent {
		t.Errorf("feedback made %d Connector requests", n-sent)
	}
	p.mustRun("feedback")

	// Stored with the conversation, redacted (read as the dashboard does).
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs, err := st.FeedbackStats(context.Background(), time.Now().Add(-time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Answers != 1 || fs.Likes != 1 || fs.Dislikes != 0 || len(fs.Conversations) != 1 || fs.Conversations[0].ConversationID != s.convID {
		b, _ := json.Marshal(fs)
		t.Fatalf("stored feedback %s", b)
	}
	if got := fs.Conversations[0].Recent[0]; got.Step != "step01" || got.Text != "Helder! Mijn nummer is [phone]" {
		t.Errorf("stored %+v", got)
	}
}
