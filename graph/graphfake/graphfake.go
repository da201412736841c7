// Package graphfake is a fake of the Microsoft Graph v1.0 endpoints mfabot
// uses, for tests: the user, the authentication methods list and the
// registration report (and the service desk's writes, actions.go), over TLS, in the JSON shapes of
// shared/reference/graph. It refuses requests without a valid bearer
// token, gunzips request bodies, and lets a test change the student's
// account between turns (a new Authenticator appears, possibly only after
// a few reads, the old one goes) or script failures (403, 429 with
// Retry-After, 5xx, hangs). It does not import msgraph-sdk-go.
package graphfake

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Reply is one scripted answer. Body is sent as is (use ErrorBody for
// Graph's error shape); Hang never answers, so the client's deadline
// must end the call.
type Reply struct {
	Status     int
	Body       string
	RetryAfter string
	Hang       bool
	// Delay holds the answer back (real time, cut short when the client
	// gives up); with no Status and Body the answer is then the normal one.
	Delay time.Duration
}

// Request is one request as the fake saw it.
type Request struct {
	Method     string
	Path       string // below /v1.0, e.g. /users/{id}/authentication/methods
	Query      string
	Authorized bool
}

// Options configure the fake.
type Options struct {
	// ValidBearer checks the Authorization header, for example
	// msfake.TokenServer.ValidBearer. Nil accepts any non-empty
	// "Bearer ..." header (a request without one is still refused).
	ValidBearer func(authorization string) bool
}

type account struct {
	user         map[string]any
	methods      []map[string]any
	methodsJSON  []byte // a fixture served verbatim, until the methods change
	registration []byte // nil: 403, as without AuditLog.Read.All
	pending      []pendingMethod
}

type pendingMethod struct {
	method    map[string]any
	afterRead int // visible once methods were read this many more times
}

// Graph is the fake. Its methods are safe for concurrent use.
type Graph struct {
	Server *httptest.Server

	valid func(string) bool
	stop  chan struct{}

	mu       sync.Mutex
	accounts map[string]*account
	scripts  map[string][]Reply
	requests []Request
	writes   writeState // actions.go
}

// New starts the fake over TLS; it is closed when the test ends.
func New(tb testing.TB, o Options) *Graph {
	tb.Helper()
	g := &Graph{
		valid:    o.ValidBearer,
		stop:     make(chan struct{}),
		accounts: map[string]*account{},
		scripts:  map[string][]Reply{},
	}
	if g.valid == nil {
		g.valid = func(a string) bool {
			tok, ok := strings.CutPrefix(a, "Bearer ")
			return ok && strings.TrimSpace(tok) != ""
		}
	}
	// HTTP/2 over TLS, as graph.microsoft.com speaks it.
	g.Server = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	g.Server.EnableHTTP2 = true
	g.Server.StartTLS()
	tb.Cleanup(func() {
		close(g.stop)
		g.Server.Close()
	})
	return g
}

// BaseURL is the value for graph.base_url.
func (g *Graph) BaseURL() string { return g.Server.URL + "/v1.0" }

// Client returns an http.Client that trusts the fake's certificate.
func (g *Graph) Client() *http.Client { return g.Server.Client() }

func (g *Graph) acct(userID string) *account {
	a, ok := g.accounts[userID]
	if !ok {
		a = &account{user: map[string]any{"id": userID}}
		g.accounts[userID] = a
	}
	return a
}

// SetUser creates or replaces the user's profile.
func (g *Graph) SetUser(userID, displayName, upn, preferredLanguage string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.acct(userID).user = map[string]any{
		"id": userID, "displayName": displayName, "userPrincipalName": upn, "mail": upn,
		"preferredLanguage": preferredLanguage,
	}
}

// SetUserJSON serves body (for example user.json) as the user's profile.
func (g *Graph) SetUserJSON(userID string, body []byte) error {
	var u map[string]any
	if err := json.Unmarshal(body, &u); err != nil {
		return err
	}
	delete(u, "@odata.context")
	g.mu.Lock()
	defer g.mu.Unlock()
	g.acct(userID).user = u
	return nil
}

// SetMethodsJSON serves body (for example methods-list.json) verbatim as
// the user's methods; a later Add/Remove works on its parsed entries.
func (g *Graph) SetMethodsJSON(userID string, body []byte) error {
	var list struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.acct(userID)
	a.methods, a.methodsJSON, a.pending = list.Value, slices.Clone(body), nil
	return nil
}

// SetRegistrationJSON serves body (for example
// userRegistrationDetails.json) as the user's registration report;
// without it the report answers 403.
func (g *Graph) SetRegistrationJSON(userID string, body []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.acct(userID).registration = slices.Clone(body)
}

// AddMethod appends a method (with its "@odata.type" and "id").
func (g *Graph) AddMethod(userID string, method map[string]any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.acct(userID)
	a.methods, a.methodsJSON = append(a.methods, method), nil
}

// AddMethodAfter appends a method that becomes visible only after the
// methods were read reads more times (Graph's replication lag): with
// reads = 2 the third read shows it.
func (g *Graph) AddMethodAfter(userID string, method map[string]any, reads int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.acct(userID)
	a.pending = append(a.pending, pendingMethod{method: method, afterRead: reads})
}

// Authenticator returns a microsoftAuthenticatorAuthenticationMethod.
func Authenticator(id, deviceName string) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
		"id":          id, "displayName": deviceName, "deviceTag": "SoftwareTokenActivated",
		"phoneAppVersion": "6.8.20", "createdDateTime": nil,
	}
}

