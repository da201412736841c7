// Package manifest owns the Teams app package: the manifest (schema
// v1.29), the Dutch localization, the two icons (drawn here in Go), the
// zip builder and its validator. It imports no project package.
package manifest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Fixed names and values of the package.
const (
	ManifestVersion = "1.29"
	SchemaURL       = "https://developer.microsoft.com/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
	LocSchemaURL    = "https://developer.microsoft.com/json-schemas/teams/v1.29/MicrosoftTeams.Localization.schema.json"
	ManifestFile    = "manifest.json"
	ColorIconFile   = "color.png"
	OutlineIconFile = "outline.png"
	DutchFile       = "nl-nl.json"
	DefaultAccent   = "#1B5FA8"
	DefaultVersion  = "1.0.0"
)

// Description holds the store texts; empty fields take the built-in
// Dutch and English texts.
type Description struct {
	ShortEN, FullEN string
	ShortNL, FullNL string
}

// Built-in descriptions.
var defaultDescription = Description{
	ShortEN: "Step-by-step help to set up Microsoft Authenticator again.",
	FullEN: "This bot helps you set up Microsoft Authenticator again, one step at a time: on a new phone, " +
		"with the same number on another phone, after losing your phone, or when sign-in approvals stop " +
		"working. It checks that each step worked and brings you to the ICT service desk when you get stuck. " +
		"It never asks for your password, a code or the number shown at sign-in.",
	ShortNL: "Stap voor stap hulp bij het opnieuw instellen van Microsoft Authenticator.",
	FullNL: "Deze bot helpt je stap voor stap om Microsoft Authenticator opnieuw in te stellen: op een nieuwe " +
		"telefoon, met hetzelfde nummer op een andere telefoon, als je telefoon kwijt is, of als aanmeldverzoeken " +
		"niet meer werken. Hij controleert of elke stap gelukt is en brengt je in contact met de ICT-servicedesk " +
		"als je vastloopt. De bot vraagt nooit om je wachtwoord, een code of het getal dat je bij het aanmelden ziet.",
}

// Options fills the manifest; the lead maps bot.app_id and the
// manifest.* configuration keys into it.
type Options struct {
	BotAppID     string // bot.app_id: the bot's Entra app id (bots[0].botId)
	AppID        string // manifest.app_id: the Teams app's own id (a GUID)
	Name         string // manifest.name: short name, at most 30 characters
	FullName     string // optional; defaults to Name
	Developer    string // manifest.developer: at most 32 characters
	WebsiteURL   string // manifest.website_url (https)
	PrivacyURL   string // manifest.privacy_url (https)
	TermsURL     string // manifest.terms_url (https)
	Version      string // manifest.version: x.y.z; defaults to 1.0.0
	ValidDomains []string
	AccentColor  string // #RRGGBB; defaults to DefaultAccent
	Description  Description
}

// command is one entry of the bot's command list.
type command struct{ titleEN, descEN, titleNL, descNL string }

// commands are the global commands the dialogs understand at any step.
var commands = []command{
	{"help", "What this bot can do for you", "help", "Wat deze bot voor je kan doen"},
	{"start over", "Start again from the beginning", "opnieuw", "Begin opnieuw vanaf het begin"},
	{"talk to a person", "Get help from the ICT service desk", "medewerker", "Hulp van de ICT-servicedesk"},
}

// Build renders the manifest, the Dutch localization and the icons,
// validates the result (schemas, icons, layout, bot id, version) and
// returns the zip. On any problem it returns a *ValidationError naming
// the file and field, and no package.
func Build(o Options) ([]byte, error) {
	o = withDefaults(o)
	m, err := manifestJSON(o)
	if err != nil {
		return nil, err
	}
	nl, err := dutchJSON(o)
	if err != nil {
		return nil, err
	}
	accent := o.AccentColor
	if !hexRE.MatchString(accent) {
		accent = DefaultAccent // the validator reports accentColor
	}
	color, outline, err := Icons(accent)
	if err != nil {
		return nil, err
	}
	zipped, err := zipFiles([]file{
		{ManifestFile, m}, {ColorIconFile, color}, {OutlineIconFile, outline}, {DutchFile, nl},
	})
	if err != nil {
		return nil, err
	}
	if err := ValidateFor(zipped, o.BotAppID); err != nil {
		return nil, err
	}
	return zipped, nil
}

