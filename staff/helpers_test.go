package staff

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"mfabot/handoff"
	"mfabot/store"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+t.TempDir()+"/s.db")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fakeActions applies the staff transitions to the store the way the
// handoff service does (without the Teams card and the student message).
type fakeActions struct {
	st  store.Store
	now func() time.Time
}

func (a fakeActions) apply(ctx context.Context, id int64, verb, actor string, mutate func(*store.Escalation, time.Time) bool) (store.Escalation, error) {
	e, err := a.st.GetEscalation(ctx, id)
	if err != nil {
		return store.Escalation{}, err
	}
	now := a.now()
	if !mutate(&e, now) {
		return e, fmt.Errorf("%w: %s on %s", handoff.ErrInvalidTransition, verb, e.Status)
	}
	v, err := a.st.UpdateEscalation(ctx, e)
	if err != nil {
		return store.Escalation{}, err
	}
	e.Version = v
	return e, a.st.AppendAudit(ctx, store.AuditEntry{At: now, Actor: actor, Action: verb, EscalationID: id})
}

func (a fakeActions) Claim(ctx context.Context, id int64, actor string) (store.Escalation, error) {
	return a.apply(ctx, id, "claim", actor, func(e *store.Escalation, now time.Time) bool {
		if e.Status != store.StatusOpen {
			return false
		}
		e.Status, e.ClaimedBy, e.ClaimedAt = store.StatusClaimed, actor, &now
		if e.FirstResponseAt == nil {
			e.FirstResponseAt = &now
		}
		return true
	})
}

func (a fakeActions) Resolve(ctx context.Context, id int64, actor, note string) (store.Escalation, error) {
	return a.apply(ctx, id, "resolve", actor, func(e *store.Escalation, now time.Time) bool {
		if e.Status == store.StatusResolved {
			return false
		}
		e.Status, e.ResolvedBy, e.ResolvedAt, e.ResolutionNote = store.StatusResolved, actor, &now, note
		if e.FirstResponseAt == nil {
			e.FirstResponseAt = &now
		}
		return true
	})
}

func (a fakeActions) Reopen(ctx context.Context, id int64, actor string) (store.Escalation, error) {
	return a.apply(ctx, id, "reopen", actor, func(e *store.Escalation, now time.Time) bool {
		if e.Status != store.StatusResolved {
			return false
		}
		e.Status, e.ClaimedBy, e.ClaimedAt, e.ResolvedBy, e.ResolvedAt, e.ResolutionNote = store.StatusOpen, "", nil, "", nil, ""
		return true
	})
}

var escSeq struct {
	sync.Mutex
	n int
}

