package acceptance

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mfabot/graph/graphfake"
	"mfabot/internal/msfake"
)

// A student of the demo tenant: Authenticator on an old phone, a mobile
// number and a password, as the fake Graph lists them.
const (
	samOID      = "0b7c5f3e-1111-4a2b-9c3d-5e6f7a8b9c0d"
	samOldPhone = "6803c096-c096-6803-96c0-036896c00368"
	samNewPhone = "aa11bb22-cc33-dd44-ee55-ff6677889900"
	samNumber   = "+31 612345678"
)

func (m *microsoft) addSam() {
	m.graph.SetUser(samOID, "Sam de Vries", "s1234567@student.example.nl", "nl-NL")
	m.graph.AddMethod(samOID, graphfake.Password("28c10230-6103-485e-b985-444c60001490"))
	m.graph.AddMethod(samOID, graphfake.Authenticator(samOldPhone, "iPhone 12"))
	m.graph.AddMethod(samOID, graphfake.Phone("3179e48a-750b-4051-897c-87b9720928f7", samNumber, "mobile"))
}

func sqliteURL(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "mfabot.db")
}

// movePhoneJourney walks the move-phone route from the welcome to the
// satisfaction question, the new phone appearing in Graph at step 10 and
// the old one going at step 11, and returns the last replies.
func movePhoneJourney(t *testing.T, m *microsoft, s *student) []map[string]any {
	t.Helper()
	acts := s.welcome()
	welcome := texts(acts)
	if !strings.Contains(welcome, "Sam") {
		t.Errorf("the welcome does not greet the student by name:\n%s", welcome)
	}
	if !strings.Contains(welcome, "iPhone 12") || !strings.Contains(welcome, "** 78") {
		t.Errorf("the welcome does not name the registered device and the masked number (read through Graph):\n%s", welcome)
	}
	if strings.Contains(strings.ReplaceAll(welcome, " ", ""), "612345678") {
		t.Errorf("the welcome shows the full phone number:\n%s", welcome)
	}
	move := button(buttons(acts), "move_phone")
	if move == nil {
		t.Fatalf("no move_phone button on the welcome:\n%s", welcome)
	}
	acts = s.click(move)
	if got := texts(acts); !strings.Contains(got, "1 van 12") {
		t.Fatalf("choosing 'move phone' does not show step 1 of 12:\n%s", got)
	}
	added, removed := false, false
	for turns := 0; ; turns++ {
		if turns > 40 {
			t.Fatalf("no end after 40 clicks; last:\n%s", texts(acts))
		}
		bs := buttons(acts)
		if button(bs, "rate") != nil {
			break
		}
		switch stepOf(bs) {
		case "step10":
			if !added {
				m.graph.AddMethod(samOID, graphfake.Authenticator(samNewPhone, "Pixel 8"))
				added = true
			}
		case "step11":
			if !removed {
				m.graph.RemoveMethod(samOID, samOldPhone)
				removed = true
			}
		}
		next := forward(bs)
		if next == nil {
			t.Fatalf("stuck at %q: no button that moves on in %v\n%s", stepOf(bs), bs, texts(acts))
		}
		acts = s.click(next)
	}
	if !added || !removed {
		t.Fatalf("the journey never reached steps 10 and 11 (added=%v removed=%v)", added, removed)
	}
	return acts
}

// forward is the button that moves the flow on: done, continue, yes, or
// a choice between paths (the first one offered).
func forward(bs []map[string]any) map[string]any {
	if b := button(bs, "done", "continue", "yes"); b != nil {
		return b
	}
	for _, b := range bs {
		switch b["action"] {
		case "failed", "explain", "human", "stop", "back", "restart", "retry", "help", "no":
		default:
			return b
		}
	}
	return nil
}

