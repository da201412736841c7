package handoff

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mfabot/dialogs/texts"
	"mfabot/store"
)

// staffLang is the language of the staff card.
const staffLang = texts.StaffLanguage

// StaffCardVerb is the Action.Execute verb of the staff card's buttons;
// the button data is {"verb":"claim"|"resolve"|"reopen","escalationId":N}
// and the resolve note arrives as the input "note".
const StaffCardVerb = "mfabot.staff"

// StaffNoteInput is the id of the staff card's note input.
const StaffNoteInput = "note"

// dash stands for an empty value on the card.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// StaffCard renders an escalation as the staff channel's Adaptive Card
// (Dutch), as it is at now: who, situation, failed step, reason, masked
// methods, when it came in and how long the student has waited, the
// security banner, and the buttons that fit its status.
func (s *Service) StaffCard(e store.Escalation, now time.Time) json.RawMessage {
	loc := s.sched.loc
	var body []any
	if e.Security {
		body = append(body, container("attention",
			textBlock("BEVEILIGING: mogelijke aanval op het account", bold, attention),
			textBlock("De student kreeg aanmeldverzoeken die hij of zij niet zelf startte. Direct oppakken, ook buiten openingstijden.")))
	}
	name := e.StudentName
	if name == "" {
		name = "Onbekende student"
	}
	body = append(body, textBlock(fmt.Sprintf("Melding #%d · %s", e.ID, name), bold, medium))

	switch e.Status {
	case store.StatusClaimed:
		body = append(body, textBlock("Opgepakt door "+e.ClaimedBy+" "+staffWhen(now, deref(e.ClaimedAt), loc), bold, func(t obj) { t["color"] = "Accent" }))
	case store.StatusResolved:
		body = append(body, textBlock("Opgelost door "+e.ResolvedBy+" "+staffWhen(now, deref(e.ResolvedAt), loc), bold, good))
	default:
		body = append(body, textBlock("Open · de student wacht al "+durationNL(now.Sub(e.CreatedAt)), bold, attention))
	}

	student := name
	if e.StudentUPN != "" {
		student += " (" + e.StudentUPN + ")"
	} else {
		student += " (UPN onbekend)"
	}
	methods := "geen"
	if len(e.Methods) > 0 {
		ms := make([]string, len(e.Methods))
		for i, m := range e.Methods {
			ms[i] = maskPhones(m, "")
		}
		methods = strings.Join(ms, "; ")
	} else if e.Reason == ReasonGraphUnavailable {
		methods = texts.T(staffLang, "staff.methods_unknown", nil)
	}
	lang := texts.Label(staffLang, "language", normLang(e.Language))
	waited := durationNL(now.Sub(e.CreatedAt))
	if e.FirstResponseAt != nil {
		waited = durationNL(e.FirstResponseAt.Sub(e.CreatedAt)) + " (tot de eerste reactie)"
	}
	facts := [][2]string{
		{"Student", student},
		{"Situatie", dash(texts.Situation(staffLang, e.Situation))},
		{"Mislukte stap", dash(texts.Step(staffLang, e.FailedStep))},
		{"Reden", dash(texts.Reason(staffLang, e.Reason))},
		{"Methoden", methods},
		{"Taal", lang},
		{"Binnengekomen", e.CreatedAt.In(loc).Format("02-01-2006 15:04")},
		{"Wachttijd", waited},
	}
	if e.RepeatContact {
		facts = append(facts, [2]string{"Herhaald contact", "ja, eerder gemeld in de afgelopen 7 dagen"})
	}
	if e.ClaimedBy != "" && e.Status != store.StatusClaimed {
		facts = append(facts, [2]string{"Opgepakt", e.ClaimedBy + " " + staffWhen(now, deref(e.ClaimedAt), loc)})
	}
	if e.ResolutionNote != "" {
		facts = append(facts, [2]string{"Notitie", e.ResolutionNote})
	}
	body = append(body, factSet(facts))

	var actions []any
	execute := func(title, verb string) obj {
		return obj{
			"type":  "Action.Execute",
			"title": title,
			"verb":  StaffCardVerb,
			"data":  obj{"verb": verb, "escalationId": e.ID},
		}
	}
	switch e.Status {
	case store.StatusResolved:
		actions = append(actions, execute("Heropenen", VerbReopen))
	default:
		body = append(body, obj{
			"type":        "Input.Text",
			"id":          StaffNoteInput,
			"label":       "Notitie bij Opgelost (optioneel)",
			"placeholder": "Wat is er gedaan?",
			"isMultiline": true,
			"maxLength":   maxNoteLen,
		})
		if e.Status == store.StatusOpen {
			claim := execute("Ik pak dit op", VerbClaim)
			claim["style"] = "positive"
			actions = append(actions, claim)
		}
		actions = append(actions, execute("Opgelost", VerbResolve))
	}
	if e.StudentUPN != "" {
		actions = append(actions, openURL("Chat met student", ChatURL(e.StudentUPN)))
	}
	if s.dashboardURL != "" {
		actions = append(actions, openURL("Open in dashboard",
			strings.TrimRight(s.dashboardURL, "/")+"/escalations/"+strconv.FormatInt(e.ID, 10)))
	}
	card := adaptiveCard(body, actions)
	return card
}

// ChatURL is the Teams deep link to a 1:1 chat with upn.
func ChatURL(upn string) string {
	return "https://teams.microsoft.com/l/chat/0/0?users=" + url.QueryEscape(upn)
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// staffWhen is "om 10:42" today, else "op 26-11 om 10:42".
func staffWhen(now, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	lt := t.In(loc)
	if dayDiff(lt, now, loc) == 0 {
		return "om " + clock(lt)
	}
	return "op " + lt.Format("02-01") + " om " + clock(lt)
}

// durationNL: "minder dan een minuut", "12 min", "1 uur 5 min", "2 dagen 3 uur".
func durationNL(d time.Duration) string {
	if d < time.Minute {
		return "minder dan een minuut"
	}
	m := int(d / time.Minute)
	days, hours, mins := m/(24*60), (m/60)%24, m%60
	switch {
	case days > 0:
		unit := "dagen"
		if days == 1 {
			unit = "dag"
		}
		return fmt.Sprintf("%d %s %d uur", days, unit, hours)
	case hours > 0:
		return fmt.Sprintf("%d uur %d min", hours, mins)
	default:
		return fmt.Sprintf("%d min", mins)
	}
}
