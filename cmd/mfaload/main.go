// Command mfaload measures the mfabot binary under load: it starts the
// built binary in production mode (configured only by YAML and MFABOT_*
// variables, as an operator runs it) against the project's TLS fakes of
// the Bot Framework, Entra ID, the Connector and Graph, and drives N
// concurrent students through the real move-phone journey: the welcome,
// the situation, steps 1-12 with the new phone appearing in Graph at step
// 10 and the old one going at step 11, and the rating. Each student waits
// for the bot's reply and a think time before the next message.
//
// It reports turns/s, reply latency (POST to the card at the Connector)
// p50/p90/p99/max, errors, the bot's CPU per turn and peak RSS, as a
// human summary on stderr and one JSON line on stdout. Everything runs on
// 127.0.0.1 and stops by itself (-max).
//
//	go run ./cmd/mfaload -students 50 -think 1s
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mfabot/graph/graphfake"
	"mfabot/internal/msfake"
)

const (
	appID    = "11111111-2222-3333-4444-555555555555"
	tenantID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	secret   = "load-client-secret"
)

type options struct {
	students int
	journeys int
	think    time.Duration
	probe    time.Duration
	ramp     time.Duration
	tenants  int
	store    string
	bin      string
	max      time.Duration
	cpu      string
	logLevel string
	slow     time.Duration
	turns    int
	first    int
}

func main() {
	var o options
	flag.IntVar(&o.students, "students", 50, "concurrent students, each walking the whole journey once")
	flag.IntVar(&o.journeys, "journeys", 1, "journeys each student walks one after another (each as a new student)")
	flag.DurationVar(&o.think, "think", time.Second, "think time between a reply and the next message (+-20%)")
	flag.IntVar(&o.tenants, "tenants", 1, "spread the students over this many tenants (Teams' limits are per tenant)")
	flag.StringVar(&o.store, "store", "", "store.url for the bot (default: a fresh SQLite file; or postgres://...)")
	flag.StringVar(&o.bin, "bin", "", "the mfabot binary (default: go build ./cmd/mfabot into a temp dir)")
	flag.DurationVar(&o.max, "max", 10*time.Minute, "stop after this long, whatever is left")
	flag.StringVar(&o.cpu, "cpu", "", "pin the bot to these CPUs (taskset -c LIST), e.g. 0")
	flag.StringVar(&o.logLevel, "log-level", "warn", "the bot's log.level")
	flag.IntVar(&o.turns, "turns", 0, "stop each journey after this many turns (1: only the welcome, a cold burst); 0 = the whole journey")
	flag.IntVar(&o.first, "first", 1, "number of the first student (a later run against a kept -store sqlite:PATH uses new students)")
	flag.DurationVar(&o.slow, "slow", 0, "print each turn slower than this (its step and latency) to stderr")
	flag.DurationVar(&o.ramp, "ramp", 0, "start the students spread evenly over this long instead of all at once")
	flag.DurationVar(&o.probe, "probe", 0, "one more student in the first tenant who clicks every PROBE while the others run; its latencies are reported on their own")
	flag.Parse()
	if o.students < 1 || o.students > 2000 || o.journeys < 1 || o.students*o.journeys > 20000 || o.tenants < 1 || o.tenants > o.students || o.first < 1 || o.first > 1<<28 {
		fmt.Fprintln(os.Stderr, "mfaload: want 1 <= -students <= 2000, -students x -journeys <= 20000 and 1 <= -tenants <= -students")
		os.Exit(2)
	}
	res, err := run(context.Background(), o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mfaload:", err)
		os.Exit(1)
	}
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
	if res.Errors > 0 {
		os.Exit(1)
	}
}

