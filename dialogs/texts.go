package dialogs

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed texts/*.yaml
var textFS embed.FS

// Languages the bot speaks; the first is the default.
var Languages = []string{"nl", "en"}

// texts holds every language's texts, flattened to dotted keys
// ("step02.do.call").
var texts = mustLoadTexts()

func mustLoadTexts() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		raw, err := textFS.ReadFile("texts/" + lang + ".yaml")
		if err != nil {
			panic(fmt.Sprintf("dialogs: texts for %s: %v", lang, err))
		}
		var tree map[string]any
		if err := yaml.Unmarshal(raw, &tree); err != nil {
			panic(fmt.Sprintf("dialogs: texts for %s: %v", lang, err))
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

// hasText reports whether key (exactly) exists in lang.
func hasText(lang, key string) bool {
	_, ok := texts[lang][key]
	return ok
}

// textKeys lists the keys of one language, sorted.
func textKeys(lang string) []string {
	keys := make([]string, 0, len(texts[lang]))
	for k := range texts[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// tr returns the text for key in lang with {vars} filled in. A missing
// key (Validate makes that impossible for keys the flow uses) falls back
// to Dutch, then to the key itself.
func tr(lang, key string, vars map[string]string) string {
	s, ok := texts[lang][key]
	if !ok {
		s, ok = texts["nl"][key]
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

// trVariant returns base+"."+variant when that key exists, else base.
func trVariant(lang, base, variant string, vars map[string]string) string {
	if variant != "" && hasText(lang, base+"."+variant) {
		return tr(lang, base+"."+variant, vars)
	}
	return tr(lang, base, vars)
}
