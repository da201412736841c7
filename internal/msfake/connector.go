package msfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Connector is a fake Bot Framework Connector (the serviceUrl side). It
// records every request and answers like the real one:
//
//	POST {serviceUrl}v3/conversations                          -> {"id","activityId"}
//	POST {serviceUrl}v3/conversations/{conv}/activities        -> {"id"}
//	POST {serviceUrl}v3/conversations/{conv}/activities/{id}   -> {"id"}
//	PUT  {serviceUrl}v3/conversations/{conv}/activities/{id}   -> {"id"}
//	GET  {serviceUrl}v3/conversations/{conv}/members/{user}    -> member or 404
//
// Scripted answers (Enqueue) let tests make it throttle (429 with
// Retry-After), fail (503), accept without a body (202) or hang.
type Connector struct {
	Server *httptest.Server
	// Now stamps recorded requests; default time.Now (tests with a Clock
	// set it to clock.Now).
	Now func() time.Time
	// OnRequest, when set (before the first request), is called with each
	// request as it is recorded: a load driver waits on it instead of
	// polling Requests.
	OnRequest func(ConnectorRequest)

	mu       sync.Mutex
	requests []ConnectorRequest
	script   []Response
	members  map[string]ConnectorMember
	auth     func(authorization string) bool
	seq      int
	release  chan struct{}
}

// ConnectorRequest is one request the fake received.
type ConnectorRequest struct {
	Method string
	// Path is the unescaped path below the serviceUrl, e.g.
	// /v3/conversations/a:1/activities/123.
	Path string
	// Op is send, reply, update, create_conversation, member or unknown.
	Op             string
	ConversationID string
	ActivityID     string
	UserID         string
	Authorization  string
	// Body is the decoded JSON body (nil without one); Raw the bytes.
	Body map[string]any
	Raw  []byte
	At   time.Time
	// Status is what the fake answered.
	Status int
	// ReturnedID is the activity (or conversation) id the fake returned.
	ReturnedID string
}

// Response is a scripted answer, used by the next request.
type Response struct {
	// Status to answer; 0 = normal handling.
	Status int
	// RetryAfter is sent as the Retry-After header when not empty.
	RetryAfter string
	// Body is sent as is (an empty body when empty and Status is set).
	Body string
	// Delay holds the answer back (real time, cut short when the client
	// gives up).
	Delay time.Duration
	// Hang holds the answer until the client gives up or Release is called,
	// and then answers normally (so a POST that timed out was delivered).
	Hang bool
}

