package dialogs

import (
	"encoding/json"
	"strings"
)

// Card is an Adaptive Card (schema 1.5) before it is rendered to JSON.
type Card struct {
	Progress string   // "Stap 3 van 12", empty for cards outside the 12 steps
	Title    string   // bold heading
	Body     []string // paragraphs
	Where    string   // "Waar: ..." line (label included)
	See      string   // "Je ziet: ..." line (label included)
	Note     string   // a small subtle line at the end
	Buttons  []Button
}

// Button is an Action.Submit; its data always carries the step id and,
// once shown, the view number of its card, so that a click on an old
// card can be recognised.
type Button struct {
	Title  string
	Step   string
	Action Action
	Score  int // satisfaction buttons only
	View   int // State.ViewSeq when the card was shown; 0 = not stamped
}

// ButtonData is the Action.Submit data of every button of mfabot's cards.
type ButtonData struct {
	Step   string `json:"step"`
	Action string `json:"action"`
	Score  int    `json:"score,omitempty"`
	View   int    `json:"v,omitempty"`
}

type textBlock struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Wrap     bool   `json:"wrap"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Spacing  string `json:"spacing,omitempty"`
}

type submitAction struct {
	Type  string     `json:"type"`
	Title string     `json:"title"`
	Data  ButtonData `json:"data"`
	Style string     `json:"style,omitempty"`
}

type adaptiveCard struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	Body    []textBlock    `json:"body"`
	Actions []submitAction `json:"actions,omitempty"`
	MSTeams map[string]any `json:"msteams,omitempty"`
}

// JSON renders the card as Adaptive Card 1.5 JSON (indented, so golden
// files diff well).
func (c Card) JSON() json.RawMessage {
	ac := adaptiveCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.5",
		MSTeams: map[string]any{"width": "Full"},
	}
	if c.Progress != "" {
		ac.Body = append(ac.Body, textBlock{Type: "TextBlock", Text: c.Progress, Wrap: true, Size: "Small", IsSubtle: true})
	}
	if c.Title != "" {
		ac.Body = append(ac.Body, textBlock{Type: "TextBlock", Text: c.Title, Wrap: true, Size: "Medium", Weight: "Bolder"})
	}
	for _, p := range c.Body {
		ac.Body = append(ac.Body, textBlock{Type: "TextBlock", Text: p, Wrap: true})
	}
	if c.Where != "" {
		ac.Body = append(ac.Body, textBlock{Type: "TextBlock", Text: c.Where, Wrap: true, Spacing: "Medium"})
	}
	if c.See != "" {
		ac.Body = append(ac.Body, textBlock{Type: "TextBlock", Text: c.See, Wrap: true, Spacing: "Small"})
	}
	if c.Note != "" {
		ac.Body = append(ac.Body, textBlock{Type: "TextBlock", Text: c.Note, Wrap: true, Size: "Small", IsSubtle: true, Spacing: "Medium"})
	}
	for i, b := range c.Buttons {
		a := submitAction{Type: "Action.Submit", Title: b.Title, Data: ButtonData{Step: b.Step, Action: string(b.Action), Score: b.Score, View: b.View}}
		if i == 0 && (b.Action == ActDone || b.Action == ActYes || b.Action == ActSolved) {
			a.Style = "positive"
		}
		ac.Actions = append(ac.Actions, a)
	}
	raw, err := json.MarshalIndent(ac, "", "  ")
	if err != nil {
		// Only plain strings and ints go in: marshalling cannot fail.
		panic(err)
	}
	return raw
}

// PlainText renders the card as readable text (for the transcript and
// logs): progress, title, paragraphs; buttons in brackets.
func (c Card) PlainText() string {
	var parts []string
	for _, s := range []string{c.Progress, c.Title} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	parts = append(parts, c.Body...)
	for _, s := range []string{c.Where, c.See, c.Note} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(c.Buttons) > 0 {
		titles := make([]string, len(c.Buttons))
		for i, b := range c.Buttons {
			titles[i] = "[" + b.Title + "]"
		}
		parts = append(parts, strings.Join(titles, " "))
	}
	return strings.Join(parts, "\n")
}
