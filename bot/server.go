// Package bot owns the Bot Framework channel of mfabot: the hardened
// POST /api/messages endpoint (body limit, token validation through
// bot/auth, tenant allow-list, dev-mode fences), activity parsing and
// routing, the durable inbox with its workers and timers, and the
// handoff.Notifier that talks to Teams through bot/connector.
package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"mfabot/bot/auth"
	"mfabot/dialogs"
	"mfabot/dialogs/texts"
	"mfabot/handoff"
	"mfabot/internal/devlocal"
	"mfabot/internal/safe"
	"mfabot/store"
)

// teamsChannel is the only Bot Framework channel id accepted.
const teamsChannel = "msteams"

// DefaultMaxBody is the default request body limit of /api/messages.
const DefaultMaxBody = 256 << 10

// TokenValidator validates the Authorization header of an inbound
// activity (bot/auth.Validator implements it).
type TokenValidator interface {
	Validate(ctx context.Context, authorization, serviceURL, channelID string) (*auth.Identity, error)
}

// TurnHandler runs one turn of the dialog and returns the replies to
// send. typing shows the typing indicator (cheap, may be called often).
type TurnHandler interface {
	Handle(ctx context.Context, t dialogs.Turn, typing func()) ([]dialogs.Reply, error)
}

// StaffHandler executes a click on the staff card and returns the card
// that replaces it (handoff implements it).
type StaffHandler interface {
	HandleStaffAction(ctx context.Context, a handoff.StaffAction) (json.RawMessage, error)
}

// botStore is what the bot keeps in the store (a store.Store satisfies
// it): the inbox its requests fill and its workers drain, the timers the
// workers run, the grounded answers and their feedback; it reads a
// conversation's reference to message it, and Ping answers /readyz. The
// dialog state is the runner's (TurnHandler).
type botStore interface {
	store.Inbox
	store.Timers
	store.Feedback
	GetConversation(ctx context.Context, id string) (store.Conversation, error)
	Ping(ctx context.Context) error
}

// Options configures a Server. Zero values get the defaults named.
type Options struct {
	// Dev: no inbound token (a request that carries one, real Bot
	// Framework traffic, is refused); loopback callers and serviceUrls
	// only; no proxy headers.
	Dev bool
	// AppID is the bot's App ID (production).
	AppID string
	// AllowedTenants are the tenants whose activities are accepted
	// (required in production; empty in dev = any).
	AllowedTenants []string
	// The staff channel escalation cards are posted to.
	StaffChannelID, StaffServiceURL, StaffTenantID string
	// MaxBody limits the request body; default DefaultMaxBody.
	MaxBody int64
	Store   botStore
	// Validator checks inbound tokens; nil only (and required nil) in dev.
	Validator TokenValidator
	// Connector sends to Teams.
	Connector Sender
	// ServiceURLs collects the serviceUrls of validated activities and
	// stored references (plus StaffServiceURL); pass its Allowed method
	// as the connector's AllowServiceURL. Default: a set of its own.
	ServiceURLs *ServiceURLs
	// OnServiceURL, when set, is also told every trusted serviceUrl (for
	// an allow-list kept outside the bot).
	OnServiceURL func(serviceURL string)
	Turns        TurnHandler
	// Staff handles staff card actions; nil = they are refused.
	Staff  StaffHandler
	Logger *slog.Logger
	Now    func() time.Time
	// Workers is how many turns run at once; default 64. A conversation
	// has at most one turn running, and its activities run in order.
	Workers int
	// PollInterval is how often the inbox and the timers are polled
	// besides the wake-ups by new activities; default 1 s.
	PollInterval time.Duration
	// TurnTimeout bounds one turn (handler and replies); default 60 s.
	TurnTimeout time.Duration
	// StaffTimeout is the longest a staff Action.Execute invoke waits for
	// its action before it is answered (a slower action runs on, up to
	// TurnTimeout, and its card follows with a PUT); it also bounds a
	// staff Action.Submit in the worker. Default 10 s.
	StaffTimeout time.Duration
	// TypingDelay: a turn's typing indicator is sent only when the turn
	// still runs this long after asking for it; default 1 s, negative
	// sends it at once.
	TypingDelay time.Duration
	// DeskName and DeskPhone are added to the apology for a failed turn
	// (institution.name and institution.phone), so a student whose turn
	// failed for good still knows whom to call.
	DeskName, DeskPhone string
	// InstanceID names this instance in the store's leases; default the
	// host name and a random suffix. Instances sharing a database (several
	// replicas on PostgreSQL) must have different ids.
	InstanceID string
	// ClaimLease is how long an inbox entry or timer taken from the store
	// stays this instance's without being renewed (every poll renews it);
	// after that another instance takes it over. Default 2 min, and never
	// less than twice TurnTimeout.
	ClaimLease time.Duration
}

