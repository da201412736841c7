// Package llm owns free-text understanding through an OpenAI-compatible
// chat-completions endpoint (OpenAI, Azure OpenAI, Ollama, vLLM) with
// go-openai: classifying a message into the closed set of intents and
// answering a question only from given material. Everything sent is
// redacted first, every answer is checked before it is returned, each
// call runs under a deadline, and a circuit breaker stops calling a
// failing endpoint. The caller falls back to its keyword path on any
// error.
package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Providers accepted in Config.Provider.
const (
	ProviderNone   = "none"
	ProviderOpenAI = "openai"
	ProviderAzure  = "azure"
)

// DefaultAzureAPIVersion is an Azure OpenAI API version that supports
// structured output (go-openai's own default predates it).
const DefaultAzureAPIVersion = "2024-10-21"

// Config holds plain values; the lead maps llm.* configuration into it.
type Config struct {
	Provider   string // none (default), openai, azure
	BaseURL    string // optional for openai; required for azure (https://NAME.openai.azure.com)
	APIKey     string // may be empty for a local server
	Model      string // model name; for azure the deployment name
	APIVersion string // azure only; DefaultAzureAPIVersion when empty

	Timeout    time.Duration // per call; 4s when zero
	HTTPClient *http.Client  // optional
	Now        func() time.Time
	// AllowedURLs are the addresses an answer may contain besides those
	// in the material (the guide's, the institution's).
	AllowedURLs []string
	Logger      *slog.Logger

	// BreakerFailures consecutive failures open the circuit for
	// BreakerCooldown (defaults 3 and 1 minute).
	BreakerFailures int
	BreakerCooldown time.Duration
	// MaxAnswerChars caps a grounded answer (default 600).
	MaxAnswerChars int
	// DetectLanguage tells an answer's language ("nl", "en" or ""); the
	// bot passes intent.DetectLanguage, so that the student's messages and
	// the LLM's answers are judged by one detector. Required.
	DetectLanguage func(text string) string
}

// Errors the caller may tell apart; every error means "use the keyword
// path".
var (
	ErrCircuitOpen = errors.New("llm: circuit open, endpoint failing")
	ErrBadResponse = errors.New("llm: response not usable")
)

// Client is safe for concurrent use.
type Client struct {
	oc      *openai.Client
	model   string
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
	allowed []string
	maxAns  int
	lang    func(string) string
	br      *breaker

	mu     sync.Mutex
	format formatMode // the richest response format the server accepted
	// completionTokens: send max_completion_tokens instead of max_tokens
	// (reasoning models, and servers that say so)
	completionTokens bool
}

