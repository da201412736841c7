package msgraph

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"mfabot/internal/testenv"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"mfabot/graph"
	"mfabot/graph/graphfake"
	"mfabot/internal/msfake"
)

const (
	testTenant   = "7d0ab5a0-6c9a-4f5e-9a57-2a0f1c7e3b11"
	testClient   = "4b1a7c9e-2d3f-4e5a-8b6c-7d8e9f0a1b2c"
	testSecret   = "s3cr3t-value~for.tests"
	testScope    = "https://graph.example.test/.default"
	studentID    = "86462606-fde0-4fc4-9e0c-a20eb73e54c6"
	methodsPath  = "/users/" + studentID + "/authentication/methods"
	userPath     = "/users/" + studentID
	regPath      = "/reports/authenticationMethods/userRegistrationDetails/" + studentID
	error500Body = `{"error":{"code":"generalException","message":"General exception while processing.","innerError":{"date":"2026-11-27T05:00:00","request-id":"b1b1b1b1-0000-4000-8000-000000000007","client-request-id":"b1b1b1b1-0000-4000-8000-000000000008"}}}`
)

type env struct {
	entra *msfake.TokenServer
	graph *graphfake.Graph
	dir   *Directory
	logs  *testenv.LogBuffer
}

// newEnv starts the fake Entra ID (internal/msfake) and the fake Graph
// (graph/graphfake) and builds a Directory with real azidentity
// credentials pointed at them. The fake Graph only accepts tokens the
// fake Entra ID issued.
func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	return newEnvWith(t, msfake.TokenServerOptions{TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret}, mod)
}

