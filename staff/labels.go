package staff

import (
	"fmt"
	"time"

	"mfabot/handoff"
	"mfabot/store"
)

// Dutch labels for the codes the store keeps. Unknown codes are shown as
// they are, so a new code is visible rather than hidden.

var statusLabels = map[string]string{
	store.StatusOpen:     "Open",
	store.StatusClaimed:  "In behandeling",
	store.StatusResolved: "Opgelost",
}

var situationLabels = map[string]string{
	"signin_problem":        "Problemen met aanmelden",
	"move_phone":            "Overzetten naar andere telefoon",
	"new_phone_same_number": "Nieuwe telefoon, zelfde nummer",
	"lost_phone":            "Telefoon kwijt of kapot",
	"suspicious_prompt":     "Verdachte aanmeldverzoeken",
}

var reasonLabels = map[string]string{
	handoff.ReasonTwoFailures:      "Stap twee keer mislukt",
	handoff.ReasonAskedForHuman:    "Vroeg om een medewerker",
	handoff.ReasonNoUsableMethod:   "Geen bruikbare aanmeldmethode",
	handoff.ReasonSuspicious:       "Verdachte aanmeldverzoeken",
	handoff.ReasonGraphUnavailable: "Controle via Microsoft Graph niet mogelijk",
	handoff.ReasonNotConfirmed:     "Stap niet bevestigd na controles",
}

// outcomeOrder is the column order of the outcomes-per-day table.
var outcomeOrder = []string{
	store.OutcomeVerifiedResolved,
	store.OutcomeSelfReportedResolved,
	store.OutcomeEscalated,
	store.OutcomeSecurityEscalated,
	store.OutcomeAbandoned,
}

var outcomeLabels = map[string]string{
	store.OutcomeVerifiedResolved:     "Opgelost (gecontroleerd)",
	store.OutcomeSelfReportedResolved: "Opgelost (volgens student)",
	store.OutcomeEscalated:            "Doorgezet",
	store.OutcomeSecurityEscalated:    "Beveiliging",
	store.OutcomeAbandoned:            "Afgebroken",
}

var auditLabels = map[string]string{
	"create":   "aangemaakt",
	"created":  "aangemaakt",
	"claim":    "opgepakt",
	"resolve":  "opgelost",
	"reopen":   "heropend",
	"security": "als beveiliging gemarkeerd",
	"view":     "bekeken",
	"export":   "geëxporteerd",
	"login":    "aangemeld",
	"logout":   "afgemeld",
}

var roleLabels = map[string]string{
	"student": "Student",
	"bot":     "Bot",
	"staff":   "Medewerker",
}

var languageLabels = map[string]string{"nl": "Nederlands", "en": "Engels"}

func label(m map[string]string, code string) string {
	if v, ok := m[code]; ok {
		return v
	}
	if code == "" {
		return "—"
	}
	return code
}

func (s *server) stepLabel(step string) string {
	if v, ok := s.opt.StepLabels[step]; ok && v != "" {
		return v
	}
	if step == "" {
		return "—"
	}
	return step
}

// humanDuration renders a duration the way staff say it: "12 min",
// "2 u 05 min", "3 d 4 u".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return "minder dan 1 min"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d u %02d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	default:
		return fmt.Sprintf("%d d %d u", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	}
}

func (s *server) fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	lt := t.In(s.loc)
	now := s.now().In(s.loc)
	if lt.Year() == now.Year() && lt.YearDay() == now.YearDay() {
		return "vandaag " + lt.Format("15:04")
	}
	return lt.Format("02-01-2006 15:04")
}
