package dialogs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"mfabot/dialogs/intent"
	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/internal/safe"
	"mfabot/redact"
	"mfabot/store"
)

var (
	metricGraphReads = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_dialogs_graph_reads_total",
		Help: "Directory reads by the conversation, by check point and result (ok, forbidden, not_found, throttled, unavailable, error).",
	}, []string{"point", "result"})
	metricOutcomes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_dialogs_outcomes_total",
		Help: "Ended conversation sessions by outcome.",
	}, []string{"outcome"})
	metricHandoffs = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_dialogs_handoffs_total",
		Help: "Hand-offs to the service desk by reason.",
	}, []string{"reason"})
	metricStateResets = promauto.NewCounter(prometheus.CounterOpts{
		Name: "mfabot_dialogs_state_resets_total",
		Help: "Conversations reset because their state belonged to another flow version.",
	})
	metricSecrets = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_dialogs_secrets_withheld_total",
		Help: "Student messages that looked like a secret and were not stored, by kind.",
	}, []string{"kind"})
)

// RunnerOptions configure a Runner. Store, Directory and Escalator are
// required; Classifier and Answerer may be nil (keywords only, the
// texts' own explanations).
type RunnerOptions struct {
	Store      turnStore
	Directory  graph.Directory
	Escalator  Escalator
	Classifier Classifier
	Answerer   Answerer
	Settings   Settings
	Now        func() time.Time
	Logger     *slog.Logger
	// GraphTimeout bounds each directory call (default 8 s); LLMTimeout
	// each Classifier/Answerer call (default 12 s).
	GraphTimeout time.Duration
	LLMTimeout   time.Duration
}

// Runner executes turns: it loads the conversation, runs the engine,
// executes the effects, records what happened and saves the state.
type Runner struct {
	o      RunnerOptions
	engine Engine
	log    *slog.Logger
}