// result is the JSON line.
type result struct {
	Students        int     `json:"students"`
	Journeys        int     `json:"journeys"`
	ThinkMS         int64   `json:"think_ms"`
	Tenants         int     `json:"tenants"`
	Store           string  `json:"store"`
	Turns           int     `json:"turns"`
	Errors          int     `json:"errors"`
	Seconds         float64 `json:"seconds"`
	TurnsPerSecond  float64 `json:"turns_per_s"`
	P50MS           float64 `json:"p50_ms"`
	P90MS           float64 `json:"p90_ms"`
	P99MS           float64 `json:"p99_ms"`
	ProbeTurns      int     `json:"probe_turns,omitempty"`
	ProbeP50MS      float64 `json:"probe_p50_ms,omitempty"`
	ProbeP99MS      float64 `json:"probe_p99_ms,omitempty"`
	ProbeMaxMS      float64 `json:"probe_max_ms,omitempty"`
	MaxMS           float64 `json:"max_ms"`
	CPUMSPerTurn    float64 `json:"cpu_ms_per_turn"`
	PeakRSSMiB      float64 `json:"peak_rss_mib"`
	PeakAnonMiB     float64 `json:"peak_anon_mib"`
	ReadyMS         float64 `json:"ready_ms"`
	MessagesPerTurn float64 `json:"messages_per_turn"`
	TypingPerTurn   float64 `json:"typing_per_turn"`
	MetadataFetches int64   `json:"openid_metadata_fetches"`
	JWKSFetches     int64   `json:"jwks_fetches"`
	TokenRequests   int64   `json:"token_requests"`
	Verified        int     `json:"verified_journeys"`
	BotLog          string  `json:"bot_log"`
}

