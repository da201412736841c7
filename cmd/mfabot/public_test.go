package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"mfabot/config"
)

// helpServer runs the dev-mode app with env applied and returns its base
// URL and the app (so a test can stop its store).
func helpServer(t *testing.T, env map[string]string) (string, *app) {
	t.Helper()
	clearMFABOTEnv(t)
	t.Setenv("MFABOT_STORE_URL", "sqlite:"+filepath.Join(t.TempDir(), "help.db"))
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
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
		<-done
		a.Close()
	})
	return "http://" + ln.Addr().String(), a
}

func fetchHelp(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The help page is served by `mfabot serve` (dev mode, on loopback) and
// keeps answering, with the desk's phone number, when the store is
// stopped; /readyz says the store is gone, whatever the page does.
func TestPublicHelpServedAndIndependentOfTheStore(t *testing.T) {
	base, a := helpServer(t, map[string]string{"MFABOT_HTTP_PUBLIC_HELP_URL": "https://hulp.example.nl/hulp"})
	if code, body := fetchHelp(t, base+"/hulp"); code != http.StatusOK || !strings.Contains(body, "088 - 469 9070") || !strings.Contains(body, `lang="nl"`) {
		t.Fatalf("/hulp: %d", code)
	}
	if code, body := fetchHelp(t, base+"/help"); code != http.StatusOK || !strings.Contains(body, "The 12 steps") {
		t.Fatalf("/help: %d", code)
	}
	if code, _ := fetchHelp(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before: %d", code)
	}
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _ := fetchHelp(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the store stopped: %d, want 503", code)
	}
	code, body := fetchHelp(t, base+"/hulp")
	if code != http.StatusOK || !strings.Contains(body, "088 - 469 9070") || !strings.Contains(body, "De 12 stappen") {
		t.Errorf("/hulp with the store stopped: %d", code)
	}
	// The welcome names the page.
	if got := dialogSettings(a.cfg).PublicHelpURL; got != "https://hulp.example.nl/hulp" {
		t.Errorf("the bot's settings do not carry the page's address: %q", got)
	}
}

func TestPublicHelpCanBeTurnedOff(t *testing.T) {
	base, _ := helpServer(t, map[string]string{"MFABOT_HTTP_PUBLIC_HELP": "false"})
	for _, p := range []string{"/hulp", "/help", "/hulp/style.css"} {
		if code, _ := fetchHelp(t, base+p); code != http.StatusNotFound {
			t.Errorf("%s with public_help false: %d, want 404", p, code)
		}
	}
	if code, _ := fetchHelp(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d", code)
	}
}