func newEnvWith(t *testing.T, to msfake.TokenServerOptions, mod func(*Config)) *env {
	t.Helper()
	entra := msfake.NewTokenServer(t, to)
	g := graphfake.New(t, graphfake.Options{ValidBearer: entra.ValidBearer})
	logs := &testenv.LogBuffer{}
	cfg := Config{
		BaseURL:       g.BaseURL(),
		Scope:         testScope,
		TenantID:      testTenant,
		ClientID:      testClient,
		ClientSecret:  testSecret,
		AuthorityHost: entra.AuthorityHost(),
		Transport:     msfake.TrustingClient(entra.Server, g.Server),
		Timeout:       5 * time.Second,
		Logger:        slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{entra: entra, graph: g, dir: d, logs: logs}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// methods serves a fixture file as the student's methods list.
func (e *env) methods(t *testing.T, name string) {
	t.Helper()
	if err := e.graph.SetMethodsJSON(studentID, fixture(t, name)); err != nil {
		t.Fatal(err)
	}
}

// reply is a scripted answer whose body is a fixture file or literal.
type reply struct {
	status     int
	file       string
	body       string
	retryAfter string
	hang       bool
}

func (e *env) script(t *testing.T, path string, rs ...reply) {
	t.Helper()
	for _, r := range rs {
		body := r.body
		if r.file != "" {
			body = string(fixture(t, r.file))
		}
		e.graph.Enqueue(path, graphfake.Reply{Status: r.status, Body: body, RetryAfter: r.retryAfter, Hang: r.hang})
	}
}

func (e *env) assertNoPhoneNumbers(t *testing.T, extra ...string) {
	t.Helper()
	text := e.logs.String() + strings.Join(extra, "\n")
	for _, full := range []string{"2065555555", "612345678", "12345678", "1234567"} {
		if strings.Contains(strings.ReplaceAll(text, " ", ""), full) {
			t.Errorf("full phone number %s leaked:\n%s", full, text)
		}
	}
}

func TestMethodsEveryFixtureType(t *testing.T) {
	e := newEnv(t, nil)
	e.methods(t, "methods-list.json")
	got, err := e.dir.Methods(context.Background(), studentID)
	if err != nil {
		t.Fatalf("Methods: %v", err)
	}
	want := []graph.Method{
		{ID: "28c10230-6103-485e-b985-444c60001490", Kind: graph.KindPassword},
		{ID: "6803c096-c096-6803-96c0-036896c00368", Kind: graph.KindAuthenticator, DisplayName: "Sandeep's iPhone", AppVersion: "6.5.4"},
		{ID: "3179e48a-750b-4051-897c-87b9720928f7", Kind: graph.KindPhone, PhoneMasked: "+1 ** ** ** ** 55", PhoneType: "mobile"},
		{ID: "b172893e-893e-b172-3e89-72b13e8972b1", Kind: graph.KindSoftwareOATH},
		{ID: "-2_GRUg2-HYz6_1YG4YRAQ2", Kind: graph.KindFIDO2, DisplayName: "Red key", AAGUID: "2fc0579f-8113-47ea-b116-555a8db9202a",
			Model: "NFC key", CreatedAt: time.Date(2020, 8, 10, 6, 44, 9, 0, time.UTC)},
		{ID: "b5e01f81-1f81-b5e0-811f-e0b5811fe0b5", Kind: graph.KindWindowsHello, DisplayName: "Jordan's Surface Book"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Methods =\n%+v\nwant\n%+v", got, want)
	}
	if reqs := e.entra.Requests(); len(reqs) != 1 || !strings.Contains(reqs[0].Scope, testScope) || !reqs[0].WithSecret {
		t.Errorf("token requests %+v, want one with a secret for %s", reqs, testScope)
	}
	if n := e.entra.DiscoveryRequests(); n != 0 {
		t.Errorf("%d instance discovery requests for a non-public authority", n)
	}
	// The token is cached: a second call asks no new one.
	if _, err := e.dir.Methods(context.Background(), studentID); err != nil || e.entra.TokenRequests() != 1 {
		t.Errorf("second call: %v, %d token requests", err, e.entra.TokenRequests())
	}
	js, _ := json.Marshal(got)
	e.assertNoPhoneNumbers(t, string(js))
}

func TestMethodsUnknownTypesTolerated(t *testing.T) {
	e := newEnv(t, nil)
	e.methods(t, "methods-unknown.json")
	got, err := e.dir.Methods(context.Background(), studentID)
	if err != nil {
		t.Fatalf("Methods: %v", err)
	}
	want := []graph.Method{
		{ID: "3179e48a-750b-4051-897c-87b9720928f7", Kind: graph.KindPhone, PhoneMasked: "+31 6 ** ** ** 78", PhoneType: "mobile"},
		{ID: "3ddfcfc8-9383-446f-83cc-3ab9be4be18f", Kind: graph.KindEmail},
		{ID: "6f1967b7-15e8-4935-ac26-d50770ed07a7", Kind: graph.KindTAP},
		{ID: "9a1e2c3d-4b5f-4a6e-8d7c-0f1e2d3c4b5a", Kind: graph.KindOther, ODataType: "microsoft.graph.qrCodePinAuthenticationMethod"},
		{ID: "c2b0e3e4-1d2f-4c3a-9b8e-7d6c5b4a3f2e", Kind: graph.KindOther, ODataType: "microsoft.graph.platformCredentialAuthenticationMethod"},
		{ID: "e37fc753-ff3b-4958-9484-eaa9425c82bc", Kind: graph.KindPhone, PhoneMasked: "+31 ** ** ** ** 67"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Methods =\n%+v\nwant\n%+v", got, want)
	}
	js, _ := json.Marshal(got)
	e.assertNoPhoneNumbers(t, string(js))
	if strings.Contains(string(js), "sam.private@example.com") {
		t.Error("e-mail address kept")
	}
}

func TestUserAndRegistrationDetails(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.graph.SetUserJSON(studentID, fixture(t, "user.json")); err != nil {
		t.Fatal(err)
	}
	e.graph.SetRegistrationJSON(studentID, fixture(t, "userRegistrationDetails.json"))
	u, err := e.dir.User(context.Background(), studentID)
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	want := graph.User{ID: studentID, DisplayName: "Sam de Vries", UserPrincipalName: "s1234567@student.example.nl", PreferredLanguage: "nl-NL"}
	if u != want {
		t.Errorf("User = %+v, want %+v", u, want)
	}
	reqs := e.graph.Requests()
	q, _ := url.ParseQuery(reqs[len(reqs)-1].Query)
	sel := q.Get("$select")
	for _, f := range []string{"displayName", "userPrincipalName", "preferredLanguage"} {
		if !strings.Contains(sel, f) {
			t.Errorf("$select=%q lacks %s", sel, f)
		}
	}
	rd, err := e.dir.RegistrationDetails(context.Background(), studentID)
	if err != nil {
		t.Fatalf("RegistrationDetails: %v", err)
	}
	if rd.IsAdmin || !rd.IsMFARegistered || strings.Join(rd.MethodsRegistered, ",") != "microsoftAuthenticatorPush,softwareOneTimePasscode,mobilePhone" ||
		!rd.LastUpdated.Equal(time.Date(2026, 9, 1, 10, 15, 0, 0, time.UTC)) {
		t.Errorf("RegistrationDetails = %+v", rd)
	}
}

func TestErrorsMapped(t *testing.T) {
	tests := []struct {
		name     string
		replies  []reply
		timeout  time.Duration
		want     error
		outcome  string
		requests int
		maxTime  time.Duration
	}{
		{"403 permission missing", []reply{{status: 403, file: "error-403.json"}}, 0, graph.ErrForbidden, "forbidden", 1, 3 * time.Second},
		{"404 user not found", []reply{{status: 404, file: "error-404.json"}}, 0, graph.ErrNotFound, "not_found", 1, 3 * time.Second},
		{"429 Retry-After beyond the deadline is not waited", []reply{{status: 429, file: "error-429.json", retryAfter: "30"}}, 0, graph.ErrThrottled, "throttled", 1, 3 * time.Second},
		{"429 retried until the limit", []reply{{status: 429, file: "error-429.json", retryAfter: "0"}}, 0, graph.ErrThrottled, "throttled", 1 + maxRetries, 3 * time.Second},
		{"500", []reply{{status: 500, body: error500Body}}, 0, graph.ErrUnavailable, "unavailable", 1, 3 * time.Second},
		{"503 retried then given up", []reply{{status: 503, body: error500Body, retryAfter: "0"}}, 0, graph.ErrUnavailable, "unavailable", 1 + maxRetries, 3 * time.Second},
		{"502 with a non-JSON body", []reply{{status: 502, body: "<html>Bad gateway</html>"}}, 0, graph.ErrUnavailable, "unavailable", 1, 3 * time.Second},
		{"error body without message does not panic", []reply{{status: 403, body: `{"error":{"code":"accessDenied"}}`}}, 0, graph.ErrForbidden, "forbidden", 1, 3 * time.Second},
		{"empty error body", []reply{{status: 500}}, 0, graph.ErrUnavailable, "unavailable", 1, 3 * time.Second},
		{"timeout", []reply{{hang: true}}, 300 * time.Millisecond, graph.ErrUnavailable, "unavailable", 1, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) {
				if tt.timeout > 0 {
					c.Timeout = tt.timeout
				}
			})
			e.methods(t, "methods-list.json")
			e.script(t, methodsPath, tt.replies...)
			for range tt.requests - len(tt.replies) { // the last reply repeats
				e.script(t, methodsPath, tt.replies[len(tt.replies)-1])
			}
			before := testutil.ToFloat64(callsTotal.WithLabelValues("methods", tt.outcome))
			start := time.Now()
			ms, err := e.dir.Methods(context.Background(), studentID) // no deadline: the default applies
			elapsed := time.Since(start)
			if !errors.Is(err, tt.want) || ms != nil {
				t.Fatalf("Methods = %v, %v; want %v", ms, err, tt.want)
			}
			if elapsed > tt.maxTime {
				t.Errorf("took %s", elapsed)
			}
			if n := e.graph.Count(methodsPath); n != tt.requests {
				t.Errorf("requests = %d, want %d", n, tt.requests)
			}
			if got := testutil.ToFloat64(callsTotal.WithLabelValues("methods", tt.outcome)) - before; got != 1 {
				t.Errorf("mfabot_graph_calls_total{outcome=%s} += %v", tt.outcome, got)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, `"outcome":"`+tt.outcome+`"`) || !strings.Contains(logs, "graph call failed") {
				t.Errorf("cause not logged: %s", logs)
			}
			if !strings.Contains(err.Error(), "methods") {
				t.Errorf("error lacks context: %v", err)
			}
		})
	}
}

func TestThrottledThenSucceeds(t *testing.T) {
	e := newEnv(t, nil)
	e.methods(t, "methods-list.json")
	e.script(t, methodsPath, reply{status: 429, file: "error-429.json", retryAfter: "0"})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	ms, err := e.dir.Methods(ctx, studentID)
	if err != nil || len(ms) != 6 {
		t.Fatalf("Methods = %d methods, %v", len(ms), err)
	}
	if n := e.graph.Count(methodsPath); n != 2 {
		t.Errorf("requests = %d, want 2 (one retry)", n)
	}
}

func TestCallerDeadlineIsKept(t *testing.T) {
	e := newEnv(t, nil) // default timeout 5 s
	e.script(t, methodsPath, reply{hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.dir.Methods(ctx, studentID)
	if !errors.Is(err, graph.ErrUnavailable) || time.Since(start) > 3*time.Second {
		t.Errorf("err = %v after %s", err, time.Since(start))
	}
}

func TestWrongSecretIsUnavailableNotPanic(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ClientSecret = "wrong" })
	e.methods(t, "methods-list.json")
	_, err := e.dir.Methods(context.Background(), studentID)
	if !errors.Is(err, graph.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if len(e.graph.Requests()) != 0 {
		t.Error("Graph was called without a token")
	}
	if strings.Contains(e.logs.String(), "wrong") || strings.Contains(err.Error(), "wrong") {
		t.Error("secret in log or error")
	}
}

func TestFakeRefusesRequestsWithoutToken(t *testing.T) {
	e := newEnv(t, nil)
	e.methods(t, "methods-list.json")
	resp, err := e.graph.Client().Get(e.graph.BaseURL() + methodsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d", resp.StatusCode)
	}
}

func TestNotAnObjectIDIsNeverLookedUp(t *testing.T) {
	e := newEnv(t, nil)
	for _, id := range []string{"", "user-id-0", "../../users", "s1234567@student.example.nl", studentID + "/x"} {
		if _, err := e.dir.Methods(context.Background(), id); !errors.Is(err, graph.ErrNotFound) {
			t.Errorf("Methods(%q) err = %v", id, err)
		}
	}
	if n := len(e.graph.Requests()); n != 0 {
		t.Errorf("%d requests made", n)
	}
}

func TestCertificateCredential(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mfabot"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	path := filepath.Join(t.TempDir(), "mfabot.pem")
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...)
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, msfake.TokenServerOptions{TenantID: testTenant, ClientID: testClient, Certificate: cert},
		func(c *Config) { c.ClientSecret = ""; c.CertificatePath = path })
	e.methods(t, "methods-list.json")
	if ms, err := e.dir.Methods(context.Background(), studentID); err != nil || len(ms) != 6 {
		t.Fatalf("Methods = %d, %v", len(ms), err)
	}
	if reqs := e.entra.Requests(); len(reqs) != 1 || !reqs[0].WithAssertion || reqs[0].WithSecret {
		t.Errorf("token requests %+v, want one signed client assertion", reqs)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := Config{TenantID: testTenant, ClientID: testClient, ClientSecret: testSecret}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"http base URL", func(c *Config) { c.BaseURL = "http://graph.example.test/v1.0" }},
		{"http authority", func(c *Config) { c.AuthorityHost = "http://login.example.test/" }},
		{"no tenant", func(c *Config) { c.TenantID = "" }},
		{"no credential", func(c *Config) { c.ClientSecret = "" }},
		{"both credentials", func(c *Config) { c.CertificatePath = "/nonexistent.pem" }},
		{"missing certificate", func(c *Config) { c.ClientSecret = ""; c.CertificatePath = "/nonexistent.pem" }},
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("New(defaults) = %v", err)
	}
	for _, tt := range tests {
		c := ok
		tt.mod(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted %+v", tt.name, c)
		}
	}
}