// NewRunner checks the options and the flow.
func NewRunner(o RunnerOptions) (*Runner, error) {
	switch {
	case o.Store == nil:
		return nil, errors.New("dialogs: runner needs a store")
	case o.Directory == nil:
		return nil, errors.New("dialogs: runner needs a directory")
	case o.Escalator == nil:
		return nil, errors.New("dialogs: runner needs an escalator")
	}
	if err := Validate(); err != nil {
		return nil, fmt.Errorf("dialogs: flow is invalid: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.GraphTimeout <= 0 {
		o.GraphTimeout = 8 * time.Second
	}
	if o.LLMTimeout <= 0 {
		o.LLMTimeout = 12 * time.Second
	}
	return &Runner{o: o, engine: Engine{Settings: o.Settings, Classify: o.Classifier != nil}, log: o.Logger}, nil
}

// Handle runs one turn and returns the replies to send, in order. typing
// (may be nil) is called before a directory or LLM call. An error means
// nothing was saved; the caller may retry the turn. A turn whose
// ActivityID was applied before (one of the conversation's last
// activities) is not applied again: no replies, no error.
func (r *Runner) Handle(ctx context.Context, t Turn, typing func()) ([]Reply, error) {
	if typing == nil {
		typing = func() {}
	}
	id := t.Ref.ConversationID
	if id == "" {
		return nil, errors.New("dialogs: turn without a conversation id")
	}
	if t.At.IsZero() {
		t.At = r.o.Now()
	}
	// studentWritten: the student's line went to the transcript ahead of
	// the turn (an escalation carries it); a rerun does not write it again.
	studentWritten := false
	for attempt := 0; ; attempt++ {
		conv, err := r.o.Store.GetConversation(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			conv = store.Conversation{ID: id, Ref: t.Ref}
		case err != nil:
			return nil, fmt.Errorf("dialogs: load conversation: %w", err)
		}
		if conv.Ref.ConversationID == "" {
			conv.Ref = t.Ref
		}
		prev := DecodeState(conv.State)
		if prev.seen(t.ActivityID) {
			// Applied and saved before; the inbox entry was delivered
			// again (the process died between the save and sending, or
			// before marking the entry done). Not applied again. The
			// newest activity's replies are sent again: the student may
			// never have had them, and a repeat beats silence.
			if t.ActivityID == prev.LastActivityID {
				r.log.Info("activity applied before; its replies sent again", "conversation", shortID(id), "activity_id", t.ActivityID, "replies", len(prev.LastReplies))
				return slices.Clone(prev.LastReplies), nil
			}
			r.log.Info("activity applied before; not applied again", "conversation", shortID(id), "activity_id", t.ActivityID)
			return nil, nil
		}
		// The engine never touches these; it may reset the rest.
		prevSeen, prevLastID, prevLastReplies := prev.Seen, prev.LastActivityID, prev.LastReplies
		res := r.run(ctx, conv, prev, t, typing, &studentWritten)
		// From the loaded state: the engine may have reset its own.
		res.state.Seen = remember(prevSeen, t.ActivityID)
		replies := r.render(t, res)
		res.state.LastActivityID, res.state.LastReplies = prevLastID, prevLastReplies
		if t.ActivityID != "" {
			res.state.LastActivityID, res.state.LastReplies = t.ActivityID, boundReplies(replies)
		}
		if !keepLastReplies(res.state) {
			// The replies hold the name, device names, a masked number:
			// not kept in the state beyond the session.
			res.state.LastActivityID, res.state.LastReplies = "", nil
		}
		raw, err := json.Marshal(res.state)
		if err != nil {
			return nil, fmt.Errorf("dialogs: encode state: %w", err)
		}
		conv.State = raw
		// One transaction: the state and everything the turn recorded.
		tw := store.TurnWrite{Conversation: conv, Ops: r.records(conv, t, res, replies, studentWritten)}
		if _, err := r.o.Store.SaveTurn(ctx, tw); err != nil {
			if errors.Is(err, store.ErrConflict) && attempt == 0 {
				r.log.Info("conversation changed meanwhile; turn run again", "conversation", shortID(id))
				continue
			}
			return nil, fmt.Errorf("dialogs: save conversation: %w", err)
		}
		for _, e := range res.writes {
			if e.Kind == EffEndSession {
				metricOutcomes.WithLabelValues(e.Outcome).Inc()
			}
		}
		return replies, nil
	}
}

// HandleTimer runs a due timer of the store as a turn (for callers that
// poll store.DueTimers themselves, like the terminal chat) and deletes it.
func (r *Runner) HandleTimer(ctx context.Context, tm store.Timer, typing func()) (store.ConversationRef, []Reply, error) {
	conv, err := r.o.Store.GetConversation(ctx, tm.ConversationID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			_ = r.o.Store.DeleteTimer(ctx, tm.ID)
		}
		return store.ConversationRef{}, nil, fmt.Errorf("dialogs: timer %d: %w", tm.ID, err)
	}
	ref := conv.Ref
	ref.ConversationID = tm.ConversationID
	replies, err := r.Handle(ctx, Turn{Ref: ref, Kind: TurnTimer, TimerPayload: tm.Payload, At: tm.Due}, typing)
	if err != nil {
		return ref, nil, err
	}
	if err := r.o.Store.DeleteTimer(ctx, tm.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		r.log.Warn("delete timer", "timer", tm.ID, "err", err)
	}
	return ref, replies, nil
}

// DueTimers returns the due timers of one conversation (the terminal
// chat runs its own; the bot's worker polls the store for all).
func (r *Runner) DueTimers(ctx context.Context, conversationID string, now time.Time) ([]store.Timer, error) {
	return r.o.Store.DueTimersOf(ctx, conversationID, now)
}

