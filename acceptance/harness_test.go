// Package acceptance tests the mfabot binary as an operator runs it: built
// once with `go build ./cmd/mfabot`, started as a separate process,
// configured only by a YAML file and MFABOT_* environment variables (the
// names docs/deploy.md gives), talking to Microsoft over TLS - here the
// project's own TLS fakes, trusted through SSL_CERT_FILE. The tests see
// only what comes out of the process's HTTP ports, its exit status and
// what the fakes received: no test hooks, no injected clients.
package acceptance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mfabot/graph/graphfake"
	"mfabot/internal/msfake"
)

// binary is the mfabot built once for the whole suite.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mfabot-acceptance-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "mfabot")
	build := exec.Command("go", "build", "-o", binary, "mfabot/cmd/mfabot")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "acceptance: go build ./cmd/mfabot:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "acceptance: built %s in %s\n", binary, time.Since(start).Round(time.Millisecond))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The tenant, the bot's app registration and the staff channel of the
// school in every scenario.
const (
	appID     = "11111111-2222-3333-4444-555555555555"
	tenantID  = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	secret    = "acceptance-client-secret"
	staffChan = "19:servicedesk@thread.tacv2"
)

// microsoft is the Microsoft side of one scenario: the Bot Framework's
// OpenID metadata and keys, Entra ID's token endpoint, the Connector and
// Graph, all over TLS, and the CA file a process trusts them with.
type microsoft struct {
	openid *msfake.OpenID
	tokens *msfake.TokenServer
	conn   *msfake.Connector
	graph  *graphfake.Graph
	caFile string
}

func newMicrosoft(t *testing.T, tokenOpts msfake.TokenServerOptions) *microsoft {
	t.Helper()
	m := &microsoft{}
	m.openid = msfake.NewOpenID(t, msfake.OpenIDOptions{TLS: true})
	if tokenOpts.TenantID == "" {
		tokenOpts.TenantID = tenantID
	}
	if tokenOpts.ClientID == "" {
		tokenOpts.ClientID = appID
	}
	m.tokens = msfake.NewTokenServer(t, tokenOpts)
	m.conn = msfake.NewConnector(t, msfake.ConnectorOptions{TLS: true})
	m.conn.RequireAuth(m.tokens.ValidBearer)
	m.graph = graphfake.New(t, graphfake.Options{ValidBearer: m.tokens.ValidBearer})
	m.caFile = msfake.WriteCertificatePEM(t, t.TempDir(), m.openid.Server, m.tokens.Server, m.conn.Server, m.graph.Server)
	return m
}

// productionYAML is the configuration file of docs/deploy.md section 4,
// with Microsoft's endpoints pointed at the fakes (as for a sovereign
// cloud) and the store given. Secrets come from the environment.
func (m *microsoft) productionYAML(storeURL string, extra string) string {
	return fmt.Sprintf(`mode: production
http:
  addr: 127.0.0.1:0
  metrics_addr: 127.0.0.1:0
bot:
  app_id: %s
  tenant_id: %s
  openid_metadata_url: %s
azure:
  authority_host: %s
graph:
  base_url: %s
store:
  url: %q
staff:
  channel_id: %q
  service_url: %s
institution:
  voice_calls: true
%s`, appID, tenantID, m.openid.MetadataURL(), m.tokens.AuthorityHost(), m.graph.BaseURL(), storeURL, staffChan, m.conn.ServiceURL(), extra)
}

// secretEnv is the environment file of docs/deploy.md: the client secret.
func secretEnv() map[string]string {
	return map[string]string{"MFABOT_BOT_APP_PASSWORD": secret}
}

// process is one running mfabot.
type process struct {
	t       *testing.T
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port of http.addr
	metrics string // http://127.0.0.1:port of http.metrics_addr
	logs    *logBuffer
	exited  chan struct{}
	err     error // the exit status, once exited is closed
}

