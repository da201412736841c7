// Package connector owns the bot's outbound side of the Bot Framework: the
// Connector REST client that sends, replies, updates, creates
// conversations and looks up members, with the bot's Entra ID token,
// per-call deadlines, backoff on 429/503 that honours Retry-After, no blind
// retry of a POST that may have been delivered, and Teams' per-conversation
// and per-tenant rate limits (requests queue rather than fail).
//
// The bot's token only goes to serviceUrls the AllowServiceURL func accepts
// (package bot accepts those that came in validated activities plus the
// configured staff service URL) and, in production, only over https.
// msbotbuilder-go's client is not used: it has no context, drops the
// returned activity id, sends an empty bearer when the token request fails
// and cannot create conversations.
package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// DefaultScope is the token scope of the Bot Framework Connector.
const DefaultScope = "https://api.botframework.com/.default"

// Defaults for Config's zero values.
const (
	DefaultTimeout       = 20 * time.Second
	DefaultMaxRetries    = 3
	DefaultMaxRetryAfter = time.Minute
	// MaxActivityBytes is the largest activity body sent (Teams refuses
	// messages of about 100 KB; the guidance is to stay under 80 KB).
	MaxActivityBytes = 80 << 10
	// tokenRefreshMargin: a cached token is renewed this long before it expires.
	tokenRefreshMargin = 5 * time.Minute
	maxResponseBytes   = 1 << 20
)

var (
	requestsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_connector_requests_total",
		Help: "HTTP requests to the Bot Framework Connector, by operation and status (HTTP code, or transport/timeout).",
	}, []string{"op", "status"})
	errorsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_connector_errors_total",
		Help: "Connector calls that failed after retries, by status (HTTP code, transport, timeout, token, refused).",
	}, []string{"status"})
	requestSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mfabot_connector_request_seconds",
		Help:    "Latency of single Connector HTTP requests.",
		Buckets: prometheus.DefBuckets,
	}, []string{"op"})
	rateLimitWaits = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "mfabot_connector_ratelimit_wait_seconds",
		Help:    "Time Connector calls queued behind the Teams rate limits.",
		Buckets: []float64{0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60},
	})
)

// Errors callers can test for with errors.Is.
var (
	// ErrServiceURLNotAllowed: the serviceUrl did not come from a
	// validated activity or the configuration (or is not https in
	// production, or not loopback in dev mode). Nothing was sent.
	ErrServiceURLNotAllowed = errors.New("connector: serviceUrl not allowed")
	// ErrActivityTooLarge: the activity is over MaxActivityBytes. Nothing was sent.
	ErrActivityTooLarge = errors.New("connector: activity too large")
	// ErrToken: no token could be obtained. Nothing was sent.
	ErrToken = errors.New("connector: cannot get a token")
	// ErrMaybeDelivered: a POST failed in a way that it may have reached
	// the Connector (timeout, connection lost); it was not retried.
	ErrMaybeDelivered = errors.New("connector: request may have been delivered")
)

// HTTPError is an error status from the Connector. Error() carries the
// operation, the status and the Connector's error code, never the body.
type HTTPError struct {
	Op     string
	Status int
	Code   string // the Connector's error.code, if any
	// RetryAfter is the Retry-After the Connector asked for, if any.
	RetryAfter time.Duration
}

// HTTPStatus is the Connector's status code (handoff tells permanent failures by it).
func (e *HTTPError) HTTPStatus() int { return e.Status }

func (e *HTTPError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("connector: %s: status %d (%s)", e.Op, e.Status, e.Code)
	}
	return fmt.Sprintf("connector: %s: status %d", e.Op, e.Status)
}