func run(ctx context.Context, o options, out io.Writer) (*result, error) {
	work, err := os.MkdirTemp("", "mfaload-")
	if err != nil {
		return nil, err
	}
	tb := &runTB{}
	defer tb.cleanup()
	keep := false // the work directory (bot log, store) stays when something failed
	defer func() {
		if !keep {
			os.RemoveAll(work)
		}
	}()

	bin := o.bin
	if bin == "" {
		bin = filepath.Join(work, "mfabot")
		fmt.Fprintln(out, "building ./cmd/mfabot ...")
		build := exec.Command("go", "build", "-o", bin, "mfabot/cmd/mfabot")
		build.Stdout, build.Stderr = out, out
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("go build: %w", err)
		}
	}

	// Microsoft, played by the project's TLS fakes.
	openid := msfake.NewOpenID(tb, msfake.OpenIDOptions{TLS: true})
	tokens := msfake.NewTokenServer(tb, msfake.TokenServerOptions{TenantID: tenantID, ClientID: appID, ClientSecret: secret})
	conn := msfake.NewConnector(tb, msfake.ConnectorOptions{TLS: true})
	conn.RequireAuth(tokens.ValidBearer)
	gr := graphfake.New(tb, graphfake.Options{ValidBearer: tokens.ValidBearer})
	ca := msfake.WriteCertificatePEM(tb, work, openid.Server, tokens.Server, conn.Server, gr.Server)

	tenants := make([]string, o.tenants)
	tenants[0] = tenantID
	for i := 1; i < o.tenants; i++ {
		tenants[i] = fmt.Sprintf("%08x-bbbb-cccc-dddd-eeeeeeeeeeee", i)
	}
	storeURL := o.store
	if storeURL == "" {
		storeURL = "sqlite:" + filepath.Join(work, "mfabot.db")
	}
	addr, metricsAddr, err := freeAddr(), freeAddr(), nil
	if addr == "" || metricsAddr == "" {
		return nil, errors.New("no free loopback port")
	}
	yaml := fmt.Sprintf(`mode: production
http:
  addr: %s
  metrics_addr: %s
log:
  level: %s
bot:
  app_id: %s
  tenant_id: %s
  allowed_tenants: %q
  openid_metadata_url: %s
azure:
  authority_host: %s
graph:
  base_url: %s
store:
  url: %q
institution:
  voice_calls: true
`, addr, metricsAddr, o.logLevel, appID, tenantID, strings.Join(tenants, ","), openid.MetadataURL(), tokens.AuthorityHost(), gr.BaseURL(), storeURL)
	cfgPath := filepath.Join(work, "mfabot.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		return nil, err
	}

	// The students and the route of the bot's messages back to them.
	const probeJourneys = 8 // the probe walks new students until the others are done
	nProbe := 0
	if o.probe > 0 {
		nProbe = probeJourneys
	}
	sims := make([]*sim, o.students*o.journeys+nProbe)
	byConv := map[string]*sim{}
	for i := range sims {
		n := o.first + i
		s := &sim{
			oid:     fmt.Sprintf("%08x-1111-4a2b-9c3d-5e6f7a8b9c0d", n),
			tenant:  tenants[(i%o.students)%len(tenants)],
			probe:   i >= o.students*o.journeys,
			replies: make(chan map[string]any, 256),
		}
		if s.probe {
			s.tenant = tenants[0]
		}
		s.userID, s.convID = "29:1"+s.oid[:8], "a:1load-"+s.oid[:8]
		s.oldPhone = fmt.Sprintf("%08x-c096-6803-96c0-036896c00368", n)
		s.newPhone = fmt.Sprintf("%08x-cc33-dd44-ee55-ff6677889900", n)
		gr.SetUser(s.oid, fmt.Sprintf("Student %d", n), fmt.Sprintf("s%07d@student.example.nl", n), "nl-NL")
		gr.AddMethod(s.oid, graphfake.Password(fmt.Sprintf("%08x-6103-485e-b985-444c60001490", n)))
		gr.AddMethod(s.oid, graphfake.Authenticator(s.oldPhone, "iPhone 12"))
		gr.AddMethod(s.oid, graphfake.Phone(fmt.Sprintf("%08x-750b-4051-897c-87b9720928f7", n), "+31 612345678", "mobile"))
		sims[i] = s
		byConv[s.convID] = s
	}
	var messages, typing atomic.Int64
	conn.OnRequest = func(r msfake.ConnectorRequest) {
		if (r.Op != "send" && r.Op != "reply") || r.Body == nil || r.Status >= 300 {
			return
		}
		switch r.Body["type"] {
		case "typing":
			typing.Add(1)
		case "message":
			messages.Add(1)
			if s := byConv[r.ConversationID]; s != nil {
				select {
				case s.replies <- r.Body:
				default: // a student that stopped listening
				}
			}
		}
	}

	// The bot, as systemd would start it.
	logPath := filepath.Join(work, "mfabot.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := []string{bin, "serve"}
	if o.cpu != "" {
		args = append([]string{"taskset", "-c", o.cpu}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "SSL_CERT_FILE=" + ca,
		"MFABOT_CONFIG=" + cfgPath, "MFABOT_BOT_APP_PASSWORD=" + secret}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mfabot: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	}()
	base := "http://" + addr
	if err := waitReady(base, exited); err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	ready := time.Since(started)
	pid := cmd.Process.Pid // taskset execs the bot: the same pid

	// Drive.
	d := &driver{base: base, openid: openid, conn: conn, graph: gr, think: o.think, probe: o.probe, slow: o.slow, out: out, turns: o.turns}
	perJourney := journeyTurns
	if o.turns > 0 {
		perJourney = min(o.turns, journeyTurns)
	}
	d.expected = len(sims) * perJourney
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return nil, err
	}
	msg0, typ0 := messages.Load(), typing.Load()
	anon := sampleAnon(pid)
	defer anon.stop()
	runCtx, cancel := context.WithTimeout(ctx, o.max)
	defer cancel()
	begin := time.Now()
	stopBar := d.progress(out, begin)
	var wg sync.WaitGroup
	for slot := range o.students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o.ramp > 0 {
				select {
				case <-time.After(o.ramp * time.Duration(slot) / time.Duration(o.students)):
				case <-runCtx.Done():
				}
			}
			for j := range o.journeys {
				d.journey(runCtx, sims[j*o.students+slot])
			}
		}()
	}
	probeCtx, stopProbe := context.WithCancel(runCtx)
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		for _, ps := range sims[o.students*o.journeys:] {
			if probeCtx.Err() != nil {
				return
			}
			d.journey(probeCtx, ps)
		}
	}()
	wg.Wait()
	elapsed := time.Since(begin)
	d.probeStopped.Store(true)
	stopProbe()
	<-probeDone
	stopBar()
	cpu1, err := cpuTicks(pid)
	if err != nil {
		return nil, fmt.Errorf("the bot is gone: %w (log: %s)", err, logPath)
	}
	rss, _ := peakRSS(pid)

	lat := d.latencies()
	keep = d.errors.Load() > 0
	res := &result{
		Students: o.students, Journeys: o.journeys, ThinkMS: o.think.Milliseconds(), Tenants: o.tenants, Store: storeKind(storeURL),
		Turns: len(lat), Errors: int(d.errors.Load()), Seconds: elapsed.Seconds(),
		TurnsPerSecond: float64(len(lat)) / elapsed.Seconds(),
		P50MS:          pct(lat, 0.50), P90MS: pct(lat, 0.90), P99MS: pct(lat, 0.99), MaxMS: pct(lat, 1),
		PeakRSSMiB:      rss / 1024,
		PeakAnonMiB:     anon.peak() / 1024,
		ReadyMS:         float64(ready.Microseconds()) / 1000,
		MetadataFetches: openid.MetadataFetches(), JWKSFetches: openid.JWKSFetches(), TokenRequests: tokens.TokenRequests(),
		Verified: int(d.verified.Load()), BotLog: logPath,
	}
	if pl := d.probeLatencies(); len(pl) > 0 {
		res.ProbeTurns, res.ProbeP50MS, res.ProbeP99MS, res.ProbeMaxMS = len(pl), pct(pl, 0.50), pct(pl, 0.99), pct(pl, 1)
	}
	if n := len(lat); n > 0 {
		res.CPUMSPerTurn = float64(cpu1-cpu0) * 1000 / clockTicks / float64(n)
		res.MessagesPerTurn = float64(messages.Load()-msg0) / float64(n)
		res.TypingPerTurn = float64(typing.Load()-typ0) / float64(n)
	}
	fmt.Fprintf(out, "\nmfabot under load: %d concurrent students x %d journey(s) of %d turns (think %s, %d tenant(s), %s)\n",
		o.students, o.journeys, perJourney, o.think, o.tenants, res.Store)
	fmt.Fprintf(out, "  turns        %d in %.1f s = %.1f turns/s, %d errors, %d journeys verified through Graph\n", res.Turns, res.Seconds, res.TurnsPerSecond, res.Errors, res.Verified)
	fmt.Fprintf(out, "  reply ms     p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", res.P50MS, res.P90MS, res.P99MS, res.MaxMS)
	if res.ProbeTurns > 0 {
		fmt.Fprintf(out, "  probe        %d turns of one student clicking every %s beside them: p50 %.1f  p99 %.1f  max %.1f ms\n",
			res.ProbeTurns, o.probe, res.ProbeP50MS, res.ProbeP99MS, res.ProbeMaxMS)
	}
	fmt.Fprintf(out, "  bot          %.2f ms CPU per turn, peak RSS %.1f MiB (of it anonymous: %.1f MiB), ready %.0f ms after start\n",
		res.CPUMSPerTurn, res.PeakRSSMiB, res.PeakAnonMiB, res.ReadyMS)
	fmt.Fprintf(out, "  Connector    %.2f messages and %.2f typing indicators per turn\n", res.MessagesPerTurn, res.TypingPerTurn)
	fmt.Fprintf(out, "  fetches      %d OpenID metadata, %d JWKS, %d tokens\n", res.MetadataFetches, res.JWKSFetches, res.TokenRequests)
	for _, e := range d.firstErrors() {
		fmt.Fprintln(out, "  error:", e)
	}
	return res, nil
}

