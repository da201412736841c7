package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mfabot/bot/auth"
	"mfabot/bot/connector"
	"mfabot/dialogs"
	"mfabot/handoff"
	"mfabot/internal/msfake"
	"mfabot/store"
)

func TestProductionRoundTrip(t *testing.T) {
	e := newEnv(t, envOpts{turns: &echoTurns{card: true}})
	act := e.activity("1700000000001", "<at>MFA bot</at> hallo   daar")
	resp, body := e.postActivity(act)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d %q, want 200", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
	e.sender.waitMessages(t, 1) // echo text and card, in one activity

	var replies, typing int
	for _, r := range e.conn.Requests() {
		if !e.tokens.ValidBearer(r.Authorization) {
			t.Errorf("%s %s without a valid bearer token", r.Method, r.Path)
		}
		switch {
		case r.Op == "reply":
			replies++
			if r.ActivityID != "1700000000001" || r.ConversationID != "a:conv-1" {
				t.Errorf("reply to %s/%s, want a:conv-1/1700000000001", r.ConversationID, r.ActivityID)
			}
			if r.Body["text"] != "echo: hallo daar" {
				t.Errorf("reply text %q", r.Body["text"])
			}
			atts, _ := r.Body["attachments"].([]any)
			if len(atts) != 1 || atts[0].(map[string]any)["contentType"] != "application/vnd.microsoft.card.adaptive" {
				t.Errorf("the card did not come with the text: %v", r.Body["attachments"])
			}
		case r.Op == "send" && r.Body["type"] == "typing":
			typing++
		case r.Op == "send":
			t.Errorf("a second message: %s", r.Raw)
		}
	}
	// The echo comes well within TypingDelay: no typing indicator.
	if replies != 1 || typing != 0 {
		t.Errorf("replies %d typing %d, want 1 and 0", replies, typing)
	}
	if e.tokens.TokenRequests() < 1 {
		t.Error("no token was requested from the token endpoint")
	}
	turns := e.turns.Turns()
	if len(turns) != 1 {
		t.Fatalf("%d turns, want 1", len(turns))
	}
	tn := turns[0]
	if tn.Kind != dialogs.TurnMessage || tn.Text != "hallo daar" || tn.Platform != "Android" ||
		tn.Ref.TenantID != testTenant || tn.Ref.UserAADObjectID != "00000000-0000-0000-0000-000000000042" ||
		tn.ActivityID != "1700000000001" || tn.Ref.Locale != "nl-NL" {
		t.Errorf("turn = %+v", tn)
	}
	conv, err := e.store.GetConversation(context.Background(), "a:conv-1")
	if err != nil || conv.Ref.ServiceURL != e.conn.ServiceURL() || conv.Ref.BotID != "28:"+testAppID {
		t.Errorf("stored ref = %+v, %v", conv.Ref, err)
	}
	waitPending(t, e, 0)
}