// Config configures a Client. Zero values get the defaults.
type Config struct {
	// Credential gets the bot's token. nil means dev mode: no
	// Authorization header, and only loopback serviceUrls.
	Credential azcore.TokenCredential
	// Scope of the token; default DefaultScope.
	Scope string
	// HTTPClient sends the requests; default http.DefaultClient's transport.
	HTTPClient *http.Client
	// Timeout is the deadline of one HTTP request; default 20 s.
	Timeout time.Duration
	// AllowServiceURL decides which serviceUrls may be called (and so
	// receive the token). nil: none in production, loopback in dev mode.
	AllowServiceURL func(serviceURL string) bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default slog.Default().
	Logger *slog.Logger

	// Sleep waits d or until ctx is done; default a timer. Tests inject
	// one that advances their clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxRetries after 429/503 (and, for PUT/GET, transient failures);
	// default 3; negative means none.
	MaxRetries int
	// MaxRetryAfter is the longest Retry-After honoured; a longer one
	// fails the call with the HTTPError. Default 1 minute.
	MaxRetryAfter time.Duration
	// Jitter returns a random fraction in [0,1) for backoff jitter;
	// default math/rand.
	Jitter func() float64
	// ConversationLimits and TenantLimits override Teams' limits (tests).
	ConversationLimits []Window
	TenantLimits       []Window
}

// Client is the Connector client. It is safe for concurrent use.
type Client struct {
	cfg    Config
	limits *limiter

	tokMu    sync.Mutex
	tok      azcore.AccessToken
	tokFetch *tokenCall
}

type tokenCall struct {
	done chan struct{}
	tok  azcore.AccessToken
	err  error
}

// idleConnsPerHost is how many connections to the Connector stay open.
const idleConnsPerHost = 64

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	// Never follow redirects: a 3xx could carry the bot's token to another
	// URL (Go keeps Authorization on a redirect to the same host, even from
	// https to http). The caller's client is copied, not changed.
	hc := http.Client{}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	if hc.Transport == nil {
		// All replies go to one Connector host, many at once: keep that
		// many connections open instead of the default two, or every
		// burst pays new TLS handshakes.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = idleConnsPerHost
		hc.Transport = t
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.HTTPClient = &hc
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepTimer
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.ConversationLimits == nil {
		cfg.ConversationLimits = ConversationLimits
	}
	if cfg.TenantLimits == nil {
		cfg.TenantLimits = TenantLimits
	}
	return &Client{
		cfg:    cfg,
		limits: newLimiter(map[string][]Window{"conversation": cfg.ConversationLimits, "tenant": cfg.TenantLimits}, "conversation"),
	}
}

func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) now() time.Time { return c.cfg.Now() }

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.cfg.Sleep(ctx, d)
}

type tenantKey struct{}

// WithTenant returns a context that tells the client which tenant a call
// is for, so that the per-tenant rate limit applies to it. Without it the
// tenant is taken from the activity (conversation.tenantId or
// channelData.tenant.id); calls with no known tenant share one bucket.
func WithTenant(ctx context.Context, tenantID string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenantID)
}

func tenantOf(ctx context.Context, a *Activity) string {
	if t, ok := ctx.Value(tenantKey{}).(string); ok && t != "" {
		return t
	}
	if a != nil {
		if a.Conversation != nil && a.Conversation.TenantID != "" {
			return a.Conversation.TenantID
		}
		if cd, ok := a.ChannelData.(map[string]any); ok {
			if tn, ok := cd["tenant"].(map[string]any); ok {
				if id, ok := tn["id"].(string); ok {
					return id
				}
			}
		}
	}
	return ""
}

// Send posts a new activity to the conversation and returns its id ("" when
// the Connector answered without one, for example 202 with an empty body).
func (c *Client) Send(ctx context.Context, serviceURL, conversationID string, a *Activity) (string, error) {
	body := withConversation(a, conversationID, "")
	var rr resourceResponse
	err := c.do(ctx, call{
		op: "send", method: http.MethodPost, serviceURL: serviceURL, conversation: conversationID,
		tenant: tenantOf(ctx, a), path: []string{"v3", "conversations", conversationID, "activities"},
		body: body, out: &rr,
	})
	return rr.ID, err
}