// Server is the Bot Framework endpoint and its inbox workers.
type Server struct {
	o   Options
	log *slog.Logger

	wake chan struct{}
	// kicks names conversations with new work: the dispatcher claims that
	// conversation's next entry alone instead of polling the whole inbox.
	kicks chan kick
	disp  atomic.Pointer[dispatcher] // while Run runs

	mu       sync.Mutex
	welcomed map[string]time.Time // conversation id -> last welcome turn
	holds    map[int64]time.Time  // inbox seq -> not retried before

	// detached counts staff actions that outlive their HTTP request.
	detached sync.WaitGroup
}

// WaitDetached waits (bounded by ctx) for staff actions that were still
// running when their invoke was answered; call it at shutdown, after the
// HTTP server stopped, so that their card updates are not cut off.
func (s *Server) WaitDetached(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.detached.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// welcomeTwinWindow: Teams sends conversationUpdate and installationUpdate
// for one install; the second welcome within this window is dropped.
const welcomeTwinWindow = 2 * time.Minute

// New checks o and returns a Server.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("bot: Options.Store is required")
	}
	if o.Turns == nil {
		return nil, errors.New("bot: Options.Turns is required")
	}
	if o.Connector == nil {
		return nil, errors.New("bot: Options.Connector is required")
	}
	if o.Dev {
		if o.Validator != nil {
			return nil, errors.New("bot: dev mode takes no token validator (it accepts loopback requests without a token)")
		}
		if o.StaffServiceURL != "" && !loopbackURL(o.StaffServiceURL) {
			return nil, errors.New("bot: dev mode only talks to a loopback staff service URL")
		}
	} else {
		if o.Validator == nil {
			return nil, errors.New("bot: production mode needs a token validator")
		}
		if o.AppID == "" {
			return nil, errors.New("bot: production mode needs the bot's app id")
		}
		if len(o.AllowedTenants) == 0 {
			return nil, errors.New("bot: production mode needs at least one allowed tenant")
		}
		if o.StaffServiceURL != "" && !strings.HasPrefix(strings.ToLower(o.StaffServiceURL), "https://") {
			return nil, errors.New("bot: the staff service URL must be https in production")
		}
	}
	if o.ServiceURLs == nil {
		o.ServiceURLs = NewServiceURLs()
	}
	o.ServiceURLs.Add(o.StaffServiceURL)
	if o.OnServiceURL != nil && o.StaffServiceURL != "" {
		o.OnServiceURL(o.StaffServiceURL)
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.TypingDelay == 0 {
		o.TypingDelay = time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.TurnTimeout <= 0 {
		o.TurnTimeout = 60 * time.Second
	}
	if o.StaffTimeout <= 0 {
		o.StaffTimeout = 10 * time.Second
	}
	if o.ClaimLease <= 0 {
		o.ClaimLease = 2 * time.Minute
	}
	o.ClaimLease = max(o.ClaimLease, 2*o.TurnTimeout)
	if o.InstanceID == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "mfabot"
		}
		o.InstanceID = host + "-" + newID()
	}
	return &Server{
		o:        o,
		log:      o.Logger,
		wake:     make(chan struct{}, 1),
		kicks:    make(chan kick, kickBacklog),
		welcomed: map[string]time.Time{},
		holds:    map[int64]time.Time{},
	}, nil
}

// Handler serves POST /api/messages, GET /healthz and GET /readyz.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/messages", s.handleMessages)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	return s.recoverer(mux)
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.o.Store.Ping(ctx); err != nil {
		s.log.Warn("readiness: store unreachable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "store unavailable\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// recoverer is the last line of defence: a panic becomes a 500 and a log
// line. The handlers are written not to need it.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in HTTP handler", "path", r.URL.Path, "panic", fmt.Sprint(v))
				metricRequests.WithLabelValues("500").Inc()
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// respond writes a status with a fixed, detail-free body.
func respond(w http.ResponseWriter, status int) {
	metricRequests.WithLabelValues(strconv.Itoa(status)).Inc()
	if status == http.StatusOK {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status)+"\n")
}

func respondJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		respond(w, http.StatusInternalServerError)
		return
	}
	metricRequests.WithLabelValues("200").Inc()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// refuse answers a request that failed a check; reason goes to the metric
