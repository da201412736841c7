package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"mfabot/internal/msfake"
)

const (
	testApp    = "00000000-0000-0000-0000-00000000b07a"
	testTenant = "11111111-2222-3333-4444-555555555555"
	testSecret = "not-a-real-secret"
	personal   = "a:1Xyz-personal-chat;messageid=1"
	channelID  = "19:abc123@thread.tacv2"
)

var quiet = slog.New(slog.DiscardHandler)

type env struct {
	clock *msfake.Clock
	ts    *msfake.TokenServer
	conn  *msfake.Connector
	cred  azcore.TokenCredential
	c     *Client
}

// newEnv wires a production-mode client (azidentity against the fake
// token endpoint) to a TLS fake Connector that insists on a valid token.
// The clock starts at the real time because azidentity's expiries are real.
func newEnv(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	e := &env{clock: msfake.NewClock(time.Time{})}
	e.ts = msfake.NewTokenServer(t, msfake.TokenServerOptions{TenantID: testTenant, ClientID: testApp, ClientSecret: testSecret})
	e.conn = msfake.NewConnector(t, msfake.ConnectorOptions{TLS: true})
	e.conn.Now = e.clock.Now
	e.conn.RequireAuth(e.ts.ValidBearer)
	cred, err := NewCredential(CredentialOptions{
		AppID: testApp, Password: testSecret, TenantID: testTenant,
		AuthorityHost: e.ts.AuthorityHost(), Transport: e.ts.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.cred = cred
	cfg := Config{
		Credential:      cred,
		HTTPClient:      e.conn.Client(),
		AllowServiceURL: func(u string) bool { return u == e.conn.ServiceURL() },
		Now:             e.clock.Now,
		Sleep:           e.clock.Sleep,
		Jitter:          func() float64 { return 0 },
		Logger:          quiet,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	e.c = New(cfg)
	return e
}

func msg(text string) *Activity { return &Activity{Type: TypeMessage, Text: text} }

func TestSendReplyUpdateTypingWireFormat(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	su := e.conn.ServiceURL()

	id1, err := e.c.Send(ctx, su, personal, msg("Hallo"))
	if err != nil || id1 == "" {
		t.Fatalf("send: id %q err %v", id1, err)
	}
	card := &Activity{Type: TypeMessage, Attachments: []Attachment{{ContentType: ContentTypeAdaptiveCard, Content: map[string]any{"type": "AdaptiveCard", "version": "1.5"}}}}
	id2, err := e.c.Reply(ctx, su, personal, "1699999999999", card)
	if err != nil || id2 == "" || id2 == id1 {
		t.Fatalf("reply: id %q err %v", id2, err)
	}
	if err := e.c.Update(ctx, su, personal, id2, msg("Vervangen")); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := e.c.Typing(ctx, su, personal); err != nil {
		t.Fatalf("typing: %v", err)
	}

	reqs := e.conn.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	want := []struct{ method, op, path string }{
		{"POST", "send", "/v3/conversations/" + personal + "/activities"},
		{"POST", "reply", "/v3/conversations/" + personal + "/activities/1699999999999"},
		{"PUT", "update", "/v3/conversations/" + personal + "/activities/" + id2},
		{"POST", "send", "/v3/conversations/" + personal + "/activities"},
	}
	for i, w := range want {
		r := reqs[i]
		if r.Method != w.method || r.Op != w.op || r.Path != w.path || r.ConversationID != personal {
			t.Errorf("request %d: %s %s %s (conv %q), want %s %s %s", i, r.Method, r.Op, r.Path, r.ConversationID, w.method, w.op, w.path)
		}
		if !e.ts.ValidBearer(r.Authorization) {
			t.Errorf("request %d: no valid bearer token", i)
		}
		for _, bad := range []string{"0001-01-01", "timestamp", `{}`, "null"} {
			if strings.Contains(string(r.Raw), bad) {
				t.Errorf("request %d body contains %q: %s", i, bad, r.Raw)
			}
		}
		if conv, _ := r.Body["conversation"].(map[string]any); conv["id"] != personal {
			t.Errorf("request %d: conversation %v", i, r.Body["conversation"])
		}
	}
	if reqs[0].Body["text"] != "Hallo" || reqs[0].Body["type"] != "message" {
		t.Errorf("send body %s", reqs[0].Raw)
	}
	if reqs[1].Body["replyToId"] != "1699999999999" {
		t.Errorf("reply body lacks replyToId: %s", reqs[1].Raw)
	}
	atts, _ := reqs[1].Body["attachments"].([]any)
	if len(atts) != 1 || atts[0].(map[string]any)["contentType"] != ContentTypeAdaptiveCard {
		t.Errorf("reply attachments %s", reqs[1].Raw)
	}
	if reqs[2].Body["id"] != id2 {
		t.Errorf("update body id %v", reqs[2].Body["id"])
	}
	if reqs[3].Body["type"] != "typing" {
		t.Errorf("typing body %s", reqs[3].Raw)
	}
	// One token for all of it, no instance discovery.
	if e.ts.TokenRequests() != 1 || e.ts.DiscoveryRequests() != 0 {
		t.Errorf("token requests %d, discovery %d; want 1, 0", e.ts.TokenRequests(), e.ts.DiscoveryRequests())
	}
	tr := e.ts.Requests()[0]
	if tr.Tenant != testTenant || tr.ClientID != testApp || !strings.Contains(tr.Scope, DefaultScope) || !tr.WithSecret {
		t.Errorf("token request %+v", tr)
	}
}

func TestCallerActivityNotMutated(t *testing.T) {
	e := newEnv(t, nil)
	a := msg("x")
	if _, err := e.c.Reply(context.Background(), e.conn.ServiceURL(), personal, "1", a); err != nil {
		t.Fatal(err)
	}
	if a.Conversation != nil || a.ReplyToID != "" {
		t.Fatalf("caller's activity changed: %+v", a)
	}
}

func TestAccepted202WithEmptyBody(t *testing.T) {
	e := newEnv(t, nil)
	e.conn.Enqueue(msfake.Response{Status: http.StatusAccepted})
	id, err := e.c.Reply(context.Background(), e.conn.ServiceURL(), personal, "1", msg("x"))
	if err != nil || id != "" {
		t.Fatalf("202: id %q err %v, want empty id and no error", id, err)
	}
	e.conn.Enqueue(msfake.Response{Status: http.StatusOK, Body: "not json"})
	if _, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("x")); err != nil {
		t.Fatalf("200 with odd body: %v", err)
	}
	if n := len(e.conn.Requests()); n != 2 {
		t.Fatalf("%d requests, want 2 (no retries)", n)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	e := newEnv(t, nil)
	e.conn.Enqueue(msfake.Response{Status: http.StatusTooManyRequests, RetryAfter: "3"})
	id, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("x"))
	if err != nil || id == "" {
		t.Fatalf("after 429: id %q err %v", id, err)
	}
	reqs := e.conn.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 200 {
		t.Fatalf("requests %+v", reqs)
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 3*time.Second || gap > 4*time.Second {
		t.Fatalf("retried after %v, want Retry-After 3s plus jitter", gap)
	}

	// Retry-After as an HTTP date, and jitter on top of it.
	e2 := newEnv(t, func(c *Config) { c.Jitter = func() float64 { return 0.999 } })
	e2.conn.Enqueue(msfake.Response{Status: http.StatusServiceUnavailable, RetryAfter: e2.clock.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)})
	if _, err := e2.c.Send(context.Background(), e2.conn.ServiceURL(), personal, msg("x")); err != nil {
		t.Fatal(err)
	}
	r2 := e2.conn.Requests()
	if gap := r2[1].At.Sub(r2[0].At); gap < 9*time.Second || gap > 12*time.Second {
		t.Fatalf("HTTP-date Retry-After: retried after %v", gap)
	}
}

func TestBackoffWithoutRetryAfterAndGivingUp(t *testing.T) {
	e := newEnv(t, nil)
	for i := 0; i < 4; i++ {
		e.conn.Enqueue(msfake.Response{Status: http.StatusServiceUnavailable})
	}
	_, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("x"))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 503 {
		t.Fatalf("got %v, want HTTPError 503", err)
	}
	if n := len(e.conn.Requests()); n != 1+DefaultMaxRetries {
		t.Fatalf("%d requests, want %d", n, 1+DefaultMaxRetries)
	}
	sleeps := e.clock.Sleeps()
	if len(sleeps) != DefaultMaxRetries || !(sleeps[0] < sleeps[1] && sleeps[1] < sleeps[2]) || sleeps[0] < 500*time.Millisecond {
		t.Fatalf("backoff sleeps %v, want growing delays", sleeps)
	}

	// A Retry-After beyond the limit fails at once.
	e.conn.Enqueue(msfake.Response{Status: http.StatusTooManyRequests, RetryAfter: "3600"})
	_, err = e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("x"))
	if !errors.As(err, &he) || he.Status != 429 || he.RetryAfter != time.Hour {
		t.Fatalf("got %v, want HTTPError 429 with RetryAfter 1h", err)
	}
	if n := len(e.conn.Requests()); n != 2+DefaultMaxRetries {
		t.Fatalf("long Retry-After was retried")
	}

	// Client errors are not retried, and the error names the Connector's code.
	_, err = e.c.Member(context.Background(), e.conn.ServiceURL(), personal, "29:nobody")
	if !errors.As(err, &he) || he.Status != 404 || he.Code != "MemberNotFoundInConversation" {
		t.Fatalf("member 404: %v", err)
	}
}

func TestNoBlindPostRetryAfterTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Timeout = 2 * time.Second })
	// Warm the connection, so that the deadline below hits while waiting
	// for the answer, not during a slow TLS handshake on a busy machine.
	if err := e.c.Typing(context.Background(), e.conn.ServiceURL(), personal); err != nil {
		t.Fatal(err)
	}
	e.conn.Enqueue(msfake.Response{Hang: true})
	_, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("maybe twice?"))
	if !errors.Is(err, ErrMaybeDelivered) {
		t.Fatalf("got %v, want ErrMaybeDelivered", err)
	}
	if n := len(e.conn.Requests()); n != 2 {
		t.Fatalf("POST sent %d times after a timeout, want 1", n-1)
	}
	// A PUT is idempotent: it is retried after the timeout.
	e.conn.Enqueue(msfake.Response{Hang: true})
	if err := e.c.Update(context.Background(), e.conn.ServiceURL(), personal, "123", msg("card")); err != nil {
		t.Fatalf("update after a timeout: %v", err)
	}
	reqs := e.conn.Requests()
	if len(reqs) != 4 || reqs[2].Op != "update" || reqs[3].Op != "update" {
		t.Fatalf("requests: %d", len(reqs))
	}
}

func TestPostRetriedWhenNeverSent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "https://" + ln.Addr().String() + "/emea/"
	ln.Close() // connection refused from now on
	e := newEnv(t, func(c *Config) { c.AllowServiceURL = func(string) bool { return true } })
	_, err = e.c.Send(context.Background(), dead, personal, msg("x"))
	if err == nil || errors.Is(err, ErrMaybeDelivered) {
		t.Fatalf("got %v, want a plain transport error", err)
	}
	if n := len(e.clock.Sleeps()); n != DefaultMaxRetries {
		t.Fatalf("a refused connection was tried %d times, want %d", n+1, DefaultMaxRetries+1)
	}
}