// TestSDKStaysInGraphMsgraph proves the packages that every test run
// compiles do not pull in msgraph-sdk-go.
func TestSDKStaysInGraphMsgraph(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	deps := func(pkgs ...string) string {
		out, err := exec.Command("go", append([]string{"list", "-e", "-deps"}, pkgs...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	if !strings.Contains(deps("mfabot/graph/msgraph"), "github.com/microsoftgraph/msgraph-sdk-go\n") {
		t.Fatal("go list -deps does not show the SDK even for graph/msgraph")
	}
	for _, pkg := range []string{"mfabot/dialogs", "mfabot/bot", "mfabot/handoff", "mfabot/store", "mfabot/llm", "mfabot/graph", "mfabot/graph/graphfake", "mfabot/manifest"} {
		out := deps(pkg)
		for _, bad := range []string{"github.com/microsoftgraph/", "mfabot/graph/msgraph", "github.com/microsoft/kiota"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s depends on %s", pkg, bad)
			}
		}
	}
}

// TestAccountChangesBetweenReads: the verification the dialogs run, over
// the real client: the new Authenticator is found by id only on the
// third read (replication lag), then the old one's removal is seen.
func TestAccountChangesBetweenReads(t *testing.T) {
	e := newEnv(t, nil)
	e.graph.SetUser(studentID, "Sam de Vries", "sam@student.example.nl", "nl-NL")
	e.graph.AddMethod(studentID, graphfake.Password("28c10230-6103-485e-b985-444c60001490"))
	e.graph.AddMethod(studentID, graphfake.Authenticator("6803c096-c096-6803-96c0-036896c00368", "iPhone 12"))
	e.graph.AddMethod(studentID, graphfake.Phone("3179e48a-750b-4051-897c-87b9720928f7", "+31 612345678", "mobile"))
	ctx := context.Background()
	start, err := e.dir.Methods(ctx, studentID)
	if err != nil {
		t.Fatal(err)
	}
	snapshot := graph.IDs(start)
	old := graph.Authenticators(start)[0]
	if p := graph.Phones(start); len(p) != 1 || p[0].PhoneMasked != "+31 6 ** ** ** 78" {
		t.Fatalf("phones = %+v", p)
	}

	e.graph.AddMethodAfter(studentID, graphfake.Authenticator("0b9f7c1e-4d2a-4f3b-9e8d-7c6b5a4f3e2d", "Pixel 9"), 2)
	var found []graph.Method
	reads := 0
	for reads < 5 && len(found) == 0 {
		ms, err := e.dir.Methods(ctx, studentID)
		if err != nil {
			t.Fatal(err)
		}
		reads++
		found = graph.AddedSince(snapshot, ms, graph.KindAuthenticator)
	}
	if reads != 3 || len(found) != 1 || found[0].DisplayName != "Pixel 9" {
		t.Fatalf("after %d reads found %+v", reads, found)
	}

	e.graph.RemoveMethod(studentID, old.ID)
	ms, err := e.dir.Methods(ctx, studentID)
	if err != nil || graph.HasID(ms, old.ID) || !graph.HasID(ms, found[0].ID) || !graph.HasKind(ms, graph.KindPhone) {
		t.Fatalf("after removal: %+v, %v", ms, err)
	}
	e.assertNoPhoneNumbers(t)
}

func TestTokenEndpointDown(t *testing.T) {
	e := newEnv(t, nil)
	e.entra.SetFailing(http.StatusServiceUnavailable)
	e.methods(t, "methods-list.json")
	if _, err := e.dir.Methods(context.Background(), studentID); !errors.Is(err, graph.ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(e.logs.String(), "token request failed") {
		t.Errorf("cause not logged: %s", e.logs.String())
	}
	if len(e.graph.Requests()) != 0 {
		t.Error("Graph called without a token")
	}
}

// Passkeys in Microsoft Authenticator come as fido2AuthenticationMethod
// with one of Authenticator's two AAGUIDs; a security key has another.
func TestMethodsPasskeysInAuthenticatorAndSecurityKeys(t *testing.T) {
	e := newEnv(t, nil)
	e.methods(t, "methods-passkeys.json")
	got, err := e.dir.Methods(context.Background(), studentID)
	if err != nil {
		t.Fatalf("Methods: %v", err)
	}
	if len(got) != 5 {
		t.Fatalf("Methods = %+v", got)
	}
	ios, android, key := got[2], got[3], got[4]
	if !ios.IsAuthenticatorPasskey() || ios.PasskeyPlatform() != "ios" || ios.Model != "Microsoft Authenticator for iOS" ||
		ios.DisplayName != "iPhone 11" || !ios.CreatedAt.Equal(time.Date(2026, 9, 14, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("iOS passkey = %+v", ios)
	}
	if !android.IsAuthenticatorPasskey() || android.PasskeyPlatform() != "android" || android.AAGUID != graph.AAGUIDAuthenticatorAndroid {
		t.Errorf("Android passkey = %+v", android)
	}
	if !key.IsSecurityKey() || key.InAuthenticatorApp() || key.Model != "NFC key" {
		t.Errorf("security key = %+v", key)
	}
	if in := graph.InApp(got); len(in) != 3 || in[0].Kind != graph.KindAuthenticator {
		t.Errorf("InApp = %+v, want the Authenticator and the two passkeys", in)
	}
	// The graphfake student shapes map the same way.
	s := graphfake.PasskeyAndPushStudent()
	e2 := newEnv(t, nil)
	e2.graph.SetUser(studentID, s.DisplayName, s.UPN, s.PreferredLanguage)
	for _, m := range s.Start {
		e2.graph.AddMethod(studentID, m)
	}
	start, err := e2.dir.Methods(context.Background(), studentID)
	if err != nil {
		t.Fatal(err)
	}
	e2.graph.RegisterNewPhone(graphfake.Student{ObjectID: studentID, NewPhone: s.NewPhone})
	after, err := e2.dir.Methods(context.Background(), studentID)
	if err != nil {
		t.Fatal(err)
	}
	added := graph.NewInApp(graph.IDs(start), after)
	if len(added) != 2 || added[0].Kind != graph.KindAuthenticator || !added[1].IsAuthenticatorPasskey() || added[1].DisplayName != "iPhone 16" {
		t.Errorf("new entries in the app = %+v", added)
	}
	keys := 0
	for _, m := range after {
		if m.IsSecurityKey() {
			keys++
		}
	}
	if keys != 1 {
		t.Errorf("%d security keys, want 1: %+v", keys, after)
	}
}