// waitPending waits until the inbox has n unfinished entries; it polls
// the store on the worker's own signals, not on a timer.
func waitPending(t testing.TB, e *env, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for e.pendingCount() != n {
		if time.Now().After(deadline) {
			t.Fatalf("inbox has %d entries, want %d", e.pendingCount(), n)
		}
		select {
		case <-e.sender.done:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestAttackTable(t *testing.T) {
	e := newEnv(t, envOpts{})
	su := e.conn.ServiceURL()
	now := e.clock.Now()
	base := func(id string) map[string]any { return e.activity(id, "hallo") }
	other := e.openid.AddKey("key-x") // published, so only its signature matters
	e.openid.RemoveKey("key-x")
	_ = other

	big := base("big")
	big["text"] = strings.Repeat("a", DefaultMaxBody)
	webchat := base("webchat")
	webchat["channelId"] = "webchat"
	foreign := base("foreign")
	foreign["channelData"] = map[string]any{"tenant": map[string]any{"id": "ffffffff-0000-0000-0000-000000000000"}}
	foreign["conversation"] = map[string]any{"id": "a:conv-1", "tenantId": "ffffffff-0000-0000-0000-000000000000"}
	mixed := base("mixed")
	mixed["conversation"] = map[string]any{"id": "a:conv-1", "tenantId": "ffffffff-0000-0000-0000-000000000000"}
	noTenant := base("notenant")
	delete(noTenant, "channelData")
	noTenant["conversation"] = map[string]any{"id": "a:conv-1"}
	httpSU := base("httpsu")
	httpSU["serviceUrl"] = strings.Replace(su, "https://", "http://", 1)

	rows := []struct {
		name   string
		body   []byte
		authz  string
		status int
	}{
		{"no header", mustJSON(base("1")), "", 401},
		{"basic scheme", mustJSON(base("2")), "Basic dXNlcjpwYXNz", 401},
		{"alg none", mustJSON(base("3")), e.token(su, msfake.WithAlg("none")), 401},
		{"HS256 with the public key", mustJSON(base("4")), e.token(su, msfake.WithAlg("HS256")), 401},
		{"wrong issuer", mustJSON(base("5")), e.token(su, msfake.WithClaim("iss", "https://sts.windows.net/evil/")), 401},
		{"wrong audience", mustJSON(base("6")), e.token(su, msfake.WithClaim("aud", "someone-else")), 401},
		{"aud array without app id", mustJSON(base("7")), e.token(su, msfake.WithClaim("aud", []any{"a", "b"})), 401},
		{"aud of odd type", mustJSON(base("7b")), e.token(su, msfake.WithClaim("aud", map[string]any{"x": 1})), 401},
		{"expired beyond leeway", mustJSON(base("8")), e.token(su, msfake.WithLifetime(now, -6*time.Minute)), 401},
		{"missing exp", mustJSON(base("9")), e.token(su, msfake.WithClaim("exp", nil)), 401},
		{"serviceurl mismatch", mustJSON(base("10")), e.token("https://evil.example/emea/"), 401},
		{"serviceurl claim missing", mustJSON(base("10b")), e.token(su, msfake.WithClaim("serviceurl", nil)), 401},
		{"endorsement mismatch", mustJSON(webchat), e.token(su), 403},
		{"tenant not allowed", mustJSON(foreign), e.token(su), 403},
		{"tenant disagrees between channelData and conversation", mustJSON(mixed), e.token(su), 403},
		{"no tenant", mustJSON(noTenant), e.token(su), 403},
		{"unknown kid after refetch", mustJSON(base("11")), e.token(su, msfake.WithKID("never-published")), 401},
		{"bad signature", mustJSON(base("11b")), e.token(su, msfake.WithSigningKey(other.Private), msfake.WithKID("key-1")), 401},
		{"garbage base64", mustJSON(base("12")), "Bearer %%%.@@@.###", 401},
		{"not a JWT", mustJSON(base("12b")), "Bearer abc", 401},
		{"http serviceUrl in production", mustJSON(httpSU), e.token(httpSU["serviceUrl"].(string)), 403},
		{"body over the limit", mustJSON(big), e.token(su), 413},
		{"invalid JSON", []byte(`{"type":"message","id":`), e.token(su), 400},
		{"JSON array", []byte(`[{"type":"message"}]`), e.token(su), 400},
		{"value of wrong type", []byte(`{"type":"message","id":5}`), e.token(su), 400},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			resp, body := e.post(r.body, r.authz, nil)
			if resp.StatusCode != r.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, r.status)
			}
			if got := string(body); got != http.StatusText(r.status)+"\n" {
				t.Errorf("body %q leaks more than the status text", got)
			}
			if n := e.pendingCount(); n != 0 {
				t.Errorf("%d inbox entries after a refused request", n)
			}
			if _, err := e.store.GetConversation(context.Background(), "a:conv-1"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("conversation stored after a refused request: %v", err)
			}
		})
	}
	if n := len(e.turns.Turns()); n != 0 {
		t.Fatalf("%d turns ran for refused requests", n)
	}

	// Positive rows: each is accepted and answered.
	e.clock.Advance(2 * time.Minute) // past the key refetch limit
	e.openid.AddKey("key-2", "msteams")
	positive := []struct {
		name  string
		id    string
		authz func() string
	}{
		{"clock skew within leeway", "p1", func() string { return e.token(su, msfake.WithLifetime(e.clock.Now(), -4*time.Minute)) }},
		{"aud array with the app id", "p2", func() string { return e.token(su, msfake.WithClaim("aud", []any{"x", testAppID})) }},
		{"rotated key, new kid", "p3", func() string { return e.token(su, msfake.WithKID("key-2")) }},
	}
	for i, p := range positive {
		t.Run(p.name, func(t *testing.T) {
			resp, _ := e.post(mustJSON(base(p.id)), p.authz(), nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			e.sender.waitMessages(t, 1)
			if n := len(e.turns.Turns()); n != i+1 {
				t.Fatalf("%d turns, want %d", n, i+1)
			}
		})
	}
}

