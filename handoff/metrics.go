package handoff

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	metricCreated = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_handoff_escalations_created_total",
		Help: "Escalations created, by reason and security flag.",
	}, []string{"reason", "security"})
	metricDuplicates = promauto.NewCounter(prometheus.CounterOpts{
		Name: "mfabot_handoff_escalations_deduplicated_total",
		Help: "Escalation requests answered with the conversation's existing open escalation.",
	})
	metricRepeat = promauto.NewCounter(prometheus.CounterOpts{
		Name: "mfabot_handoff_escalations_repeat_contact_total",
		Help: "Escalations of students who had another escalation in the last 7 days.",
	})
	metricStaffActions = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_handoff_staff_actions_total",
		Help: "Staff actions on escalations, by verb and result (ok, invalid, not_found, refused, error).",
	}, []string{"verb", "result"})
	metricCardPosts = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_handoff_staff_card_posts_total",
		Help: "Staff card posts, by result (posted, failed, maybe_delivered: not repeated, ids_not_saved, claimed_elsewhere, claim_failed).",
	}, []string{"result"})
	metricOutbox = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_handoff_outbox_total",
		Help: "Notifications of staff actions from the outbox, by kind (card_update, student_message) and result (sent, retry, given_up, rejected: failed permanently, maybe_delivered, dropped, invalid).",
	}, []string{"kind", "result"})
	metricNotifierFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "mfabot_handoff_notifier_failures_total",
		Help: "Failed Notifier calls, by operation.",
	}, []string{"op"})
)

var knownReasons = map[string]bool{
	ReasonTwoFailures: true, ReasonAskedForHuman: true, ReasonNoUsableMethod: true,
	ReasonSuspicious: true, ReasonGraphUnavailable: true, ReasonNotConfirmed: true,
}

// reasonLabel keeps the metric's label set closed.
func reasonLabel(r string) string {
	if knownReasons[r] {
		return r
	}
	return "other"
}

func verbLabel(v string) string {
	switch v {
	case VerbClaim, VerbResolve, VerbReopen:
		return v
	}
	return "other"
}

func boolLabel(b bool) string { return strconv.FormatBool(b) }
