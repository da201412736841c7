package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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

const (
	testAppID    = "11111111-2222-3333-4444-555555555555"
	testTenant   = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	testSecret   = "s3cret-value"
	staffChannel = "19:staffchannel@thread.tacv2"
)

// waitTimeout bounds every wait on a channel in these tests; a test that
// hits it has failed (nothing sleeps for timing).
const waitTimeout = 15 * time.Second

func openStore(t testing.TB, path string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// echoTurns is a fake dialog: it echoes text and value, welcomes, and
// answers timers. It records every turn.
type echoTurns struct {
	mu    sync.Mutex
	turns []dialogs.Turn
	// block, when set, is waited on before answering (slow turn).
	block   chan struct{}
	entered chan struct{}
	fail    int // fail this many calls first
	card    bool
}

func (e *echoTurns) Handle(ctx context.Context, t dialogs.Turn, typing func()) ([]dialogs.Reply, error) {
	e.mu.Lock()
	e.turns = append(e.turns, t)
	block, entered := e.block, e.entered
	failNow := e.fail > 0
	if failNow {
		e.fail--
	}
	e.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if failNow {
		return nil, errors.New("database exploded at /var/lib/secret")
	}
	typing()
	switch t.Kind {
	case dialogs.TurnWelcome:
		return []dialogs.Reply{{Text: "welcome"}}, nil
	case dialogs.TurnTimer:
		return []dialogs.Reply{{Text: "timer " + string(t.TimerPayload)}}, nil
	}
	out := []dialogs.Reply{{Text: "echo: " + t.Text}}
	if t.Value != nil {
		b, _ := json.Marshal(t.Value)
		out = append(out, dialogs.Reply{Text: "value: " + string(b)})
	}
	if e.card {
		out = append(out, dialogs.Reply{Card: json.RawMessage(`{"type":"AdaptiveCard","version":"1.5","body":[]}`)})
	}
	return out, nil
}

func (e *echoTurns) Turns() []dialogs.Turn {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dialogs.Turn(nil), e.turns...)
}

// signalSender wraps the real connector client and reports every
// finished call, so tests wait on a channel instead of sleeping.
type signalSender struct {
	Sender
	done chan string // op names

	mu      sync.Mutex
	onReply func(conversationID string)
}

func (s *signalSender) setOnReply(f func(string)) {
	s.mu.Lock()
	s.onReply = f
	s.mu.Unlock()
}

func (s *signalSender) note(op string) {
	select {
	case s.done <- op:
	default:
	}
}

func (s *signalSender) Send(ctx context.Context, u, c string, a *connector.Activity) (string, error) {
	id, err := s.Sender.Send(ctx, u, c, a)
	s.note("send:" + a.Type)
	return id, err
}

func (s *signalSender) Reply(ctx context.Context, u, c, r string, a *connector.Activity) (string, error) {
	id, err := s.Sender.Reply(ctx, u, c, r, a)
	s.mu.Lock()
	f := s.onReply
	s.mu.Unlock()
	if f != nil {
		f(c)
	}
	s.note("reply")
	return id, err
}

func (s *signalSender) Typing(ctx context.Context, u, c string) error {
	err := s.Sender.Typing(ctx, u, c)
	s.note("typing")
	return err
}

func (s *signalSender) Update(ctx context.Context, u, c, id string, a *connector.Activity) error {
	err := s.Sender.Update(ctx, u, c, id, a)
	s.note("update")
	return err
}

// waitOps waits until the sender reported n messages (send:message or
// reply; typing is not counted).
func (s *signalSender) waitMessages(t testing.TB, n int) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for got := 0; got < n; {
		select {
		case op := <-s.done:
			if op == "reply" || op == "send:message" || op == "update" {
				got++
			}
		case <-deadline.C:
			t.Fatalf("timed out waiting for %d messages (got %d)", n, got)
		}
	}
}

