package acceptance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"mfabot/graph/graphfake"
	"mfabot/internal/msfake"
	"mfabot/internal/testenv"
)

// repliesTo counts the Connector calls that answered the message with
// this activity id (a turn's first reply carries it).
func (m *microsoft) repliesTo(convID, activityID string) int {
	n := 0
	for _, r := range m.conn.Requests() {
		if r.Op == "reply" && r.ConversationID == convID && r.ActivityID == activityID && r.Status < 300 {
			n++
		}
	}
	return n
}

// TestKillDuringATurnAndRestart: the process is killed (SIGKILL, no
// shutdown) while a student's first turn waits for Graph. The activity
// had its 200, so it is in the inbox: the restarted process answers it,
// once, and a Teams redelivery of the same activity gets no second reply.
func TestKillDuringATurnAndRestart(t *testing.T) {
	t.Parallel()
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	m.addSam()
	yaml := m.productionYAML(sqliteURL(t), "")
	p := serve(t, m.caFile, yaml, secretEnv())
	s := m.student(t, p, samOID, "Sam de Vries")
	methods := "/users/" + samOID + "/authentication/methods"
	m.graph.Enqueue(methods, graphfake.Reply{Hang: true})

	act := s.activity("message")
	act["text"] = "ik heb een nieuwe telefoon"
	if code, body := s.post(p, act); code != http.StatusOK {
		t.Fatalf("POST answered %d: %s", code, body)
	}
	waitFor(t, p, "the turn to reach Graph", func() bool { return m.graph.Count(methods) >= 1 })
	p.kill()
	if n := len(s.sent()); n != 0 {
		t.Fatalf("%d replies before the crash, want 0 (the turn was still waiting for Graph)", n)
	}

	// systemd's Restart=on-failure: the same configuration, the same store.
	p2 := serve(t, m.caFile, yaml, secretEnv())
	s.to = p2
	// The dead process's lease on the entry runs out first (2 min): the
	// store cannot tell a crashed instance from a slow one.
	deadline := time.Now().Add(3 * time.Minute)
	for len(s.sent()) == 0 {
		p2.mustRun("answer the entry of the killed process")
		if time.Now().After(deadline) {
			t.Fatal("the accepted activity was never answered after the restart")
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitFor(t, p2, "the turn to finish", func() bool { return p2.turnsOK() >= 1 })
	// Teams redelivers the same activity (its 200 got lost): no new reply.
	before := len(s.sent())
	if code, _ := s.post(p2, act); code != http.StatusOK {
		t.Fatalf("redelivery answered %d, want 200", code)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := m.repliesTo(s.convID, act["id"].(string)); got != 1 {
		t.Errorf("%d replies to the activity, want exactly 1", got)
	}
	if len(s.sent()) != before {
		t.Errorf("the redelivered activity was answered again (%d -> %d messages)", before, len(s.sent()))
	}
	p2.mustRun("stay up")
}

// TestSIGTERMLetsTheTurnInFlightFinish: on SIGTERM (systemctl stop, a
// redeploy) a turn waiting for a slow Graph still sends its reply, and
// the process exits 0.
func TestSIGTERMLetsTheTurnInFlightFinish(t *testing.T) {
	t.Parallel()
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	m.addSam()
	p := serve(t, m.caFile, m.productionYAML(sqliteURL(t), ""), secretEnv())
	s := m.student(t, p, samOID, "Sam de Vries")
	methods := "/users/" + samOID + "/authentication/methods"
	m.graph.Enqueue(methods, graphfake.Reply{Delay: 2 * time.Second})

	act := s.activity("conversationUpdate")
	act["membersAdded"] = []any{map[string]any{"id": "28:" + appID}}
	if code, body := s.post(p, act); code != http.StatusOK {
		t.Fatalf("POST answered %d: %s", code, body)
	}
	waitFor(t, p, "the turn to reach Graph", func() bool { return m.graph.Count(methods) >= 1 })
	start := time.Now()
	if err := p.stop(40 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	t.Logf("stopped %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	sent := s.sent()
	if len(sent) == 0 {
		t.Fatal("the turn in flight at SIGTERM sent no reply")
	}
	if got := texts(sent); !strings.Contains(got, "iPhone 12") {
		t.Errorf("the reply is not the welcome with the methods Graph returned after the delay:\n%s", got)
	}
}

// TestTwoProcessesOnOnePostgres: two instances share a PostgreSQL
// database (docs/deploy.md, several instances). Students' activities are
// spread over both, and every one is delivered twice - once to each
// instance, as a Teams retry after a lost 200 would be: each is answered
// exactly once, and each conversation's replies come in order.
func TestTwoProcessesOnOnePostgres(t *testing.T) {
	t.Parallel()
	url := testenv.PostgresURL(t)
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	yaml := m.productionYAML(url, "")
	env := secretEnv()
	env["MFABOT_STAFF_SESSION_KEY"] = strings.Repeat("k", 40)
	a := serve(t, m.caFile, yaml, env)
	b := serve(t, m.caFile, yaml, env)

	const students = 4
	var ss []*student
	for i := range students {
		oid := fmt.Sprintf("%08d-7777-4a2b-9c3d-5e6f7a8b9c0d", i+1)
		m.graph.SetUser(oid, fmt.Sprintf("Student %d", i+1), fmt.Sprintf("s%07d@student.example.nl", i+1), "nl-NL")
		m.graph.AddMethod(oid, graphfake.Authenticator(fmt.Sprintf("%08d-c096-6803-96c0-036896c00368", i+1), "iPhone 12"))
		m.graph.AddMethod(oid, graphfake.Phone(fmt.Sprintf("%08d-750b-4051-897c-87b9720928f7", i+1), "+31 612345678", "mobile"))
		ss = append(ss, m.student(t, a, oid, fmt.Sprintf("Student %d", i+1)))
	}
	// Each student: a typed situation, then three clicks on "done".
	var messages []map[string]any
	for round := range 4 {
		for i, s := range ss {
			var act map[string]any
			if round == 0 {
				act = s.activity("message")
				act["text"] = "ik wil de app op mijn nieuwe telefoon zetten"
			} else {
				bs := buttons(s.sent())
				next := button(bs, "done", "continue", "yes")
				if next == nil {
					t.Fatalf("student %d: no button to move on after round %d:\n%s", i, round, texts(s.sent()))
				}
				act = s.activity("message")
				act["value"] = next
				act["replyToId"] = "card"
			}
			messages = append(messages, act)
			first, second := a, b
			if (i+round)%2 == 1 {
				first, second = b, a
			}
			before := len(s.sent())
			for _, p := range []*process{first, second} {
				if code, body := s.post(p, act); code != http.StatusOK {
					t.Fatalf("POST answered %d: %s", code, body)
				}
			}
			waitFor(t, nil, "the reply", func() bool {
				a.mustRun("answer")
				b.mustRun("answer")
				return m.repliesTo(s.convID, act["id"].(string)) >= 1 && len(s.sent()) > before
			})
		}
	}
	time.Sleep(1500 * time.Millisecond) // a second answer would come now
	for _, act := range messages {
		conv := act["conversation"].(map[string]any)["id"].(string)
		if got := m.repliesTo(conv, act["id"].(string)); got != 1 {
			t.Errorf("activity %s answered %d times, want once", act["id"], got)
		}
	}
	for i, s := range ss {
		// The step counter only goes up: the replies came in order.
		last := 0
		for _, msg := range s.sent() {
			for n := 1; n <= 12; n++ {
				if strings.Contains(texts([]map[string]any{msg}), fmt.Sprintf("Stap %d van 12", n)) {
					if n < last {
						t.Errorf("student %d: step %d after step %d", i, n, last)
					}
					last = n
				}
			}
		}
		if last < 3 {
			t.Errorf("student %d reached step %d, want 4 turns to reach step 3 or later:\n%s", i, last, texts(s.sent()))
		}
	}
	if a.turnsOK() == 0 || b.turnsOK() == 0 {
		t.Logf("turns per instance: %v and %v (the work was not shared this time)", a.turnsOK(), b.turnsOK())
	}
}

// TestAttacksOverTheWire: what an attacker can send to the public
// endpoint of the production process. Each request is refused with the
// status an operator expects, nothing reaches the dialog (no message to
// any conversation), and the process stays up.
func TestAttacksOverTheWire(t *testing.T) {
	t.Parallel()
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	m.addSam()
	p := serve(t, m.caFile, m.productionYAML(sqliteURL(t), ""), secretEnv())
	s := m.student(t, p, samOID, "Sam de Vries")
	good := func() map[string]any {
		a := s.activity("message")
		a["text"] = "hallo"
		return a
	}
	sign := func(opts ...msfake.TokenOption) string {
		return "Bearer " + m.openid.SignActivityToken(appID, m.conn.ServiceURL(), opts...)
	}
	body := func(a map[string]any) []byte { b, _ := json.Marshal(a); return b }
	otherKey := msfake.NewOpenID(t, msfake.OpenIDOptions{TLS: true}).Key("key-1").Private

	rows := []struct {
		name string
		body []byte
		auth string
		want int
	}{
		{"no token", body(good()), "", http.StatusUnauthorized},
		{"not a bearer token", body(good()), "Basic dXNlcjpwYXNz", http.StatusUnauthorized},
		{"garbage token", body(good()), "Bearer not.a.jwt", http.StatusUnauthorized},
		{"signed with another key", body(good()), sign(msfake.WithSigningKey(otherKey)), http.StatusUnauthorized},
		{"alg none", body(good()), sign(msfake.WithAlg("none")), http.StatusUnauthorized},
		{"HS256 with the public key", body(good()), sign(msfake.WithAlg("HS256")), http.StatusUnauthorized},
		{"another bot's audience", body(good()), sign(msfake.WithClaim("aud", "99999999-2222-3333-4444-555555555555")), http.StatusUnauthorized},
		{"another issuer", body(good()), sign(msfake.WithClaim("iss", "https://sts.windows.net/evil/")), http.StatusUnauthorized},
		{"expired", body(good()), sign(msfake.WithLifetime(time.Now().Add(-3*time.Hour), time.Hour)), http.StatusUnauthorized},
		{"serviceurl claim for another host", body(good()), "Bearer " + m.openid.SignActivityToken(appID, "https://evil.example/"), http.StatusUnauthorized},
		{"unknown kid", body(good()), sign(msfake.WithKID("nope")), http.StatusUnauthorized},
		{"another tenant", body(func() map[string]any {
			a := good()
			a["conversation"].(map[string]any)["tenantId"] = "99999999-bbbb-cccc-dddd-eeeeeeeeeeee"
			a["channelData"] = map[string]any{"tenant": map[string]any{"id": "99999999-bbbb-cccc-dddd-eeeeeeeeeeee"}}
			return a
		}()), sign(), http.StatusForbidden},
		{"another channel", body(func() map[string]any { a := good(); a["channelId"] = "webchat"; return a }()), sign(), http.StatusForbidden},
		{"not JSON", []byte("{not json"), sign(), http.StatusBadRequest},
		{"oversized body", bytes.Repeat([]byte("a"), 2<<20), sign(), http.StatusRequestEntityTooLarge},
	}
	for _, r := range rows {
		code, resp := postRaw(t, p, r.body, r.auth)
		if code != r.want {
			t.Errorf("%s: status %d, want %d (%s)", r.name, code, r.want, strings.TrimSpace(resp))
		}
		p.mustRun("survive " + r.name)
	}
	// A form instead of JSON, with a valid token: not an activity.
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/messages", strings.NewReader("text=hi"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", sign())
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("form body: %v", err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form body: status %d, want 400 or 415", resp.StatusCode)
	}

	time.Sleep(500 * time.Millisecond)
	if n := len(m.conn.Requests()); n != 0 {
		t.Errorf("a refused request reached the Connector: %d calls", n)
	}
	// And the real student still gets an answer.
	if acts := s.say("hallo"); len(acts) == 0 {
		t.Error("no answer to a genuine message after the attacks")
	}
}
