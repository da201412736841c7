package handoff

import (
	"encoding/json"
	"strings"
	"time"

	"mfabot/dialogs/texts"
)

// Contact returns the service desk's contact details at now, with the
// desk hours in Dutch (the default language). See ContactFor.
func (s *Service) Contact(now time.Time) Contact {
	return s.ContactFor(now, "nl")
}

// ContactFor returns the contact details at now with the hours written
// in lang (nl | en).
func (s *Service) ContactFor(now time.Time, lang string) Contact {
	lang = normLang(lang)
	c := Contact{
		Name:              s.inst.Name,
		Phone:             s.inst.Phone,
		PhoneURI:          phoneURI(s.inst.Phone),
		IdentityCheck:     identityCheck(s.inst.IdentityCheck, lang),
		PasswordChangeURL: s.inst.PasswordChangeURL,
	}
	say := func(key string, vars map[string]string) string { return texts.T(lang, key, vars) }
	// Every "vandaag"/"morgen" is rewritten at local midnight.
	local := now.In(s.sched.loc)
	y, m, d := local.Date()
	c.ValidUntil = time.Date(y, m, d+1, 0, 0, 0, 0, s.sched.loc)
	until := func(t time.Time) {
		if !t.IsZero() && t.Before(c.ValidUntil) {
			c.ValidUntil = t
		}
	}
	if s.phone != nil {
		c.PhoneHours = hoursText(*s.phone, lang)
		open, closes, next := s.sched.status(*s.phone, now)
		c.PhoneOpenNow = &open
		switch {
		case open:
			c.PhoneState = say("contact.phone_open", nil)
		case !next.IsZero():
			c.PhoneState = say("contact.phone_next", map[string]string{"when": whenText(now, next, s.sched.loc, lang)})
		}
		until(closes)
		until(next)
	}
	for i, w := range s.desks {
		d := s.inst.Desks[i]
		open, closes, next := s.sched.status(w, now)
		ds := DeskStatus{
			Name:     d.Name,
			Location: d.Location,
			Hours:    hoursText(w, lang),
			OpenNow:  open,
			ClosesAt: closes,
			NextOpen: next,
		}
		switch {
		case open:
			ds.State = say("contact.desk_open", map[string]string{"time": clock(closes.In(s.sched.loc))})
		case next.IsZero():
			ds.State = say("contact.desk_closed", nil)
		default:
			ds.State = say("contact.desk_next", map[string]string{"when": whenText(now, next, s.sched.loc, lang)})
		}
		until(closes)
		until(next)
		c.Desks = append(c.Desks, ds)
		c.AnyDeskOpen = c.AnyDeskOpen || open
	}
	return c
}

// ContactCard renders the contact details as an Adaptive Card for the
// student: a tap-to-call button, each desk open now or when it opens
// next, the phone hours when configured, what to bring for the identity
// check (lostPhone), and the immediate steps for a suspected attack
// (security), which hold at any hour.
func (s *Service) ContactCard(now time.Time, lang string, lostPhone, security bool) json.RawMessage {
	return s.ContactCardWith(now, lang, ContactCardOptions{LostPhone: lostPhone, Security: security})
}

// ContactCardOptions choose what the contact card adds.
type ContactCardOptions struct {
	LostPhone bool // what to bring for the identity check
	Security  bool // the immediate steps for a suspected attack
	// NotQueued: no escalation could be stored, so the card must not say
	// "your request is already with the service desk".
	NotQueued bool
}

