package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// clearEnv makes sure the test sees no MFABOT_* from the machine.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "MFABOT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func TestDefaultsAreDevMode(t *testing.T) {
	clearEnv(t)
	c, err := Load("")
	if err != nil {
		t.Fatalf("Load with no configuration: %v", err)
	}
	if !c.Dev() || c.HTTP.Addr != "127.0.0.1:3978" || c.Directory != "demo" || c.LLM.Provider != "none" {
		t.Fatalf("unexpected defaults: mode=%s addr=%s dir=%s llm=%s", c.Mode, c.HTTP.Addr, c.Directory, c.LLM.Provider)
	}
	if c.Store.URL != "sqlite:./mfabot-data/mfabot.db" {
		t.Errorf("store.url = %q", c.Store.URL)
	}
	if c.Conversation.AbandonAfter != 24*time.Hour || c.Retention.TranscriptDays != 30 || c.Retention.EscalationDays != 180 {
		t.Errorf("durations: %v %d %d", c.Conversation.AbandonAfter, c.Retention.TranscriptDays, c.Retention.EscalationDays)
	}
	in := c.Institution
	if in.Phone != "088 - 469 9070" || len(in.Desks) != 2 || in.Desks[0].Name != "Zwolle" || in.Desks[0].Open != "08:00" || in.Desks[1].Close != "17:00" {
		t.Errorf("institution defaults are not the seed's: %+v", in)
	}
	if in.VoiceCalls != VoiceCallsAuto || in.Timezone != "Europe/Amsterdam" || in.SetupURL != "https://aka.ms/mfasetup" {
		t.Errorf("institution: %+v", in)
	}
}

func TestEnvironmentOverridesEveryScalarKey(t *testing.T) {
	clearEnv(t)
	t.Setenv("MFABOT_MODE", "production")
	t.Setenv("MFABOT_BOT_APP_ID", "11111111-2222-3333-4444-555555555555")
	t.Setenv("MFABOT_BOT_APP_PASSWORD", "s3cret-value")
	t.Setenv("MFABOT_BOT_TENANT_ID", "tenant-a")
	t.Setenv("MFABOT_BOT_ALLOWED_TENANTS", "tenant-a, tenant-b")
	t.Setenv("MFABOT_GRAPH_BASE_URL", "https://graph.example.test/v1.0")
	t.Setenv("MFABOT_INSTITUTION_VOICE_CALLS", "false")
	t.Setenv("MFABOT_CONVERSATION_ABANDON_AFTER", "2h")
	t.Setenv("MFABOT_STAFF_OIDC_GROUP", "staff-group")
	c, err := Load("")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Bot.AppID != "11111111-2222-3333-4444-555555555555" || c.Bot.TenantID != "tenant-a" {
		t.Errorf("bot: %+v", c.Bot)
	}
	if got := strings.Join(c.Bot.AllowedTenants, "|"); got != "tenant-a|tenant-b" {
		t.Errorf("allowed tenants = %q", got)
	}
	if c.Directory != "graph" {
		t.Errorf("production default directory = %q, want graph", c.Directory)
	}
	if c.Graph.ClientID != c.Bot.AppID || c.Graph.ClientSecret != "s3cret-value" || c.Graph.TenantID != "tenant-a" {
		t.Errorf("graph credentials do not default to the bot's: %+v", c.Graph)
	}
	if c.Graph.BaseURL != "https://graph.example.test/v1.0" || c.Institution.VoiceCalls != "false" || c.Conversation.AbandonAfter != 2*time.Hour || c.Staff.OIDC.Group != "staff-group" {
		t.Errorf("env not applied: %+v %v %v", c.Graph, c.Institution.VoiceCalls, c.Conversation.AbandonAfter)
	}
}

