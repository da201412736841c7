package dialogs

import "mfabot/dialogs/texts"

// Languages the bot speaks; the first is the default.
var Languages = texts.Languages

// The texts themselves live in package texts (dialogs/texts/nl.yaml and
// en.yaml), which handoff, bot, public and staff read too.

// hasText reports whether key (exactly) exists in lang.
func hasText(lang, key string) bool { return texts.Has(lang, key) }

// textKeys lists the keys of one language, sorted.
func textKeys(lang string) []string { return texts.Keys(lang) }

// tr returns the text for key in lang with {vars} filled in. A missing
// key (Validate makes that impossible for keys the flow uses) falls back
// to Dutch, then to the key itself.
func tr(lang, key string, vars map[string]string) string { return texts.T(lang, key, vars) }

// trVariant returns base+"."+variant when that key exists, else base.
func trVariant(lang, base, variant string, vars map[string]string) string {
	if variant != "" && hasText(lang, base+"."+variant) {
		return tr(lang, base+"."+variant, vars)
	}
	return tr(lang, base, vars)
}
