package handoff

import (
	"encoding/json"
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
// (in texts.StaffLanguage, every word from the language files), as it is
// at now: who, situation, failed step, reason, masked methods, when it
// came in and how long the student has waited, the security banner, and
// the buttons that fit its status.
func (s *Service) StaffCard(e store.Escalation, now time.Time) json.RawMessage {
	loc := s.sched.loc
	say := func(key string, vars map[string]string) string { return texts.T(staffLang, "staff_card."+key, vars) }
	var body []any
	if e.Security {
		body = append(body, container("attention",
			textBlock(say("security_title", nil), bold, attention),
			textBlock(say("security_text", nil))))
	}
	name := e.StudentName
	if name == "" {
		name = say("unknown_student", nil)
	}
	body = append(body, textBlock(say("title", map[string]string{"id": strconv.FormatInt(e.ID, 10), "name": name}), bold, medium))

	switch e.Status {
	case store.StatusClaimed:
		body = append(body, textBlock(say("claimed_by", map[string]string{"who": e.ClaimedBy, "when": staffWhen(now, deref(e.ClaimedAt), loc)}),
			bold, func(t obj) { t["color"] = "Accent" }))
	case store.StatusResolved:
		body = append(body, textBlock(say("resolved_by", map[string]string{"who": e.ResolvedBy, "when": staffWhen(now, deref(e.ResolvedAt), loc)}), bold, good))
	default:
		body = append(body, textBlock(say("waiting", map[string]string{"duration": staffDuration(now.Sub(e.CreatedAt))}), bold, attention))
	}

	student := name
	if e.StudentUPN != "" {
		student += " (" + e.StudentUPN + ")"
	} else {
		student += " (" + say("upn_unknown", nil) + ")"
	}
	methods := say("no_methods", nil)
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
	waited := staffDuration(now.Sub(e.CreatedAt))
	if e.FirstResponseAt != nil {
		waited = say("until_first_response", map[string]string{"duration": staffDuration(e.FirstResponseAt.Sub(e.CreatedAt))})
	}
	fact := func(key, value string) [2]string { return [2]string{say("fact."+key, nil), value} }
	facts := [][2]string{
		fact("student", student),
		fact("situation", dash(texts.Situation(staffLang, e.Situation))),
		fact("step", dash(texts.Step(staffLang, e.FailedStep))),
		fact("reason", dash(texts.Reason(staffLang, e.Reason))),
		fact("methods", methods),
		fact("language", lang),
		fact("created", e.CreatedAt.In(loc).Format("02-01-2006 15:04")),
		fact("waited", waited),
	}
	if e.RepeatContact {
		facts = append(facts, fact("repeat", say("repeat_yes", nil)))
	}
	if e.ClaimedBy != "" && e.Status != store.StatusClaimed {
		facts = append(facts, fact("claimed", e.ClaimedBy+" "+staffWhen(now, deref(e.ClaimedAt), loc)))
	}
	if e.ResolutionNote != "" {
		facts = append(facts, fact("note", e.ResolutionNote))
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
		actions = append(actions, execute(say("reopen", nil), VerbReopen))
	default:
		body = append(body, obj{
			"type":        "Input.Text",
			"id":          StaffNoteInput,
			"label":       say("note_label", nil),
			"placeholder": say("note_placeholder", nil),
			"isMultiline": true,
			"maxLength":   maxNoteLen,
		})
		if e.Status == store.StatusOpen {
			claim := execute(say("claim", nil), VerbClaim)
			claim["style"] = "positive"
			actions = append(actions, claim)
		}
		actions = append(actions, execute(say("resolve", nil), VerbResolve))
	}
	if e.StudentUPN != "" {
		actions = append(actions, openURL(say("chat", nil), ChatURL(e.StudentUPN)))
	}
	if s.dashboardURL != "" {
		actions = append(actions, openURL(say("dashboard", nil),
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
		return texts.T(staffLang, "staff_card.at_today", map[string]string{"time": clock(lt)})
	}
	return texts.T(staffLang, "staff_card.at_day", map[string]string{"date": lt.Format("02-01"), "time": clock(lt)})
}

// staffDuration: "minder dan een minuut", "12 min", "1 uur 5 min", "2 dagen 3 uur".
func staffDuration(d time.Duration) string {
	say := func(key string, vars map[string]string) string { return texts.T(staffLang, "staff_card."+key, vars) }
	if d < time.Minute {
		return say("less_than_minute", nil)
	}
	m := int(d / time.Minute)
	days, hours, mins := m/(24*60), (m/60)%24, m%60
	switch {
	case days == 1:
		return say("one_day", map[string]string{"h": strconv.Itoa(hours)})
	case days > 1:
		return say("days", map[string]string{"d": strconv.Itoa(days), "h": strconv.Itoa(hours)})
	case hours > 0:
		return say("hours", map[string]string{"h": strconv.Itoa(hours), "m": strconv.Itoa(mins)})
	default:
		return say("minutes", map[string]string{"m": strconv.Itoa(mins)})
	}
}
