// Package texts owns every word mfabot shows, in Dutch and English: the
// students' texts (the chat, the contact card, the help page, the
// messages of the bot's own failures) and the labels staff read
// (situations, steps, reasons, sign-in methods, outcomes, statuses). They
// live in the embedded nl.yaml and en.yaml beside this file, so that the
// service desk can review them without reading Go.
//
// The package imports no other project package: dialogs, handoff, bot,
// public and staff all take their words from here.
package texts

import (
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed *.yaml
var files embed.FS

// Languages spoken; the first is the default.
var Languages = []string{"nl", "en"}

// StaffLanguage is the language of everything staff read: the staff card
// in the Teams channel, the dashboard, the methods listed with an
// escalation.
const StaffLanguage = "nl"

// all holds every language's texts, flattened to dotted keys
// ("step02.do.call").
var all = mustLoad()

func mustLoad() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		raw, err := files.ReadFile(lang + ".yaml")
		if err != nil {
			panic(fmt.Sprintf("texts: %s: %v", lang, err))
		}
		var tree map[string]any
		if err := yaml.Unmarshal(raw, &tree); err != nil {
			panic(fmt.Sprintf("texts: %s: %v", lang, err))
		}
		flat := map[string]string{}
		flatten("", tree, flat)
		out[lang] = flat
	}
	return out
}

func flatten(prefix string, v any, into map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flatten(key, sub, into)
		}
	case string:
		into[prefix] = x
	default:
		into[prefix] = fmt.Sprint(x)
	}
}

// Lang maps "en", "en-GB", "EN" to en and everything else to nl.
func Lang(l string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(l)), "en") {
		return "en"
	}
	return "nl"
}

// Has reports whether key (exactly) exists in lang.
func Has(lang, key string) bool {
	_, ok := all[lang][key]
	return ok
}

// Keys lists the keys of one language, sorted.
func Keys(lang string) []string {
	keys := make([]string, 0, len(all[lang]))
	for k := range all[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// T returns the text for key in lang with {vars} filled in. A missing
// key falls back to Dutch, then to the key itself (the tests make sure
// every key the program uses exists in both languages).
func T(lang, key string, vars map[string]string) string {
	s, ok := all[lang][key]
	if !ok {
		s, ok = all[Languages[0]][key]
		if !ok {
			s = key
		}
	}
	if len(vars) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// ---- labels for staff ----

// Label is the text of "staff."+group+"."+code, or code itself when the
// language files do not name it (a code of an older version stays
// visible instead of disappearing); "" for an empty code. The groups
// with a function of their own are named by it; "language" names nl, en.
func Label(lang, group, code string) string {
	if code == "" {
		return ""
	}
	key := "staff." + group + "." + code
	if Has(lang, key) || Has(Languages[0], key) {
		return T(lang, key, nil)
	}
	return code
}

// HasLabel reports whether group ("situation", "reason", "step",
// "method", "outcome", "status") names code in lang; for a step it is
// whether Step gives a label rather than the id.
func HasLabel(lang, group, code string) bool {
	if group == "step" {
		if _, ok := guideNumber(code); ok && Has(lang, code+".title") {
			return true
		}
	}
	return Has(lang, "staff."+group+"."+code)
}

// Situation names a situation ("lost_phone") for staff.
func Situation(lang, code string) string { return Label(lang, "situation", code) }

// Reason names why an escalation happened ("two_failures") for staff.
func Reason(lang, code string) string { return Label(lang, "reason", code) }

// Outcome names a session's outcome ("verified_resolved") for staff.
func Outcome(lang, code string) string { return Label(lang, "outcome", code) }

// Status names an escalation's status ("claimed") for staff.
func Status(lang, code string) string { return Label(lang, "status", code) }

// Method names a kind of sign-in method ("authenticator", "phone",
// "authenticator_passkey") for staff.
func Method(lang, kind string) string { return Label(lang, "method", kind) }

// Step names a step of the flow for staff: "Stap 7: Voeg je
// schoolaccount toe" for the guide's steps (the title the student sees),
// the language file's staff.step.<id> for the others.
func Step(lang, id string) string {
	if id == "" {
		return ""
	}
	if Has(lang, "staff.step."+id) {
		return T(lang, "staff.step."+id, nil)
	}
	if n, ok := guideNumber(id); ok && Has(lang, id+".title") {
		return T(lang, "staff.step_numbered", map[string]string{"n": strconv.Itoa(n), "title": T(lang, id+".title", nil)})
	}
	return id
}

// guideNumber is 7 for "step07": one of the guide's twelve steps.
func guideNumber(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, "step")
	if !ok || len(rest) != 2 {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || n > 12 {
		return 0, false
	}
	return n, true
}