// ManifestJSON returns the manifest.json that Build would put in the
// package (for review and golden tests), without validating it.
func ManifestJSON(o Options) ([]byte, error) { return manifestJSON(withDefaults(o)) }

// DutchJSON returns the nl-nl.json that Build would put in the package.
func DutchJSON(o Options) ([]byte, error) { return dutchJSON(withDefaults(o)) }

func withDefaults(o Options) Options {
	if o.FullName == "" {
		o.FullName = o.Name
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.AccentColor == "" {
		o.AccentColor = DefaultAccent
	}
	d := &o.Description
	if d.ShortEN == "" {
		d.ShortEN = defaultDescription.ShortEN
	}
	if d.FullEN == "" {
		d.FullEN = defaultDescription.FullEN
	}
	if d.ShortNL == "" {
		d.ShortNL = defaultDescription.ShortNL
	}
	if d.FullNL == "" {
		d.FullNL = defaultDescription.FullNL
	}
	return o
}

// orderedMap keeps the manifest's keys in a readable, stable order.
type kv struct {
	k string
	v any
}
type ordered []kv

func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func manifestJSON(o Options) ([]byte, error) {
	var cmds []ordered
	for _, c := range commands {
		cmds = append(cmds, ordered{{"title", c.titleEN}, {"description", c.descEN}})
	}
	m := ordered{
		{"$schema", SchemaURL},
		{"manifestVersion", ManifestVersion},
		{"version", o.Version},
		{"id", o.AppID},
		{"localizationInfo", ordered{
			{"defaultLanguageTag", "en-us"},
			{"additionalLanguages", []ordered{{{"languageTag", "nl-nl"}, {"file", DutchFile}}}},
		}},
		{"developer", ordered{
			{"name", o.Developer},
			{"websiteUrl", o.WebsiteURL},
			{"privacyUrl", o.PrivacyURL},
			{"termsOfUseUrl", o.TermsURL},
		}},
		{"name", ordered{{"short", o.Name}, {"full", o.FullName}}},
		{"description", ordered{{"short", o.Description.ShortEN}, {"full", o.Description.FullEN}}},
		{"icons", ordered{{"color", ColorIconFile}, {"outline", OutlineIconFile}}},
		{"accentColor", o.AccentColor},
		{"bots", []ordered{{
			{"botId", o.BotAppID},
			{"scopes", []string{"personal", "team"}},
			{"isNotificationOnly", false},
			{"supportsFiles", false},
			{"supportsCalling", false},
			{"supportsVideo", false},
			{"commandLists", []ordered{{
				{"scopes", []string{"personal"}},
				{"commands", cmds},
			}}},
		}}},
		{"permissions", []string{"identity", "messageTeamMembers"}},
		{"defaultInstallScope", "personal"},
	}
	if len(o.ValidDomains) > 0 {
		m = append(m, kv{"validDomains", o.ValidDomains})
	}
	return marshalIndent(m)
}

func dutchJSON(o Options) ([]byte, error) {
	nl := ordered{
		{"$schema", LocSchemaURL},
		{"name.short", o.Name},
		{"name.full", o.FullName},
		{"description.short", o.Description.ShortNL},
		{"description.full", o.Description.FullNL},
	}
	for i, c := range commands {
		nl = append(nl,
			kv{fmt.Sprintf("bots[0].commandLists[0].commands[%d].title", i), c.titleNL},
			kv{fmt.Sprintf("bots[0].commandLists[0].commands[%d].description", i), c.descNL})
	}
	return marshalIndent(nl)
}

func marshalIndent(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

type file struct {
	name string
	data []byte
}

// zipFiles writes the files at the zip's root with a fixed time, so the
// same options give the same bytes.
func zipFiles(files []file) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{
			Name:     f.name,
			Method:   zip.Deflate,
			Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Problem is one failed check: the file in the package, the field (a
// dotted path such as "name.short" or "bots[0].botId") and why.
type Problem struct {
	File   string
	Field  string
	Reason string
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.File + ": " + p.Reason
	}
	return p.File + " " + p.Field + ": " + p.Reason
}

// ValidationError lists every problem found in a package.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = "  " + p.String()
	}
	return "teams app package invalid:\n" + strings.Join(lines, "\n")
}
