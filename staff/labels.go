package staff

import (
	"fmt"
	"regexp"
	"time"

	"mfabot/dialogs/texts"
	"mfabot/store"
)

// The names of situations, steps, reasons, sign-in methods, outcomes,
// statuses and languages come from the language files (package texts),
// the same ones the staff card in Teams uses. Unknown codes are shown as
// they are, so a new code is visible rather than hidden.

// staffLang is the dashboard's language.
const staffLang = texts.StaffLanguage

// outcomeOrder is the column order of the outcomes-per-day table.
var outcomeOrder = []string{
	store.OutcomeVerifiedResolved,
	store.OutcomeSelfReportedResolved,
	store.OutcomeEscalated,
	store.OutcomeSecurityEscalated,
	store.OutcomeAbandoned,
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

func label(m map[string]string, code string) string {
	if v, ok := m[code]; ok {
		return v
	}
	if code == "" {
		return "—"
	}
	return code
}

// orDash shows an empty value as a dash.
func orDash(v string) string {
	if v == "" {
		return "—"
	}
	return v
}

func statusLabel(c string) string    { return orDash(texts.Status(staffLang, c)) }
func situationLabel(c string) string { return orDash(texts.Situation(staffLang, c)) }
func reasonLabel(c string) string    { return orDash(texts.Reason(staffLang, c)) }
func stepLabel(c string) string      { return orDash(texts.Step(staffLang, c)) }
func outcomeLabel(c string) string   { return orDash(texts.Outcome(staffLang, c)) }
func languageLabel(c string) string  { return orDash(texts.Label(staffLang, "language", c)) }

// auditCreate and auditSecurity are the details handoff writes when it
// creates an escalation and when it marks one as security.
var (
	auditCreate   = regexp.MustCompile(`^reason=([a-z_]*) security=(true|false) repeat=(true|false)$`)
	auditSecurity = regexp.MustCompile(`^marked as security: ([a-z_]*)$`)
)

// auditDetail shows an audit entry's detail with the names staff read
// instead of the codes handoff records ("reason=two_failures ...").
func auditDetail(detail string) string {
	if m := auditCreate.FindStringSubmatch(detail); m != nil {
		return texts.T(staffLang, "staff.audit_created", map[string]string{
			"reason": reasonLabel(m[1]), "security": yesNo(m[2] == "true"), "repeat": yesNo(m[3] == "true")})
	}
	if m := auditSecurity.FindStringSubmatch(detail); m != nil {
		return texts.T(staffLang, "staff.audit_security", map[string]string{"reason": reasonLabel(m[1])})
	}
	return detail
}

// buttonLine is how the transcript records a click: "[failed @ step09]".
var buttonLine = regexp.MustCompile(`^\[([a-z_]+) @ ([a-z0-9_]+)\]$`)

// transcriptText shows a transcript line as staff read it: a click is
// named by its button and step ("Knop 'Lukt niet' bij Stap 9: Typ het
// nummer over"), not by their ids; other lines are shown as they are.
func transcriptText(line string) string {
	m := buttonLine.FindStringSubmatch(line)
	if m == nil {
		return line
	}
	button := m[1]
	switch {
	case texts.Has(staffLang, "staff.button."+button):
		button = texts.T(staffLang, "staff.button."+button, nil)
	case texts.Has(staffLang, "button."+button):
		button = texts.T(staffLang, "button."+button, nil)
	}
	return texts.T(staffLang, "staff.click", map[string]string{"button": button, "step": texts.Step(staffLang, m[2])})
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