// sim is one student.
type sim struct {
	probe                       bool // the -probe student: its own think time and latencies
	oid, userID, convID, tenant string
	oldPhone, newPhone          string
	seq                         int
	replies                     chan map[string]any
}

// journeyTurns is the number of turns of the move-phone journey (the
// welcome, the situation, 12 steps and the rating), for the progress bar.
const journeyTurns = 15

type driver struct {
	base     string
	openid   *msfake.OpenID
	conn     *msfake.Connector
	graph    *graphfake.Graph
	think    time.Duration
	expected int
	slow     time.Duration
	out      io.Writer
	turns    int // per journey; 0 = all

	probe    time.Duration // the -probe student's think time
	mu       sync.Mutex
	lat      []time.Duration
	probeLat []time.Duration
	errs     []string
	token    string // the Bot Framework's, reused as the service reuses it
	signedAt time.Time

	done, errors, verified atomic.Int64
	probeStopped           atomic.Bool
}

func (d *driver) fail(s *sim, format string, args ...any) {
	if s.probe && d.probeStopped.Load() {
		return // the others are done: the probe was stopped mid-journey
	}
	d.errors.Add(1)
	d.mu.Lock()
	if len(d.errs) < 5 {
		d.errs = append(d.errs, s.oid[:8]+": "+fmt.Sprintf(format, args...))
	}
	d.mu.Unlock()
}

func (d *driver) firstErrors() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.errs)
}

// latencies and probeLatencies return the recorded reply times, sorted.
func (d *driver) latencies() []time.Duration      { return d.sorted(&d.lat) }
func (d *driver) probeLatencies() []time.Duration { return d.sorted(&d.probeLat) }

func (d *driver) sorted(lat *[]time.Duration) []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := slices.Clone(*lat)
	slices.Sort(out)
	return out
}

