package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"mfabot/handoff"
)

// slowStaff blocks every action until released, ignoring its context
// (a store or Connector call inside the action that hangs).
type slowStaff struct {
	fakeStaff
	entered chan struct{}
	release chan struct{}
}

func (s *slowStaff) HandleStaffAction(ctx context.Context, a handoff.StaffAction) (json.RawMessage, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.fakeStaff.HandleStaffAction(ctx, a)
}

// Teams gives up on an invoke after a few seconds and shows the staff
// member an error. A staff action slower than StaffTimeout (notifying the
// student, replacing a card) is answered in time; its card follows with
// a PUT when it is done.
func TestSlowStaffInvokeAnsweredInTime(t *testing.T) {
	staff := &slowStaff{entered: make(chan struct{}, 1), release: make(chan struct{})}
	e := newEnv(t, envOpts{mutate: func(o *Options) {
		o.Staff = staff
		o.StaffTimeout = 200 * time.Millisecond
	}})
	inv := e.activity("exec-slow", "")
	inv["conversation"] = map[string]any{"id": staffChannel + ";messageid=1700000000500", "conversationType": "channel", "tenantId": testTenant}
	inv["channelData"] = map[string]any{"tenant": map[string]any{"id": testTenant}, "channel": map[string]any{"id": staffChannel}}
	inv["from"] = map[string]any{"id": "29:staff", "name": "Fatima Desk", "aadObjectId": "00000000-0000-0000-0000-0000000000aa"}
	inv["type"], inv["name"] = "invoke", "adaptiveCard/action"
	inv["replyToId"] = "1700000000500"
	inv["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "mfabot.staff", "data": map[string]any{"verb": "claim", "escalationId": 7}}}

	type answer struct {
		status int
		body   []byte
	}
	answered := make(chan answer, 1)
	go func() {
		resp, body := e.postActivity(inv)
		answered <- answer{resp.StatusCode, body}
	}()
	<-staff.entered
	var got answer
	select {
	case got = <-answered:
	case <-time.After(5 * time.Second): // StaffTimeout is 200 ms
		close(staff.release)
		t.Fatal("no invoke response while the staff action runs")
	}
	var ir struct {
		StatusCode int    `json:"statusCode"`
		Type       string `json:"type"`
		Value      string `json:"value"`
	}
	if got.status != http.StatusOK || json.Unmarshal(got.body, &ir) != nil || ir.StatusCode != 200 ||
		ir.Type != "application/vnd.microsoft.activity.message" || ir.Value != staffPendingText {
		t.Fatalf("invoke response %d %s", got.status, got.body)
	}
	// The action finishes; its card replaces the clicked one.
	close(staff.release)
	e.sender.waitMessages(t, 1)
	var put bool
	for _, r := range e.conn.Requests() {
		if r.Op == "update" && r.ActivityID == "1700000000500" && strings.HasPrefix(r.ConversationID, staffChannel) &&
			strings.Contains(string(r.Raw), "claim by Fatima Desk") {
			put = true
		}
	}
	if !put {
		t.Fatalf("card not replaced after the slow action: %+v", e.conn.Requests())
	}
	if acts := staff.Actions(); len(acts) != 1 || acts[0].Verb != "claim" {
		t.Fatalf("staff actions %+v", acts)
	}
}