// countingCredential hands out tokens that live `life` on the test clock.
type countingCredential struct {
	mu    sync.Mutex
	calls int
	now   func() time.Time
	life  time.Duration
	fail  error
}

func (c *countingCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		return azcore.AccessToken{}, c.fail
	}
	if len(o.Scopes) != 1 || o.Scopes[0] != DefaultScope {
		return azcore.AccessToken{}, fmt.Errorf("scopes %v", o.Scopes)
	}
	return azcore.AccessToken{Token: fmt.Sprintf("tok-%d", c.calls), ExpiresOn: c.now().Add(c.life)}, nil
}

func (c *countingCredential) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func TestTokenCachedUntilNearExpiry(t *testing.T) {
	clock := msfake.NewClock(time.Time{})
	cred := &countingCredential{now: clock.Now, life: time.Hour}
	conn := msfake.NewConnector(t, msfake.ConnectorOptions{TLS: true})
	c := New(Config{Credential: cred, HTTPClient: conn.Client(), AllowServiceURL: func(string) bool { return true },
		Now: clock.Now, Sleep: clock.Sleep, Logger: quiet})
	send := func() {
		t.Helper()
		if _, err := c.Send(context.Background(), conn.ServiceURL(), personal, msg("x")); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); send() }()
	}
	wg.Wait()
	if cred.count() != 1 {
		t.Fatalf("10 concurrent sends fetched %d tokens, want 1", cred.count())
	}
	clock.Advance(54 * time.Minute)
	send()
	if cred.count() != 1 {
		t.Fatalf("token renewed 6 minutes before expiry")
	}
	clock.Advance(2 * time.Minute) // 4 minutes left
	send()
	if cred.count() != 2 {
		t.Fatalf("token not renewed 4 minutes before expiry (%d fetches)", cred.count())
	}
	reqs := conn.Requests()
	if reqs[len(reqs)-1].Authorization != "Bearer tok-2" || reqs[0].Authorization != "Bearer tok-1" {
		t.Fatalf("authorization headers %q ... %q", reqs[0].Authorization, reqs[len(reqs)-1].Authorization)
	}
}

