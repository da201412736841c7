package bot

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Web Chat and Direct Line let the client name its own aadObjectId and
// tenant; only Teams activities are accepted, with a valid token or not.
func TestOnlyTeamsChannelAccepted(t *testing.T) {
	for _, dev := range []bool{false, true} {
		name := "production"
		if dev {
			name = "dev"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envOpts{dev: dev, noRun: true})
			if !dev {
				// Bot Framework's keys endorse webchat and directline
				// too: the token alone does not keep them out. (No
				// endorsements: the key is valid for every channel.)
				e.openid.SetEndorsements("key-1")
			}
			for _, ch := range []string{"webchat", "directline", "emulator", "", "MSTEAMS"} {
				before := testutil.ToFloat64(metricAuthFailures.WithLabelValues("channel"))
				act := e.activity("ch-"+ch, "hoi")
				act["channelId"] = ch
				if resp, _ := e.postActivity(act); resp.StatusCode != http.StatusForbidden {
					t.Errorf("channelId %q: status %d, want 403", ch, resp.StatusCode)
				}
				if d := testutil.ToFloat64(metricAuthFailures.WithLabelValues("channel")) - before; d != 1 {
					t.Errorf("channelId %q: channel refusals +%v, want +1", ch, d)
				}
			}
			if n := e.pendingCount(); n != 0 {
				t.Fatalf("%d activities of other channels accepted", n)
			}
			if resp, _ := e.postActivity(e.activity("ch-teams", "hoi")); resp.StatusCode != http.StatusOK {
				t.Fatalf("msteams: status %d", resp.StatusCode)
			}
		})
	}
}
