package manifest

import (
	"archive/zip"
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schema/MicrosoftTeams.schema.json schema/MicrosoftTeams.Localization.schema.json
var schemaFS embed.FS

// schemas compiles the two embedded v1.29 schemas once. Two pitfalls of
// these schemas with Go validators: their patterns use (?! lookaheads,
// which Go's regexp rejects (regexp2 is plugged in), and they declare
// draft-04 while using const (the root $schema is dropped and they are
// compiled as Draft 2020, so const and $ref siblings are enforced).
var schemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseRegexpEngine(regexp2Compile)
	out := map[string]*jsonschema.Schema{}
	for name, path := range map[string]string{
		"manifest":     "schema/MicrosoftTeams.schema.json",
		"localization": "schema/MicrosoftTeams.Localization.schema.json",
	} {
		raw, err := schemaFS.ReadFile(path)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("manifest: schema %s: %w", path, err)
		}
		if m, ok := doc.(map[string]any); ok {
			delete(m, "$schema")
		}
		loc := "mfabot:///" + path
		if err := c.AddResource(loc, doc); err != nil {
			return nil, fmt.Errorf("manifest: schema %s: %w", path, err)
		}
		s, err := c.Compile(loc)
		if err != nil {
			return nil, fmt.Errorf("manifest: compile %s: %w", path, err)
		}
		out[name] = s
	}
	return out, nil
})

type regexp2Re regexp2.Regexp

func (re *regexp2Re) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

func (re *regexp2Re) String() string { return (*regexp2.Regexp)(re).String() }

func regexp2Compile(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return (*regexp2Re)(re), nil
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)
	semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	hexRE    = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	domainRE = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}(:[0-9]{1,5})?$`)
)

const nilGUID = "00000000-0000-0000-0000-000000000000"

// Validate checks a Teams app package: zip layout (exactly the manifest,
// the icons and the localization files it names, at the root), the
// manifest and localization files against the v1.29 JSON schemas, the
// icons' sizes and transparency, a GUID app id and bot id that are not
// placeholders, a semver version and https developer URLs. The error is a
// *ValidationError naming each file and field.
func Validate(pkg []byte) error { return ValidateFor(pkg, "") }

// ValidateFor is Validate plus: the manifest's bots[0].botId must equal
// botAppID (bot.app_id), when botAppID is not empty.
func ValidateFor(pkg []byte, botAppID string) error {
	v := &validator{}
	v.run(pkg, botAppID)
	if len(v.problems) > 0 {
		return &ValidationError{Problems: v.problems}
	}
	return nil
}

type validator struct{ problems []Problem }

// addOnce adds a problem unless the field already has one (the schema's
// message and ours would say the same thing twice).
func (v *validator) addOnce(file, field, format string, args ...any) {
	for _, p := range v.problems {
		if p.File == file && p.Field == field {
			return
		}
	}
	v.add(file, field, format, args...)
}

func (v *validator) add(file, field, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: file, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) run(pkg []byte, botAppID string) {
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		v.add("package", "", "not a zip file: %v", err)
		return
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		if strings.Contains(f.Name, "/") || strings.Contains(f.Name, `\`) || f.FileInfo().IsDir() {
			v.add("package", "", "%q is not at the zip's root", f.Name)
			continue
		}
		if _, dup := files[f.Name]; dup {
			v.add("package", "", "%q appears twice", f.Name)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			v.add(f.Name, "", "cannot read: %v", err)
			continue
		}
		data, err := io.ReadAll(io.LimitReader(rc, 4<<20))
		rc.Close()
		if err != nil {
			v.add(f.Name, "", "cannot read: %v", err)
			continue
		}
		files[f.Name] = data
	}
	raw, ok := files[ManifestFile]
	if !ok {
		v.add("package", "", "manifest.json missing at the zip's root")
		return
	}
	sch, err := schemas()
	if err != nil {
		v.add("package", "", "schemas: %v", err)
		return
	}
	v.schema(ManifestFile, raw, sch["manifest"])
	var m struct {
		ManifestVersion  string `json:"manifestVersion"`
		Version          string `json:"version"`
		ID               string `json:"id"`
		LocalizationInfo struct {
			DefaultLanguageFile string `json:"defaultLanguageFile"`
			Additional          []struct {
				LanguageTag string `json:"languageTag"`
				File        string `json:"file"`
			} `json:"additionalLanguages"`
		} `json:"localizationInfo"`
		Developer struct {
			Name          string `json:"name"`
			WebsiteURL    string `json:"websiteUrl"`
			PrivacyURL    string `json:"privacyUrl"`
			TermsOfUseURL string `json:"termsOfUseUrl"`
		} `json:"developer"`
		Icons struct {
			Color   string `json:"color"`
			Outline string `json:"outline"`
		} `json:"icons"`
		Name struct {
			Short string `json:"short"`
		} `json:"name"`
		AccentColor  string   `json:"accentColor"`
		ValidDomains []string `json:"validDomains"`
		Bots         []struct {
			BotID  string   `json:"botId"`
			Scopes []string `json:"scopes"`
		} `json:"bots"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		v.add(ManifestFile, "", "not valid JSON of the manifest's shape: %v", err)
		return
	}

	// Checks the schema makes (repeated so the message is plain) and
	// those it does not make.
	if m.ManifestVersion != ManifestVersion {
		v.addOnce(ManifestFile, "manifestVersion", "is %q, want %q", m.ManifestVersion, ManifestVersion)
	}
	if !semverRE.MatchString(m.Version) {
		v.add(ManifestFile, "version", "%q is not a semver version x.y.z (manifest.version)", m.Version)
	}
	v.guid("id", m.ID, "manifest.app_id")
	if strings.TrimSpace(m.Name.Short) == "" {
		v.addOnce(ManifestFile, "name.short", "is empty (manifest.name)")
	}
	if strings.TrimSpace(m.Developer.Name) == "" {
		v.addOnce(ManifestFile, "developer.name", "is empty (manifest.developer)")
	}
	if !hexRE.MatchString(m.AccentColor) {
		v.addOnce(ManifestFile, "accentColor", "%q is not a #RRGGBB colour", m.AccentColor)
	}
	for _, u := range []struct{ field, val, key string }{
		{"developer.websiteUrl", m.Developer.WebsiteURL, "manifest.website_url"},
		{"developer.privacyUrl", m.Developer.PrivacyURL, "manifest.privacy_url"},
		{"developer.termsOfUseUrl", m.Developer.TermsOfUseURL, "manifest.terms_url"},
	} {
		pu, err := url.Parse(u.val)
		switch {
		case err != nil || pu.Scheme != "https" || pu.Host == "":
			v.add(ManifestFile, u.field, "%q is not an https URL (%s)", u.val, u.key)
		case strings.HasSuffix(pu.Hostname(), ".invalid"):
			v.add(ManifestFile, u.field, "%q is a placeholder; set %s", u.val, u.key)
		}
	}
	for i, d := range m.ValidDomains {
		if !domainRE.MatchString(d) {
			v.add(ManifestFile, fmt.Sprintf("validDomains[%d]", i), "%q is not a domain name (no scheme or path)", d)
		}
	}
	if len(m.Bots) != 1 {
		v.add(ManifestFile, "bots", "want exactly one bot, got %d", len(m.Bots))
	} else {
		b := m.Bots[0]
		v.guid("bots[0].botId", b.BotID, "bot.app_id")
		if botAppID != "" && !strings.EqualFold(b.BotID, botAppID) {
			v.add(ManifestFile, "bots[0].botId", "%q is not bot.app_id %q", b.BotID, botAppID)
		}
		if !slices.Contains(b.Scopes, "personal") {
			v.add(ManifestFile, "bots[0].scopes", "%v lacks personal (students chat with the bot one-to-one)", b.Scopes)
		}
	}

	// Layout: exactly the manifest, its icons and its localization files.
	want := map[string]bool{ManifestFile: true}
	v.icon(files, "icons.color", m.Icons.Color, 192, false)
	v.icon(files, "icons.outline", m.Icons.Outline, 32, true)
	want[m.Icons.Color], want[m.Icons.Outline] = true, true
	locFiles := []string{}
	if f := m.LocalizationInfo.DefaultLanguageFile; f != "" {
		locFiles = append(locFiles, f)
	}
	for _, l := range m.LocalizationInfo.Additional {
		locFiles = append(locFiles, l.File)
	}
	for i, f := range locFiles {
		want[f] = true
		data, ok := files[f]
		if !ok {
			v.add("package", "", "localization file %q named in manifest.json (localizationInfo, entry %d) is missing", f, i)
			continue
		}
		v.schema(f, data, sch["localization"])
	}
	var extra []string
	for name := range files {
		if !want[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		v.add("package", "", "unexpected file %q (the package holds only manifest.json, the icons and the localization files)", name)
	}
}

