package public

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"mfabot/dialogs"
)

// view is what the template shows.
type view struct {
	Lang, OtherLang, OtherPath string
	StyleURL                   string
	TeamsURL                   string
	T                          map[string]template.HTML // public.* texts and labels
	Situations                 []situationView
	Steps                      []stepView
	Desk                       deskView
}

type situationView struct {
	ID, Label string
	Lead      template.HTML // said first, in bold (the security warning)
	Intro     []template.HTML
	Checks    []template.HTML // the sign-in problem's quick checks
	After     []template.HTML
	Identity  bool // what the identity check needs
	ToSteps   bool
}

type stepView struct {
	ID                   string
	Number               int
	Progress, Title      template.HTML
	Do, Where, See, Help template.HTML
	Routes               []routeView // step 2: how to approve, per route; steps 8-10: per way chosen at step 7
}

type routeView struct {
	Label, Do, Where, Help template.HTML
	See                    template.HTML // only where the ways differ in it (steps 8-10)
}

type deskView struct {
	Name, Phone, PhoneHours string
	PhoneURI                template.URL // tel:+31..., built by handoff from digits only
	PhoneState              string
	PhoneOpen               bool
	Desks                   []deskLine
	IdentityCheck           string
}

type deskLine struct {
	Name, Location, Hours, State string
	Open                         bool
}

// view builds the page for lang at now: the steps through the chat's own
// step cards (dialogs.Guide), the texts from its language files, the
// desks from handoff.
func (h *Handler) view(lang string, now time.Time) (*view, error) {
	set := h.o.Settings
	set.VoiceCalls = set.CallsAt(now)
	var missing []string
	txt := func(key string, vars map[string]string) string {
		s, ok := dialogs.Text(set, lang, key, vars)
		if !ok {
			missing = append(missing, key)
		}
		return s
	}
	md := func(key string) template.HTML { return markdownHTML(txt(key, nil)) }

	c := h.o.Desk.ContactFor(now, lang)
	v := &view{Lang: lang, StyleURL: h.styleURL, TeamsURL: h.teamsURL, T: map[string]template.HTML{}}
	v.OtherLang, v.OtherPath = "en", PathEN+"?lang=en"
	if lang == "en" {
		v.OtherLang, v.OtherPath = "nl", PathNL+"?lang=nl"
	}
	for _, k := range []string{"title", "intro", "skip", "other_lang", "lang_nav", "situations_title", "situations_nav",
		"to_steps", "to_desk", "teams_title", "teams_text", "teams_link", "desk_phone", "desk_desks", "desk_none",
		"identity_title", "identity_text", "steps_title", "steps_intro", "help_label", "never", "privacy"} {
		v.T[k] = md("public." + k)
	}
	v.T["where"] = md("label.where")
	v.T["see"] = md("label.see")
	v.T["call"] = markdownHTML(txt("public.desk_call", map[string]string{"phone": c.Phone}))

	v.Desk = deskView{Name: c.Name, Phone: c.Phone, PhoneURI: telURI(c.PhoneURI), PhoneHours: c.PhoneHours,
		PhoneState: c.PhoneState, PhoneOpen: c.PhoneOpenNow != nil && *c.PhoneOpenNow, IdentityCheck: c.IdentityCheck}
	for _, d := range c.Desks {
		state := d.State
		if !d.OpenNow && !d.NextOpen.IsZero() {
			state = txt("public.desk_closed", map[string]string{"state": d.State})
		}
		v.Desk.Desks = append(v.Desk.Desks, deskLine{Name: d.Name, Location: d.Location, Hours: d.Hours, State: capitalise(state), Open: d.OpenNow})
	}

	// The twelve steps, and step 2 once per route.
	routes := []string{dialogs.RouteOldPhone}
	if set.VoiceCalls {
		routes = append(routes, dialogs.RouteCall)
	}
	routes = append(routes, dialogs.RouteEither)
	byRoute := map[string][]dialogs.GuideStep{}
	for _, r := range routes {
		byRoute[r] = dialogs.Guide(set, lang, r)
	}
	signin := dialogs.GuideWithPairing(set, lang, dialogs.RouteEither, dialogs.PairingSignIn)
	for i, g := range byRoute[dialogs.RouteEither] {
		s := stepView{ID: g.ID, Number: g.Number, Progress: markdownHTML(g.Progress), Title: markdownHTML(g.Title),
			Do: markdownHTML(g.Do), Where: markdownHTML(g.Where), See: markdownHTML(g.See), Help: markdownHTML(g.Help)}
		switch sg := signin[i]; {
		case g.Number == 2:
			for _, r := range routes {
				rg := byRoute[r][i]
				s.Routes = append(s.Routes, routeView{Label: md("public.route_" + r), Do: markdownHTML(rg.Do),
					Where: markdownHTML(rg.Where), Help: markdownHTML(rg.Help)})
			}
		case g.Number > 7 && sg.Do != g.Do:
			// the two ways of step 7 (the chat follows the one taken)
			for _, w := range []struct {
				key string
				g   dialogs.GuideStep
			}{{"public.pairing_qr", g}, {"public.pairing_signin", sg}} {
				s.Routes = append(s.Routes, routeView{Label: md(w.key), Do: markdownHTML(w.g.Do), Where: markdownHTML(w.g.Where),
					See: markdownHTML(w.g.See), Help: markdownHTML(w.g.Help)})
			}
			s.See = ""
		}
		v.Steps = append(v.Steps, s)
	}

	// The five situations, in the welcome's order.
	for _, sit := range dialogs.Situations {
		sv := situationView{ID: sit, Label: txt("button."+sit, nil)}
		switch sit {
		case dialogs.SitSigninProblem:
			sv.Intro = []template.HTML{md("public.sit_signin_problem")}
			for _, k := range []string{"trouble_notification", "trouble_account_missing", "trouble_number_matching"} {
				sv.Checks = append(sv.Checks, md(k+".do"))
			}
			sv.After = []template.HTML{md("public.sit_signin_problem_next")}
			sv.ToSteps = true
		case dialogs.SitMovePhone:
			sv.Intro = []template.HTML{md("public.sit_move_phone")}
			sv.ToSteps = true
		case dialogs.SitNewPhoneSame:
			sv.Intro = []template.HTML{md(nocall("public.sit_new_phone_same_number", set))}
			sv.ToSteps = true
		case dialogs.SitLostPhone:
			sv.Intro = []template.HTML{md(nocall("public.sit_lost_phone", set))}
			sv.Identity = true
			sv.ToSteps = set.VoiceCalls
		case dialogs.SitSuspicious:
			sv.Lead = md("suspicious.title")
			sv.Intro = []template.HTML{md("suspicious.do"), md("suspicious.password"),
				md("public.sit_suspicious_call"), md("suspicious.signins")}
		}
		v.Situations = append(v.Situations, sv)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("public: texts missing in %s: %s", lang, strings.Join(missing, ", "))
	}
	return v, nil
}

// nocall picks the text for a school without the call option.
func nocall(key string, set dialogs.Settings) string {
	if set.VoiceCalls {
		return key
	}
	return key + "_nocall"
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return strings.ToUpper(string(r[0])) + string(r[1:])
}

// telURI passes a tel: URI that is only digits (html/template would
// refuse the scheme otherwise); anything else is no link.
func telURI(u string) template.URL {
	digits, ok := strings.CutPrefix(u, "tel:")
	digits = strings.TrimPrefix(digits, "+")
	if !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return ""
	}
	return template.URL(u)
}