// Phone returns a phoneAuthenticationMethod (phoneType mobile,
// alternateMobile or office).
func Phone(id, number, phoneType string) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
		"id":          id, "phoneNumber": number, "phoneType": phoneType, "smsSignInState": "notEnabled",
	}
}

// Password returns a passwordAuthenticationMethod.
func Password(id string) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
		"id":          id, "password": nil, "createdDateTime": nil,
	}
}

// RemoveMethod deletes a method by id (the student removed it).
func (g *Graph) RemoveMethod(userID, methodID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	a := g.acct(userID)
	a.methods = slices.DeleteFunc(a.methods, func(m map[string]any) bool { return m["id"] == methodID })
	a.methodsJSON = nil
}

// Enqueue scripts replies for a path below /v1.0 (for example
// "/users/{id}/authentication/methods"); they are used in order before
// the account's state answers again.
func (g *Graph) Enqueue(path string, rs ...Reply) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.scripts[path] = append(g.scripts[path], rs...)
}

// ErrorBody is Graph's complete error shape.
func ErrorBody(code, message string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"innerError": map[string]any{
			"date":              "2026-11-27T05:00:00",
			"request-id":        "b1b1b1b1-0000-4000-8000-0000000000f1",
			"client-request-id": "b1b1b1b1-0000-4000-8000-0000000000f2",
		},
	}})
	return string(b)
}

// Requests returns every request seen, authorized or not.
func (g *Graph) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.requests)
}

// Count returns how many authorized requests reached path.
func (g *Graph) Count(path string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, r := range g.requests {
		if r.Path == path && r.Authorized {
			n++
		}
	}
	return n
}

