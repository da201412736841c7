package acceptance

import (
	"archive/zip"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mfabot/internal/msfake"
)

// exampleFilledIn is mfabot.example.yaml with its placeholders filled in
// the way docs/deploy.md tells an operator to (the secret stays in the
// environment).
func exampleFilledIn(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../mfabot.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := string(raw)
	for _, r := range []struct{ old, new string }{
		{"mode: dev", "mode: production"},
		{`  app_id: ""                    # required in production`, "  app_id: " + appID},
		{`  tenant_id: ""                 # your Entra ID tenant; required in production`, "  tenant_id: " + tenantID},
		{"app_id: 00000000-0000-0000-0000-000000000000", "app_id: 0d1c2b3a-4455-6677-8899-aabbccddeeff"},
		{"website_url: https://example.invalid/", "website_url: https://www.example.nl/ict"},
		{"privacy_url: https://example.invalid/", "privacy_url: https://www.example.nl/privacy"},
		{"terms_url: https://example.invalid/", "terms_url: https://www.example.nl/voorwaarden"},
		{`valid_domains: ""`, "valid_domains: bot.example.nl"},
	} {
		if !strings.Contains(y, r.old) {
			t.Fatalf("mfabot.example.yaml no longer has %q: update the placeholders this test fills", r.old)
		}
		y = strings.Replace(y, r.old, r.new, 1)
	}
	return y
}

// TestConfigCheckOnTheExample: `mfabot config check` accepts the example
// file once its placeholders are filled, prints the secret masked, and
// names a misspelt key.
func TestConfigCheckOnTheExample(t *testing.T) {
	t.Parallel()
	p := run(t, "", exampleFilledIn(t), map[string]string{"MFABOT_BOT_APP_PASSWORD": secret}, "config", "check")
	<-p.exited
	out := p.logs.String()
	if p.err != nil {
		t.Fatalf("config check on the filled-in example: %v\n%s", p.err, out)
	}
	if strings.Contains(out, secret) {
		t.Errorf("config check prints the secret:\n%s", out)
	}
	if !strings.Contains(out, appID) || !strings.Contains(out, "production") {
		t.Errorf("config check does not print the configuration:\n%s", out)
	}

	bad := strings.Replace(exampleFilledIn(t), "  tenant_id: "+tenantID, "  tennant_id: "+tenantID, 1)
	p = run(t, "", bad, map[string]string{"MFABOT_BOT_APP_PASSWORD": secret}, "config", "check")
	<-p.exited
	if p.err == nil || !strings.Contains(p.logs.String(), "tennant_id") {
		t.Errorf("a misspelt key: exit %v, output does not name it:\n%s", p.err, p.logs.String())
	}
}

// TestManifestFromAProductionConfiguration: `mfabot manifest` builds the
// Teams package from the operator's configuration, without the secret.
func TestManifestFromAProductionConfiguration(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "mfabot-app.zip")
	p := run(t, "", exampleFilledIn(t), nil, "manifest", "--out", out)
	<-p.exited
	if p.err != nil {
		t.Fatalf("mfabot manifest: %v\n%s", p.err, p.logs.String())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatalf("the package is not a zip: %v", err)
	}
	defer zr.Close()
	files := map[string]bool{}
	var manifest map[string]any
	for _, f := range zr.File {
		files[f.Name] = true
		if f.Name == "manifest.json" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			if err := json.Unmarshal(b, &manifest); err != nil {
				t.Fatalf("manifest.json: %v", err)
			}
		}
	}
	for _, want := range []string{"manifest.json", "color.png", "outline.png"} {
		if !files[want] {
			t.Errorf("the package lacks %s (has %v)", want, files)
		}
	}
	if manifest["id"] != "0d1c2b3a-4455-6677-8899-aabbccddeeff" {
		t.Errorf("manifest id = %v, want manifest.app_id", manifest["id"])
	}
	raw, _ := json.Marshal(manifest["bots"])
	if !strings.Contains(string(raw), appID) {
		t.Errorf("the manifest's bot is not bot.app_id: %s", raw)
	}
	if !strings.Contains(string(mustJSON(manifest["developer"])), "https://www.example.nl/privacy") {
		t.Errorf("the developer URLs are not the configured ones: %s", mustJSON(manifest["developer"]))
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestNoConfigurationAtAll: `mfabot` with no file and no variables starts
// in dev mode on 127.0.0.1:3978 and answers an unauthenticated loopback
// message through a loopback Connector (Agents Playground's setup).
func TestNoConfigurationAtAll(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	for _, addr := range []string{"127.0.0.1:3978", "127.0.0.1:9090"} {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			// Someone runs a bot on this machine: the defaults cannot be
			// used, so only the listen addresses are set.
			t.Logf("%s is in use; listening elsewhere", addr)
			env["MFABOT_HTTP_ADDR"], env["MFABOT_HTTP_METRICS_ADDR"] = "127.0.0.1:0", "127.0.0.1:0"
			break
		}
		ln.Close()
	}
	conn := msfake.NewConnector(t, msfake.ConnectorOptions{}) // plain http on loopback
	p := run(t, "", "", env)                                  // no subcommand: serve
	p.waitReady()
	if len(env) == 0 && p.base != "http://127.0.0.1:3978" {
		t.Errorf("dev mode listens on %s, want the default 127.0.0.1:3978", p.base)
	}
	act := map[string]any{
		"type": "message", "id": "dev-1", "channelId": "msteams", "serviceUrl": conn.Server.URL + "/",
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "text": "hallo",
		"from":         map[string]any{"id": "29:1dev", "name": "Sam de Vries", "aadObjectId": "00000000-0000-0000-0000-0000000000a1"},
		"recipient":    map[string]any{"id": "28:dev-bot", "name": "MFA-hulp"},
		"conversation": map[string]any{"id": "a:1dev", "conversationType": "personal", "tenantId": "dev"},
	}
	body, _ := json.Marshal(act)
	if code, resp := postRaw(t, p, body, ""); code != http.StatusOK {
		t.Fatalf("dev mode refused the message: %d %s", code, resp)
	}
	waitFor(t, p, "a reply at the loopback Connector", func() bool { return len(conn.Activities()) > 0 })
	if _, err := os.Stat(filepath.Join(p.cmd.Dir, "mfabot-data", "mfabot.db")); err != nil {
		t.Errorf("dev mode's store is not ./mfabot-data/mfabot.db: %v", err)
	}
	if !regexp.MustCompile(`"mode":"dev"`).MatchString(p.logs.String()) {
		t.Errorf("the start line does not say dev mode")
	}
}