func TestTokenFailureSendsNothing(t *testing.T) {
	e := newEnv(t, nil)
	e.ts.SetFailing(http.StatusUnauthorized)
	_, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("x"))
	if !errors.Is(err, ErrToken) {
		t.Fatalf("got %v, want ErrToken", err)
	}
	if n := len(e.conn.Requests()); n != 0 {
		t.Fatalf("%d requests sent without a token", n)
	}
	if strings.Contains(err.Error(), testSecret) {
		t.Fatal("error contains the secret")
	}
}

func TestTokenOnlyToAllowedServiceURLs(t *testing.T) {
	clock := msfake.NewClock(time.Time{})
	cred := &countingCredential{now: clock.Now, life: time.Hour}
	good := msfake.NewConnector(t, msfake.ConnectorOptions{TLS: true})
	evil := msfake.NewConnector(t, msfake.ConnectorOptions{TLS: true})
	plain := msfake.NewConnector(t, msfake.ConnectorOptions{})
	c := New(Config{Credential: cred, HTTPClient: good.Client(), Now: clock.Now, Sleep: clock.Sleep, Logger: quiet,
		AllowServiceURL: func(u string) bool { return u == good.ServiceURL() || u == plain.ServiceURL() }})
	ctx := context.Background()
	for name, call := range map[string]func(string) error{
		"send":   func(u string) error { _, err := c.Send(ctx, u, personal, msg("x")); return err },
		"reply":  func(u string) error { _, err := c.Reply(ctx, u, personal, "1", msg("x")); return err },
		"update": func(u string) error { return c.Update(ctx, u, personal, "1", msg("x")) },
		"typing": func(u string) error { return c.Typing(ctx, u, personal) },
		"create": func(u string) error {
			_, _, err := c.CreateConversation(ctx, u, CreateConversationParams{IsGroup: true, ChannelID: channelID, TenantID: testTenant})
			return err
		},
		"member": func(u string) error { _, err := c.Member(ctx, u, personal, "29:x"); return err },
	} {
		for _, u := range []string{
			evil.ServiceURL(),          // not allowed
			plain.ServiceURL(),         // allowed, but http in production
			good.ServiceURL() + "?x=1", // a different string
			"https://user:pw@" + good.Server.Listener.Addr().String() + "/emea/", // userinfo
			"not a url",
		} {
			if err := call(u); !errors.Is(err, ErrServiceURLNotAllowed) {
				t.Errorf("%s to %q: got %v, want ErrServiceURLNotAllowed", name, u, err)
			}
		}
	}
	if n := len(evil.Requests()) + len(plain.Requests()) + len(good.Requests()); n != 0 {
		t.Fatalf("%d requests reached a fake", n)
	}
	if cred.count() != 0 {
		t.Fatalf("a token was fetched for a refused call")
	}
	// Nil AllowServiceURL in production allows nothing.
	c2 := New(Config{Credential: cred, HTTPClient: good.Client(), Logger: quiet})
	if _, err := c2.Send(ctx, good.ServiceURL(), personal, msg("x")); !errors.Is(err, ErrServiceURLNotAllowed) {
		t.Fatalf("nil AllowServiceURL: %v", err)
	}
}