// and the log, never to the caller.
func (s *Server) refuse(w http.ResponseWriter, log *slog.Logger, status int, reason string) {
	metricAuthFailures.WithLabelValues(reason).Inc()
	log.Warn("request refused", "status", status, "reason", reason)
	respond(w, status)
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	reqID := newID()
	w.Header().Set("X-Request-Id", reqID)
	log := s.log.With("request_id", reqID)
	ctx := r.Context()

	authz := r.Header.Get("Authorization")
	if s.o.Dev {
		if strings.TrimSpace(authz) != "" {
			// Dev mode checks no token: real Bot Framework traffic (it
			// always carries one) must never be answered by it.
			log.Error("this is dev mode; set mode: production", "remote", r.RemoteAddr)
			s.refuse(w, log, http.StatusForbidden, "dev_token")
			return
		}
		// Only the developer's own machine (internal/devlocal: the rule
		// the dashboard's dev sign-in follows too). A web page in the
		// developer's browser can reach a loopback port as well: a foreign
		// Host (DNS rebinding) or a non-JSON body (a cross-site form or
		// text/plain post, which needs no CORS preflight) is refused.
		if reason := devlocal.Refusal(r); reason != "" {
			s.refuse(w, log, http.StatusForbidden, reason)
			return
		}
		if !jsonContentType(r.Header.Get("Content-Type")) {
			s.refuse(w, log, http.StatusUnsupportedMediaType, "dev_not_json")
			return
		}
	} else if strings.TrimSpace(authz) == "" {
		s.refuse(w, log, http.StatusUnauthorized, auth.ReasonMissingHeader)
		return
	}

	if r.ContentLength > s.o.MaxBody {
		s.refuse(w, log, http.StatusRequestEntityTooLarge, "body_too_large")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.refuse(w, log, http.StatusRequestEntityTooLarge, "body_too_large")
			return
		}
		s.refuse(w, log, http.StatusBadRequest, "body_unreadable")
		return
	}
	act, err := ParseActivity(body)
	if err != nil {
		s.refuse(w, log, http.StatusBadRequest, "invalid_json")
		return
	}

	if s.o.Dev {
		if !loopbackURL(act.ServiceURL) {
			s.refuse(w, log, http.StatusForbidden, "dev_service_url_not_loopback")
			return
		}
	} else {
		if _, err := s.o.Validator.Validate(ctx, authz, act.ServiceURL, act.ChannelID); err != nil {
			var ae *auth.Error
			status, reason := http.StatusUnauthorized, "invalid_token"
			if errors.As(err, &ae) {
				reason = ae.Reason
				if ae.Status == http.StatusForbidden {
					status = http.StatusForbidden
				}
				if ae.Reason == auth.ReasonMetadata {
					// The keys could not be fetched: not the caller's
					// fault; a 503 makes the channel deliver it again.
					status = http.StatusServiceUnavailable
				}
			}
			s.refuse(w, log, status, reason)
			return
		}
		if !httpsURL(act.ServiceURL) {
			s.refuse(w, log, http.StatusForbidden, "service_url_not_https")
			return
		}
	}

	// Only Teams: other channels (Web Chat, Direct Line) take the user's
	// aadObjectId and tenant from the client, which can claim anyone.
	// Agents Playground sends "msteams" too.
	if act.ChannelID != teamsChannel {
		s.refuse(w, log, http.StatusForbidden, "channel")
		return
	}

	tenant, agree := act.TenantID()
	if !agree {
		s.refuse(w, log, http.StatusForbidden, "tenant_mismatch")
		return
	}
	if len(s.o.AllowedTenants) > 0 && !containsFold(s.o.AllowedTenants, tenant) {
		s.refuse(w, log, http.StatusForbidden, "tenant_not_allowed")
		return
	}

	log = log.With("activity_type", string(act.Type), "activity_id", act.ID)
	route := s.classify(act)
	switch route {
	case routeIgnore:
		log.Debug("activity ignored")
		respond(w, http.StatusOK)
		return
	case routeStaffInvoke:
		s.handleStaffInvoke(w, r, log, act)
		return
	case routeFeedback:
		s.handleFeedback(w, r, log, act)
		return
	case routeRefusedStaff:
		metricStaffRefused.Inc()
		log.Warn("staff card action outside the staff channel refused",
			"conversation_type", act.Conversation.ConversationType)
		if act.Type == schema.Invoke {
			respondJSON(w, invokeMessage(neutralText(act.Locale)))
			return
		}
	case routeNotPersonal:
		log.Info("bot addressed outside a personal chat", "conversation_type", act.Conversation.ConversationType)
		if act.Type == schema.Invoke {
			metricTurns.WithLabelValues("not_personal", "ok").Inc()
			respondJSON(w, invokeMessage(personalOnlyText(act.Locale)))
			return
		}
	}
	if act.Conversation.ID == "" {
		s.refuse(w, log, http.StatusBadRequest, "no_conversation")
		return
	}
	fresh, err := s.accept(ctx, act, body)
	if err != nil {
		log.Error("inbox write failed", "err", err)
		respond(w, http.StatusServiceUnavailable)
		return
	}
	if !fresh {
		log.Info("retried activity: already accepted")
	}
	if act.Type == schema.Invoke {
		respondJSON(w, invokeMessage(ackText(act.Locale)))
		return
	}
	respond(w, http.StatusOK)
}