// env is a bot server wired to local fakes of Microsoft's endpoints.
type env struct {
	t       testing.TB
	dev     bool
	dbPath  string
	store   store.Store
	turns   *echoTurns
	staff   *fakeStaff
	clock   *msfake.Clock
	openid  *msfake.OpenID
	tokens  *msfake.TokenServer
	conn    *msfake.Connector
	sender  *signalSender
	srv     *Server
	http    *httptest.Server
	cancel  context.CancelFunc
	runDone chan error
}

type envOpts struct {
	dev    bool
	dbPath string
	// storeURL, when set, names the store instead of dbPath (a
	// PostgreSQL schema several instances share).
	storeURL string
	noRun    bool
	turns    *echoTurns
	mutate   func(*Options)
	// reuse takes the Microsoft fakes (and clock) of an earlier env: a
	// restarted process talks to the same cloud.
	reuse *env
	// tenantLimits and convLimits replace Teams' limits in the connector client
	// (the latency benchmark measures the bot, not the limiter).
	tenantLimits, convLimits []connector.Window
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	e := &env{t: t, dev: o.dev, turns: o.turns, staff: &fakeStaff{}}
	if e.turns == nil {
		e.turns = &echoTurns{}
	}
	e.dbPath = o.dbPath
	if e.dbPath == "" {
		e.dbPath = filepath.Join(t.TempDir(), "x.db")
	}
	if o.storeURL != "" {
		st, err := store.Open(context.Background(), o.storeURL)
		if err != nil {
			t.Fatalf("store.Open: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		e.store = st
	} else {
		e.store = openStore(t, e.dbPath)
	}
	urls := NewServiceURLs()
	var conn *connector.Client
	if r := o.reuse; r != nil {
		e.clock, e.openid, e.tokens, e.conn = r.clock, r.openid, r.tokens, r.conn
	} else {
		e.clock = msfake.NewClock(time.Time{})
		e.conn = msfake.NewConnector(t, msfake.ConnectorOptions{TLS: !o.dev})
		if !o.dev {
			e.openid = msfake.NewOpenID(t, msfake.OpenIDOptions{TLS: true})
			e.openid.Now = e.clock.Now
			e.tokens = msfake.NewTokenServer(t, msfake.TokenServerOptions{TenantID: testTenant, ClientID: testAppID, ClientSecret: testSecret})
			e.conn.RequireAuth(e.tokens.ValidBearer)
		}
	}
	if o.dev {
		conn = connector.New(connector.Config{HTTPClient: e.conn.Client(), AllowServiceURL: urls.Allowed, Logger: quietLog()})
	} else {
		cred, err := connector.NewCredential(connector.CredentialOptions{
			AppID: testAppID, Password: testSecret, TenantID: testTenant,
			AuthorityHost: e.tokens.AuthorityHost(), Transport: e.tokens.Client(),
		})
		if err != nil {
			t.Fatalf("NewCredential: %v", err)
		}
		conn = connector.New(connector.Config{
			Credential: cred, HTTPClient: e.conn.Client(), AllowServiceURL: urls.Allowed, Logger: quietLog(),
			TenantLimits: o.tenantLimits, ConversationLimits: o.convLimits,
		})
	}
	e.sender = &signalSender{Sender: conn, done: make(chan string, 1024)}
	opts := Options{
		Dev:            o.dev,
		AppID:          testAppID,
		StaffChannelID: staffChannel,
		Store:          e.store,
		Connector:      e.sender,
		ServiceURLs:    urls,
		Turns:          e.turns,
		Staff:          e.staff,
		Logger:         quietLog(),
		Workers:        2,
	}
	if !o.dev {
		opts.AllowedTenants = []string{testTenant}
		opts.Validator = auth.New(auth.Config{
			AppID: testAppID, MetadataURL: e.openid.MetadataURL(), HTTPClient: e.openid.Client(),
			Now: e.clock.Now, Logger: quietLog(),
		})
		opts.StaffServiceURL = e.conn.ServiceURL()
		opts.StaffTenantID = testTenant
	} else {
		opts.StaffServiceURL = e.conn.ServiceURL()
	}
	if o.mutate != nil {
		o.mutate(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv = srv
	e.http = httptest.NewServer(srv.Handler())
	t.Cleanup(e.http.Close)
	if !o.noRun {
		e.start()
	}
	return e
}

func (e *env) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.runDone = make(chan error, 1)
	go func() { e.runDone <- e.srv.Run(ctx) }()
	e.t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.cancel = nil
	select {
	case err := <-e.runDone:
		if err != nil {
			e.t.Errorf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		e.t.Errorf("Run did not return")
	}
}

// quietLog discards logs unless MFABOT_TEST_LOG is set.
func quietLog() *slog.Logger {
	if os.Getenv("MFABOT_TEST_LOG") != "" {
		return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// activity returns a Teams personal-chat message from a student.
func (e *env) activity(id, text string) map[string]any {
	su := "http://localhost:56150/_connector"
	if e.conn != nil {
		su = e.conn.ServiceURL()
	}
	return map[string]any{
		"type":         "message",
		"id":           id,
		"text":         text,
		"serviceUrl":   su,
		"channelId":    "msteams",
		"locale":       "nl-NL",
		"from":         map[string]any{"id": "29:student", "name": "Sam Student", "aadObjectId": "00000000-0000-0000-0000-000000000042"},
		"recipient":    map[string]any{"id": "28:" + testAppID, "name": "MFA bot"},
		"conversation": map[string]any{"id": "a:conv-1", "conversationType": "personal", "tenantId": testTenant},
		"channelData":  map[string]any{"tenant": map[string]any{"id": testTenant}},
		"entities":     []any{map[string]any{"type": "clientInfo", "platform": "Android", "locale": "nl-NL"}},
	}
}

func (e *env) token(serviceURL string, opts ...msfake.TokenOption) string {
	return "Bearer " + e.openid.SignActivityToken(testAppID, serviceURL, opts...)
}

// post sends an activity to /api/messages; authz "" means none.
func (e *env) post(body []byte, authz string, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+"/api/messages", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: waitTimeout}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// postActivity signs (in production) and posts act.
func (e *env) postActivity(act map[string]any) (*http.Response, []byte) {
	e.t.Helper()
	b, _ := json.Marshal(act)
	authz := ""
	if !e.dev {
		authz = e.token(act["serviceUrl"].(string))
	}
	return e.post(b, authz, nil)
}

// pendingCount counts unfinished inbox entries.
func (e *env) pendingCount() int {
	e.t.Helper()
	items, err := e.store.Pending(context.Background(), 1000)
	if err != nil {
		e.t.Fatalf("Pending: %v", err)
	}
	return len(items)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// texts returns the text of every message the fake Connector received.
func (e *env) texts() []string {
	var out []string
	for _, a := range e.conn.Activities() {
		if a["type"] == "message" {
			s, _ := a["text"].(string)
			out = append(out, s)
		}
	}
	return out
}

// fakeStaff records staff actions and answers with a card.
type fakeStaff struct {
	mu      sync.Mutex
	actions []handoff.StaffAction
}

func (f *fakeStaff) HandleStaffAction(ctx context.Context, a handoff.StaffAction) (json.RawMessage, error) {
	f.mu.Lock()
	f.actions = append(f.actions, a)
	f.mu.Unlock()
	return json.RawMessage(fmt.Sprintf(`{"type":"AdaptiveCard","version":"1.5","body":[{"type":"TextBlock","text":"%s by %s"}]}`, a.Verb, a.ActorName)), nil
}

func (f *fakeStaff) Actions() []handoff.StaffAction {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]handoff.StaffAction(nil), f.actions...)
}

func contains(list []string, want string) bool {
	for _, s := range list {
		if strings.Contains(s, want) {
			return true
		}
	}
	return false
}