func TestDevModeLoopbackOnlyAndNoToken(t *testing.T) {
	conn := msfake.NewConnector(t, msfake.ConnectorOptions{})
	c := New(Config{HTTPClient: conn.Client(), Logger: quiet})
	ctx := context.Background()
	// The Agents Playground's serviceUrl shape: http, localhost, a path.
	local := strings.Replace(conn.Server.URL, "127.0.0.1", "localhost", 1) + "/_connector"
	if _, err := c.Send(ctx, local, "conv-1", msg("hi")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reply(ctx, conn.ServiceURL(), "conv-1", "user-msg-1", msg("hi")); err != nil {
		t.Fatal(err)
	}
	for _, r := range conn.Requests() {
		if r.Authorization != "" {
			t.Fatalf("dev mode sent Authorization %q", r.Authorization)
		}
	}
	if got := conn.Requests()[0].Path; got != "/v3/conversations/conv-1/activities" {
		t.Fatalf("path %q", got)
	}
	for _, u := range []string{"https://smba.trafficmanager.net/emea/", "http://10.0.0.1/x", "ftp://127.0.0.1/"} {
		if _, err := c.Send(ctx, u, "conv-1", msg("hi")); !errors.Is(err, ErrServiceURLNotAllowed) {
			t.Fatalf("dev mode to %q: %v", u, err)
		}
	}
}

func TestCreateConversationAndMember(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	conv, act, err := e.c.CreateConversation(ctx, e.conn.ServiceURL(), CreateConversationParams{
		IsGroup: true, ChannelID: channelID, TenantID: testTenant,
		Activity: &Activity{Type: TypeMessage, Text: "Nieuwe melding"},
	})
	if err != nil || conv == "" || act == "" || !strings.Contains(conv, act) {
		t.Fatalf("create: conv %q act %q err %v", conv, act, err)
	}
	r := e.conn.Requests()[0]
	if r.Op != "create_conversation" || r.Path != "/v3/conversations" {
		t.Fatalf("request %s %s", r.Op, r.Path)
	}
	var body struct {
		IsGroup     bool `json:"isGroup"`
		ChannelData struct {
			Channel struct{ ID string } `json:"channel"`
			Tenant  struct{ ID string } `json:"tenant"`
		} `json:"channelData"`
		Activity struct {
			Type, Text string
		} `json:"activity"`
	}
	if err := json.Unmarshal(r.Raw, &body); err != nil {
		t.Fatal(err)
	}
	if !body.IsGroup || body.ChannelData.Channel.ID != channelID || body.ChannelData.Tenant.ID != testTenant || body.Activity.Text != "Nieuwe melding" {
		t.Fatalf("create body %s", r.Raw)
	}

	e.conn.SetMember(personal, msfake.ConnectorMember{ID: "29:student", Name: "Sam de Vries", AADObjectID: "oid-1",
		Email: "sam@school.example", UserPrincipalName: "sam@school.example"})
	m, err := e.c.Member(ctx, e.conn.ServiceURL(), personal, "29:student")
	if err != nil {
		t.Fatal(err)
	}
	if m.UserPrincipalName != "sam@school.example" || m.Email != "sam@school.example" || m.AADObjectID != "oid-1" || m.Name != "Sam de Vries" {
		t.Fatalf("member %+v", m)
	}
	if got := e.conn.Requests()[1].Path; got != "/v3/conversations/"+personal+"/members/29:student" {
		t.Fatalf("member path %q", got)
	}
}

func TestRateLimiterQueuesPerConversation(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	const n = 70
	for i := 0; i < n; i++ {
		if _, err := e.c.Send(ctx, e.conn.ServiceURL(), personal, msg(fmt.Sprint(i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	reqs := e.conn.Requests()
	if len(reqs) != n {
		t.Fatalf("%d delivered, want all %d (queued, not dropped)", len(reqs), n)
	}
	for i := range reqs {
		if reqs[i].Body["text"] != fmt.Sprint(i) {
			t.Fatalf("order broken at %d", i)
		}
	}
	checkWindows(t, reqs, ConversationLimits)
	if len(e.clock.Sleeps()) == 0 {
		t.Fatal("never waited")
	}
	// Another conversation is not held up by the first one's queue.
	before := e.clock.Now()
	if _, err := e.c.Send(ctx, e.conn.ServiceURL(), "a:other", msg("x")); err != nil {
		t.Fatal(err)
	}
	if e.clock.Now() != before {
		t.Fatalf("an idle conversation waited %v", e.clock.Now().Sub(before))
	}
}

func TestRateLimiterPerTenant(t *testing.T) {
	e := newEnv(t, nil)
	ctx := WithTenant(context.Background(), testTenant)
	for i := 0; i < 120; i++ {
		if _, err := e.c.Send(ctx, e.conn.ServiceURL(), fmt.Sprintf("a:conv-%d", i), msg("welkom")); err != nil {
			t.Fatal(err)
		}
	}
	reqs := e.conn.Requests()
	if len(reqs) != 120 {
		t.Fatalf("%d delivered", len(reqs))
	}
	checkWindows(t, reqs, TenantLimits)
	if span := reqs[len(reqs)-1].At.Sub(reqs[0].At); span < 2*time.Second {
		t.Fatalf("120 requests in %v: the tenant limit did not hold them", span)
	}
	// The tenant can also come from the activity itself.
	other := &Activity{Type: TypeMessage, Text: "x", Conversation: &ConversationAccount{ID: "a:t2", TenantID: "other-tenant"}}
	before := e.clock.Now()
	if _, err := e.c.Send(context.Background(), e.conn.ServiceURL(), "a:t2", other); err != nil {
		t.Fatal(err)
	}
	if e.clock.Now() != before {
		t.Fatalf("another tenant waited behind the first")
	}
}

// checkWindows asserts that no sliding window saw more than its limit.
func checkWindows(t *testing.T, reqs []msfake.ConnectorRequest, windows []Window) {
	t.Helper()
	for _, w := range windows {
		for i := range reqs {
			count := 0
			for j := i; j < len(reqs) && reqs[j].At.Sub(reqs[i].At) < w.Per; j++ {
				count++
			}
			if count > w.N {
				t.Fatalf("%d requests within %v starting at #%d, limit %d", count, w.Per, i, w.N)
			}
		}
	}
}

func TestRateLimitWaitBoundedByContext(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ConversationLimits = []Window{{1, time.Hour}} })
	if _, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("1")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.c.Send(ctx, e.conn.ServiceURL(), personal, msg("2")); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if n := len(e.conn.Requests()); n != 1 {
		t.Fatalf("%d requests", n)
	}
	// The abandoned slot was given back: the next one waits one hour, not two.
	before := e.clock.Now()
	if _, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("3")); err != nil {
		t.Fatal(err)
	}
	if waited := e.clock.Now().Sub(before); waited > time.Hour {
		t.Fatalf("waited %v", waited)
	}
}

func TestActivityTooLarge(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg(strings.Repeat("x", MaxActivityBytes)))
	if !errors.Is(err, ErrActivityTooLarge) {
		t.Fatalf("got %v", err)
	}
	if len(e.conn.Requests()) != 0 || e.ts.TokenRequests() != 0 {
		t.Fatal("an oversized activity was sent")
	}
}

func TestNewCredential(t *testing.T) {
	dir := t.TempDir()
	certPath, cert := msfake.WriteClientCertificate(t, dir)
	ts := msfake.NewTokenServer(t, msfake.TokenServerOptions{TenantID: testTenant, ClientID: testApp, Certificate: cert})
	cred, err := NewCredential(CredentialOptions{AppID: testApp, CertificatePath: certPath, TenantID: testTenant,
		AuthorityHost: strings.TrimSuffix(ts.AuthorityHost(), "/"), Transport: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{DefaultScope}})
	if err != nil || !ts.Valid(tok.Token) {
		t.Fatalf("certificate credential: %v", err)
	}
	if r := ts.Requests()[0]; !r.WithAssertion || r.WithSecret {
		t.Fatalf("token request %+v", r)
	}
	if ts.DiscoveryRequests() != 0 {
		t.Fatal("instance discovery was requested for a non-public authority")
	}
	// A certificate that the token endpoint does not know is refused.
	otherPath, _ := msfake.WriteClientCertificate(t, t.TempDir())
	bad, err := NewCredential(CredentialOptions{AppID: testApp, CertificatePath: otherPath, TenantID: testTenant,
		AuthorityHost: ts.AuthorityHost(), Transport: ts.Client(), Retry: policy.RetryOptions{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{DefaultScope}}); err == nil {
		t.Fatal("a foreign certificate got a token")
	}

	for name, o := range map[string]CredentialOptions{
		"no app id":       {Password: "x", TenantID: testTenant},
		"no tenant":       {AppID: testApp, Password: "x"},
		"neither":         {AppID: testApp, TenantID: testTenant},
		"both":            {AppID: testApp, TenantID: testTenant, Password: "x", CertificatePath: certPath},
		"http authority":  {AppID: testApp, TenantID: testTenant, Password: "x", AuthorityHost: "http://login.example/"},
		"missing cert":    {AppID: testApp, TenantID: testTenant, CertificatePath: dir + "/nope.pem"},
		"cert not a cert": {AppID: testApp, TenantID: testTenant, CertificatePath: writeFile(t, dir, "junk.pem", "junk")},
	} {
		if _, err := NewCredential(o); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "x\"") {
			t.Errorf("%s: error mentions the secret", name)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"0": 0, "2": 2 * time.Second, "1.5": 1500 * time.Millisecond,
		now.Add(30 * time.Second).Format(http.TimeFormat): 30 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		got, ok := parseRetryAfter(in, now)
		if !ok || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "-1", "soon", "1e9"} {
		if _, ok := parseRetryAfter(in, now); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestNoRetryPastTheCallersDeadline(t *testing.T) {
	e := newEnv(t, nil)
	e.conn.Enqueue(msfake.Response{Status: http.StatusTooManyRequests, RetryAfter: "30"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := e.c.Send(ctx, e.conn.ServiceURL(), personal, msg("x"))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 429 {
		t.Fatalf("got %v, want the 429 at once", err)
	}
	if len(e.clock.Sleeps()) != 0 || len(e.conn.Requests()) != 1 {
		t.Fatal("waited for a retry the deadline would not allow")
	}
}

func TestRedirectsNotFollowed(t *testing.T) {
	e := newEnv(t, nil)
	var hits int
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer other.Close()
	e.conn.Enqueue(msfake.Response{Status: http.StatusTemporaryRedirect, Body: ""})
	// The fake cannot set Location; a redirect without one is still a 3xx
	// answer that must not count as delivered.
	_, err := e.c.Send(context.Background(), e.conn.ServiceURL(), personal, msg("x"))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusTemporaryRedirect {
		t.Fatalf("got %v", err)
	}
	redir := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer redir.Close()
	c := New(Config{Credential: &countingCredential{now: time.Now, life: time.Hour}, HTTPClient: redir.Client(),
		AllowServiceURL: func(string) bool { return true }, Logger: quiet})
	if _, err := c.Send(context.Background(), redir.URL+"/emea/", personal, msg("x")); !errors.As(err, &he) || he.Status != http.StatusTemporaryRedirect {
		t.Fatalf("got %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Fatal("redirect followed")
	}
}

func TestDotSegmentsRefused(t *testing.T) {
	e := newEnv(t, nil)
	for _, id := range []string{"..", ".", ""} {
		if _, err := e.c.Send(context.Background(), e.conn.ServiceURL(), id, msg("x")); err == nil {
			t.Fatalf("conversation id %q accepted", id)
		}
	}
	if _, err := e.c.Send(context.Background(), e.conn.ServiceURL(), "a/../../b", msg("x")); err != nil {
		t.Fatal(err)
	}
	if got := e.conn.Requests()[0].ConversationID; got != "a/../../b" {
		t.Fatalf("conversation id arrived as %q", got)
	}
}