// ContactCardWith is ContactCard with all options.
func (s *Service) ContactCardWith(now time.Time, lang string, o ContactCardOptions) json.RawMessage {
	lostPhone, security := o.LostPhone, o.Security
	lang = normLang(lang)
	c := s.ContactFor(now, lang)
	say := func(key string) string { return texts.T(lang, key, nil) }

	var body, actions []any
	body = append(body, textBlock(c.Name, bold, medium))

	if security {
		steps := []any{
			textBlock(say("contact.security_title"), bold, attention),
			textBlock(say("contact.security_deny")),
		}
		if c.PasswordChangeURL != "" {
			steps = append(steps, textBlock(say("contact.security_password_link")))
		} else {
			steps = append(steps, textBlock(say("contact.security_password")))
		}
		if o.NotQueued {
			steps = append(steps, textBlock(say("contact.security_call")))
		} else {
			steps = append(steps, textBlock(say("contact.security_queued")))
		}
		body = append(body, container("attention", steps...))
		if c.PasswordChangeURL != "" {
			actions = append(actions, openURL(say("contact.password_button"), c.PasswordChangeURL))
		}
	}

	// What the student can do now.
	phoneOpen := c.PhoneOpenNow != nil && *c.PhoneOpenNow
	phoneClosed := c.PhoneOpenNow != nil && !*c.PhoneOpenNow
	switch {
	case c.AnyDeskOpen && phoneClosed:
		body = append(body, textBlock(say("contact.walk_in_now"), bold, good, spaced))
	case c.AnyDeskOpen:
		body = append(body, textBlock(say("contact.open_now"), bold, good, spaced))
	case phoneOpen:
		body = append(body, textBlock(say("contact.phone_now"), bold, good, spaced))
	default:
		line := ""
		if d, ok := firstOpening(c.Desks); ok {
			when := whenText(now, d.NextOpen, s.sched.loc, lang)
			line = texts.T(lang, "contact.desk_opens", map[string]string{"desk": d.Name, "when": when})
		}
		if !security && !o.NotQueued {
			line = strings.TrimSpace(line + " " + say("contact.queued"))
		}
		if line != "" {
			body = append(body, textBlock(line, bold, spaced))
		}
	}

	if lostPhone {
		body = append(body,
			textBlock(say("contact.lost_phone"), bold, spaced),
			textBlock(c.IdentityCheck))
	}

	// Phone and desks.
	if c.Phone != "" {
		line := texts.T(lang, "contact.phone", map[string]string{"phone": c.Phone})
		if c.PhoneOpenNow != nil {
			if c.PhoneState != "" {
				line += " (" + c.PhoneHours + ", " + c.PhoneState + ")"
			} else {
				line += " (" + c.PhoneHours + ")"
			}
		}
		body = append(body, textBlock(line, spaced))
	}
	if len(c.Desks) > 0 {
		var facts [][2]string
		for _, d := range c.Desks {
			title := d.Name
			if d.Location != "" {
				title += ", " + d.Location
			}
			facts = append(facts, [2]string{title, d.Hours + " · " + d.State})
		}
		body = append(body, textBlock(say("contact.desks"), bold, spaced), factSet(facts))
	}

	if c.PhoneURI != "" {
		actions = append(actions, openURL(texts.T(lang, "contact.call_button", map[string]string{"phone": c.Phone}), c.PhoneURI))
	}
	return adaptiveCard(body, actions)
}

// firstOpening is the closed desk that opens first (ties: the first
// configured).
func firstOpening(desks []DeskStatus) (DeskStatus, bool) {
	var best DeskStatus
	found := false
	for _, d := range desks {
		if d.NextOpen.IsZero() {
			continue
		}
		if !found || d.NextOpen.Before(best.NextOpen) {
			best, found = d, true
		}
	}
	return best, found
}

func normLang(lang string) string { return texts.Lang(lang) }

// identityCheck picks the language's half of "Dutch / English".
func identityCheck(s, lang string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return texts.T(lang, "contact.identity_default", nil)
	}
	if nlText, enText, ok := strings.Cut(s, " / "); ok {
		if lang == "en" {
			return strings.TrimSpace(enText)
		}
		return strings.TrimSpace(nlText)
	}
	return s
}

// phoneURI turns "088 - 469 9070" into "tel:+31884699070". A national
// number (leading 0) is taken as Dutch; "00" and "+" are international.
func phoneURI(phone string) string {
	var digits strings.Builder
	plus := false
	for i, r := range strings.TrimSpace(phone) {
		switch {
		case r == '+' && i == 0:
			plus = true
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		}
	}
	d := digits.String()
	switch {
	case d == "":
		return ""
	case plus:
		return "tel:+" + d
	case strings.HasPrefix(d, "00"):
		return "tel:+" + d[2:]
	case strings.HasPrefix(d, "0"):
		return "tel:+31" + d[1:]
	default:
		return "tel:" + d
	}
}