// run starts the binary with args, a configuration file holding yaml
// (none when yaml is empty) and exactly the environment env plus PATH,
// HOME, TMPDIR and SSL_CERT_FILE=caFile (none of the test's own MFABOT_*
// variables leak in). It does not wait for anything.
func run(t *testing.T, caFile, yaml string, env map[string]string, args ...string) *process {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + os.TempDir()}
	if caFile != "" {
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+caFile)
	}
	if yaml != "" {
		path := filepath.Join(dir, "mfabot.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "MFABOT_CONFIG="+path)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{t: t, cmd: cmd, logs: &logBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = p.logs
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mfabot: %v", err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if p.running() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.exited:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-p.exited
				t.Errorf("mfabot did not stop within 30 s of SIGTERM")
			}
		}
		if t.Failed() {
			t.Logf("mfabot output (last 60 lines):\n%s", p.logs.tail(60))
		}
	})
	return p
}

// serve starts `mfabot serve` and waits until it is ready (/readyz 200).
func serve(t *testing.T, caFile, yaml string, env map[string]string) *process {
	t.Helper()
	p := run(t, caFile, yaml, env, "serve")
	p.waitReady()
	return p
}

// started is the log line that names the listen addresses.
var started = regexp.MustCompile(`"msg":"mfabot started".*?"addr":"([^"]+)".*?"metrics":"([^"]+)"`)