// journey walks one student through the move-phone route.
func (d *driver) journey(ctx context.Context, s *sim) {
	act := s.activity("conversationUpdate", d.conn.ServiceURL())
	act["membersAdded"] = []any{map[string]any{"id": "28:" + appID}}
	bs, ok := d.turn(ctx, s, act, true)
	if !ok || d.turns == 1 {
		return
	}
	next := button(bs, "move_phone")
	if next == nil {
		d.fail(s, "no move_phone button on the welcome")
		return
	}
	added, removed := false, false
	for i := range 40 {
		if d.turns > 0 && i+2 > d.turns {
			return
		}
		d.pause(ctx, s)
		a := s.activity("message", d.conn.ServiceURL())
		a["value"], a["replyToId"] = next, "card"
		rating := next["action"] == "rate"
		if bs, ok = d.turn(ctx, s, a, !rating); !ok || rating {
			if ok && added && removed && !s.probe {
				d.verified.Add(1)
			}
			return
		}
		switch stepOf(bs) {
		case "step10":
			if !added {
				d.graph.AddMethod(s.oid, graphfake.Authenticator(s.newPhone, "Pixel 8"))
				added = true
			}
		case "step11":
			if !removed {
				d.graph.RemoveMethod(s.oid, s.oldPhone)
				removed = true
			}
		}
		if r := button(bs, "rate"); r != nil {
			next = r
			continue
		}
		if next = forward(bs); next == nil {
			d.fail(s, "stuck at %q", stepOf(bs))
			return
		}
	}
	d.fail(s, "no end after 40 clicks")
}

func (d *driver) pause(ctx context.Context, s *sim) {
	think := d.think
	if s.probe {
		think = d.probe
	}
	if think <= 0 {
		return
	}
	t := time.NewTimer(time.Duration(float64(think) * (0.8 + 0.4*rand.Float64())))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// bearer is the token on every activity: the Bot Framework service
// signs in once and sends its token (valid an hour) with every activity
// to the bot, whatever the conversation, renewing it before it expires.
func (d *driver) bearer() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.token == "" || time.Since(d.signedAt) > 30*time.Minute {
		d.token, d.signedAt = d.openid.SignActivityToken(appID, d.conn.ServiceURL()), time.Now()
	}
	return d.token
}

// turn posts act and waits for the reply: the message with a card of
// buttons (wantCard), or any message. It records the latency.
func (d *driver) turn(ctx context.Context, s *sim, act map[string]any, wantCard bool) ([]map[string]any, bool) {
	if ctx.Err() != nil {
		d.fail(s, "out of time (-max)")
		return nil, false
	}
	// Anything still queued belongs to an earlier turn.
	for len(s.replies) > 0 {
		<-s.replies
	}
	body, _ := json.Marshal(act)
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+d.bearer())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.fail(s, "POST: %v", err)
		return nil, false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		d.fail(s, "POST answered %d", resp.StatusCode)
		return nil, false
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case m := <-s.replies:
			bs := buttons(m)
			if wantCard && len(bs) == 0 {
				continue
			}
			took := time.Since(start)
			d.mu.Lock()
			if s.probe {
				d.probeLat = append(d.probeLat, took)
			} else {
				d.lat = append(d.lat, took)
			}
			d.mu.Unlock()
			if d.slow > 0 && took > d.slow {
				fmt.Fprintf(d.out, "slow turn: %s %s -> %s: %s\n", s.oid[:8], what(act), stepOf(bs), took.Round(time.Millisecond))
			}
			if !s.probe {
				d.done.Add(1)
			}
			return bs, true
		case <-timeout.C:
			d.fail(s, "no reply within 30 s")
			return nil, false
		case <-ctx.Done():
			d.fail(s, "out of time (-max)")
			return nil, false
		}
	}
}

// what names the student's side of a turn for -slow.
func what(act map[string]any) string {
	if v, ok := act["value"].(map[string]any); ok {
		return fmt.Sprintf("click %v@%v", v["action"], v["step"])
	}
	return fmt.Sprint(act["type"])
}

func (s *sim) activity(typ, serviceURL string) map[string]any {
	s.seq++
	return map[string]any{
		"type": typ, "id": fmt.Sprintf("f:%s-%d", s.oid[:8], s.seq), "channelId": "msteams",
		"serviceUrl": serviceURL, "timestamp": time.Now().UTC().Format(time.RFC3339Nano), "locale": "nl-NL",
		"from":         map[string]any{"id": s.userID, "name": "Student", "aadObjectId": s.oid},
		"recipient":    map[string]any{"id": "28:" + appID, "name": "MFA-hulp"},
		"conversation": map[string]any{"id": s.convID, "conversationType": "personal", "tenantId": s.tenant},
		"channelData":  map[string]any{"tenant": map[string]any{"id": s.tenant}},
		"entities":     []any{map[string]any{"type": "clientInfo", "locale": "nl-NL", "platform": "Windows"}},
	}
}

