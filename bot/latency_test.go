package bot

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"mfabot/bot/connector"
)

// BenchmarkTurnRoundTrip measures, in production mode against the local
// fakes on 127.0.0.1 (signed token, real SQLite inbox, token endpoint and
// Connector over TLS), the time from POST /api/messages to the reply
// being accepted by the fake Connector, and the time to the 200. Teams'
// rate limits are lifted so that the bot is measured, not the limiter
// (with them, one conversation gets at most 3.5 such turns a second). Bounded: run it with -benchtime=200x.
//
//	go test -race=false -run '^$' -bench TurnRoundTrip -benchtime=200x ./bot/
func BenchmarkTurnRoundTrip(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprintf("posters=%d", par), func(b *testing.B) {
			lifted := []connector.Window{{N: 100000, Per: time.Second}}
			e := newEnv(b, envOpts{tenantLimits: lifted, convLimits: lifted})
			// Warm up: token, keys, connections.
			if resp, _ := e.postActivity(e.activity("warm", "hallo")); resp.StatusCode != 200 {
				b.Fatal("warm-up refused")
			}
			e.sender.waitMessages(b, 1)

			var mu sync.Mutex
			var ack, trip []time.Duration
			// Each poster has its own conversation, so replies can be
			// told apart and the per-conversation limit (7/s) holds.
			replies := make([]chan struct{}, par)
			for i := range replies {
				replies[i] = make(chan struct{}, 1)
			}
			e.sender.setOnReply(func(conversationID string) {
				var i int
				if _, err := fmt.Sscanf(conversationID, "a:bench-%d", &i); err == nil && i < par {
					replies[i] <- struct{}{}
				}
			})
			per := (b.N + par - 1) / par
			b.ResetTimer()
			var wg sync.WaitGroup
			for p := 0; p < par; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						act := e.activity(fmt.Sprintf("b-%d-%d", p, i), "hallo")
						act["conversation"] = map[string]any{"id": fmt.Sprintf("a:bench-%d", p), "conversationType": "personal", "tenantId": testTenant}
						start := time.Now()
						resp, _ := e.postActivity(act)
						acked := time.Since(start)
						if resp.StatusCode != http.StatusOK {
							b.Errorf("status %d", resp.StatusCode)
							return
						}
						select {
						case <-replies[p]:
						case <-time.After(waitTimeout):
							b.Errorf("no reply")
							return
						}
						mu.Lock()
						ack = append(ack, acked)
						trip = append(trip, time.Since(start))
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if len(trip) == 0 {
				return
			}
			b.ReportMetric(pct(ack, 50), "ack-p50-ms")
			b.ReportMetric(pct(ack, 99), "ack-p99-ms")
			b.ReportMetric(pct(trip, 50), "turn-p50-ms")
			b.ReportMetric(pct(trip, 99), "turn-p99-ms")
		})
	}
}

func pct(d []time.Duration, p int) float64 {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return float64(s[i].Microseconds()) / 1000
}