// Reply posts an activity as a reply to replyToID and returns its id.
func (c *Client) Reply(ctx context.Context, serviceURL, conversationID, replyToID string, a *Activity) (string, error) {
	body := withConversation(a, conversationID, replyToID)
	var rr resourceResponse
	err := c.do(ctx, call{
		op: "reply", method: http.MethodPost, serviceURL: serviceURL, conversation: conversationID,
		tenant: tenantOf(ctx, a), path: []string{"v3", "conversations", conversationID, "activities", replyToID},
		body: body, out: &rr,
	})
	return rr.ID, err
}

// Update replaces the activity activityID (for example a card after a click).
func (c *Client) Update(ctx context.Context, serviceURL, conversationID, activityID string, a *Activity) error {
	body := withConversation(a, conversationID, "")
	body.ID = activityID
	return c.do(ctx, call{
		op: "update", method: http.MethodPut, serviceURL: serviceURL, conversation: conversationID,
		tenant: tenantOf(ctx, a), path: []string{"v3", "conversations", conversationID, "activities", activityID},
		body: body, out: &resourceResponse{},
	})
}

// Typing sends a typing indicator.
func (c *Client) Typing(ctx context.Context, serviceURL, conversationID string) error {
	_, err := c.Send(ctx, serviceURL, conversationID, &Activity{Type: TypeTyping})
	return err
}

// CreateConversation starts a conversation (for example a new thread in
// the staff channel) and returns its id and the id of its first activity.
func (c *Client) CreateConversation(ctx context.Context, serviceURL string, p CreateConversationParams) (conversationID, activityID string, err error) {
	body := conversationParameters{
		IsGroup:   p.IsGroup,
		Bot:       p.Bot,
		Members:   p.Members,
		TopicName: p.TopicName,
		TenantID:  p.TenantID,
		Activity:  p.Activity,
	}
	if p.ChannelID != "" || p.TenantID != "" {
		body.ChannelData = &teamsData{}
		if p.ChannelID != "" {
			body.ChannelData.Channel = &idOnly{ID: p.ChannelID}
		}
		if p.TenantID != "" {
			body.ChannelData.Tenant = &idOnly{ID: p.TenantID}
		}
	}
	tenant := p.TenantID
	if t, ok := ctx.Value(tenantKey{}).(string); ok && t != "" {
		tenant = t
	}
	var rr conversationResourceResponse
	err = c.do(ctx, call{
		op: "create_conversation", method: http.MethodPost, serviceURL: serviceURL,
		conversation: "create:" + p.ChannelID, tenant: tenant,
		path: []string{"v3", "conversations"}, body: body, out: &rr,
	})
	return rr.ID, rr.ActivityID, err
}

// Member looks up one member of a conversation (UPN, email, object id).
func (c *Client) Member(ctx context.Context, serviceURL, conversationID, userID string) (Member, error) {
	var m Member
	err := c.do(ctx, call{
		op: "member", method: http.MethodGet, serviceURL: serviceURL, conversation: conversationID,
		tenant: tenantOf(ctx, nil), path: []string{"v3", "conversations", conversationID, "members", userID},
		out: &m,
	})
	if err != nil {
		return Member{}, err
	}
	return m, nil
}

// withConversation copies a (never mutating the caller's value) and fills
// in the conversation id and replyToId when missing.
func withConversation(a *Activity, conversationID, replyToID string) *Activity {
	var cp Activity
	if a != nil {
		cp = *a
	}
	if cp.Type == "" {
		cp.Type = TypeMessage
	}
	if cp.Conversation == nil {
		cp.Conversation = &ConversationAccount{ID: conversationID}
	}
	if replyToID != "" && cp.ReplyToID == "" {
		cp.ReplyToID = replyToID
	}
	return &cp
}

type call struct {
	op           string
	method       string
	serviceURL   string
	conversation string
	tenant       string
	path         []string
	body         any
	out          any
}