// State returns a conversation's dialog state (a fresh one when the
// conversation is not stored yet).
func (r *Runner) State(ctx context.Context, conversationID string) (State, error) {
	c, err := r.o.Store.GetConversation(ctx, conversationID)
	if errors.Is(err, store.ErrNotFound) {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	return DecodeState(c.State), nil
}

// result of the engine part of a turn, before anything is written.
type result struct {
	state  State
	outs   []Out
	writes []Effect // stored with the state, in order
	// after[i] are the outs that came after writes[i] was asked for.
	after   map[int][]Out
	student string // the transcript line for the student's message
}

// run runs the engine (on state, the loaded one) and the effects whose
// results feed back into it (directory reads, the answerer, the
// escalation); the other effects are collected to be stored with the
// state.
func (r *Runner) run(ctx context.Context, conv store.Conversation, state State, t Turn, typing func(), studentWritten *bool) result {
	res := result{after: map[int][]Out{}}
	in, ok := r.input(state, t, &res)
	if !ok {
		res.state = state
		return res
	}
	if state.FlowVersion != 0 && (state.FlowVersion != FlowVersion || lookupStep(state.Step) == nil) {
		metricStateResets.Inc()
		r.log.Info("conversation state from another flow version reset", "conversation", shortID(conv.ID), "version", state.FlowVersion, "step", state.Step)
	}
	queue := []Input{in}
	for n := 0; len(queue) > 0 && n < 16; n++ {
		cur := queue[0]
		queue = queue[1:]
		var outs []Out
		var effs []Effect
		state, outs, effs = r.engine.Step(state, cur)
		r.addOuts(&res, outs)
		for _, e := range effs {
			switch e.Kind {
			case EffReadMethods:
				typing()
				queue = append(queue, r.readMethods(ctx, conv.Ref, e.Point, t.At))
			case EffAnswer:
				queue = append(queue, r.answer(ctx, state, e, t, typing))
			case EffClassify:
				queue = append(queue, r.classify(ctx, state, cur, e, t, typing))
			case EffEscalate:
				// Before the save: the escalation must exist even if the
				// process dies now; a rerun after a conflict finds the
				// same open escalation (handoff deduplicates). The
				// student's line goes first, so that the escalation
				// carries their last message (redacted).
				if res.student != "" && !*studentWritten {
					*studentWritten = true
					if err := r.o.Store.AppendTranscript(ctx, store.TranscriptLine{ConversationID: conv.ID, Role: "student", Text: capLine(res.student), At: t.At}); err != nil {
						r.log.Warn("transcript", "err", err)
					}
				}
				queue = append(queue, r.escalate(ctx, conv, state, e, t))
			case EffSimulateDone:
				if sim, ok := r.o.Directory.(graph.Simulator); ok && conv.Ref.UserAADObjectID != "" {
					sim.SimulateStepDone(conv.Ref.UserAADObjectID, e.Step)
				}
			default:
				res.writes = append(res.writes, e)
			}
		}
	}
	res.state = state
	return res
}

func (r *Runner) addOuts(res *result, outs []Out) {
	if len(outs) == 0 {
		return
	}
	if n := len(res.writes); n > 0 {
		res.after[n-1] = append(res.after[n-1], outs...)
		return
	}
	res.outs = append(res.outs, outs...)
}

// input turns a Turn into the engine's Input; ok is false for a turn
// that has nothing to say (a timer of an older session).
func (r *Runner) input(s State, t Turn, res *result) (Input, bool) {
	in := Input{At: t.At, ConversationID: t.Ref.ConversationID, Platform: t.Platform, Locale: t.Ref.Locale, LangChoice: t.Lang}
	switch t.Kind {
	case TurnWelcome:
		in.Kind = InStart
		return in, true
	case TurnTimer:
		var p TimerPayload
		if err := json.Unmarshal(t.TimerPayload, &p); err != nil || p.Session != s.SessionID {
			return in, false
		}
		in.Kind, in.Point, in.Attempt = InTimer, p.Point, p.Attempt
		return in, true
	}
	if step, action, score, view, ok := buttonOf(t.Value); ok {
		in.Kind, in.Step, in.Action, in.Score, in.View = InButton, step, Action(action), score, view
		res.student = buttonLine(step, Action(action))
		return in, true
	}
	in.Kind = InText
	in.Text = strings.TrimSpace(t.Text)
	if kind, found := intent.DetectSecret(in.Text, s.Step == guideID(9)); found {
		in.Secret = true
		in.Text = ""
		res.student = "[withheld: " + kind + "]"
		metricSecrets.WithLabelValues(kind).Inc()
		return in, true
	}
	res.student = redact.Text(in.Text)
	in.TextLang = intent.DetectLanguage(in.Text)
	in.Restored = intent.Restored(in.Text)
	return in, true
}

// classify asks the classifier about the text of in, under intent's
// guardrails (ClassifyIn), and returns it as InClassified.
func (r *Runner) classify(ctx context.Context, s State, in Input, e Effect, t Turn, typing func()) Input {
	typing()
	cctx, cancel := context.WithTimeout(redact.WithNames(ctx, s.UserName, t.Ref.UserName), r.o.LLMTimeout)
	defer cancel()
	in.Kind, in.Reading = InClassified, intent.ClassifyIn(cctx, e.Where, e.Reading, e.Lang, r.o.Classifier)
	return in
}

// buttonActions are the actions of mfabot's buttons (the welcome card's
// are the situations).
var buttonActions = []Action{ActDone, ActFailed, ActExplain, ActYes, ActNo, ActSkip, ActRetry, ActContinue,
	ActHuman, ActRestart, ActReadd, ActPairLink, ActSolved, ActNotSolved, ActRate, ActSignInPath}

// buttonLine is the transcript line of a click. The data of an
// Action.Submit is the client's to send: only a known action and step
// are written, never what a crafted payload carries.
func buttonLine(step string, a Action) string {
	if lookupStep(step) == nil || !(slices.Contains(buttonActions, a) || isSituation(intent.Intent(a))) {
		return "[unknown button]"
	}
	return "[" + string(a) + " @ " + step + "]"
}

// maxTranscriptLine bounds one transcript line (bytes).
const maxTranscriptLine = 4000

// capLine cuts s to maxTranscriptLine bytes at a character boundary.
func capLine(s string) string {
	if len(s) <= maxTranscriptLine {
		return s
	}
	cut := maxTranscriptLine - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// buttonOf reads an Action.Submit value of one of mfabot's cards.
func buttonOf(v map[string]any) (step, action string, score, view int, ok bool) {
	if v == nil {
		return "", "", 0, 0, false
	}
	step, _ = v["step"].(string)
	action, _ = v["action"].(string)
	if step == "" || action == "" {
		return "", "", 0, 0, false
	}
	return step, action, intOf(v["score"]), intOf(v["v"]), true
}

// intOf reads a number of a card's data (JSON gives float64).
func intOf(x any) int {
	var n int
	switch x := x.(type) {
	case float64:
		n = int(x)
	case int:
		n = x
	case json.Number:
		i, _ := x.Int64()
		n = int(i)
	case string:
		fmt.Sscan(x, &n)
	}
	return n
}

var privacyCues = []string{
	"privacy", "opgeslagen", "opslaan", "sla je op", "sla jij op", "slaan jullie", "bewaar je", "bewaren jullie",
	"wat weet je over mij", "weten jullie over mij", "mijn gegevens", "persoonsgegevens", "gegevens over mij",
	"stored", "do you store", "you keep", "do you keep", "my data", "personal data", "know about me", "data about me",
}

func asksPrivacy(text string) bool {
	t := strings.ToLower(text)
	for _, c := range privacyCues {
		if strings.Contains(t, c) {
			return true
		}
	}
	return false
}

// readMethods reads the student's account under a deadline; a failure
// becomes Failed (the conversation continues without the check).
func (r *Runner) readMethods(ctx context.Context, ref store.ConversationRef, point string, at time.Time) Input {
	in := Input{Kind: InMethods, Point: point, At: at, Simulated: graph.IsSimulation(r.o.Directory)}
	uid := ref.UserAADObjectID
	if uid == "" {
		metricGraphReads.WithLabelValues(point, "no_user").Inc()
		in.Failed = true
		return in
	}
	gctx, cancel := context.WithTimeout(ctx, r.o.GraphTimeout)
	defer cancel()
	// At the start the user and the methods are read at once: the welcome
	// waits for one Graph round trip, not two.
	var user *graph.User
	userRead := make(chan struct{})
	if point == PointStart {
		go func() {
			defer close(userRead)
			defer safe.Recover(r.log, "directory user")
			if u, err := r.o.Directory.User(gctx, uid); err == nil {
				user = &u
			} else {
				r.log.Warn("directory: user not read", "point", point, "cause", graphCause(err), "err", err)
			}
		}()
	} else {
		close(userRead)
	}
	ms, err := r.o.Directory.Methods(gctx, uid)
	<-userRead
	in.User = user
	if err != nil {
		cause := graphCause(err)
		metricGraphReads.WithLabelValues(point, cause).Inc()
		r.log.Warn("directory: methods not read; continuing without the check", "point", point, "cause", cause, "err", err)
		in.Failed = true
		return in
	}
	metricGraphReads.WithLabelValues(point, "ok").Inc()
	in.Methods = ms
	return in
}

func graphCause(err error) string {
	switch {
	case errors.Is(err, graph.ErrForbidden):
		return "forbidden"
	case errors.Is(err, graph.ErrNotFound):
		return "not_found"
	case errors.Is(err, graph.ErrThrottled):
		return "throttled"
	case errors.Is(err, graph.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "unavailable"
	}
	return "error"
}

// answer asks the Answerer a question about the current step, from the
// guide, the step's texts and the contact data only.
func (r *Runner) answer(ctx context.Context, s State, e Effect, t Turn, typing func()) Input {
	in := Input{Kind: InAnswer, At: t.At}
	if r.o.Answerer == nil {
		return in
	}
	typing()
	lang := LanguageOf(s)
	actx, cancel := context.WithTimeout(redact.WithNames(ctx, s.UserName, t.Ref.UserName), r.o.LLMTimeout)
	defer cancel()
	ans, ok, err := r.o.Answerer.Answer(actx, lang, e.Question, r.Material(s, t.At))
	if err != nil {
		r.log.Warn("answerer failed; the step's own explanation is shown", "err", err)
		return in
	}
	in.Answer, in.Answered = ans, ok
	if ok {
		in.Sources = r.Sources(s, t.At)
	}
	return in
}

// Material is what a grounded answer may use: the guide's steps, the
// current step's texts and the service desk's contact details.
func (r *Runner) Material(s State, now time.Time) string {
	t := &turn{set: r.engine.Settings.withDefaults(), s: s}
	var b strings.Builder
	b.WriteString("GUIDE\n")
	for n := 1; n <= guideSteps; n++ {
		d := lookupStep(guideID(n))
		fmt.Fprintf(&b, "%d. %s: %s\n", n, t.stepText(d, "title"), t.stepText(d, "do"))
	}
	if d := lookupStep(s.Step); d != nil && d.Kind != KindChoice && d.Kind != KindEnd && d.Kind != KindCheck {
		b.WriteString("\nCURRENT STEP\n")
		for _, f := range []string{"title", "do", "where", "see", "help", "explain"} {
			fmt.Fprintf(&b, "%s: %s\n", f, t.stepText(d, f))
		}
	}
	c := r.o.Escalator.Contact(now)
	fmt.Fprintf(&b, "\nCONTACT\n%s, %s\n", c.Name, c.Phone)
	for _, d := range c.Desks {
		fmt.Fprintf(&b, "%s %s: %s\n", d.Name, d.Location, d.Hours)
	}
	return b.String()
}

// render returns a turn's replies in order: the engine's messages and
// the contact cards it asked for. It writes nothing, so the replies can
// be saved with the state (State.LastReplies) before anything is sent.
func (r *Runner) render(t Turn, res result) []Reply {
	var replies []Reply
	add := func(outs []Out) {
		for _, o := range outs {
			replies = append(replies, outReply(o))
		}
	}
	add(res.outs)
	for i, e := range res.writes {
		if e.Kind == EffShowContact {
			replies = append(replies, r.contactCard(t, res.state, e))
		}
		add(res.after[i])
	}
	return replies
}

// keepLastReplies tells whether the newest activity's replies are kept
// with the state: only while a session runs, and at a hand-off (whose
// contact card must reach the student). A session that is done, stopped
// or restarted keeps none; a redelivered activity of it then gets none.
func keepLastReplies(s State) bool {
	if s.Step == StepHandoff {
		return true
	}
	d := lookupStep(s.Step)
	return d != nil && d.Kind != KindEnd && s.SessionID != "" && s.Outcome == ""
}

// maxLastReplies bounds the size of State.LastReplies (JSON bytes).
const maxLastReplies = 32 << 10

// boundReplies returns the leading replies that fit in maxLastReplies.
func boundReplies(replies []Reply) []Reply {
	size := 0
	for i, rp := range replies {
		size += len(rp.Text) + len(rp.Card) + 32
		if rp.AI != nil {
			for _, c := range rp.AI.Citations {
				size += len(c.Name) + len(c.Abstract) + len(c.URL) + 48
			}
		}
		for _, sg := range rp.Suggest {
			size += len(sg.Title) + len(sg.Value) + 24
		}
		if size > maxLastReplies {
			return slices.Clone(replies[:i])
		}
	}
	return slices.Clone(replies)
}

// records are what the turn writes besides its state, in order: the
// student's line (unless written ahead of an escalation), the effects,
// the session's last activity and the bot's lines.
func (r *Runner) records(conv store.Conversation, t Turn, res result, replies []Reply, studentWritten bool) []store.TurnOp {
	var ops []store.TurnOp
	line := func(role, text string) {
		ops = append(ops, store.TurnOp{Transcript: &store.TranscriptLine{ConversationID: conv.ID, Role: role, Text: capLine(text), At: t.At}})
	}
	if res.student != "" && !studentWritten {
		line("student", res.student)
	}
	s := res.state
	for _, e := range res.writes {
		if op, ok := r.record(conv, t, s, e); ok {
			ops = append(ops, op)
		}
	}
	if s.SessionID != "" && s.Outcome == "" {
		ops = append(ops, store.TurnOp{TouchSession: &store.SessionChange{ID: s.SessionID, At: t.At}})
	}
	for _, rp := range replies {
		if text := replyText(rp); text != "" {
			line("bot", text)
		}
	}
	return ops
}

func outReply(o Out) Reply {
	r := Reply{Text: o.Text, AI: o.AI, Suggest: o.Suggest}
	if o.Card != nil {
		r.Card = o.Card.JSON()
	}
	return r
}

// record is the store record of one effect that changes something
// outside the state (ok false: none).
func (r *Runner) record(conv store.Conversation, t Turn, s State, e Effect) (store.TurnOp, bool) {
	switch e.Kind {
	case EffStepEvent:
		return store.TurnOp{StepEvent: &store.StepEvent{
			ConversationID: conv.ID, SessionID: s.SessionID, UserID: conv.Ref.UserAADObjectID,
			Situation: e.Situation, Step: e.Step, Event: e.Event, At: t.At,
		}}, true
	case EffStartSession:
		if e.SessionID == "" {
			r.log.Warn("start session without an id", "conversation", shortID(conv.ID))
			return store.TurnOp{}, false
		}
		return store.TurnOp{StartSession: &store.Session{
			ID: e.SessionID, ConversationID: conv.ID, UserID: conv.Ref.UserAADObjectID,
			Situation: e.Situation, StartedAt: t.At, LastActivityAt: t.At,
		}}, true
	case EffEndSession:
		if e.Outcome == "" {
			r.log.Warn("end session without an outcome", "conversation", shortID(conv.ID))
			return store.TurnOp{}, false
		}
		return store.TurnOp{EndSession: &store.SessionChange{ID: e.SessionID, Outcome: e.Outcome, At: t.At}}, true
	case EffSatisfaction:
		if e.Score < 1 || e.Score > 5 {
			r.log.Warn("satisfaction out of range", "conversation", shortID(conv.ID), "score", e.Score)
			return store.TurnOp{}, false
		}
		return store.TurnOp{Satisfaction: &store.SessionChange{ID: e.SessionID, Score: e.Score}}, true
	case EffAddTimer:
		p, _ := json.Marshal(TimerPayload{Point: e.Point, Attempt: e.Attempt, Session: e.SessionID})
		return store.TurnOp{AddTimer: &store.Timer{ConversationID: conv.ID, Due: t.At.Add(e.Delay), Payload: p}}, true
	case EffCancelTimers:
		return store.TurnOp{CancelTimers: true}, true
	}
	return store.TurnOp{}, false
}

// contactCard renders the service desk's contact card of an
// EffShowContact. When the escalation could not be made, the card must
// not say the request is already with the service desk.
func (r *Runner) contactCard(t Turn, s State, e Effect) Reply {
	if nq, ok := r.o.Escalator.(notQueuedCarder); ok && e.NotQueued {
		return Reply{Card: nq.ContactCardWith(t.At, LanguageOf(s), handoff.ContactCardOptions{LostPhone: e.LostPhone, Security: e.Security, NotQueued: true})}
	}
	return Reply{Card: r.o.Escalator.ContactCard(t.At, LanguageOf(s), e.LostPhone, e.Security)}
}

// notQueuedCarder is the handoff service's contact card for a hand-off
// whose escalation failed.
type notQueuedCarder interface {
	ContactCardWith(now time.Time, lang string, o handoff.ContactCardOptions) json.RawMessage
}

func (r *Runner) escalate(ctx context.Context, conv store.Conversation, s State, e Effect, t Turn) Input {
	metricHandoffs.WithLabelValues(e.Reason).Inc()
	name := s.UserName
	if name == "" {
		name = conv.Ref.UserName
	}
	req := handoff.Request{
		ConversationID: conv.ID, SessionID: e.SessionID,
		StudentObjectID: conv.Ref.UserAADObjectID, StudentName: name, StudentUPN: s.UPN, StudentUserID: conv.Ref.UserID,
		Situation: e.Situation, FailedStep: e.FailedStep, Reason: e.Reason, Security: e.Security,
		Methods: e.Methods, Language: LanguageOf(s),
	}
	_, err := r.o.Escalator.Escalate(ctx, req)
	if err != nil {
		r.log.Error("escalation not created; the student gets the contact details", "conversation", shortID(conv.ID), "reason", e.Reason, "err", err)
	}
	return Input{Kind: InEscalated, At: t.At, Escalated: err == nil}
}

// replyText is the transcript text of a reply: its text and its card's.
func replyText(rp Reply) string {
	text := rp.Text
	if len(rp.Card) > 0 {
		if ct := CardText(rp.Card); ct != "" {
			if text != "" {
				text += "\n"
			}
			text += ct
		}
	}
	return text
}

// CardText extracts the readable text of any Adaptive Card (TextBlocks,
// FactSets, button titles), one element per line.
func CardText(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return ""
	}
	var lines []string
	var walk func(any)
	walk = func(x any) {
		switch n := x.(type) {
		case map[string]any:
			switch n["type"] {
			case "TextBlock":
				if s, ok := n["text"].(string); ok {
					lines = append(lines, s)
				}
			case "Fact":
			case "Action.Submit", "Action.OpenUrl", "Action.Execute":
				if s, ok := n["title"].(string); ok {
					lines = append(lines, "["+s+"]")
				}
			}
			if facts, ok := n["facts"].([]any); ok {
				for _, f := range facts {
					if fm, ok := f.(map[string]any); ok {
						lines = append(lines, fmt.Sprintf("%v: %v", fm["title"], fm["value"]))
					}
				}
			}
			for _, k := range []string{"body", "items", "columns", "actions", "inlines"} {
				if sub, ok := n[k]; ok {
					walk(sub)
				}
			}
			if n["type"] == "TextRun" {
				if s, ok := n["text"].(string); ok {
					lines = append(lines, s)
				}
			}
		case []any:
			for _, y := range n {
				walk(y)
			}
		}
	}
	walk(v)
	return strings.Join(lines, "\n")
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "..."
	}
	return id
}
