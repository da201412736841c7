package dialogs

import "fmt"

// GuideStep is one of the guide's twelve steps as the bot's step card
// shows it, for pages outside Teams (the public help page). The texts
// keep the cards' markdown: **bold** and [text](link).
type GuideStep struct {
	ID       string // step01..step12
	Number   int
	Progress string // "Stap 3 van 12"
	Title    string
	Do       string
	Where    string // without the "Waar:" label
	See      string // without the "Je ziet:" label
	Help     string // what the bot offers after "Lukt niet"
}

// Guide returns the twelve steps in lang for a route through step 2
// (RouteOldPhone, RouteCall, RouteEither), as the bot shows them to a
// student it knows nothing about: no device names, the phone number as
// "je telefoonnummer", the laptop path at step 1. It renders through the
// step cards' own code, so a text changed for the bot changes here too.
func Guide(set Settings, lang, route string) []GuideStep {
	return GuideWithPairing(set, lang, route, "")
}

// GuideWithPairing is Guide for a student who took pairing (PairingQR or
// PairingSignIn) at step 7: steps 8-10 follow that way.
func GuideWithPairing(set Settings, lang, route, pairing string) []GuideStep {
	t := &turn{set: set.withDefaults(), s: State{FlowVersion: FlowVersion, LangChoice: lang, Route: route, Pairing: pairing}}
	steps := make([]GuideStep, 0, guideSteps)
	for n := 1; n <= guideSteps; n++ {
		d := lookupStep(guideID(n))
		t.s.Step = d.ID
		steps = append(steps, GuideStep{
			ID:       d.ID,
			Number:   n,
			Progress: t.tr("label.progress", map[string]string{"n": fmt.Sprint(n)}),
			Title:    t.stepText(d, "title"),
			Do:       t.stepText(d, "do"),
			Where:    t.stepText(d, "where"),
			See:      t.stepText(d, "see"),
			Help:     t.stepText(d, "help"),
		})
	}
	return steps
}

// Text returns the text key in lang with the school's values
// ({setup_link}, {password_link}, {institution}) and vars filled in, as
// the chat would say it; ok is false when the key does not exist in lang.
func Text(set Settings, lang, key string, vars map[string]string) (text string, ok bool) {
	if normLang(lang) != lang || !hasText(lang, key) {
		return "", false
	}
	t := &turn{set: set.withDefaults(), s: State{LangChoice: lang}}
	return t.tr(key, vars), true
}

// publicKeys are the texts of the public help page (public.*) and the
// welcome's pointer to it; Validate checks them like the flow's own.
var publicKeys = []string{
	"public.welcome_hint",
	"public.title", "public.intro", "public.skip", "public.other_lang", "public.lang_nav",
	"public.situations_title", "public.situations_nav", "public.to_steps", "public.to_desk",
	"public.teams_title", "public.teams_text", "public.teams_link",
	"public.desk_phone", "public.desk_call", "public.desk_desks", "public.desk_closed", "public.desk_none",
	"public.identity_title", "public.identity_text",
	"public.sit_signin_problem", "public.sit_signin_problem_next",
	"public.sit_move_phone", "public.sit_new_phone_same_number", "public.sit_new_phone_same_number_nocall",
	"public.sit_lost_phone", "public.sit_lost_phone_nocall", "public.sit_suspicious_call",
	"public.steps_title", "public.steps_intro", "public.route_old_phone", "public.route_call", "public.route_either",
	"public.pairing_qr", "public.pairing_signin",
	"public.help_label", "public.never", "public.privacy", "public.too_many",
}