// endpoint checks the serviceUrl and builds the request URL.
func (c *Client) endpoint(serviceURL string, segments []string) (string, error) {
	u, err := url.Parse(serviceURL)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", ErrServiceURLNotAllowed
	}
	switch {
	case c.cfg.Credential != nil:
		if u.Scheme != "https" {
			return "", ErrServiceURLNotAllowed
		}
		if c.cfg.AllowServiceURL == nil || !c.cfg.AllowServiceURL(serviceURL) {
			return "", ErrServiceURLNotAllowed
		}
	default:
		if u.Scheme != "https" && u.Scheme != "http" {
			return "", ErrServiceURLNotAllowed
		}
		if !isLoopback(u.Hostname()) {
			return "", ErrServiceURLNotAllowed
		}
		if c.cfg.AllowServiceURL != nil && !c.cfg.AllowServiceURL(serviceURL) {
			return "", ErrServiceURLNotAllowed
		}
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(serviceURL, "/"))
	for _, s := range segments {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("connector: invalid id %q in path", s)
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String(), nil
}

// IsLoopback reports whether host (a name or an IP) is a loopback host.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// do runs one Connector call with rate limiting, token, deadline and retries.
func (c *Client) do(ctx context.Context, cl call) error {
	err := c.doRetry(ctx, cl)
	if err != nil {
		errorsTotal.WithLabelValues(errorStatus(err)).Inc()
		c.cfg.Logger.Warn("connector call failed", "op", cl.op, "err", err)
	}
	return err
}

func errorStatus(err error) string {
	var he *HTTPError
	switch {
	case errors.As(err, &he):
		return strconv.Itoa(he.Status)
	case errors.Is(err, ErrServiceURLNotAllowed), errors.Is(err, ErrActivityTooLarge):
		return "refused"
	case errors.Is(err, ErrToken):
		return "token"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "transport"
	}
}