// progress draws a bar on out until the returned stop is called.
func (d *driver) progress(out io.Writer, begin time.Time) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	// A bar redrawn in place on a terminal, a line every 5 s elsewhere.
	every, end := 5*time.Second, "\n"
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			every, end = 250*time.Millisecond, ""
		}
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			done := int(d.done.Load())
			frac := min(1, float64(done)/float64(max(1, d.expected)))
			bar := strings.Repeat("#", int(frac*30)) + strings.Repeat(".", 30-int(frac*30))
			fmt.Fprintf(out, "\r[%s] %d/%d turns  %.0f turns/s  %d errors %s", bar, done, d.expected,
				float64(done)/time.Since(begin).Seconds(), d.errors.Load(), end)
			select {
			case <-quit:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// buttons returns the Action.Submit data of an activity's cards.
func buttons(act map[string]any) []map[string]any {
	var out []map[string]any
	atts, _ := act["attachments"].([]any)
	for _, att := range atts {
		m, _ := att.(map[string]any)
		content, _ := m["content"].(map[string]any)
		actions, _ := content["actions"].([]any)
		for _, a := range actions {
			am, _ := a.(map[string]any)
			if data, ok := am["data"].(map[string]any); ok && am["type"] == "Action.Submit" {
				out = append(out, data)
			}
		}
	}
	return out
}

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

// forward is the button that moves the journey on.
func forward(bs []map[string]any) map[string]any {
	if b := button(bs, "done", "continue", "yes"); b != nil {
		return b
	}
	for _, b := range bs {
		switch b["action"] {
		case "failed", "explain", "human", "stop", "back", "restart", "retry", "help", "no":
		default:
			return b
		}
	}
	return nil
}

func stepOf(bs []map[string]any) string {
	for _, b := range bs {
		if st, ok := b["step"].(string); ok {
			return st
		}
	}
	return ""
}

func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return float64(sorted[i].Microseconds()) / 1000
}

func storeKind(url string) string {
	if strings.HasPrefix(url, "sqlite:") {
		return "sqlite"
	}
	return "postgres"
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times (100 on
// Linux everywhere in practice).
const clockTicks = 100

// cpuTicks is the user + system CPU time of pid so far.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may contain spaces) in parentheses.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s, nil
}

// peakRSS is VmHWM of pid, in KiB.
// anonSampler keeps the highest RssAnon of a process (kB), sampled every
// 50 ms. Peak RSS (VmHWM) also counts the pages of the binary (185 MB with
// msgraph-sdk-go) that are mapped in, which depends on the page cache;
// anonymous memory is what the bot allocates.
type anonSampler struct {
	mu   sync.Mutex
	max  float64
	done chan struct{}
}

func sampleAnon(pid int) *anonSampler {
	a := &anonSampler{done: make(chan struct{})}
	re := regexp.MustCompile(`RssAnon:\s+(\d+) kB`)
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				if m := re.FindSubmatch(b); m != nil {
					v, _ := strconv.ParseFloat(string(m[1]), 64)
					a.mu.Lock()
					a.max = max(a.max, v)
					a.mu.Unlock()
				}
			}
			select {
			case <-a.done:
				return
			case <-t.C:
			}
		}
	}()
	return a
}

func (a *anonSampler) peak() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.max
}

func (a *anonSampler) stop() {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
}

func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0, errors.New("no VmHWM")
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v, nil
}

func waitReady(base string, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("mfabot exited before it was ready")
		default:
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("mfabot not ready within 30 s")
}

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runTB lets the test fakes run outside a test: they need only Helper,
// Cleanup and Fatal of testing.TB (the embedded interface is never called
// for anything else).
type runTB struct {
	testing.TB
	mu       sync.Mutex
	cleanups []func()
}

func (t *runTB) Helper() {}

func (t *runTB) Cleanup(f func()) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}

func (t *runTB) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"mfaload:"}, args...)...)
	os.Exit(1)
}

func (t *runTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mfaload: "+format+"\n", args...)
	os.Exit(1)
}

func (t *runTB) cleanup() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}
