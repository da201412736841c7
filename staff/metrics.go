package staff

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricLogins = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_staff_logins_total",
		Help: "Dashboard sign-ins, by method (oidc, dev) and result (ok, denied, failed).",
	}, []string{"method", "result"})
	metricRefused = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_staff_refused_requests_total",
		Help: "Dashboard requests refused, by reason (csrf, cross_origin, no_session, dev_host_not_loopback).",
	}, []string{"reason"})
)