func (v *validator) guid(field, val, key string) {
	switch {
	case !guidRE.MatchString(val):
		v.addOnce(ManifestFile, field, "%q is not a GUID (%s)", val, key)
	case val == nilGUID:
		v.add(ManifestFile, field, "%q is a placeholder; set %s", val, key)
	}
}

// icon checks one icon: present, a PNG of size x size; the outline icon
// must be white on a transparent background.
func (v *validator) icon(files map[string][]byte, field, name string, size int, outline bool) {
	if name == "" {
		return // the schema reports the missing field
	}
	data, ok := files[name]
	if !ok {
		v.add("package", "", "icon %q named in manifest.json %s is missing", name, field)
		return
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		v.add(name, "", "%s is not a PNG image: %v", field, err)
		return
	}
	b := img.Bounds()
	if b.Dx() != size || b.Dy() != size {
		v.add(name, "", "%s is %dx%d pixels, want %dx%d", field, b.Dx(), b.Dy(), size, size)
		return
	}
	transparent, visible, nonWhite := 0, 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			switch {
			case c.A == 0:
				transparent++
			default:
				visible++
				if c.R != 255 || c.G != 255 || c.B != 255 {
					nonWhite++
				}
			}
		}
	}
	if visible == 0 {
		v.add(name, "", "%s is fully transparent", field)
	}
	if outline {
		if transparent == 0 {
			v.add(name, "", "%s has no transparent background (want white on transparent)", field)
		}
		if nonWhite > 0 {
			v.add(name, "", "%s has %d pixels that are not white (want white on transparent)", field, nonWhite)
		}
	}
}

// schema validates data against s and adds one problem per failed leaf,
// naming the field.
func (v *validator) schema(file string, data []byte, s *jsonschema.Schema) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		v.add(file, "", "not valid JSON: %v", err)
		return
	}
	err = s.Validate(inst)
	if err == nil {
		return
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		v.add(file, "", "schema validation: %v", err)
		return
	}
	p := message.NewPrinter(language.English)
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			field, reason := fieldPath(e.InstanceLocation), e.ErrorKind.LocalizedString(p)
			if !seen[field+reason] {
				seen[field+reason] = true
				v.add(file, field, "%s (schema v%s)", reason, ManifestVersion)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
}

// fieldPath renders an instance location as "bots[0].botId"; the root is
// "(root)".
func fieldPath(loc []string) string {
	if len(loc) == 0 {
		return "(root)"
	}
	var b strings.Builder
	for _, part := range loc {
		if _, err := strconv.Atoi(part); err == nil {
			b.WriteString("[" + part + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}