// TestMovePhoneVerifiedThroughGraphWithClientSecret is the journey of
// docs/deploy.md's configuration: client secret from the environment,
// every Microsoft endpoint over TLS. It is also the scenario that fails
// if the production binary dies on its first outbound call (the nil
// transport of issue 10: the bot's first token request).
func TestMovePhoneVerifiedThroughGraphWithClientSecret(t *testing.T) {
	m := newMicrosoft(t, msfake.TokenServerOptions{ClientSecret: secret})
	m.addSam()
	p := serve(t, m.caFile, m.productionYAML(sqliteURL(t), ""), secretEnv())
	s := m.student(t, p, samOID, "Sam de Vries")

	last := movePhoneJourney(t, m, s)
	end := texts(last)
	if !strings.Contains(end, "Pixel 8") && !strings.Contains(strings.ToLower(end), "gecontroleerd") && !strings.Contains(strings.ToLower(end), "geverifieerd") {
		t.Logf("end of the journey:\n%s", end)
	}
	if got := p.metric("mfabot_dialogs_outcomes_total", `outcome="verified_resolved"`); got != 1 {
		// The outcome is the proof that Graph verified steps 10 and 11.
		t.Errorf("verified_resolved outcomes on /metrics = %v, want 1", got)
	}
	// Graph was read with the bot's token from the fake Entra ID.
	if n := m.graph.Count("/users/" + samOID + "/authentication/methods"); n < 3 {
		t.Errorf("Graph methods read %d times, want at least 3 (start, after step 10, after step 11)", n)
	}
	for _, r := range m.graph.Requests() {
		if !r.Authorized {
			t.Errorf("Graph request %s %s without a valid token", r.Method, r.Path)
		}
	}
	for _, r := range m.conn.Requests() {
		if !m.tokens.ValidBearer(r.Authorization) {
			t.Errorf("Connector request %s %s without a valid token", r.Method, r.Path)
		}
	}
	var withSecret int
	for _, r := range m.tokens.Requests() {
		if r.WithSecret && r.GrantType == "client_credentials" {
			withSecret++
		}
	}
	if withSecret == 0 {
		t.Error("no client_credentials token request with the secret reached Entra ID")
	}
	// The full phone number never left Graph.
	for _, a := range s.sent() {
		if strings.Contains(strings.ReplaceAll(texts([]map[string]any{a}), " ", ""), "612345678") {
			t.Errorf("a reply contains the full phone number: %s", texts([]map[string]any{a}))
		}
	}
	if strings.Contains(strings.ReplaceAll(p.logs.String(), " ", ""), "612345678") {
		t.Error("a log line contains the full phone number")
	}
	if strings.Contains(p.logs.String(), secret) {
		t.Error("a log line contains the client secret")
	}
}

// TestCertificateCredentials: the bot authenticates with a certificate
// instead of a secret, as a PEM file and as a PKCS#12 file, for the
// Connector and for Graph alike; the token server checks the signed
// client assertion against the certificate.
func TestCertificateCredentials(t *testing.T) {
	for _, format := range []string{"pem", "pkcs12"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			pemPath, cert := msfake.WriteClientCertificate(t, dir)
			path := pemPath
			if format == "pkcs12" {
				path = filepath.Join(dir, "client-cert.p12")
				// The PKCS#12 encryption that Windows and Azure Key Vault export.
				out, err := exec.Command("openssl", "pkcs12", "-export", "-in", pemPath, "-out", path, "-passout", "pass:",
					"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1").CombinedOutput()
				if err != nil {
					t.Fatalf("openssl pkcs12 -export: %v\n%s", err, out)
				}
			}
			m := newMicrosoft(t, msfake.TokenServerOptions{Certificate: cert})
			m.addSam()
			p := serve(t, m.caFile, m.productionYAML(sqliteURL(t), ""), map[string]string{"MFABOT_BOT_CERTIFICATE_PATH": path})
			s := m.student(t, p, samOID, "Sam de Vries")
			acts := s.welcome()
			if !strings.Contains(texts(acts), "iPhone 12") {
				t.Errorf("the welcome does not show the methods read through Graph with the certificate:\n%s", texts(acts))
			}
			var assertions, secrets int
			for _, r := range m.tokens.Requests() {
				if r.WithAssertion {
					assertions++
				}
				if r.WithSecret {
					secrets++
				}
			}
			if assertions < 2 || secrets != 0 {
				t.Errorf("token requests: %d with a certificate assertion (want >= 2: Connector and Graph), %d with a secret (want 0)", assertions, secrets)
			}
		})
	}
}
