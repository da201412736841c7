package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfabot/manifest"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, io.Discard)
	return out.String(), err
}

func TestVersionAndUsage(t *testing.T) {
	clearMFABOTEnv(t)
	out, err := runCmd(t, "", "version")
	if err != nil || !strings.HasPrefix(out, "mfabot ") {
		t.Fatalf("version: %q %v", out, err)
	}
	if _, err := runCmd(t, "", "frobnicate"); !errors.As(err, new(usageError)) {
		t.Errorf("unknown command: %v, want a usage error", err)
	}
}

func TestConfigCheckFlagBeforeOrAfterSubcommand(t *testing.T) {
	clearMFABOTEnv(t)
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("llm:\n  api_key: sk-very-secret\ninstitution:\n  name: Servicedesk X\n"), 0o600)
	for _, args := range [][]string{{"--config", path, "config", "check"}, {"config", "check", "--config=" + path}} {
		out, err := runCmd(t, "", args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !strings.Contains(out, "institution.name: Servicedesk X") || strings.Contains(out, "sk-very-secret") {
			t.Errorf("%v: file not applied or secret printed:\n%s", args, out)
		}
	}
	t.Setenv("MFABOT_MODE", "production")
	_, err := runCmd(t, "", "config", "check")
	if err == nil || !strings.Contains(err.Error(), "bot.app_id") {
		t.Errorf("production without credentials: %v, want an error naming bot.app_id", err)
	}
}

func TestUnderstandPrintsOneJSONLinePerText(t *testing.T) {
	clearMFABOTEnv(t)
	out, err := runCmd(t, "ik ben mijn telefoon kwijt\n\nrandom approval requests I did not start\n", "understand", "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines (blank input skipped), got %d:\n%s", len(lines), out)
	}
	want := []string{"lost_phone", "suspicious_prompt"}
	for i, l := range lines {
		var r struct {
			Text       string  `json:"text"`
			Intent     string  `json:"intent"`
			Confidence float64 `json:"confidence"`
			Source     string  `json:"source"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d is not JSON: %q", i, l)
		}
		if r.Intent != want[i] || r.Source != "keywords" || r.Confidence <= 0 || r.Confidence > 1 || r.Text == "" {
			t.Errorf("line %d: %+v, want intent %s from keywords", i, r, want[i])
		}
	}
	out, err = runCmd(t, "", "understand", "authenticater werkt niet")
	if err != nil || !strings.Contains(out, `"intent":"signin_problem"`) {
		t.Errorf("argument form: %q %v", out, err)
	}
}

// TestUnderstandAt: --at reads a message as an answer where the student
// is; an unknown step is a usage error.
func TestUnderstandAt(t *testing.T) {
	clearMFABOTEnv(t)
	for _, c := range []struct{ at, text, want string }{
		{"", "ja", `"intent":"done"`},
		{"step01", "ja", `"intent":"other"`},
		{"ask_old_phone", "ja", `"answer":"yes"`},
		{"welcome", "hij doet het niet meer", `"intent":"signin_problem"`},
	} {
		out, err := runCmd(t, "", "understand", "--at", c.at, c.text)
		if err != nil || !strings.Contains(out, c.want) {
			t.Errorf("understand --at %q %q: %q %v, want %s", c.at, c.text, out, err, c.want)
		}
	}
	if _, err := runCmd(t, "", "understand", "--at", "step99", "ja"); err == nil || !strings.Contains(err.Error(), "step99") {
		t.Errorf("--at step99: %v, want an error naming the step", err)
	}
}

func TestFlowFormats(t *testing.T) {
	for format, marker := range map[string]string{"mermaid": "flowchart", "dot": "digraph"} {
		out, err := runCmd(t, "", "flow", "--format", format)
		if err != nil || !strings.Contains(out, marker) || !strings.Contains(out, "step12") {
			t.Errorf("flow --format %s: %v\n%.300s", format, err, out)
		}
	}
	if _, err := runCmd(t, "", "flow", "--format", "svg"); err == nil {
		t.Error("an unknown format is accepted")
	}
}

func TestManifestCommand(t *testing.T) {
	clearMFABOTEnv(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "app.zip")

	// The default (placeholder) configuration does not make a package.
	if _, err := runCmd(t, "", "manifest", "--out", dest); err == nil {
		t.Fatal("placeholders produced a package")
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatal("a refused package was still written")
	}

	// Building the package needs the app id, not the bot's secret.
	t.Setenv("MFABOT_BOT_APP_ID", "11111111-2222-3333-4444-555555555555")
	t.Setenv("MFABOT_MANIFEST_APP_ID", "0f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a098")
	t.Setenv("MFABOT_MANIFEST_WEBSITE_URL", "https://www.example.nl/ict")
	t.Setenv("MFABOT_MANIFEST_PRIVACY_URL", "https://www.example.nl/privacy")
	t.Setenv("MFABOT_MANIFEST_TERMS_URL", "https://www.example.nl/voorwaarden")
	t.Setenv("MFABOT_MANIFEST_VALID_DOMAINS", "bot.example.nl")
	if out, err := runCmd(t, "", "manifest", "--out", dest); err != nil {
		t.Fatalf("production manifest: %v\n%s", err, out)
	}
	zip, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.ValidateFor(zip, "11111111-2222-3333-4444-555555555555"); err != nil {
		t.Errorf("the written package does not validate: %v", err)
	}
}

func TestChatRefusesAProductionConfiguration(t *testing.T) {
	clearMFABOTEnv(t)
	t.Setenv("MFABOT_MODE", "production")
	t.Setenv("MFABOT_BOT_APP_ID", "a")
	t.Setenv("MFABOT_BOT_APP_PASSWORD", "p")
	t.Setenv("MFABOT_BOT_TENANT_ID", "t")
	t.Setenv("MFABOT_STORE_URL", "sqlite:"+filepath.Join(t.TempDir(), "prod.db"))
	if _, err := runCmd(t, "medewerker\n", "chat"); err == nil || !strings.Contains(err.Error(), "production") {
		t.Fatalf("chat against production: %v", err)
	}
}
