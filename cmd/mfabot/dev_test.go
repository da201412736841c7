package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mfabot/config"
	"mfabot/internal/msfake"
)

// devServer starts `mfabot serve` as it runs with no configuration (dev
// mode), on free loopback ports and a store in a temp dir.
func devServer(t *testing.T, storeURL string) (base string) {
	t.Helper()
	clearMFABOTEnv(t)
	t.Setenv("MFABOT_STORE_URL", storeURL)
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Dev() {
		t.Fatal("no configuration must mean dev mode")
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, newLogger(io.Discard, "error"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	mln, _ := net.Listen("tcp", "127.0.0.1:0")
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, mln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(25 * time.Second):
			t.Error("graceful shutdown took too long")
		}
		a.Close()
	})
	return "http://" + ln.Addr().String()
}

func clearMFABOTEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "MFABOT_") && !strings.HasPrefix(k, "MFABOT_TEST_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// TestDevModeAnswersAPlaygroundMessage: with no configuration mfabot
// accepts an unauthenticated loopback message shaped like Agents
// Playground's and replies through the (fake, loopback) Connector.
func TestDevModeAnswersAPlaygroundMessage(t *testing.T) {
	conn := msfake.NewConnector(t, msfake.ConnectorOptions{})
	base := devServer(t, "sqlite:"+filepath.Join(t.TempDir(), "dev.db"))

	raw, err := os.ReadFile("../../bot/testdata/playground/message.json")
	if err != nil {
		t.Fatal(err)
	}
	var act map[string]any
	if err := json.Unmarshal(raw, &act); err != nil {
		t.Fatal(err)
	}
	act["serviceUrl"] = conn.ServiceURL()
	body, _ := json.Marshal(act)
	resp, err := http.Post(base+"/api/messages", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/messages: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(conn.Activities()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no reply reached the Connector")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range conn.Requests() {
		if r.Authorization != "" {
			t.Errorf("dev mode sent an Authorization header to %s", r.Path)
		}
	}

	// The same request through a proxy is refused: dev mode fails closed.
	req, _ := http.NewRequest(http.MethodPost, base+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("dev mode behind a proxy answered %d, want 403", resp.StatusCode)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

// TestChatEscalationShowsOnTheServersDashboard: `mfabot chat` shares the
// store with a running server, so a student's hand-off in the terminal
// appears in the staff queue.
func TestChatEscalationShowsOnTheServersDashboard(t *testing.T) {
	storeURL := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	base := devServer(t, storeURL)

	var out bytes.Buffer
	// Choose "move to another phone", then "Lukt niet" twice at step 1.
	in := strings.NewReader("2\n2\n2\n")
	if err := run(context.Background(), []string{"chat", "--student", "lars"}, in, &out, io.Discard); err != nil {
		t.Fatalf("chat: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "088") {
		t.Errorf("the chat's hand-off does not show the service desk's number:\n%s", out.String())
	}

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.PostForm(base+"/staff/login/dev", url.Values{"name": {"Petra"}, "next": {"/staff/"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Lars") || !strings.Contains(string(page), "Stap 1") {
		t.Fatalf("the staff queue (%d) does not show the chat's escalation:\n%.2000s", resp.StatusCode, page)
	}
}