func TestYAMLFileAndDesks(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "mfabot.yaml")
	yaml := `
institution:
  name: Servicedesk Test
  desks:
    - name: Utrecht
      location: B1
      days: [mon, wed]
      open: "09:00"
      close: "12:00"
  closed_days: ["2026-12-25"]
  phone_hours: {days: [mon, tue], open: "08:00", close: "17:00"}
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	in := c.Institution
	if in.Name != "Servicedesk Test" || len(in.Desks) != 1 || in.Desks[0].Name != "Utrecht" || in.Desks[0].Days[1] != "wed" {
		t.Errorf("desks: %+v", in.Desks)
	}
	if len(in.ClosedDays) != 1 || in.PhoneHours == nil || in.PhoneHours.Close != "17:00" {
		t.Errorf("closed days / phone hours: %+v %+v", in.ClosedDays, in.PhoneHours)
	}
	if in.Phone != "088 - 469 9070" {
		t.Errorf("unset key lost its default: %q", in.Phone)
	}
}

func TestInvalidConfigurationNamesTheKey(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"production without app id", map[string]string{"MFABOT_MODE": "production", "MFABOT_BOT_APP_PASSWORD": "x", "MFABOT_BOT_TENANT_ID": "t"}, "bot.app_id"},
		{"production without password", map[string]string{"MFABOT_MODE": "production", "MFABOT_BOT_APP_ID": "a", "MFABOT_BOT_TENANT_ID": "t"}, "bot.app_password"},
		{"dev with credentials", map[string]string{"MFABOT_BOT_APP_ID": "a"}, "dev mode refuses bot credentials"},
		{"dev with graph", map[string]string{"MFABOT_DIRECTORY": "graph"}, "directory"},
		{"dev on public address", map[string]string{"MFABOT_HTTP_ADDR": "0.0.0.0:3978"}, "http.addr"},
		{"unknown mode", map[string]string{"MFABOT_MODE": "staging"}, "mode"},
		{"bad store", map[string]string{"MFABOT_STORE_URL": "mysql://x"}, "store.url"},
		{"bad llm", map[string]string{"MFABOT_LLM_PROVIDER": "openai"}, "llm.model"},
		{"bad duration", map[string]string{"MFABOT_CONVERSATION_ABANDON_AFTER": "0s"}, "conversation.abandon_after"},
		{"bad zone", map[string]string{"MFABOT_INSTITUTION_TIMEZONE": "Mars/Olympus"}, "institution.timezone"},
		{"staff actions in production without oidc", map[string]string{"MFABOT_MODE": "production", "MFABOT_BOT_APP_ID": "a", "MFABOT_BOT_APP_PASSWORD": "p", "MFABOT_BOT_TENANT_ID": "t", "MFABOT_STAFF_ACTIONS": "true"}, "staff.actions"},
		{"tap lifetime too short", map[string]string{"MFABOT_STAFF_TAP_LIFETIME": "5m"}, "staff.tap_lifetime"},
		{"tap lifetime too long", map[string]string{"MFABOT_STAFF_TAP_LIFETIME": "721h"}, "staff.tap_lifetime"},
		{"tap lifetime in seconds", map[string]string{"MFABOT_STAFF_TAP_LIFETIME": "90s"}, "staff.tap_lifetime"},
		{"http authority in production", map[string]string{"MFABOT_MODE": "production", "MFABOT_BOT_APP_ID": "a", "MFABOT_BOT_APP_PASSWORD": "p", "MFABOT_BOT_TENANT_ID": "t", "MFABOT_AZURE_AUTHORITY_HOST": "http://login.example/"}, "azure.authority_host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load("")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	clearEnv(t)
	t.Setenv("MFABOT_MODE", "production")
	t.Setenv("MFABOT_BOT_APP_ID", "app")
	t.Setenv("MFABOT_BOT_APP_PASSWORD", "very-secret-password")
	t.Setenv("MFABOT_BOT_TENANT_ID", "t")
	t.Setenv("MFABOT_LLM_API_KEY", "sk-secret-key")
	t.Setenv("MFABOT_STORE_URL", "postgres://mfabot:db-password@db.internal/mfabot")
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c.Print(&buf)
	out := buf.String()
	for _, secret := range []string{"very-secret-password", "sk-secret-key", "db-password"} {
		if strings.Contains(out, secret) {
			t.Errorf("printed configuration contains secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"bot.app_password: " + Masked, "bot.app_id: app", "store.url: postgres://mfabot:" + Masked + "@db.internal/mfabot", "institution.phone: 088 - 469 9070"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if w := c.ProductionWarnings(); len(w) == 0 {
		t.Error("placeholders in production give no warning")
	}
}

func TestExampleFileLoads(t *testing.T) {
	clearEnv(t)
	c, err := Load("../mfabot.example.yaml")
	if err != nil {
		t.Fatalf("the example configuration does not load: %v", err)
	}
	if len(c.Institution.Desks) != 2 || c.Institution.Desks[1].Location != "Serviceplein, 6e etage" {
		t.Errorf("desks from example: %+v", c.Institution.Desks)
	}
}

func TestMaskURLPassword(t *testing.T) {
	cases := map[string]string{
		"postgres://mfabot:db-password@db.internal/mfabot":        "postgres://mfabot:" + Masked + "@db.internal/mfabot",
		"postgres://u:p@ss#w@db/mf":                               "postgres://u:" + Masked + "@db/mf",
		"postgres://u@db/mf?sslmode=require&password=QuerySecret": "postgres://u@db/mf?sslmode=require&password=" + Masked,
		"sqlite:./mfabot-data/mfabot.db":                          "sqlite:./mfabot-data/mfabot.db",
		"postgres://u:%zz@db/mf":                                  "postgres://u:" + Masked + "@db/mf",
	}
	for in, want := range cases {
		if got := maskURLPassword(in); got != want {
			t.Errorf("maskURLPassword(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidationOfReviewedGaps(t *testing.T) {
	prod := map[string]string{"MFABOT_MODE": "production", "MFABOT_BOT_APP_ID": "a", "MFABOT_BOT_APP_PASSWORD": "p", "MFABOT_BOT_TENANT_ID": "t"}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"retention overflow", map[string]string{"MFABOT_RETENTION_TRANSCRIPT_DAYS": "999999"}, "retention.transcript_days"},
		{"bad log level", map[string]string{"MFABOT_LOG_LEVEL": "verbose"}, "log.level"},
		{"oidc without group", map[string]string{"MFABOT_STAFF_OIDC_ISSUER": "https://login.example/t/v2.0", "MFABOT_STAFF_OIDC_CLIENT_ID": "c"}, "staff.oidc.group"},
		{"production oidc without secret", merge(prod, map[string]string{"MFABOT_STAFF_OIDC_ISSUER": "https://login.example/t/v2.0", "MFABOT_STAFF_OIDC_CLIENT_ID": "c", "MFABOT_STAFF_OIDC_GROUP": "g"}), "staff.oidc.client_secret"},
		{"production oidc without session key", merge(prod, map[string]string{"MFABOT_STAFF_OIDC_ISSUER": "https://login.example/t/v2.0", "MFABOT_STAFF_OIDC_CLIENT_ID": "c", "MFABOT_STAFF_OIDC_GROUP": "g", "MFABOT_STAFF_OIDC_CLIENT_SECRET": "s"}), "staff.session_key"},
		{"production http issuer", merge(prod, map[string]string{"MFABOT_STAFF_OIDC_ISSUER": "http://login.example/t/v2.0"}), "staff.oidc.issuer"},
		{"production http llm", merge(prod, map[string]string{"MFABOT_LLM_PROVIDER": "openai", "MFABOT_LLM_MODEL": "m", "MFABOT_LLM_BASE_URL": "http://llm.example/v1"}), "llm.base_url"},
		{"production demo directory", merge(prod, map[string]string{"MFABOT_DIRECTORY": "demo"}), "directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load("")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
	// A local model server over http is fine in production.
	clearEnv(t)
	for k, v := range merge(prod, map[string]string{"MFABOT_LLM_PROVIDER": "openai", "MFABOT_LLM_MODEL": "m", "MFABOT_LLM_BASE_URL": "http://127.0.0.1:11434/v1"}) {
		t.Setenv(k, v)
	}
	if _, err := Load(""); err != nil {
		t.Errorf("local http LLM in production: %v", err)
	}
}

func TestMisspeltKeyInFileIsAnError(t *testing.T) {
	clearEnv(t)
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("institution:\n  voice_call: false\n"), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "voice_call") {
		t.Fatalf("a misspelt key was accepted: %v", err)
	}
}

func TestLoadForPackagingNeedsNoSecret(t *testing.T) {
	clearEnv(t)
	t.Setenv("MFABOT_BOT_APP_ID", "11111111-2222-3333-4444-555555555555")
	if _, err := Load(""); err == nil {
		t.Fatal("dev mode with an app id should be refused by Load")
	}
	c, err := LoadForPackaging("")
	if err != nil || c.Bot.AppID == "" {
		t.Fatalf("LoadForPackaging: %v", err)
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestPrintMasksCredentialsInEveryURLKey(t *testing.T) {
	clearEnv(t)
	t.Setenv("MFABOT_LLM_PROVIDER", "openai")
	t.Setenv("MFABOT_LLM_MODEL", "m")
	t.Setenv("MFABOT_LLM_BASE_URL", "https://u:p4ss-secret@llm.example/v1")
	t.Setenv("MFABOT_GRAPH_BASE_URL", "https://g:graph-secret@graph.example/v1.0")
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	c.Print(&buf)
	for _, secret := range []string{"p4ss-secret", "graph-secret"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("printed configuration contains %q", secret)
		}
	}
}

func TestStaffActionsDefaultsAndEnvironment(t *testing.T) {
	clearEnv(t)
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Staff.Actions || c.Staff.TAPLifetime != 60*time.Minute {
		t.Fatalf("defaults: actions=%v tap_lifetime=%s, want false and 60m", c.Staff.Actions, c.Staff.TAPLifetime)
	}
	t.Setenv("MFABOT_STAFF_ACTIONS", "true")
	t.Setenv("MFABOT_STAFF_TAP_LIFETIME", "30m")
	if c, err = Load(""); err != nil {
		t.Fatal(err)
	}
	if !c.Staff.Actions || c.Staff.TAPLifetime != 30*time.Minute {
		t.Fatalf("env not applied: actions=%v tap_lifetime=%s", c.Staff.Actions, c.Staff.TAPLifetime)
	}
}