func (p *process) waitReady() {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.base == "" {
		if m := started.FindStringSubmatch(p.logs.String()); m != nil {
			p.base, p.metrics = "http://"+m[1], "http://"+m[2]
			break
		}
		p.mustRun("start")
		if time.Now().After(deadline) {
			p.t.Fatalf("mfabot did not log its start within 30 s:\n%s", p.logs.tail(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		p.mustRun("become ready")
		if time.Now().After(deadline) {
			p.t.Fatalf("mfabot not ready within 30 s (last: %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// mustRun fails the test if the process has exited (a crash).
func (p *process) mustRun(doing string) {
	p.t.Helper()
	if !p.running() {
		p.t.Fatalf("mfabot exited (%v) while waiting to %s:\n%s", p.err, doing, p.logs.tail(40))
	}
}

// kill ends the process with SIGKILL (a crash, no shutdown).
func (p *process) kill() {
	p.t.Helper()
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// stop sends SIGTERM and waits for the exit; it returns the exit error.
func (p *process) stop(within time.Duration) error {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(within):
		p.t.Fatalf("mfabot did not stop within %s of SIGTERM", within)
		return nil
	}
}

// metric sums the samples of a Prometheus metric on /metrics whose
// labels contain all of the given name="value" pairs.
func (p *process) metric(name string, labels ...string) float64 {
	p.t.Helper()
	resp, err := http.Get(p.metrics + "/metrics")
	if err != nil {
		p.mustRun("serve /metrics")
		p.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // another metric with this prefix
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		f := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// turnsOK is how many turns of students and timers this process finished.
func (p *process) turnsOK() float64 {
	return p.metric("mfabot_bot_turns_total", `result="ok"`)
}

// logBuffer collects a process's output; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(l.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 600 {
			lines[i] = l[:600] + " ..."
		}
	}
	return strings.Join(lines, "\n")
}

// student is one Teams user in a personal chat with the bot.
type student struct {
	t      *testing.T
	ms     *microsoft
	oid    string
	userID string
	name   string
	convID string
	tenant string
	locale string
	seq    int
	// to is the process this student's requests go to; set it to spread a
	// conversation over several instances.
	to *process
}

func (m *microsoft) student(t *testing.T, p *process, oid, name string) *student {
	return &student{t: t, ms: m, oid: oid, userID: "29:1" + oid[:8], name: name,
		convID: "a:1personal-" + oid[:8], tenant: tenantID, locale: "nl-NL", to: p}
}

// activity is a Teams activity from this student, as the channel sends it.
func (s *student) activity(typ string) map[string]any {
	s.seq++
	return map[string]any{
		"type": typ, "id": fmt.Sprintf("f:%s-%d", s.oid[:8], s.seq), "channelId": "msteams",
		"serviceUrl": s.ms.conn.ServiceURL(), "timestamp": time.Now().UTC().Format(time.RFC3339Nano), "locale": s.locale,
		"from":         map[string]any{"id": s.userID, "name": s.name, "aadObjectId": s.oid},
		"recipient":    map[string]any{"id": "28:" + appID, "name": "MFA-hulp"},
		"conversation": map[string]any{"id": s.convID, "conversationType": "personal", "tenantId": s.tenant},
		"channelData":  map[string]any{"tenant": map[string]any{"id": s.tenant}},
		"entities":     []any{map[string]any{"type": "clientInfo", "locale": s.locale, "platform": "Windows"}},
	}
}

// post sends act to p as the Bot Framework channel does (a signed token)
// and returns the status and body of the answer.
func (s *student) post(p *process, act map[string]any) (int, string) {
	s.t.Helper()
	body, _ := json.Marshal(act)
	return postRaw(s.t, p, body, "Bearer "+s.ms.openid.SignActivityToken(appID, s.ms.conn.ServiceURL()))
}

func postRaw(t *testing.T, p *process, body []byte, authorization string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.mustRun("answer a POST")
		t.Fatalf("POST /api/messages: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// turn posts act to the student's process, waits until that process has
// finished the turn (its turn counter on /metrics moved) and returns the
// messages the bot sent to this conversation in the meantime.
func (s *student) turn(act map[string]any) []map[string]any {
	s.t.Helper()
	p := s.to
	before, turns := len(s.sent()), p.turnsOK()
	if code, body := s.post(p, act); code != http.StatusOK {
		s.t.Fatalf("POST answered %d: %s", code, body)
	}
	s.waitTurn(p, turns, before)
	return s.sent()[before:]
}

func (s *student) waitTurn(p *process, turns float64, before int) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.turnsOK() <= turns || len(s.sent()) <= before {
		p.mustRun("answer")
		if time.Now().After(deadline) {
			s.t.Fatalf("no answer within 30 s (turns %v -> %v, messages %d -> %d)", turns, p.turnsOK(), before, len(s.sent()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *student) say(text string) []map[string]any {
	a := s.activity("message")
	a["text"] = text
	return s.turn(a)
}

func (s *student) click(data map[string]any) []map[string]any {
	a := s.activity("message")
	a["value"] = data
	a["replyToId"] = "card"
	return s.turn(a)
}

func (s *student) welcome() []map[string]any {
	a := s.activity("conversationUpdate")
	a["membersAdded"] = []any{map[string]any{"id": "28:" + appID}}
	return s.turn(a)
}

// sent returns the message activities the bot sent to this conversation.
func (s *student) sent() []map[string]any {
	var out []map[string]any
	for _, r := range s.ms.conn.Requests() {
		if r.ConversationID != s.convID || (r.Op != "send" && r.Op != "reply") || r.Status >= 300 {
			continue
		}
		if r.Body != nil && r.Body["type"] == "message" {
			out = append(out, r.Body)
		}
	}
	return out
}

// texts flattens the texts, card text blocks and button titles of activities.
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

// button returns the first button whose data has any value in want.
func button(bs []map[string]any, want ...string) map[string]any {
	for _, w := range want {
		for _, b := range bs {
			for _, v := range b {
				if v == w {
					return b
				}
			}
		}
	}
	return nil
}

// stepOf is the step a card's buttons belong to ("" if none says).
func stepOf(bs []map[string]any) string {
	for _, b := range bs {
		if st, ok := b["step"].(string); ok {
			return st
		}
	}
	return ""
}

// staffCards are the cards the bot posted to the staff channel.
func (m *microsoft) staffCards() []msfake.ConnectorRequest {
	var out []msfake.ConnectorRequest
	for _, r := range m.conn.Requests() {
		if r.Op == "create_conversation" && strings.Contains(string(r.Raw), staffChan) && r.Status < 300 {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, p *process, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		if p != nil {
			p.mustRun(what)
		}
		if ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