func (c *Client) doRetry(ctx context.Context, cl call) error {
	endpoint, err := c.endpoint(cl.serviceURL, cl.path)
	if err != nil {
		return fmt.Errorf("connector: %s: %w", cl.op, err)
	}
	var payload []byte
	if cl.body != nil {
		payload, err = json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("connector: %s: encode: %w", cl.op, err)
		}
		if len(payload) > MaxActivityBytes {
			return fmt.Errorf("connector: %s: %d bytes: %w", cl.op, len(payload), ErrActivityTooLarge)
		}
	}
	idempotent := cl.method != http.MethodPost
	for attempt := 0; ; attempt++ {
		if _, err := c.wait(ctx, cl.conversation, cl.tenant); err != nil {
			return fmt.Errorf("connector: %s: waiting for rate limit: %w", cl.op, err)
		}
		retry, delay, err := c.attempt(ctx, cl, endpoint, payload, idempotent, attempt)
		if err == nil {
			return nil
		}
		if !retry || attempt >= c.cfg.MaxRetries {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
			return err // the caller's deadline would pass before the retry
		}
		c.cfg.Logger.Info("connector: retrying", "op", cl.op, "attempt", attempt+1, "delay", delay, "err", err)
		if serr := c.sleep(ctx, delay); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

// backoff is the delay before retry number attempt+1 without Retry-After:
// exponential from 1 s, jittered between half and the full value.
func (c *Client) backoff(attempt int) time.Duration {
	base := time.Second << min(attempt, 5)
	return time.Duration(float64(base) * (0.5 + 0.5*c.cfg.Jitter()))
}

// attempt makes one HTTP request. It reports whether a retry is safe and
// after which delay.
func (c *Client) attempt(ctx context.Context, cl call, endpoint string, payload []byte, idempotent bool, n int) (retry bool, delay time.Duration, err error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, cl.method, endpoint, body)
	if err != nil {
		return false, 0, fmt.Errorf("connector: %s: %w", cl.op, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	req.Header.Set("Accept", "application/json")
	if c.cfg.Credential != nil {
		tok, err := c.token(actx)
		if err != nil {
			return false, 0, fmt.Errorf("connector: %s: %w: %w", cl.op, ErrToken, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	start := time.Now()
	resp, err := c.cfg.HTTPClient.Do(req)
	requestSeconds.WithLabelValues(cl.op).Observe(time.Since(start).Seconds())
	if err != nil {
		status := "transport"
		if errors.Is(err, context.DeadlineExceeded) {
			status = "timeout"
		}
		requestsTotal.WithLabelValues(cl.op, status).Inc()
		if ctx.Err() != nil {
			return false, 0, fmt.Errorf("connector: %s: %w", cl.op, ctx.Err())
		}
		if idempotent || notSent(err) {
			return true, c.backoff(n), fmt.Errorf("connector: %s: %w", cl.op, err)
		}
		return false, 0, fmt.Errorf("connector: %s: %w: %w", cl.op, ErrMaybeDelivered, err)
	}
	defer resp.Body.Close()
	requestsTotal.WithLabelValues(cl.op, strconv.Itoa(resp.StatusCode)).Inc()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if rerr != nil {
			c.cfg.Logger.Warn("connector: reading response failed", "op", cl.op, "err", rerr)
			return false, 0, nil
		}
		if cl.out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, cl.out); err != nil {
				c.cfg.Logger.Warn("connector: response is not the expected JSON", "op", cl.op, "status", resp.StatusCode)
			}
		}
		return false, 0, nil
	}
	he := &HTTPError{Op: cl.op, Status: resp.StatusCode, Code: errorCode(data)}
	ra, hasRA := parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
	he.RetryAfter = ra
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		// The Connector did not take the request: safe to retry any method.
	case idempotent && (resp.StatusCode == http.StatusInternalServerError || resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusGatewayTimeout):
	default:
		return false, 0, he
	}
	if hasRA {
		if ra > c.cfg.MaxRetryAfter {
			return false, 0, he
		}
		// Honour Retry-After, plus up to 10% (at least up to 250 ms) of jitter
		// so that queued senders do not return in lockstep.
		j := max(ra/10, 250*time.Millisecond)
		return true, ra + time.Duration(float64(j)*c.cfg.Jitter()), he
	}
	return true, c.backoff(n), he
}

// notSent reports whether a transport error happened before the request
// could have reached the server (a failed dial), so a POST may be retried.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func errorCode(data []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil {
		return ""
	}
	code := e.Error.Code
	if len(code) > 64 {
		code = code[:64]
	}
	return code
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs > 1e6 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// token returns the cached token, fetching a new one (once, shared by
// concurrent callers) when it is missing or expires within 5 minutes.
func (c *Client) token(ctx context.Context) (string, error) {
	c.tokMu.Lock()
	if c.tok.Token != "" && c.now().Add(tokenRefreshMargin).Before(c.tok.ExpiresOn) {
		t := c.tok.Token
		c.tokMu.Unlock()
		return t, nil
	}
	tc := c.tokFetch
	if tc == nil {
		tc = &tokenCall{done: make(chan struct{})}
		c.tokFetch = tc
		go c.fetchToken(tc)
	}
	c.tokMu.Unlock()
	select {
	case <-tc.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if tc.err != nil {
		return "", tc.err
	}
	return tc.tok.Token, nil
}

func (c *Client) fetchToken(tc *tokenCall) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	tok, err := c.getToken(ctx)
	if err == nil && tok.Token == "" {
		err = errors.New("empty token")
	}
	c.tokMu.Lock()
	if err == nil {
		c.tok = tok
	}
	c.tokFetch = nil
	tc.tok, tc.err = tok, err
	c.tokMu.Unlock()
	close(tc.done)
}

// getToken asks the credential for a token. It runs on a goroutine of its
// own (shared by the callers waiting for it), where a panic inside the
// credential would end the process: it becomes an error instead, and the
// turn that needed the token fails and is retried.
func (c *Client) getToken(ctx context.Context) (tok azcore.AccessToken, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.cfg.Logger.Error("connector: token credential panicked", "panic", fmt.Sprint(v))
			err = fmt.Errorf("token credential panicked: %v", v)
		}
	}()
	return c.cfg.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.cfg.Scope}})
}
