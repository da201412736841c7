package bot

import (
	"log/slog"
	"mfabot/internal/testenv"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Real Bot Framework traffic (it always carries a token) reaching a dev
// instance, through a tunnel say, is refused and the log says why.
func TestDevModeRefusesBearerTokens(t *testing.T) {
	var logs testenv.LogBuffer
	e := newEnv(t, envOpts{dev: true, noRun: true, mutate: func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	}})
	body := mustJSON(e.activity("bf-1", "hoi"))
	for _, authz := range []string{"Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig", "bearer x"} {
		before := testutil.ToFloat64(metricAuthFailures.WithLabelValues("dev_token"))
		resp, _ := e.post(body, authz, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%q: status %d, want 403", authz, resp.StatusCode)
		}
		if d := testutil.ToFloat64(metricAuthFailures.WithLabelValues("dev_token")) - before; d != 1 {
			t.Errorf("%q: dev_token refusals +%v", authz, d)
		}
	}
	if !strings.Contains(logs.String(), "this is dev mode; set mode: production") {
		t.Errorf("no hint in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "eyJhbGciOiJSUzI1NiJ9") {
		t.Error("the token was logged")
	}
	if n := e.pendingCount(); n != 0 {
		t.Fatalf("%d activities with a token accepted in dev mode", n)
	}
	// Without a token (Agents Playground) it still works.
	if resp, _ := e.post(body, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("without a token: status %d", resp.StatusCode)
	}
}
