package handoff

import (
	"bytes"
	"encoding/json"
)

// Small builders for Adaptive Cards (schema 1.5, the most Teams renders).
// Maps marshal with sorted keys, so the output is stable for golden files.

type obj = map[string]any

func adaptiveCard(body []any, actions []any) json.RawMessage {
	c := obj{
		"type":    "AdaptiveCard",
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": "1.5",
		"body":    body,
	}
	if len(actions) > 0 {
		c["actions"] = actions
	}
	return marshal(c)
}

func marshal(v any) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep & in URLs readable; this is JSON, not HTML
	if err := enc.Encode(v); err != nil {
		// Only maps, slices, strings, bools and numbers are encoded here.
		panic("handoff: encode card: " + err.Error())
	}
	return json.RawMessage(bytes.TrimRight(buf.Bytes(), "\n"))
}

func textBlock(s string, opts ...func(obj)) obj {
	t := obj{"type": "TextBlock", "text": s, "wrap": true}
	for _, o := range opts {
		o(t)
	}
	return t
}

func bold(t obj)      { t["weight"] = "Bolder" }
func medium(t obj)    { t["size"] = "Medium" }
func attention(t obj) { t["color"] = "Attention" }
func good(t obj)      { t["color"] = "Good" }
func spaced(t obj)    { t["spacing"] = "Medium" }

func factSet(facts [][2]string) obj {
	fs := make([]any, 0, len(facts))
	for _, f := range facts {
		fs = append(fs, obj{"title": f[0], "value": f[1]})
	}
	return obj{"type": "FactSet", "facts": fs}
}

func container(style string, items ...any) obj {
	c := obj{"type": "Container", "items": items}
	if style != "" {
		c["style"] = style
	}
	return c
}

func openURL(title, url string) obj {
	return obj{"type": "Action.OpenUrl", "title": title, "url": url}
}