func (g *Graph) serve(w http.ResponseWriter, r *http.Request) {
	path, _ := strings.CutPrefix(r.URL.Path, "/v1.0")
	rec := Request{Method: r.Method, Path: path, Query: r.URL.RawQuery, Authorized: g.valid(r.Header.Get("Authorization"))}
	g.mu.Lock()
	g.requests = append(g.requests, rec)
	g.mu.Unlock()
	if !rec.Authorized {
		writeJSON(w, http.StatusUnauthorized, nil, ErrorBody("InvalidAuthenticationToken", "Access token is empty."))
		return
	}
	var payload []byte
	if r.Body != nil {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, nil, ErrorBody("BadRequest", "Request body is not valid gzip."))
				return
			}
			body = zr
		}
		b, err := io.ReadAll(io.LimitReader(body, 1<<20))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, nil, ErrorBody("BadRequest", "Request body could not be read."))
			return
		}
		payload = b
	}
	if r.Method != http.MethodGet && !writeMethod(r.Method) {
		writeJSON(w, http.StatusMethodNotAllowed, nil, ErrorBody("Request_BadRequest", r.Method+" is not expected."))
		return
	}

	g.mu.Lock()
	if q := g.scripts[path]; len(q) > 0 {
		rep := q[0]
		g.scripts[path] = q[1:]
		g.mu.Unlock()
		g.reply(w, r, rep)
		return
	}
	if r.Method != http.MethodGet {
		status, body := g.routeWrite(r.Method, path, payload) // actions.go
		g.mu.Unlock()
		writeJSON(w, status, nil, body)
		return
	}
	status, body := g.route(path)
	g.mu.Unlock()
	writeJSON(w, status, nil, body)
}

func (g *Graph) reply(w http.ResponseWriter, r *http.Request, rep Reply) {
	if rep.Hang {
		select {
		case <-r.Context().Done():
		case <-g.stop:
		}
		return
	}
	if rep.Delay > 0 {
		select {
		case <-time.After(rep.Delay):
		case <-r.Context().Done():
			return
		case <-g.stop:
			return
		}
		if rep.Status == 0 && rep.Body == "" {
			g.mu.Lock()
			status, body := g.route(strings.TrimPrefix(r.URL.Path, "/v1.0"))
			g.mu.Unlock()
			writeJSON(w, status, nil, body)
			return
		}
	}
	h := http.Header{}
	if rep.RetryAfter != "" {
		h.Set("Retry-After", rep.RetryAfter)
	}
	status := rep.Status
	if status == 0 {
		status = http.StatusOK
	}
	writeJSON(w, status, h, rep.Body)
}

// route answers from the accounts' state; g.mu is held.
func (g *Graph) route(path string) (int, string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	notFound := func(id string) (int, string) {
		return http.StatusNotFound, ErrorBody("Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
	}
	switch {
	case len(parts) == 2 && parts[0] == "users":
		a, ok := g.accounts[parts[1]]
		if !ok {
			return notFound(parts[1])
		}
		u := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity"}
		for k, v := range a.user {
			u[k] = v
		}
		return http.StatusOK, mustJSON(u)
	case len(parts) == 4 && parts[0] == "users" && parts[2] == "authentication" && parts[3] == "methods":
		a, ok := g.accounts[parts[1]]
		if !ok {
			return notFound(parts[1])
		}
		for i := range a.pending {
			a.pending[i].afterRead--
		}
		var still []pendingMethod
		for _, p := range a.pending {
			if p.afterRead < 0 {
				a.methods, a.methodsJSON = append(a.methods, p.method), nil
			} else {
				still = append(still, p)
			}
		}
		a.pending = still
		if a.methodsJSON != nil {
			return http.StatusOK, string(a.methodsJSON)
		}
		return http.StatusOK, mustJSON(map[string]any{
			"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + parts[1] + "')/authentication/methods",
			"value":          append([]map[string]any{}, a.methods...),
		})
	case len(parts) == 4 && parts[0] == "reports" && parts[1] == "authenticationMethods" && parts[2] == "userRegistrationDetails":
		a, ok := g.accounts[parts[3]]
		if !ok {
			return notFound(parts[3])
		}
		if a.registration == nil {
			return http.StatusForbidden, ErrorBody("Authentication_RequestFromNonPremiumTenantOrB2CTenant",
				"Neither tenant is B2C or tenant doesn't have premium license")
		}
		return http.StatusOK, string(a.registration)
	default:
		return http.StatusNotFound, ErrorBody("BadRequest", "Resource not found for the segment '"+parts[len(parts)-1]+"'.")
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, h http.Header, body string) {
	for k, vs := range h {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
	w.Header().Set("request-id", "b1b1b1b1-0000-4000-8000-0000000000f0")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}
