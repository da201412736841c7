package llm

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	calls = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_llm_calls_total",
		Help: "Chat-completion calls made to the LLM endpoint, by operation (classify, answer).",
	}, []string{"op"})
	latency = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mfabot_llm_latency_seconds",
		Help:    "Latency of LLM chat-completion calls.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 3, 4, 6, 10},
	}, []string{"op"})
	failures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_llm_failures_total",
		Help: "LLM calls that failed or were not made, by operation and kind (timeout, rate_limited, server_error, client_error, auth, bad_response, transport, canceled, circuit_open).",
	}, []string{"op", "kind"})
	rejected = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_llm_rejected_total",
		Help: "LLM outputs rejected by the guardrails, by operation and reason.",
	}, []string{"op", "reason"})
	tokens = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_llm_tokens_total",
		Help: "Tokens used by LLM calls, by kind (prompt, completion).",
	}, []string{"kind"})
	breakerOpen = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "mfabot_llm_circuit_open",
		Help: "1 while the LLM circuit breaker is open.",
	})
)
