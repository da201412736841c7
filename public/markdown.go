package public

import (
	"html"
	"html/template"
	"regexp"
	"strings"
)

// The chat's texts use two bits of markdown: **bold** and [text](url).
var (
	mdLink = regexp.MustCompile(`\[([^\]]+)\]\((https?://[^)\s"<>]+)\)`)
	mdBold = regexp.MustCompile(`\*\*(.+?)\*\*`)
)

// markdownHTML renders the chat's markdown as HTML. The text is escaped
// first, so nothing in it (nor in a configured URL) becomes markup; only
// http(s) links are made.
func markdownHTML(s string) template.HTML {
	esc := html.EscapeString(s)
	esc = mdLink.ReplaceAllString(esc, `<a href="$2">$1</a>`)
	esc = mdBold.ReplaceAllString(esc, `<strong>$1</strong>`)
	return template.HTML(esc)
}

// plainText is what a reader sees of the chat's markdown: the bold
// marks and link targets removed.
func plainText(s string) string {
	s = mdLink.ReplaceAllString(s, "$1")
	return strings.ReplaceAll(s, "**", "")
}
