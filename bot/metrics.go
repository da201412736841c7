package bot

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_bot_requests_total",
		Help: "Requests to /api/messages by HTTP status.",
	}, []string{"status"})
	metricAuthFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_bot_auth_failures_total",
		Help: "Refused /api/messages requests by reason.",
	}, []string{"reason"})
	metricTurns = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_bot_turns_total",
		Help: "Turns processed by kind and result.",
	}, []string{"kind", "result"})
	metricTurnLatency = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mfabot_bot_turn_duration_seconds",
		Help:    "Time from taking a turn off the inbox to its replies being sent.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"kind"})
	metricInboxDepth = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "mfabot_bot_inbox_depth",
		Help: "Inbox entries this instance held at the last poll (capped by the poll size).",
	})
	metricTurnFailures = promauto.NewCounter(prometheus.CounterOpts{
		Name: "mfabot_bot_turn_failures_total",
		Help: "Inbox entries given up after the last attempt.",
	})
	metricSendErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_bot_send_errors_total",
		Help: "Replies that could not be delivered, by operation.",
	}, []string{"op"})
	metricStaffRefused = promauto.NewCounter(prometheus.CounterOpts{
		Name: "mfabot_bot_staff_action_refused_total",
		Help: "Staff card actions refused because they did not come from the staff channel.",
	})
)