// reasoningModel reports whether model is one of OpenAI's reasoning
// models, which take max_completion_tokens and a reasoning effort and
// refuse max_tokens.
func reasoningModel(model string) bool {
	m := strings.ToLower(model)
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// formatMode is how a structured answer is asked for; a server that
// rejects one is asked the next way from then on.
type formatMode int

const (
	formatJSONSchema formatMode = iota
	formatJSONObject
	formatPlain
)

func (f formatMode) String() string {
	return [...]string{"json_schema", "json_object", "plain"}[f]
}

// New returns a client for cfg, or nil and no error when the provider is
// none or empty: the bot then works with keywords only.
func New(cfg Config) (*Client, error) {
	provider := strings.ToLower(strings.TrimSpace(cfg.Provider))
	if provider == "" || provider == ProviderNone {
		return nil, nil
	}
	if cfg.Model == "" {
		return nil, fmt.Errorf("llm: provider %s needs llm.model", provider)
	}
	if cfg.DetectLanguage == nil {
		// The language check of answers is a guardrail, not an option.
		return nil, errors.New("llm: Config.DetectLanguage is required (the bot passes intent.DetectLanguage)")
	}
	var oc openai.ClientConfig
	switch provider {
	case ProviderOpenAI:
		oc = openai.DefaultConfig(cfg.APIKey)
		if cfg.BaseURL != "" {
			oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
		}
	case ProviderAzure:
		if cfg.BaseURL == "" {
			return nil, errors.New("llm: provider azure needs llm.base_url")
		}
		if cfg.APIKey == "" {
			return nil, errors.New("llm: provider azure needs llm.api_key")
		}
		oc = openai.DefaultAzureConfig(cfg.APIKey, strings.TrimRight(cfg.BaseURL, "/"))
		oc.APIVersion = cfg.APIVersion
		if oc.APIVersion == "" {
			oc.APIVersion = DefaultAzureAPIVersion
		}
		// llm.model is the deployment name, used as it is.
		oc.AzureModelMapperFunc = func(string) string { return cfg.Model }
	default:
		return nil, fmt.Errorf("llm: unknown provider %q (none, openai or azure)", cfg.Provider)
	}
	if cfg.HTTPClient != nil {
		oc.HTTPClient = cfg.HTTPClient
	} else {
		oc.HTTPClient = &http.Client{}
	}
	c := &Client{
		completionTokens: reasoningModel(cfg.Model),
		oc:               openai.NewClientWithConfig(oc),
		model:            cfg.Model,
		timeout:          cfg.Timeout,
		now:              cfg.Now,
		log:              cfg.Logger,
		allowed:          cfg.AllowedURLs,
		maxAns:           cfg.MaxAnswerChars,
		lang:             cfg.DetectLanguage,
	}
	if c.timeout <= 0 {
		c.timeout = 4 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.maxAns <= 0 {
		c.maxAns = 600
	}
	failures, cooldown := cfg.BreakerFailures, cfg.BreakerCooldown
	if failures <= 0 {
		failures = 3
	}
	if cooldown <= 0 {
		cooldown = time.Minute
	}
	c.br = &breaker{threshold: failures, cooldown: cooldown, now: c.now}
	return c, nil
}

// do runs one logical chat completion: the breaker decides whether the
// endpoint is called at all, one deadline covers it, and a server that
// rejects the structured response format is asked again the next
// simpler way (remembered for later calls). build returns the request
// for a format; op is "classify" or "answer".
func (c *Client) do(ctx context.Context, op string, build func(formatMode) openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	if !c.br.allow() {
		failures.WithLabelValues(op, kindCircuitOpen).Inc()
		return openai.ChatCompletionResponse{}, ErrCircuitOpen
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	for {
		f, ct := c.currentFormat(), c.useCompletionTokens()
		req := build(f)
		req.Model = c.model
		if ct {
			// reasoning models count their thinking in the budget
			req.MaxCompletionTokens = max(req.MaxTokens*4, 1000)
			req.MaxTokens = 0
			if reasoningModel(c.model) {
				req.ReasoningEffort = "low"
			}
		}
		start := time.Now()
		resp, err := c.oc.CreateChatCompletion(ctx, req)
		latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
		calls.WithLabelValues(op).Inc()
		if err != nil {
			if !ct && rejectsMaxTokens(err) {
				c.switchToCompletionTokens()
				continue
			}
			if req.ResponseFormat != nil && f < formatPlain && rejectsFormat(err) {
				c.downgrade(f)
				continue
			}
			return resp, err
		}
		tokens.WithLabelValues("prompt").Add(float64(resp.Usage.PromptTokens))
		tokens.WithLabelValues("completion").Add(float64(resp.Usage.CompletionTokens))
		if len(resp.Choices) == 0 {
			return resp, fmt.Errorf("%w: no choices", ErrBadResponse)
		}
		return resp, nil
	}
}

// done records the outcome of one logical call (after format fallbacks)
// in the breaker and the failure metrics.
func (c *Client) done(ctx context.Context, op string, err error) {
	if err == nil {
		c.br.success()
		return
	}
	if errors.Is(err, ErrCircuitOpen) {
		return
	}
	kind := errorKind(err)
	if kind == kindCanceled && ctx.Err() != nil {
		// the caller gave up (the student moved on); not the endpoint's fault
		c.br.release()
		failures.WithLabelValues(op, kind).Inc()
		return
	}
	failures.WithLabelValues(op, kind).Inc()
	if c.br.failure() {
		c.log.Warn("llm circuit opened", "op", op, "kind", kind)
	}
	c.log.Warn("llm call failed", "op", op, "kind", kind, "status", statusCode(err))
}

// Failure kinds (label values of mfabot_llm_failures_total).
const (
	kindTimeout     = "timeout"
	kindRateLimited = "rate_limited"
	kindServer      = "server_error"
	kindClient      = "client_error"
	kindAuth        = "auth"
	kindBadResponse = "bad_response"
	kindTransport   = "transport"
	kindCanceled    = "canceled"
	kindCircuitOpen = "circuit_open"
)

func statusCode(err error) int {
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		return apiErr.HTTPStatusCode
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		return reqErr.HTTPStatusCode
	}
	return 0
}

func errorKind(err error) string {
	switch {
	case errors.Is(err, ErrBadResponse):
		return kindBadResponse
	case errors.Is(err, context.DeadlineExceeded):
		return kindTimeout
	case errors.Is(err, context.Canceled):
		return kindCanceled
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return kindTimeout
	}
	switch code := statusCode(err); {
	case code == http.StatusTooManyRequests:
		return kindRateLimited
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return kindAuth
	case code >= 500:
		return kindServer
	case code >= 400:
		return kindClient
	case code > 0:
		return kindBadResponse
	}
	return kindTransport
}

// rejectsFormat reports whether err is a server saying it does not
// support the response_format we sent: a 400 or 422 that names it or
// says something is not supported. Other 400s (a too long context) are
// ordinary failures and do not lose structured output for good.
func rejectsFormat(err error) bool {
	code := statusCode(err)
	if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
		return false
	}
	msg := strings.ToLower(err.Error())
	if strings.Contains(msg, "max_tokens") {
		return false
	}
	for _, w := range []string{"response_format", "json_schema", "json_object", "structured output", "schema", "not supported", "unsupported"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// rejectsMaxTokens reports a server that wants max_completion_tokens.
func rejectsMaxTokens(err error) bool {
	code := statusCode(err)
	return (code == http.StatusBadRequest || code == http.StatusUnprocessableEntity) &&
		strings.Contains(strings.ToLower(err.Error()), "max_tokens")
}

func (c *Client) useCompletionTokens() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.completionTokens
}

func (c *Client) switchToCompletionTokens() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.completionTokens {
		c.completionTokens = true
		c.log.Info("llm server wants max_completion_tokens; switching")
	}
}

func (c *Client) currentFormat() formatMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.format
}

// downgrade remembers that the server rejected format f.
func (c *Client) downgrade(f formatMode) formatMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.format == f && f < formatPlain {
		c.format = f + 1
		c.log.Info("llm server rejected response format; falling back", "rejected", f.String(), "now", c.format.String())
	}
	return c.format
}

// breaker is a consecutive-failure circuit breaker with one probe in
// half-open state.
type breaker struct {
	mu        sync.Mutex
	threshold int
	cooldown  time.Duration
	now       func() time.Time
	failures  int
	openUntil time.Time
	probing   bool
}

func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures < b.threshold {
		return true
	}
	if b.now().Before(b.openUntil) || b.probing {
		return false
	}
	b.probing = true // half-open: let one call through
	return true
}

func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.probing = 0, false
	breakerOpen.Set(0)
}

// failure records a failure and reports whether the circuit opened now.
func (b *breaker) failure() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	b.probing = false
	if b.failures >= b.threshold {
		b.openUntil = b.now().Add(b.cooldown)
		breakerOpen.Set(1)
		return true
	}
	return false
}

// release ends a probe without a verdict.
func (b *breaker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}