// route says what becomes of an activity.
type route int

const (
	routeIgnore       route = iota
	routeTurn               // message or student card click -> dialog
	routeWelcome            // bot added / app installed
	routeStaff              // staff card Action.Submit from the staff channel
	routeStaffInvoke        // staff card Action.Execute from the staff channel
	routeRefusedStaff       // staff card payload from anywhere else
	routeNotPersonal        // the bot @mentioned in a channel or group chat
	routeFeedback           // a like or dislike on an answer (message/submitAction)
)

// classify routes a validated activity. The HTTP handler and the worker
// use the same function, so an inbox entry is routed as it was accepted.
//
// Only a personal (1:1) chat reaches the dialog and the welcome: the
// dialog shows the student's sign-in methods, which a team channel or a
// group chat must not see. There a message that mentions the bot gets
// one fixed text pointing to the 1:1 chat; staff card actions in the
// staff channel are the only other work.
func (s *Server) classify(a *Activity) route {
	inStaff := s.inStaffChannel(a)
	personal := a.Personal()
	switch a.Type {
	case schema.Message:
		if _, looks := a.staffActionOf(); looks {
			if inStaff && s.o.Staff != nil {
				return routeStaff
			}
			return routeRefusedStaff
		}
		if !personal {
			if a.MentionsBot() {
				return routeNotPersonal
			}
			return routeIgnore
		}
		return routeTurn
	case schema.Invoke:
		if a.Name == "message/submitAction" {
			// The feedback buttons are only on answers in the 1:1 chat.
			if personal && !inStaff {
				return routeFeedback
			}
			return routeIgnore
		}
		if a.Name != "adaptiveCard/action" {
			return routeIgnore
		}
		if _, looks := a.staffActionOf(); looks {
			if inStaff && s.o.Staff != nil {
				return routeStaffInvoke
			}
			return routeRefusedStaff
		}
		if !personal {
			return routeNotPersonal
		}
		return routeTurn
	case schema.ConversationUpdate:
		if a.BotAdded() && personal && !inStaff {
			return routeWelcome
		}
	case schema.InstallationUpdate:
		if strings.EqualFold(a.Action, "add") && personal && !inStaff {
			return routeWelcome
		}
	}
	return routeIgnore
}

// inStaffChannel: the activity comes from a thread of the staff channel.
// Both the conversation id's thread and channelData.channel.id (when
// present) must name it; channel data alone does not make a chat a channel.
func (s *Server) inStaffChannel(a *Activity) bool {
	if s.o.StaffChannelID == "" {
		return false
	}
	thread, _, _ := strings.Cut(a.Conversation.ID, ";")
	if thread != s.o.StaffChannelID {
		return false
	}
	cd := a.channelData().Channel.ID
	return cd == "" || cd == s.o.StaffChannelID
}