// ConnectorMember is a member returned by the member lookup.
type ConnectorMember struct {
	ID                string `json:"id"`
	Name              string `json:"name,omitempty"`
	AADObjectID       string `json:"aadObjectId,omitempty"`
	Email             string `json:"email,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	GivenName         string `json:"givenName,omitempty"`
	Surname           string `json:"surname,omitempty"`
	TenantID          string `json:"tenantId,omitempty"`
	UserRole          string `json:"userRole,omitempty"`
}

// ConnectorOptions configure NewConnector.
type ConnectorOptions struct {
	// TLS serves https (as the real Connector); default plain http.
	TLS bool
}

// NewConnector starts the fake; it is closed when the test ends.
func NewConnector(tb testing.TB, o ConnectorOptions) *Connector {
	tb.Helper()
	f := &Connector{Now: time.Now, members: map[string]ConnectorMember{}, release: make(chan struct{})}
	f.Server = newServer(tb, o.TLS, http.HandlerFunc(f.serve))
	return f
}

// ServiceURL is the serviceUrl to put in activities (with a path and a
// trailing slash, like https://smba.trafficmanager.net/emea/).
func (f *Connector) ServiceURL() string { return f.Server.URL + "/emea/" }

// Client returns an http.Client that can reach the fake.
func (f *Connector) Client() *http.Client { return clientFor(f.Server) }

// Enqueue adds scripted answers for the next requests, in order.
func (f *Connector) Enqueue(r ...Response) {
	f.mu.Lock()
	f.script = append(f.script, r...)
	f.mu.Unlock()
}

// Release lets every hanging request answer.
func (f *Connector) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.release)
	f.release = make(chan struct{})
}

// RequireAuth makes the fake answer 401 to requests whose Authorization
// header ok rejects (e.g. TokenServer.ValidBearer). nil accepts all.
func (f *Connector) RequireAuth(ok func(authorization string) bool) {
	f.mu.Lock()
	f.auth = ok
	f.mu.Unlock()
}

// SetMember makes the member lookup of userID in conversationID succeed.
func (f *Connector) SetMember(conversationID string, m ConnectorMember) {
	f.mu.Lock()
	f.members[conversationID+"\x00"+m.ID] = m
	f.mu.Unlock()
}

// Requests returns what the fake received so far.
func (f *Connector) Requests() []ConnectorRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ConnectorRequest(nil), f.requests...)
}

// Activities returns the bodies of the send and reply requests that were
// answered with success, in order.
func (f *Connector) Activities() []map[string]any {
	var out []map[string]any
	for _, r := range f.Requests() {
		if (r.Op == "send" || r.Op == "reply") && r.Status < 300 {
			out = append(out, r.Body)
		}
	}
	return out
}

func (f *Connector) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rec := ConnectorRequest{
		Method:        r.Method,
		Authorization: r.Header.Get("Authorization"),
		Raw:           raw,
		At:            f.Now(),
		Op:            "unknown",
	}
	if len(raw) > 0 {
		var body map[string]any
		if json.Unmarshal(raw, &body) == nil {
			rec.Body = body
		}
	}
	segs := splitConnectorPath(r.URL.EscapedPath())
	if segs != nil {
		rec.Path = "/" + strings.Join(segs, "/")
	} else {
		rec.Path = r.URL.Path
	}

	f.mu.Lock()
	var resp Response
	if len(f.script) > 0 {
		resp = f.script[0]
		f.script = f.script[1:]
	}
	auth := f.auth
	release := f.release
	f.mu.Unlock()

	status, out := f.route(r.Method, segs, &rec)
	if auth != nil && !auth(rec.Authorization) {
		status, out = http.StatusUnauthorized, errorBody("Unauthorized", "token missing or invalid")
		resp = Response{}
	}
	if resp.Status != 0 {
		status, out = resp.Status, resp.Body
		rec.ReturnedID = ""
	}
	rec.Status = status
	// Recorded on arrival: a request the client gave up on was still received.
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	f.mu.Unlock()
	if f.OnRequest != nil {
		f.OnRequest(rec)
	}

	switch {
	case resp.Hang:
		select {
		case <-r.Context().Done():
		case <-release:
		}
	case resp.Delay > 0:
		t := time.NewTimer(resp.Delay)
		select {
		case <-r.Context().Done():
		case <-t.C:
		}
		t.Stop()
	}
	if resp.RetryAfter != "" {
		w.Header().Set("Retry-After", resp.RetryAfter)
	}
	if out != "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

// splitConnectorPath returns the unescaped segments from "v3" on, or nil.
func splitConnectorPath(escaped string) []string {
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if p == "v3" {
			out := make([]string, 0, len(parts)-i)
			for _, q := range parts[i:] {
				u, err := url.PathUnescape(q)
				if err != nil {
					return nil
				}
				out = append(out, u)
			}
			return out
		}
	}
	return nil
}

func errorBody(code, msg string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	return string(b)
}

func (f *Connector) newID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return fmt.Sprintf("%d", 1700000000000+int64(f.seq))
}

func idBody(key, id string) string {
	b, _ := json.Marshal(map[string]string{key: id})
	return string(b)
}

func (f *Connector) route(method string, s []string, rec *ConnectorRequest) (int, string) {
	if len(s) < 2 || s[0] != "v3" || s[1] != "conversations" {
		return http.StatusNotFound, errorBody("NotFound", "no such resource")
	}
	switch {
	case len(s) == 2 && method == http.MethodPost:
		rec.Op = "create_conversation"
		if rec.Body == nil {
			return http.StatusBadRequest, errorBody("BadArgument", "body is not JSON")
		}
		act := f.newID()
		conv := "19:fake-thread@thread.tacv2;messageid=" + act
		rec.ConversationID, rec.ReturnedID = conv, conv
		b, _ := json.Marshal(map[string]string{"id": conv, "activityId": act})
		return http.StatusCreated, string(b)
	case len(s) == 4 && s[3] == "activities" && method == http.MethodPost:
		rec.Op, rec.ConversationID = "send", s[2]
	case len(s) == 5 && s[3] == "activities" && method == http.MethodPost:
		rec.Op, rec.ConversationID, rec.ActivityID = "reply", s[2], s[4]
	case len(s) == 5 && s[3] == "activities" && method == http.MethodPut:
		rec.Op, rec.ConversationID, rec.ActivityID = "update", s[2], s[4]
		if rec.Body == nil {
			return http.StatusBadRequest, errorBody("BadArgument", "body is not JSON")
		}
		rec.ReturnedID = s[4]
		return http.StatusOK, idBody("id", s[4])
	case len(s) == 5 && s[3] == "members" && method == http.MethodGet:
		rec.Op, rec.ConversationID, rec.UserID = "member", s[2], s[4]
		f.mu.Lock()
		m, ok := f.members[s[2]+"\x00"+s[4]]
		f.mu.Unlock()
		if !ok {
			return http.StatusNotFound, errorBody("MemberNotFoundInConversation", "The member was not found")
		}
		b, _ := json.Marshal(m)
		return http.StatusOK, string(b)
	default:
		return http.StatusNotFound, errorBody("NotFound", "no such resource")
	}
	// send or reply
	if rec.Body == nil {
		return http.StatusBadRequest, errorBody("BadArgument", "body is not JSON")
	}
	if typ, _ := rec.Body["type"].(string); typ == "" {
		return http.StatusBadRequest, errorBody("BadArgument", "activity type missing")
	}
	rec.ReturnedID = f.newID()
	return http.StatusOK, idBody("id", rec.ReturnedID)
}
