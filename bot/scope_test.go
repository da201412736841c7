package bot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"mfabot/store"
)

// The app is installed in teams too (for the staff channel). In a class
// team's channel or a group chat the student dialog and the welcome must
// never run: they show a student's sign-in methods to everyone there.
func TestOnlyPersonalChatsReachTheDialog(t *testing.T) {
	e := newEnv(t, envOpts{})
	const team = "19:classteam@thread.tacv2"
	inChannel := func(id, text string) map[string]any {
		a := e.activity(id, text)
		a["conversation"] = map[string]any{"id": team + ";messageid=" + id, "conversationType": "channel", "tenantId": testTenant}
		a["channelData"] = map[string]any{"tenant": map[string]any{"id": testTenant}, "channel": map[string]any{"id": team}, "team": map[string]any{"id": team}}
		return a
	}
	inGroup := func(id, text string) map[string]any {
		a := e.activity(id, text)
		a["conversation"] = map[string]any{"id": "19:groupchat@thread.v2", "conversationType": "groupChat", "tenantId": testTenant}
		return a
	}
	mention := func(a map[string]any) map[string]any {
		a["text"] = "<at>MFA bot</at> " + a["text"].(string)
		a["entities"] = []any{map[string]any{"type": "mention", "text": "<at>MFA bot</at>",
			"mentioned": map[string]any{"id": "28:" + testAppID, "name": "MFA bot"}}}
		return a
	}

	// Bot added to the team, app installed in the group chat: no welcome.
	added := inChannel("cu-team", "")
	added["type"] = "conversationUpdate"
	added["membersAdded"] = []any{map[string]any{"id": "28:" + testAppID}}
	installed := inGroup("iu-group", "")
	installed["type"] = "installationUpdate"
	installed["action"] = "add"
	// Messages that do not mention the bot are not answered.
	plain := inChannel("m-plain", "hoi allemaal")
	plain["entities"] = []any{}
	for _, a := range []map[string]any{added, installed, plain} {
		if resp, _ := e.postActivity(a); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", a["id"], resp.StatusCode)
		}
	}
	// @mentions get the fixed text, in the sender's language.
	if resp, _ := e.postActivity(mention(inChannel("m-chan", "ik heb een nieuwe telefoon"))); resp.StatusCode != http.StatusOK {
		t.Fatalf("channel mention: %d", resp.StatusCode)
	}
	g := mention(inGroup("m-group", "new phone"))
	g["locale"] = "en-US"
	if resp, _ := e.postActivity(g); resp.StatusCode != http.StatusOK {
		t.Fatalf("group mention: %d", resp.StatusCode)
	}
	// A card click in a group chat is answered in the invoke response.
	inv := inGroup("inv-group", "")
	inv["type"], inv["name"] = "invoke", "adaptiveCard/action"
	inv["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "done", "data": map[string]any{"step": "step01", "action": "done"}}}
	resp, body := e.postActivity(inv)
	var ir struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ir) != nil || ir.Value != personalOnlyText("nl-NL") {
		t.Fatalf("group invoke: %d %s", resp.StatusCode, body)
	}
	// The student's own chat works as before.
	if resp, _ := e.postActivity(e.activity("m-personal", "hallo")); resp.StatusCode != http.StatusOK {
		t.Fatal("personal message not accepted")
	}
	e.sender.waitMessages(t, 3)
	waitPending(t, e, 0)
	e.stop()

	turns := e.turns.Turns()
	if len(turns) != 1 || turns[0].Ref.ConversationID != "a:conv-1" {
		t.Fatalf("dialog turns %+v, want only the personal chat's", turns)
	}
	got := map[string]string{}
	for _, r := range e.conn.Requests() {
		if r.Op == "reply" || r.Op == "send" {
			text, _ := r.Body["text"].(string)
			got[r.ConversationID] += text
		}
	}
	want := map[string]string{
		team + ";messageid=m-chan": "Ik help je graag in een 1-op-1-chat: open de chat met mij.",
		"19:groupchat@thread.v2":   "I'm happy to help you in a 1:1 chat: open the chat with me.",
		"a:conv-1":                 "echo: hallo",
	}
	if len(got) != len(want) {
		t.Fatalf("messages %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	// Nothing of the channel or group chat is stored.
	for _, id := range []string{team + ";messageid=m-chan", team + ";messageid=cu-team", "19:groupchat@thread.v2"} {
		if _, err := e.store.GetConversation(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("conversation %s stored (err %v)", id, err)
		}
	}
}
