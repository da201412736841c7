package dialogs

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"mfabot/dialogs/intent"
	"mfabot/redact"
)

// What goes with a grounded answer (Teams' conventions for AI answers):
// its sources as citations, and the feedback a student gives on it.

// Sources are the citations of a grounded answer: the current step, as
// Material gives it to the model (its title, what to do, and the public
// help page's section for it when http.public_help_url is set), and the
// service desk's contact details (with the help page's desk section).
func (r *Runner) Sources(s State, now time.Time) []Citation {
	t := &turn{set: r.engine.Settings.withDefaults(), s: s}
	var out []Citation
	if d := lookupStep(s.Step); d != nil && d.Kind != KindChoice && d.Kind != KindEnd && d.Kind != KindCheck {
		name := plainText(t.stepText(d, "title"))
		c := Citation{Abstract: abstract(t.stepText(d, "do"))}
		if d.Kind == KindGuide {
			name = plainText(t.tr("label.progress", map[string]string{"n": fmt.Sprint(d.Number)})) + ": " + name
			// The public page has the twelve steps, each under its id.
			c.URL = t.helpURL(d.ID)
		}
		c.Name = name
		out = append(out, c)
	}
	c := r.o.Escalator.Contact(now)
	var parts []string
	if c.Phone != "" {
		parts = append(parts, c.Phone)
	}
	for _, d := range c.Desks {
		parts = append(parts, strings.TrimSpace(d.Name+" "+d.Location)+": "+d.Hours)
	}
	out = append(out, Citation{Name: nonEmpty(c.Name, t.set.InstitutionName), Abstract: abstract(strings.Join(parts, " · ")), URL: t.helpURL("servicedesk")})
	return out
}

// helpURL is the public help page's address of one section (a step id
// or "servicedesk") in the student's language, or "" without
// http.public_help_url. The bot's own page (/hulp, /help) takes the
// language as ?lang=; another page gets only the section.
func (t *turn) helpURL(section string) string {
	if t.set.PublicHelpURL == "" {
		return ""
	}
	u, err := url.Parse(t.set.PublicHelpURL)
	if err != nil {
		return ""
	}
	if p := strings.TrimSuffix(u.Path, "/"); strings.HasSuffix(p, "/hulp") || strings.HasSuffix(p, "/help") {
		q := u.Query()
		q.Set("lang", t.lang())
		u.RawQuery = q.Encode()
	}
	u.Fragment = section
	return u.String()
}

var (
	mdLinkRE = regexp.MustCompile(`\[([^\]]+)\]\([^)]*\)`)
	spacesRE = regexp.MustCompile(`\s+`)
)

// plainText turns the texts' Markdown (bold, links) into plain text.
func plainText(s string) string {
	s = mdLinkRE.ReplaceAllString(s, "$1")
	s = strings.ReplaceAll(s, "**", "")
	return strings.TrimSpace(spacesRE.ReplaceAllString(s, " "))
}

// abstract is s as plain text, cut to MaxAbstract characters at a word.
func abstract(s string) string {
	return cutRunes(plainText(s), MaxAbstract)
}

// cutRunes cuts s to at most n characters, at a space when there is one
// in the last part, ending in "…" when cut.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndex(cut, " "); i > len(cut)*2/3 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}

// MaxFeedbackText is the longest feedback text stored (characters).
const MaxFeedbackText = 1000

// FeedbackText is a student's feedback on an answer as it may be stored:
// redacted like the transcript's student lines (a message that looks
// like a code or password is withheld whole; phone numbers, e-mail
// addresses and ids are replaced), without the given names (the
// student's), and cut to MaxFeedbackText characters.
func FeedbackText(text string, names ...string) string {
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	if text == "" {
		return ""
	}
	if kind, found := intent.DetectSecret(text, false); found {
		return "[withheld: " + kind + "]"
	}
	text = redact.Names(redact.Text(text), names...)
	return cutRunes(strings.TrimSpace(spacesRE.ReplaceAllString(text, " ")), MaxFeedbackText)
}
