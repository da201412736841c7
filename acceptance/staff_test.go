package acceptance

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"mfabot/graph/graphfake"
	"mfabot/internal/msfake"
)

const (
	staffClientID = "staff-dashboard"
	staffSecret   = "dashboard-secret"
	staffGroup    = "99999999-2222-3333-4444-555555555555"
)

// idp is an Entra-ID-like OpenID Connect provider over TLS: discovery,
// keys, the authorization endpoint (code flow with PKCE and a nonce) and
// the token endpoint (an ID token with the staff member's groups).
type idp struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu    sync.Mutex
	codes map[string][3]string // code -> nonce, challenge, redirect
	n     int
}

func newIdP(t *testing.T) *idp {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &idp{key: key, codes: map[string][3]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := f.srv.URL + "/v2.0"
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": f.srv.URL + "/authorize", "token_endpoint": f.srv.URL + "/token",
			"jwks_uri": f.srv.URL + "/keys", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
			"n": base64.RawURLEncoding.EncodeToString(key.PublicKey.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.PublicKey.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != staffClientID || q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.n++
		code := fmt.Sprintf("code-%d", f.n)
		f.codes[code] = [3]string{q.Get("nonce"), q.Get("code_challenge"), q.Get("redirect_uri")}
		f.mu.Unlock()
		u, _ := url.Parse(q.Get("redirect_uri"))
		rq := u.Query()
		rq.Set("code", code)
		rq.Set("state", q.Get("state"))
		u.RawQuery = rq.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, sec, ok := r.BasicAuth()
		if !ok {
			id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		f.mu.Lock()
		c, found := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if id != staffClientID || sec != staffSecret || !found || c[2] != r.PostForm.Get("redirect_uri") ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != c[1] {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"iss": f.srv.URL + "/v2.0", "aud": staffClientID, "sub": "sub-ine", "oid": "00000000-0000-0000-0000-00000000a11e",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
			"nonce": c[0], "name": "Ine Docent", "preferred_username": "ine.docent@school.example", "groups": []string{staffGroup},
		})
		tok.Header["kid"] = "k1"
		raw, _ := tok.SignedString(key)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
	})
	// Its certificate is httptest's: the CA file of the fakes trusts it.
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// TestStaffDashboardSignInAndClaim: the production binary behind a TLS
// reverse proxy (docs/deploy.md's Caddy), the dashboard's sign-in against
// the OIDC provider, in real Chromium: a student is handed to the desk,
// the staff member signs in, finds the escalation, claims it, and the
// student hears that it was picked up.
func TestStaffDashboardSignInAndClaim(t *testing.T) {
	exe := os.Getenv("MFABOT_TEST_CHROMIUM")
	if exe == "" {
		if os.Getenv("MFABOT_TEST_REQUIRE") == "1" {
			t.Fatal("MFABOT_TEST_CHROMIUM is not set and MFABOT_TEST_REQUIRE=1")
		}
		t.Skip("MFABOT_TEST_CHROMIUM not set: the dashboard's browser scenario is skipped")
	}
	t.Parallel()
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	op := newIdP(t)

	// The reverse proxy with TLS in front of the bot's plain port.
	var target atomic.Value
	proxy := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := url.Parse(target.Load().(string))
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	yaml := strings.Replace(m.productionYAML(sqliteURL(t), ""), "staff:\n", fmt.Sprintf(`staff:
  oidc:
    issuer: %s/v2.0
    client_id: %s
    group: %s
    redirect_url: %s/staff/auth/callback
`, op.srv.URL, staffClientID, staffGroup, proxy.URL), 1)
	env := secretEnv()
	env["MFABOT_STAFF_OIDC_CLIENT_SECRET"] = staffSecret
	env["MFABOT_STAFF_SESSION_KEY"] = strings.Repeat("s", 48)
	p := serve(t, m.caFile, yaml, env)
	target.Store(p.base)

	const oid = "5e4c3b2a-6666-4a2b-9c3d-5e6f7a8b9c0d"
	m.graph.SetUser(oid, "Eva Jansen", "s7654321@student.example.nl", "nl-NL")
	m.graph.AddMethod(oid, graphfake.Authenticator("8803c096-c096-6803-96c0-036896c00368", "iPhone 11"))
	s := m.student(t, p, oid, "Eva Jansen")
	m.conn.SetMember(s.convID, msfake.ConnectorMember{ID: s.userID, Name: "Eva Jansen", AADObjectID: oid, UserPrincipalName: "s7654321@student.example.nl"})
	acts := s.welcome()
	s.click(button(buttons(acts), "lost_phone"))
	waitFor(t, p, "the staff card", func() bool { return len(m.staffCards()) > 0 })

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		// The proxy's and the provider's certificates are the test's own.
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(proxy.URL+"/staff/"),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/staff/auth/start"]`)),
		chromedp.Click(chromedp.CSS(`a[href^="/staff/auth/start"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)),
	); err != nil {
		t.Fatalf("sign in through the OIDC provider: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#queue tbody tr a`)),
		chromedp.Click(chromedp.CSS(`#queue tbody tr a`)),
		chromedp.WaitVisible(chromedp.CSS(`#claim`)),
		chromedp.Click(chromedp.CSS(`#claim`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)),
	); err != nil {
		t.Fatalf("claim the escalation: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#status`)))
	if err != nil {
		t.Fatal(err)
	}
	if status != "In behandeling" {
		t.Errorf("status after the claim = %q", status)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90)); err == nil {
		dir := os.Getenv("MFABOT_TEST_ARTIFACTS")
		if dir == "" {
			dir = t.TempDir()
		}
		os.MkdirAll(dir, 0o755)
		path := filepath.Join(dir, "acceptance-staff-claimed.png")
		if os.WriteFile(path, png, 0o644) == nil {
			t.Logf("screenshot: %s", path)
		}
	}
	waitFor(t, p, "the student's 'picked up' message", func() bool {
		return strings.Contains(texts(s.sent()), "opgepakt")
	})
}
