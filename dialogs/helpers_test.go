package dialogs

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/store"
)

// fakeEscalator records hand-offs and renders a small contact card.
type fakeEscalator struct {
	mu   sync.Mutex
	reqs []handoff.Request
	fail error
}

func (f *fakeEscalator) Escalate(ctx context.Context, r handoff.Request) (handoff.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return handoff.Result{}, f.fail
	}
	f.reqs = append(f.reqs, r)
	return handoff.Result{Escalation: store.Escalation{ID: int64(len(f.reqs))}, Created: true}, nil
}

func (f *fakeEscalator) Contact(now time.Time) handoff.Contact {
	return handoff.Contact{Name: "ICT Servicedesk", Phone: "088 - 469 9070", PhoneURI: "tel:+31884699070",
		Desks: []handoff.DeskStatus{{Name: "Zwolle", Location: "F2.03", Hours: "ma-vr 8:00-16:00"}}}
}

func (f *fakeEscalator) ContactCard(now time.Time, lang string, lostPhone, security bool) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"CONTACT %s lost=%v security=%v"}]}`, lang, lostPhone, security))
}

func (f *fakeEscalator) ContactCardWith(now time.Time, lang string, o handoff.ContactCardOptions) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"CONTACT %s lost=%v security=%v notqueued=%v"}]}`, lang, o.LostPhone, o.Security, o.NotQueued))
}

func (f *fakeEscalator) requests() []handoff.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// harness drives a Runner the way the bot does, against real SQLite.
type harness struct {
	t      *testing.T
	st     store.Store
	dbURL  string
	dir    graph.Directory
	esc    *fakeEscalator
	r      *Runner
	now    time.Time
	ref    store.ConversationRef
	plat   string
	last   []Reply
	turns  int
	typing int
}

var testSettings = Settings{VoiceCalls: true, SetupURL: "https://aka.ms/mfasetup",
	PasswordChangeURL: "https://passwordreset.microsoftonline.com", InstitutionName: "ICT Servicedesk"}

func newHarness(t *testing.T, student string, dir graph.Directory) *harness {
	t.Helper()
	if dir == nil {
		dir = graph.NewDemo()
	}
	url := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, st: st, dbURL: url, dir: dir, esc: &fakeEscalator{},
		now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		ref: store.ConversationRef{ConversationID: "a:conv-" + student, ServiceURL: "http://127.0.0.1:1/", ChannelID: "msteams",
			UserID: "29:" + student, UserAADObjectID: graph.DemoUserID(student), UserName: student, Locale: startLang(student) + "-NL", ConversationType: "personal"},
	}
	h.r = h.newRunner(testSettings)
	// Every move the engine makes must be an edge of the flow table.
	onMove = func(from, to string) {
		for _, d := range flow {
			if d.ID != from {
				continue
			}
			for a := range d.Next {
				if allowed(from, a, to) {
					return
				}
			}
		}
		if !slices.Contains(globalTargets, to) {
			t.Errorf("engine moved %s -> %s, not an edge of the flow table", from, to)
		}
	}
	t.Cleanup(func() { onMove = nil })
	return h
}

func (h *harness) newRunner(s Settings) *Runner {
	h.t.Helper()
	r, err := NewRunner(RunnerOptions{Store: h.st, Directory: h.dir, Escalator: h.esc, Settings: s,
		Now: func() time.Time { return h.now }})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) turn(tn Turn) []Reply {
	h.t.Helper()
	h.now = h.now.Add(5 * time.Second)
	tn.Ref, tn.At, tn.Platform = h.ref, h.now, h.plat
	replies, err := h.r.Handle(context.Background(), tn, func() { h.typing++ })
	if err != nil {
		h.t.Fatalf("turn: %v", err)
	}
	h.turns++
	h.last = replies
	return replies
}

func (h *harness) welcome() []Reply { return h.turn(Turn{Kind: TurnWelcome}) }

func (h *harness) say(text string) []Reply { return h.turn(Turn{Kind: TurnMessage, Text: text}) }

// press clicks the button with action on the newest card that has it.
func (h *harness) press(action string) []Reply {
	h.t.Helper()
	for i := len(h.last) - 1; i >= 0; i-- {
		for _, b := range buttons(h.last[i].Card) {
			if b["action"] == action {
				return h.turn(Turn{Kind: TurnMessage, Value: b})
			}
		}
	}
	h.t.Fatalf("no %q button in the last replies (step %s):\n%s", action, h.state().Step, all(h.last))
	return nil
}

func (h *harness) rate(score int) []Reply {
	h.t.Helper()
	for _, b := range buttons(h.last[len(h.last)-1].Card) {
		if b["action"] == string(ActRate) && b["score"] == float64(score) {
			return h.turn(Turn{Kind: TurnMessage, Value: b})
		}
	}
	h.t.Fatalf("no rating button %d", score)
	return nil
}

func (h *harness) click(step, action string) []Reply {
	return h.turn(Turn{Kind: TurnMessage, Value: map[string]any{"step": step, "action": action}})
}

// fireTimers moves the clock by d and runs every due timer.
func (h *harness) fireTimers(d time.Duration) []Reply {
	h.t.Helper()
	h.now = h.now.Add(d)
	due, err := h.st.DueTimers(context.Background(), h.now, 10)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []Reply
	for _, tm := range due {
		_, rs, err := h.r.HandleTimer(context.Background(), tm, func() { h.typing++ })
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, rs...)
	}
	h.last = append(h.last, out...)
	return out
}

func (h *harness) state() State {
	h.t.Helper()
	c, err := h.st.GetConversation(context.Background(), h.ref.ConversationID)
	if err != nil {
		h.t.Fatal(err)
	}
	return DecodeState(c.State)
}

func (h *harness) wantStep(id string) {
	h.t.Helper()
	if got := h.state().Step; got != id {
		h.t.Fatalf("step = %s, want %s; last replies:\n%s", got, id, all(h.last))
	}
}

func (h *harness) transcript() string {
	h.t.Helper()
	lines, err := h.st.Transcript(context.Background(), h.ref.ConversationID, time.Time{})
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l.Role + ": " + l.Text + "\n")
	}
	return b.String()
}

func buttons(card json.RawMessage) []map[string]any {
	if len(card) == 0 {
		return nil
	}
	var c struct {
		Actions []struct {
			Data map[string]any `json:"data"`
		} `json:"actions"`
	}
	_ = json.Unmarshal(card, &c)
	var out []map[string]any
	for _, a := range c.Actions {
		if a.Data != nil {
			out = append(out, a.Data)
		}
	}
	return out
}

// all renders replies as text (cards through CardText).
func all(rs []Reply) string {
	var b strings.Builder
	for _, r := range rs {
		if r.Text != "" {
			b.WriteString(r.Text + "\n")
		}
		if len(r.Card) > 0 {
			b.WriteString(CardText(r.Card) + "\n")
		}
		b.WriteString("--\n")
	}
	return b.String()
}

func contains(t *testing.T, rs []Reply, want ...string) {
	t.Helper()
	text := all(rs)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("replies do not contain %q:\n%s", w, text)
		}
	}
}

func lacks(t *testing.T, rs []Reply, bad ...string) {
	t.Helper()
	text := all(rs)
	for _, w := range bad {
		if strings.Contains(text, w) {
			t.Errorf("replies contain %q:\n%s", w, text)
		}
	}
}
