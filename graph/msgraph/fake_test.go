package msgraph

import (
	"compress/gzip"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// fakeEntra is a TLS fake of the Entra ID token endpoint for one tenant:
// the OpenID configuration MSAL reads, and client-credentials tokens for
// a client secret or a certificate-signed client assertion.
type fakeEntra struct {
	srv      *httptest.Server
	tenant   string
	clientID string
	secret   string
	cert     *x509.Certificate // for client assertions; nil = secret only

	mu     sync.Mutex
	issued map[string]bool
	scopes []string
	n      int
}

func newFakeEntra(t *testing.T, tenant, clientID, secret string) *fakeEntra {
	f := &fakeEntra{tenant: tenant, clientID: clientID, secret: secret, issued: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+tenant+"/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := f.srv.URL + "/" + tenant
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                 base + "/v2.0",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			"token_endpoint":         base + "/oauth2/v2.0/token",
			"jwks_uri":               base + "/discovery/v2.0/keys",
		})
	})
	mux.HandleFunc("POST /"+tenant+"/oauth2/v2.0/token", f.token)
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEntra) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != f.clientID {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_client", "error_description": "AADSTS700016: unknown client"})
		return
	}
	switch {
	case r.PostForm.Get("client_secret") != "":
		if r.PostForm.Get("client_secret") != f.secret {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
			return
		}
	case r.PostForm.Get("client_assertion") != "" && f.cert != nil:
		aud := f.srv.URL + "/" + f.tenant + "/oauth2/v2.0/token"
		tok, err := jwt.Parse(r.PostForm.Get("client_assertion"), func(*jwt.Token) (any, error) { return f.cert.PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithAudience(aud), jwt.WithIssuer(f.clientID), jwt.WithSubject(f.clientID))
		if err != nil || !tok.Valid {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "AADSTS700027: bad assertion"})
			return
		}
	default:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "AADSTS7000216: credential missing"})
		return
	}
	f.mu.Lock()
	f.n++
	tok := fmt.Sprintf("fake-graph-token-%d", f.n)
	f.issued[tok] = true
	f.scopes = append(f.scopes, r.PostForm.Get("scope"))
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": tok})
}

func (f *fakeEntra) valid(token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued[token]
}

func (f *fakeEntra) requestedScopes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.scopes...)
}

// reply is what the fake Graph answers to one request.
type reply struct {
	status     int
	file       string // testdata file sent as the body
	body       string // literal body when file is empty
	retryAfter string
	hang       bool // never answer; the client's deadline must end it
}

// fakeGraph is a TLS fake of Microsoft Graph v1.0 speaking the fixture
// JSON. It refuses requests without a bearer token its fakeEntra issued,
// gunzips request bodies, and answers each path from a queue of replies
// (the last one repeats).
type fakeGraph struct {
	t     *testing.T
	srv   *httptest.Server
	entra *fakeEntra
	stop  chan struct{}

	mu       sync.Mutex
	replies  map[string][]reply
	requests []*http.Request
	queries  []url.Values
}

func newFakeGraph(t *testing.T, entra *fakeEntra) *fakeGraph {
	g := &fakeGraph{t: t, entra: entra, replies: map[string][]reply{}, stop: make(chan struct{})}
	g.srv = httptest.NewTLSServer(http.HandlerFunc(g.serve))
	t.Cleanup(func() { close(g.stop); g.srv.Close() })
	return g
}

func (g *fakeGraph) baseURL() string { return g.srv.URL + "/v1.0" }

// on sets the replies for a path (below /v1.0), answered in order.
func (g *fakeGraph) on(path string, rs ...reply) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.replies[path] = rs
}

func (g *fakeGraph) count(path string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, r := range g.requests {
		if r.URL.Path == "/v1.0"+path {
			n++
		}
	}
	return n
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") || !g.entra.valid(strings.TrimPrefix(auth, "Bearer ")) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]any{
			"code": "InvalidAuthenticationToken", "message": "Access token is empty.",
			"innerError": map[string]any{"date": "2026-11-27T05:00:00", "request-id": "r", "client-request-id": "c"}}})
		return
	}
	if r.Body != nil {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, "bad gzip", http.StatusBadRequest)
				return
			}
			body = zr
		}
		_, _ = io.Copy(io.Discard, body)
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1.0")
	g.mu.Lock()
	g.requests = append(g.requests, r)
	g.queries = append(g.queries, r.URL.Query())
	queue := g.replies[path]
	var rep reply
	switch len(queue) {
	case 0:
		rep = reply{status: http.StatusNotFound, file: "error-404.json"}
	case 1:
		rep = queue[0]
	default:
		rep, g.replies[path] = queue[0], queue[1:]
	}
	g.mu.Unlock()

	if rep.hang {
		select {
		case <-r.Context().Done():
		case <-g.stop:
		}
		return
	}
	body := []byte(rep.body)
	if rep.file != "" {
		var err error
		if body, err = os.ReadFile(filepath.Join("testdata", rep.file)); err != nil {
			g.t.Errorf("fixture: %v", err)
		}
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8")
	w.Header().Set("request-id", "b1b1b1b1-0000-4000-8000-00000000000a")
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