// accept writes the conversation reference and the activity to the
// store; fresh is false for a retried activity id.
func (s *Server) accept(ctx context.Context, a *Activity, body []byte) (fresh bool, err error) {
	s.trust(a.ServiceURL)
	// Only personal chats are remembered (their reference is what the
	// dialog and the timers answer on).
	item := store.InboxItem{
		ActivityID:     dedupKey(a),
		ConversationID: a.Conversation.ID,
		Body:           body,
		ReceivedAt:     s.o.Now(),
	}
	leased := false
	if r := s.classify(a); r == routeTurn || r == routeWelcome || (r == routeRefusedStaff && a.Personal()) {
		// The reference and the entry in one commit, leased to this
		// instance when it may run at once (then it needs no claim).
		now := s.o.Now()
		owner := ""
		if s.disp.Load().mayRunNow() {
			owner = s.o.InstanceID
		}
		item, fresh, leased, err = s.o.Store.AcceptLeased(ctx, a.ref(), item, owner, s.o.ClaimLease, now)
		if leased {
			s.kickLeased(item, now.Add(s.o.ClaimLease))
		}
	} else {
		fresh, err = s.o.Store.Enqueue(ctx, item)
	}
	if err != nil {
		return false, fmt.Errorf("enqueue: %w", err)
	}
	if fresh && !leased {
		s.kick(a.Conversation.ID)
	}
	return fresh, nil
}

// dedupKey identifies an activity for the inbox. Teams message ids are
// only unique within a conversation, so the conversation is part of it.
func dedupKey(a *Activity) string {
	id := a.ID
	if id == "" {
		id = "noid-" + newID()
	}
	return a.Conversation.ID + "|" + id
}

func (s *Server) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// kickBacklog is how many kicks may wait; beyond it a full poll runs.
const kickBacklog = 4096

// kick tells the dispatcher that conversationID has new work (an accepted
// activity, a finished turn with more behind it).
func (s *Server) kick(conversationID string) {
	select {
	case s.kicks <- kick{conv: conversationID}:
	default:
		s.signal()
	}
}

// kick is new work in one conversation: an entry to claim, or one
// leased to this instance at its accept (until when its lease runs).
type kick struct {
	conv   string
	leased *store.InboxItem
	until  time.Time
}

// kickLeased hands the dispatcher an entry the accept leased to this
// instance. If it cannot take it now, the entry stays leased here and
// the next claim of its conversation (or the poll) returns it.
func (s *Server) kickLeased(it store.InboxItem, until time.Time) {
	select {
	case s.kicks <- kick{conv: it.ConversationID, leased: &it, until: until}:
	default:
		s.signal()
	}
}

// staffOutcome is what the staff handler returned.
type staffOutcome struct {
	card json.RawMessage
	err  error
}

// handleStaffInvoke runs a staff Action.Execute and answers with the
// replacement card in the HTTP body. The response is written within
// StaffTimeout whatever the handler does (Teams shows an error to the
// staff member when an invoke takes too long): a slower action is
// answered with a short "working on it", runs on (up to TurnTimeout,
// detached from the request), and its card replaces the old one with a
// PUT when it is done.
func (s *Server) handleStaffInvoke(w http.ResponseWriter, r *http.Request, log *slog.Logger, a *Activity) {
	act, _ := a.staffActionOf()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.o.TurnTimeout)
	done := make(chan staffOutcome, 1)
	s.detached.Add(1)
	go func() {
		defer s.detached.Done()
		defer cancel()
		card, err := s.runStaff(ctx, act)
		done <- staffOutcome{card, err}
	}()
	timer := time.NewTimer(s.o.StaffTimeout)
	defer timer.Stop()
	select {
	case o := <-done:
		s.answerStaffInvoke(w, log, act, o)
	case <-timer.C:
		log.Warn("staff action slower than the invoke allows; answered, card follows", "verb", act.Verb, "escalation", act.EscalationID)
		respondJSON(w, invokeMessage(staffPendingText))
		s.detach(func() { s.finishStaffInvoke(log, a, act, done) })
	case <-r.Context().Done():
		s.detach(func() { s.finishStaffInvoke(log, a, act, done) })
	}
}

func (s *Server) detach(f func()) {
	s.detached.Add(1)
	go func() {
		defer s.detached.Done()
		defer safe.Recover(s.log, "staff action")
		f()
	}()
}

// staffPendingText answers a staff click whose action is still running.
var staffPendingText = staffText("staff.pending")