func TestRetriedActivityGetsOneReply(t *testing.T) {
	e := newEnv(t, envOpts{})
	act := e.activity("1700000000077", "hallo")
	for i := 0; i < 3; i++ {
		resp, _ := e.postActivity(act)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("post %d: status %d", i, resp.StatusCode)
		}
	}
	e.sender.waitMessages(t, 1)
	// A Teams retry after the answer went out.
	if resp, _ := e.postActivity(act); resp.StatusCode != http.StatusOK {
		t.Fatalf("late retry: status %d", resp.StatusCode)
	}
	// Barrier: a new activity of the same conversation is processed after
	// anything queued before it (same worker, in order).
	if resp, _ := e.postActivity(e.activity("1700000000078", "barrier")); resp.StatusCode != http.StatusOK {
		t.Fatal("barrier not accepted")
	}
	e.sender.waitMessages(t, 1)
	n := 0
	for _, s := range e.texts() {
		if s == "echo: hallo" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d replies to one activity, want 1 (texts %q)", n, e.texts())
	}
	if got := len(e.turns.Turns()); got != 2 {
		t.Errorf("%d turns, want 2", got)
	}
}

func TestSlowTurnAcknowledgedAtOnce(t *testing.T) {
	turns := &echoTurns{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	e := newEnv(t, envOpts{turns: turns})
	respc := make(chan int, 1)
	go func() {
		resp, _ := e.postActivity(e.activity("slow-1", "hallo"))
		respc <- resp.StatusCode
	}()
	select {
	case st := <-respc:
		if st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no response while the turn is still running")
	}
	select {
	case <-turns.entered:
	case <-time.After(waitTimeout):
		t.Fatal("turn never started")
	}
	if n := len(e.conn.Activities()); n != 0 {
		t.Fatalf("%d messages sent before the turn finished", n)
	}
	close(turns.block)
	e.sender.waitMessages(t, 1)
}

func TestCrashRecovery(t *testing.T) {
	first := newEnv(t, envOpts{noRun: true})
	resp, _ := first.postActivity(first.activity("crash-1", "hallo"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := first.pendingCount(); n != 1 {
		t.Fatalf("%d pending, want 1", n)
	}
	// The process dies: its store is closed, its workers never ran.
	first.http.Close()
	if err := first.store.Close(); err != nil {
		t.Fatal(err)
	}

	second := newEnv(t, envOpts{dbPath: first.dbPath, reuse: first})
	second.sender.waitMessages(t, 1)
	var found bool
	for _, r := range second.conn.Requests() {
		if r.Op == "reply" && r.ActivityID == "crash-1" && r.Body["text"] == "echo: hallo" {
			found = true
		}
	}
	if !found {
		t.Fatalf("the accepted activity was not answered after the restart: %q", second.texts())
	}
	waitPending(t, second, 0)
}

func TestTurnFailureApologises(t *testing.T) {
	turns := &echoTurns{fail: store.MaxInboxAttempts}
	e := newEnv(t, envOpts{turns: turns, mutate: func(o *Options) { o.PollInterval = 5 * time.Millisecond }})
	if resp, _ := e.postActivity(e.activity("fail-1", "hallo")); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	e.sender.waitMessages(t, 1)
	texts := e.texts()
	if len(texts) != 1 || !strings.HasPrefix(texts[0], "Sorry") {
		t.Fatalf("texts %q, want one apology", texts)
	}
	if strings.Contains(texts[0], "database") || strings.Contains(texts[0], "/var/") {
		t.Errorf("apology leaks the error: %q", texts[0])
	}
	if n := len(turns.Turns()); n != store.MaxInboxAttempts {
		t.Errorf("%d attempts, want %d", n, store.MaxInboxAttempts)
	}
	waitPending(t, e, 0)
}

func TestTurnRetriedAfterOneFailure(t *testing.T) {
	turns := &echoTurns{fail: 1}
	e := newEnv(t, envOpts{turns: turns, mutate: func(o *Options) { o.PollInterval = 5 * time.Millisecond }})
	if resp, _ := e.postActivity(e.activity("retry-1", "hallo")); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	e.sender.waitMessages(t, 1)
	if texts := e.texts(); len(texts) != 1 || texts[0] != "echo: hallo" {
		t.Fatalf("texts %q", texts)
	}
}

func TestGracefulShutdownFinishesTurn(t *testing.T) {
	turns := &echoTurns{block: make(chan struct{}), entered: make(chan struct{}, 1)}
	e := newEnv(t, envOpts{turns: turns})
	if resp, _ := e.postActivity(e.activity("shut-1", "hallo")); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	<-turns.entered
	e.cancel()
	e.cancel = nil
	select {
	case <-e.runDone:
		t.Fatal("Run returned with a turn in flight")
	default:
	}
	close(turns.block)
	select {
	case err := <-e.runDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return")
	}
	if texts := e.texts(); len(texts) != 1 || texts[0] != "echo: hallo" {
		t.Fatalf("in-flight turn not finished: %q", texts)
	}
	if n := e.pendingCount(); n != 0 {
		t.Fatalf("%d pending after shutdown", n)
	}
}

func loadSample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "playground", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDevModePlaygroundSamples(t *testing.T) {
	e := newEnv(t, envOpts{dev: true})
	post := func(name string) (*http.Response, []byte) {
		m := loadSample(t, name)
		m["serviceUrl"] = e.conn.ServiceURL() // the fake plays the playground's connector
		return e.post(mustJSON(m), "", nil)
	}
	if resp, _ := post("conversationUpdate.json"); resp.StatusCode != 200 {
		t.Fatalf("conversationUpdate: %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 1)
	if resp, _ := post("message.json"); resp.StatusCode != 200 {
		t.Fatalf("message: %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 1)
	if resp, _ := post("submit.json"); resp.StatusCode != 200 {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 2)
	resp, body := post("execute-invoke.json")
	if resp.StatusCode != 200 {
		t.Fatalf("invoke: %d", resp.StatusCode)
	}
	var ir map[string]any
	if err := json.Unmarshal(body, &ir); err != nil || ir["statusCode"] != float64(200) ||
		ir["type"] != "application/vnd.microsoft.activity.message" {
		t.Fatalf("invoke response %s", body)
	}
	e.sender.waitMessages(t, 2)

	turns := e.turns.Turns()
	if len(turns) != 4 {
		t.Fatalf("%d turns, want 4", len(turns))
	}
	if turns[0].Kind != dialogs.TurnWelcome {
		t.Errorf("first turn %s, want welcome", turns[0].Kind)
	}
	if turns[1].Text != "hello playground" || turns[1].Platform != "Web" {
		t.Errorf("message turn %+v", turns[1])
	}
	if turns[2].Value["choice"] != "ok" || turns[2].ReplyToID != "1795755799800-68e1739a" {
		t.Errorf("submit turn %+v", turns[2])
	}
	if turns[3].Value["choice"] != "exec" || turns[3].Value["verb"] != "doit" || turns[3].Kind != dialogs.TurnMessage {
		t.Errorf("execute turn %+v", turns[3])
	}
	if got := e.texts(); !contains(got, "welcome") || !contains(got, "echo: hello playground") {
		t.Errorf("texts %q", got)
	}

	// The sample as the playground really sends it (its own connector on
	// localhost:56150) is accepted too.
	raw, _ := os.ReadFile(filepath.Join("testdata", "playground", "message.json"))
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	m["id"] = "as-sent"
	bare := newEnv(t, envOpts{dev: true, noRun: true})
	if resp, _ := bare.post(mustJSON(m), "", nil); resp.StatusCode != 200 {
		t.Fatalf("unchanged playground message: %d", resp.StatusCode)
	}
	if n := bare.pendingCount(); n != 1 {
		t.Fatalf("%d pending", n)
	}
}

func TestDevModeFences(t *testing.T) {
	e := newEnv(t, envOpts{dev: true, noRun: true})
	msg := loadSample(t, "message.json")
	cases := []struct {
		name   string
		mutate func(m map[string]any)
		hdr    map[string]string
		status int
	}{
		{"X-Forwarded-For", nil, map[string]string{"X-Forwarded-For": "203.0.113.9"}, 403},
		{"Forwarded", nil, map[string]string{"Forwarded": "for=203.0.113.9"}, 403},
		{"X-Real-IP", nil, map[string]string{"X-Real-IP": "203.0.113.9"}, 403},
		{"public serviceUrl", func(m map[string]any) { m["serviceUrl"] = "https://smba.trafficmanager.net/emea/" }, nil, 403},
		{"serviceUrl with loopback userinfo trick", func(m map[string]any) { m["serviceUrl"] = "http://localhost@evil.example/" }, nil, 403},
		{"serviceUrl of another scheme", func(m map[string]any) { m["serviceUrl"] = "file://localhost/etc/passwd" }, nil, 403},
		{"no serviceUrl", func(m map[string]any) { delete(m, "serviceUrl") }, nil, 403},
		{"cross-site text/plain post", nil, map[string]string{"Content-Type": "text/plain"}, 415},
		{"form post", nil, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"DNS rebinding host", nil, map[string]string{"Host": "evil.example:3978"}, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range msg {
				m[k] = v
			}
			if c.mutate != nil {
				c.mutate(m)
			}
			resp, _ := e.post(mustJSON(m), "", c.hdr)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if n := e.pendingCount(); n != 0 {
				t.Fatalf("%d pending", n)
			}
		})
	}
	t.Run("remote address not loopback", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader(string(mustJSON(msg))))
		req.RemoteAddr = "192.0.2.10:40000"
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != 403 {
			t.Fatalf("status %d, want 403", rec.Code)
		}
		if n := e.pendingCount(); n != 0 {
			t.Fatalf("%d pending", n)
		}
	})
}

func TestStaffActionFromStudentChatRefused(t *testing.T) {
	e := newEnv(t, envOpts{})
	// Action.Submit with the staff card's data, from the student's chat.
	act := e.activity("steal-1", "")
	act["value"] = map[string]any{"verb": "claim", "escalationId": 7}
	act["replyToId"] = "1700000000001"
	resp, _ := e.postActivity(act)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 1)
	if got := e.texts(); len(got) != 1 || !strings.Contains(got[0], "knop werkt hier niet") {
		t.Fatalf("texts %q, want the neutral answer", got)
	}
	if r := e.conn.Requests(); r[len(r)-1].Op != "reply" || r[len(r)-1].ActivityID != "steal-1" {
		t.Errorf("neutral answer not a reply to the click: %+v", r[len(r)-1])
	}
	// Channel data naming the staff channel does not make a personal
	// chat the staff channel.
	forged := e.activity("steal-3", "")
	forged["value"] = map[string]any{"verb": "resolve", "escalationId": 7}
	forged["channelData"] = map[string]any{"tenant": map[string]any{"id": testTenant}, "channel": map[string]any{"id": staffChannel}}
	if resp, _ := e.postActivity(forged); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e.sender.waitMessages(t, 1)
	// The same as Action.Execute from the personal chat: answered in the
	// HTTP response, nothing else happens.
	inv := e.activity("steal-2", "")
	inv["type"] = "invoke"
	inv["name"] = "adaptiveCard/action"
	inv["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "mfabot.staff", "data": map[string]any{"verb": "resolve", "escalationId": 7}}}
	resp, body := e.postActivity(inv)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "application/vnd.microsoft.activity.message") {
		t.Fatalf("invoke: %d %s", resp.StatusCode, body)
	}
	if n := len(e.staff.Actions()); n != 0 {
		t.Fatalf("staff handler called %d times", n)
	}
	if n := len(e.turns.Turns()); n != 0 {
		t.Fatalf("the staff payload reached the dialog (%d turns)", n)
	}
	waitPending(t, e, 0)
}

func TestStaffActionsFromStaffChannel(t *testing.T) {
	e := newEnv(t, envOpts{})
	channelAct := func(id string) map[string]any {
		a := e.activity(id, "")
		a["conversation"] = map[string]any{"id": staffChannel + ";messageid=1700000000500", "conversationType": "channel", "tenantId": testTenant}
		a["channelData"] = map[string]any{"tenant": map[string]any{"id": testTenant}, "channel": map[string]any{"id": staffChannel}}
		a["from"] = map[string]any{"id": "29:staff", "name": "Fatima Desk", "aadObjectId": "00000000-0000-0000-0000-0000000000aa"}
		return a
	}
	inv := channelAct("exec-1")
	inv["type"] = "invoke"
	inv["name"] = "adaptiveCard/action"
	inv["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "mfabot.staff", "data": map[string]any{"verb": "claim", "escalationId": 7}}}
	resp, body := e.postActivity(inv)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var ir struct {
		StatusCode int             `json:"statusCode"`
		Type       string          `json:"type"`
		Value      json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &ir); err != nil || ir.StatusCode != 200 ||
		ir.Type != "application/vnd.microsoft.card.adaptive" || !strings.Contains(string(ir.Value), "claim by Fatima Desk") {
		t.Fatalf("invoke response %s", body)
	}
	acts := e.staff.Actions()
	if len(acts) != 1 || acts[0].Verb != "claim" || acts[0].EscalationID != 7 || acts[0].ChannelID != staffChannel ||
		acts[0].ActorObjectID != "00000000-0000-0000-0000-0000000000aa" {
		t.Fatalf("staff actions %+v", acts)
	}

	// Action.Submit from the staff channel: through the inbox, card
	// replaced with PUT.
	sub := channelAct("submit-1")
	sub["value"] = map[string]any{"verb": "resolve", "escalationId": "7", "note": "TAP gegeven"}
	sub["replyToId"] = "1700000000500"
	if resp, _ := e.postActivity(sub); resp.StatusCode != 200 {
		t.Fatal("submit not accepted")
	}
	e.sender.waitMessages(t, 1)
	acts = e.staff.Actions()
	if len(acts) != 2 || acts[1].Verb != "resolve" || acts[1].Note != "TAP gegeven" || acts[1].EscalationID != 7 {
		t.Fatalf("staff actions %+v", acts)
	}
	var put bool
	for _, r := range e.conn.Requests() {
		if r.Op == "update" && r.ActivityID == "1700000000500" && strings.HasPrefix(r.ConversationID, staffChannel) {
			put = true
		}
	}
	if !put {
		t.Fatal("staff card not replaced")
	}
	// A plain message in the staff channel does not start a dialog.
	if resp, _ := e.postActivity(channelAct("chat-1")); resp.StatusCode != 200 {
		t.Fatal("channel message refused")
	}
	waitPending(t, e, 0)
	if n := len(e.turns.Turns()); n != 0 {
		t.Fatalf("%d dialog turns from the staff channel", n)
	}
}

func TestWelcomeOncePerInstall(t *testing.T) {
	e := newEnv(t, envOpts{})
	cu := e.activity("cu-1", "")
	cu["type"] = "conversationUpdate"
	cu["membersAdded"] = []any{map[string]any{"id": "28:" + testAppID}}
	iu := e.activity("iu-1", "")
	iu["type"] = "installationUpdate"
	iu["action"] = "add"
	other := e.activity("cu-2", "")
	other["type"] = "conversationUpdate"
	other["membersAdded"] = []any{map[string]any{"id": "29:someone-else"}}
	remove := e.activity("iu-2", "")
	remove["type"] = "installationUpdate"
	remove["action"] = "remove"
	typing := e.activity("ty-1", "")
	typing["type"] = "typing"
	for _, a := range []map[string]any{cu, iu, other, remove, typing} {
		if resp, _ := e.postActivity(a); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", a["type"], resp.StatusCode)
		}
	}
	if resp, _ := e.postActivity(e.activity("after", "hallo")); resp.StatusCode != 200 {
		t.Fatal("barrier")
	}
	e.sender.waitMessages(t, 2)
	n := 0
	for _, s := range e.texts() {
		if s == "welcome" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d welcomes, want 1 (%q)", n, e.texts())
	}
}

func TestTimerTurn(t *testing.T) {
	e := newEnv(t, envOpts{dev: true, mutate: func(o *Options) { o.PollInterval = 5 * time.Millisecond }})
	ctx := context.Background()
	ref := store.ConversationRef{ConversationID: "conv-timer", ServiceURL: e.conn.ServiceURL(), ChannelID: "msteams", Locale: "en-US"}
	if err := e.store.SaveRef(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AddTimer(ctx, store.Timer{ConversationID: "conv-timer", Due: time.Now().Add(-time.Second), Payload: []byte("recheck")}); err != nil {
		t.Fatal(err)
	}
	e.sender.waitMessages(t, 1)
	if got := e.texts(); len(got) != 1 || got[0] != "timer recheck" {
		t.Fatalf("texts %q", got)
	}
	turns := e.turns.Turns()
	if len(turns) != 1 || turns[0].Kind != dialogs.TurnTimer || turns[0].Ref.ConversationID != "conv-timer" {
		t.Fatalf("turns %+v", turns)
	}
}

func TestNotifier(t *testing.T) {
	e := newEnv(t, envOpts{})
	ctx := context.Background()
	n := e.srv.Notifier()
	thread, actID, err := n.PostStaffCard(ctx, json.RawMessage(`{"type":"AdaptiveCard","version":"1.5"}`))
	if err != nil || thread == "" || actID == "" {
		t.Fatalf("PostStaffCard = %q %q %v", thread, actID, err)
	}
	if err := n.UpdateStaffCard(ctx, thread, actID, json.RawMessage(`{"type":"AdaptiveCard","version":"1.5","body":[]}`)); err != nil {
		t.Fatalf("UpdateStaffCard: %v", err)
	}
	// The student's conversation is known from an accepted activity.
	if resp, _ := e.postActivity(e.activity("n-1", "hallo")); resp.StatusCode != 200 {
		t.Fatal("not accepted")
	}
	e.sender.waitMessages(t, 1)
	if err := n.NotifyStudent(ctx, "a:conv-1", "Een medewerker helpt je nu."); err != nil {
		t.Fatalf("NotifyStudent: %v", err)
	}
	e.conn.SetMember("a:conv-1", msfake.ConnectorMember{ID: "29:student", UserPrincipalName: "sam@school.example"})
	upn, err := n.MemberUPN(ctx, "a:conv-1", "29:student")
	if err != nil || upn != "sam@school.example" {
		t.Fatalf("MemberUPN = %q %v", upn, err)
	}
	if err := n.NotifyStudent(ctx, "a:unknown", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("NotifyStudent to an unknown conversation: %v", err)
	}
	var create, update, notify bool
	for _, r := range e.conn.Requests() {
		if !e.tokens.ValidBearer(r.Authorization) {
			t.Errorf("%s without token", r.Op)
		}
		switch r.Op {
		case "create_conversation":
			cd, _ := r.Body["channelData"].(map[string]any)
			ch, _ := cd["channel"].(map[string]any)
			tn, _ := cd["tenant"].(map[string]any)
			create = r.Body["isGroup"] == true && ch["id"] == staffChannel && tn["id"] == testTenant
		case "update":
			update = r.ConversationID == thread && r.ActivityID == actID
		case "send":
			if r.Body["text"] == "Een medewerker helpt je nu." {
				notify = r.ConversationID == "a:conv-1"
			}
		}
	}
	if !create || !update || !notify {
		t.Fatalf("create %v update %v notify %v", create, update, notify)
	}
}

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t, envOpts{dev: true, noRun: true})
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(e.http.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	_ = e.store.Close()
	resp, err := http.Get(e.http.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("readyz with a closed store: %d, want 503", resp.StatusCode)
	}
	resp, err = http.Get(e.http.URL + "/api/messages")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/messages: %d", resp.StatusCode)
	}
}

func TestNewRefusesUnsafeOptions(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "x.db"))
	base := Options{Store: st, Turns: &echoTurns{}, Connector: &signalSender{}}
	cases := map[string]func(o *Options){
		"production without validator": func(o *Options) { o.AppID = "x"; o.AllowedTenants = []string{"t"} },
		"production without app id":    func(o *Options) { o.Validator = validatorFunc(nil); o.AllowedTenants = []string{"t"} },
		"production without tenants":   func(o *Options) { o.Validator = validatorFunc(nil); o.AppID = "x" },
		"production http staff url": func(o *Options) {
			o.Validator = validatorFunc(nil)
			o.AppID = "x"
			o.AllowedTenants = []string{"t"}
			o.StaffServiceURL = "http://smba.example/"
		},
		"dev with a validator":        func(o *Options) { o.Dev = true; o.Validator = validatorFunc(nil) },
		"dev with a public staff url": func(o *Options) { o.Dev = true; o.StaffServiceURL = "https://smba.trafficmanager.net/emea/" },
		"no store":                    func(o *Options) { o.Dev = true; o.Store = nil },
	}
	for name, mutate := range cases {
		o := base
		mutate(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	o := base
	o.Dev = true
	if _, err := New(o); err != nil {
		t.Errorf("dev defaults: %v", err)
	}
}

type validatorFunc func(ctx context.Context, authorization, serviceURL, channelID string) (*auth.Identity, error)

func (f validatorFunc) Validate(ctx context.Context, authorization, serviceURL, channelID string) (*auth.Identity, error) {
	return f(ctx, authorization, serviceURL, channelID)
}

func TestTrackerSkipsStaleSnapshots(t *testing.T) {
	var tr tracker
	l1 := time.Unix(100, 0)
	e1 := tr.begin()
	if !tr.claim(5, e1, l1) {
		t.Fatal("first claim refused")
	}
	l2 := l1.Add(time.Minute)
	if tr.claim(5, e1, l2) {
		t.Fatal("claimed twice while in flight")
	}
	if got := tr.leaseEnd(5); !got.Equal(l2) {
		t.Fatalf("lease end %v after a renewal; want %v", got, l2)
	}
	e2 := tr.begin() // a snapshot is being read...
	tr.done(5)       // ...while the worker finishes
	if tr.claim(5, e2, l2) {
		t.Fatal("a snapshot older than the finish handed the entry out again")
	}
	tr.end(e2)
	e3 := tr.begin()
	if !tr.claim(5, e3, l2) {
		t.Fatal("an entry still pending in a fresh snapshot (a retry) was not handed out")
	}
}

func TestConcurrentConversationsInOrderOnce(t *testing.T) {
	lifted := []connector.Window{{N: 100000, Per: time.Second}}
	e := newEnv(t, envOpts{tenantLimits: lifted, convLimits: lifted})
	const posters, per = 6, 8
	var wg sync.WaitGroup
	for p := 0; p < posters; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				act := e.activity(fmt.Sprintf("c-%d-%d", p, i), fmt.Sprintf("m%d", i))
				act["conversation"] = map[string]any{"id": fmt.Sprintf("a:c-%d", p), "conversationType": "personal", "tenantId": testTenant}
				b, _ := json.Marshal(act)
				resp, _ := e.post(b, e.token(e.conn.ServiceURL()), nil)
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	e.sender.waitMessages(t, posters*per)
	waitPending(t, e, 0)
	seen := map[string]int{}
	next := map[string]int{}
	for _, tn := range e.turns.Turns() {
		seen[tn.ActivityID]++
		want := fmt.Sprintf("m%d", next[tn.Ref.ConversationID])
		if tn.Text != want {
			t.Errorf("%s: turn %q out of order, want %q", tn.Ref.ConversationID, tn.Text, want)
		}
		next[tn.Ref.ConversationID]++
	}
	if len(seen) != posters*per {
		t.Errorf("%d distinct turns, want %d", len(seen), posters*per)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s ran %d times", id, n)
		}
	}
	if got := len(e.texts()); got != posters*per {
		t.Errorf("%d replies, want %d", got, posters*per)
	}
}

func TestFailedEntryKeepsConversationOrder(t *testing.T) {
	turns := &echoTurns{fail: 1}
	e := newEnv(t, envOpts{turns: turns, mutate: func(o *Options) { o.PollInterval = 5 * time.Millisecond }})
	for i, text := range []string{"first", "second"} {
		if resp, _ := e.postActivity(e.activity(fmt.Sprintf("ord-%d", i), text)); resp.StatusCode != 200 {
			t.Fatal("not accepted")
		}
	}
	e.sender.waitMessages(t, 2)
	var got []string
	for _, tn := range turns.Turns() {
		got = append(got, tn.Text)
	}
	if strings.Join(got, ",") != "first,first,second" {
		t.Fatalf("turn order %q, want first (failed), first, second", got)
	}
	if texts := e.texts(); strings.Join(texts, ",") != "echo: first,echo: second" {
		t.Fatalf("replies %q", texts)
	}
}

func TestKeysUnreachableIsRetryable(t *testing.T) {
	e := newEnv(t, envOpts{noRun: true})
	e.openid.SetFailing(http.StatusInternalServerError)
	resp, body := e.postActivity(e.activity("down-1", "hallo"))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503 so that the channel delivers it again", resp.StatusCode)
	}
	if string(body) != http.StatusText(503)+"\n" {
		t.Errorf("body %q", body)
	}
	if n := e.pendingCount(); n != 0 {
		t.Fatalf("%d pending", n)
	}
}

// A staff card whose POST timed out may be in the channel: the notifier
// says so, and handoff then never posts it a second time.
func TestStaffCardMaybeDelivered(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.conn.Enqueue(msfake.Response{Hang: true})
	defer e.conn.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, err := e.srv.Notifier().PostStaffCard(ctx, json.RawMessage(`{"type":"AdaptiveCard","version":"1.5"}`))
	if !errors.Is(err, handoff.ErrMaybeDelivered) {
		t.Fatalf("PostStaffCard after a timed-out POST: %v, want handoff.ErrMaybeDelivered", err)
	}
}