// addEscalation stores an escalation for a student and returns its id.
func addEscalation(t *testing.T, st store.Store, e store.Escalation) int64 {
	t.Helper()
	escSeq.Lock()
	escSeq.n++
	n := escSeq.n
	escSeq.Unlock()
	if e.ConversationID == "" {
		e.ConversationID = fmt.Sprintf("a:conv-%d", n)
	}
	if e.SessionID == "" {
		e.SessionID = fmt.Sprintf("sess-%d", n)
	}
	if e.Status == "" {
		e.Status = store.StatusOpen
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().Add(-12 * time.Minute)
	}
	if e.Language == "" {
		e.Language = "nl"
	}
	id, err := st.CreateEscalation(context.Background(), e)
	if err != nil {
		t.Fatalf("create escalation: %v", err)
	}
	return id
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ---- a fake OpenID Connect provider ----

type fakeIdP struct {
	t        *testing.T
	srv      *httptest.Server
	key      *rsa.PrivateKey
	signKey  *rsa.PrivateKey // normally key; another key to forge
	clientID string
	secret   string

	mu     sync.Mutex
	groups []string
	name   string
	codes  map[string]authRequest
	issued int
	// authTime is the ID token's auth_time (0: none); maxAge is the
	// max_age of the last authorization request.
	authTime int64
	maxAge   string
}

type authRequest struct {
	nonce, challenge, redirect string
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIdP{t: t, key: key, signKey: key, clientID: "staff-dashboard", secret: "s3cret",
		name: "Ine Docent", codes: map[string]authRequest{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /keys", f.jwks)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIdP) setUser(name string, groups ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.name, f.groups = name, groups
}

func (f *fakeIdP) discovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                f.srv.URL,
		"authorization_endpoint":                f.srv.URL + "/authorize",
		"token_endpoint":                        f.srv.URL + "/token",
		"jwks_uri":                              f.srv.URL + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (f *fakeIdP) jwks(w http.ResponseWriter, r *http.Request) {
	pub := f.key.PublicKey
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (f *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != f.clientID || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.issued++
	f.maxAge = q.Get("max_age")
	code := fmt.Sprintf("code-%d", f.issued)
	f.codes[code] = authRequest{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	f.mu.Unlock()
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	rq := u.Query()
	rq.Set("code", code)
	rq.Set("state", q.Get("state"))
	u.RawQuery = rq.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	fail := func(msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": msg})
	}
	if err := r.ParseForm(); err != nil {
		fail("form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != f.clientID || secret != f.secret {
		fail("client authentication")
		return
	}
	f.mu.Lock()
	req, found := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code"))
	name, groups, authTime := f.name, f.groups, f.authTime
	f.mu.Unlock()
	if !found || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != req.redirect {
		fail("unknown code or redirect")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
		fail("PKCE verifier does not match")
		return
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss": f.srv.URL, "aud": f.clientID, "sub": "sub-ine", "oid": "00000000-0000-0000-0000-00000000a11e",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"nonce": req.nonce, "name": name, "preferred_username": "ine.docent@school.example",
	}
	if groups != nil {
		claims["groups"] = groups
	}
	if authTime != 0 {
		claims["auth_time"] = authTime
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	raw, err := tok.SignedString(f.signKey)
	if err != nil {
		f.t.Errorf("sign id token: %v", err)
		fail("internal")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-1", "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
}

// ---- dashboard test servers and clients ----

const staffGroup = "11111111-2222-3333-4444-555555555555"

type env struct {
	st    store.Store
	srv   *httptest.Server
	idp   *fakeIdP
	steps []string
}

// newProdEnv runs the dashboard outside dev mode behind TLS, signing in
// through the fake identity provider.
func newProdEnv(t *testing.T) *env {
	t.Helper()
	st := openStore(t)
	idp := newFakeIdP(t)
	h, err := New(Options{
		Store: st, Actions: fakeActions{st: st, now: time.Now},
		OIDC:   OIDCOptions{Issuer: idp.srv.URL, ClientID: idp.clientID, ClientSecret: idp.secret, Group: staffGroup},
		Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return &env{st: st, srv: srv, idp: idp}
}

// newDevEnv runs the dashboard in dev mode on loopback.
func newDevEnv(t *testing.T, steps []string) *env {
	t.Helper()
	st := openStore(t)
	h, err := New(Options{
		Store: st, Actions: fakeActions{st: st, now: time.Now}, Dev: true,
		StepOrder: steps, Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{st: st, srv: srv, steps: steps}
}

// client returns a browser-like client with a cookie jar; follow says
// whether redirects are followed.
func (e *env) client(t *testing.T, follow bool) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	if e.srv.TLS != nil {
		c.Transport = e.srv.Client().Transport
	}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// devSignIn signs a client in through the developer sign-in.
func (e *env) devSignIn(t *testing.T, name string) *http.Client {
	t.Helper()
	c := e.client(t, false)
	res, body := postForm(t, c, e.srv.URL+"/staff/login/dev", url.Values{"name": {name}, "next": {"/staff/"}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("dev sign-in: status %d, body %s", res.StatusCode, body)
	}
	return c
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfFrom(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in page")
	}
	return m[1]
}

func hasCookie(c *http.Client, u, name string) bool {
	pu, _ := url.Parse(u)
	for _, ck := range c.Jar.Cookies(pu) {
		if ck.Name == name && ck.Value != "" {
			return true
		}
	}
	return false
}

func mustEscalation(t *testing.T, st store.Store, id int64) store.Escalation {
	t.Helper()
	e, err := st.GetEscalation(context.Background(), id)
	if err != nil {
		t.Fatalf("get escalation %d: %v", id, err)
	}
	return e
}

func auditActions(t *testing.T, st store.Store, id int64) []string {
	t.Helper()
	list, err := st.Audit(context.Background(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("audit: %v", err)
	}
	var out []string
	for _, a := range list {
		out = append(out, a.Action+":"+a.Actor)
	}
	return out
}