// answerStaffInvoke writes the invoke response of a finished staff action.
func (s *Server) answerStaffInvoke(w http.ResponseWriter, log *slog.Logger, act handoff.StaffAction, o staffOutcome) {
	card, err := o.card, o.err
	if err != nil && len(card) > 0 {
		// Refused transition (e.g. resolving a resolved case): the
		// handler returns the current card with the error; show it.
		log.Warn("staff action not applied", "verb", act.Verb, "escalation", act.EscalationID, "err", err)
		err = nil
	}
	if err != nil {
		log.Error("staff action failed", "verb", act.Verb, "escalation", act.EscalationID, "err", err)
		respondJSON(w, map[string]any{
			"statusCode": 500,
			"type":       "application/vnd.microsoft.error",
			"value":      map[string]string{"code": "InternalError", "message": staffText("staff.action_failed")},
		})
		return
	}
	log.Info("staff action done", "verb", act.Verb, "escalation", act.EscalationID)
	if len(card) == 0 {
		respondJSON(w, invokeMessage("OK"))
		return
	}
	respondJSON(w, map[string]any{
		"statusCode": 200,
		"type":       "application/vnd.microsoft.card.adaptive",
		"value":      card,
	})
}

// finishStaffInvoke waits for a staff action whose invoke was already
// answered and puts its card in place of the clicked one (or says in
// the thread that it failed).
func (s *Server) finishStaffInvoke(log *slog.Logger, a *Activity, act handoff.StaffAction, done <-chan staffOutcome) {
	o := <-done
	ctx, cancel := s.turnContext()
	defer cancel()
	if o.err != nil && len(o.card) == 0 {
		log.Error("staff action failed", "verb", act.Verb, "escalation", act.EscalationID, "err", o.err)
		s.sendText(ctx, log, a.ref(), "", staffText("staff.action_failed"))
		return
	}
	if o.err != nil {
		log.Warn("staff action not applied", "verb", act.Verb, "escalation", act.EscalationID, "err", o.err)
	} else {
		log.Info("staff action done after its invoke was answered", "verb", act.Verb, "escalation", act.EscalationID)
	}
	if len(o.card) == 0 || a.ReplyToID == "" {
		return
	}
	if err := s.update(ctx, a.ServiceURL, a.Conversation.ID, a.ReplyToID, o.card); err != nil {
		metricSendErrors.WithLabelValues("update").Inc()
		log.Error("staff card not updated", "err", err)
	}
}

// runStaff calls the staff handler, turning a panic into an error.
func (s *Server) runStaff(ctx context.Context, act handoff.StaffAction) (card json.RawMessage, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("staff handler panicked: %v", v)
		}
	}()
	if s.o.Staff == nil {
		return nil, errors.New("no staff handler")
	}
	card, err = s.o.Staff.HandleStaffAction(ctx, act)
	if len(card) > 0 && !json.Valid(card) {
		return nil, errors.New("staff handler returned invalid card JSON")
	}
	return card, err
}

func invokeMessage(text string) map[string]any {
	return map[string]any{
		"statusCode": 200,
		"type":       "application/vnd.microsoft.activity.message",
		"value":      text,
	}
}

// say is the bot's own text key in the language of locale.
func say(locale, key string, vars map[string]string) string {
	return texts.T(texts.Lang(locale), key, vars)
}

func ackText(locale string) string { return say(locale, "bot.ack", nil) }

// neutralText answers a payload the student's chat must not carry.
func neutralText(locale string) string { return say(locale, "bot.neutral", nil) }

// personalOnlyText answers the bot's name in a channel or group chat:
// the help itself only happens in the 1:1 chat.
func personalOnlyText(locale string) string { return say(locale, "bot.personal_only", nil) }

// apology is apologyText with the service desk's phone number, when known.
func (s *Server) apology(locale string) string {
	text := apologyText(locale)
	if s.o.DeskPhone == "" {
		return text
	}
	name := s.o.DeskName
	if name == "" {
		name = say(locale, "bot.desk", nil)
	}
	return text + " " + say(locale, "bot.apology_call", map[string]string{"desk": name, "phone": s.o.DeskPhone})
}

// apologyText is what a student sees when a turn failed for good.
func apologyText(locale string) string { return say(locale, "bot.apology", nil) }

// staffText is a text for the staff channel, where the language of the
// one who clicked is not known: "Dutch / English".
func staffText(key string) string {
	return texts.T("nl", key, nil) + " / " + texts.T("en", key, nil)
}

func containsFold(list []string, s string) bool {
	if s == "" {
		return false
	}
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// loopbackURL: http(s) to localhost or a loopback IP, nothing else.
func loopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	return devlocal.LoopbackHost(u.Host)
}

func jsonContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func httpsURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil
}
