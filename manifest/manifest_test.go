package manifest

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func goodOptions() Options {
	return Options{
		BotAppID:     "3f2b8a61-9c4d-4e7f-a1b2-c3d4e5f60718",
		AppID:        "a7c1e9d2-5b3f-4a68-9e0d-1f2a3b4c5d6e",
		Name:         "MFA-hulp",
		Developer:    "ICT Servicedesk",
		WebsiteURL:   "https://www.example.nl/ict",
		PrivacyURL:   "https://www.example.nl/privacy",
		TermsURL:     "https://www.example.nl/voorwaarden",
		Version:      "1.2.0",
		ValidDomains: []string{"mfabot.example.nl"},
	}
}

func unzip(t *testing.T, pkg []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func rezip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var fs []file
	for _, n := range []string{ManifestFile, ColorIconFile, OutlineIconFile, DutchFile} {
		if d, ok := files[n]; ok {
			fs = append(fs, file{n, d})
		}
	}
	for n, d := range files {
		switch n {
		case ManifestFile, ColorIconFile, OutlineIconFile, DutchFile:
		default:
			fs = append(fs, file{n, d})
		}
	}
	z, err := zipFiles(fs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./manifest/ -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n%s", name, got)
	}
}

func TestBuildValidPackage(t *testing.T) {
	pkg, err := Build(goodOptions())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	files := unzip(t, pkg)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	if len(files) != 4 || files[ManifestFile] == nil || files[ColorIconFile] == nil || files[OutlineIconFile] == nil || files[DutchFile] == nil {
		t.Fatalf("package holds %v", names)
	}
	golden(t, "manifest.json", files[ManifestFile])
	golden(t, "nl-nl.json", files[DutchFile])
	if err := ValidateFor(pkg, goodOptions().BotAppID); err != nil {
		t.Errorf("ValidateFor: %v", err)
	}
	again, _ := Build(goodOptions())
	if !bytes.Equal(pkg, again) {
		t.Error("Build is not deterministic")
	}
	for _, want := range []string{`"personal"`, `"team"`, `"start over"`, `"talk to a person"`, `"nl-nl.json"`} {
		if !bytes.Contains(files[ManifestFile], []byte(want)) {
			t.Errorf("manifest lacks %s", want)
		}
	}
	for _, want := range []string{`"opnieuw"`, `"medewerker"`, "Authenticator"} {
		if !bytes.Contains(files[DutchFile], []byte(want)) {
			t.Errorf("nl-nl.json lacks %s", want)
		}
	}
}

func TestIcons(t *testing.T) {
	col, out, err := Icons(DefaultAccent)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, data []byte, size int) image.Image {
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("%s is %v", name, b)
		}
		return img
	}
	ci := check("color", col, 192)
	oi := check("outline", out, 32)
	nrgba := func(img image.Image, x, y int) color.NRGBA {
		return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	}
	if c := nrgba(ci, 2, 2); c.A != 255 || c.R == 255 {
		t.Errorf("colour icon corner = %v, want opaque accent", c)
	}
	if c := nrgba(ci, 96, 60); c != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("colour icon shield = %v, want white", c)
	}
	transparent, white := 0, 0
	for y := range 32 {
		for x := range 32 {
			c := nrgba(oi, x, y)
			switch {
			case c.A == 0:
				transparent++
			case c.R == 255 && c.G == 255 && c.B == 255:
				white++
			default:
				t.Fatalf("outline pixel %d,%d = %v", x, y, c)
			}
		}
	}
	if transparent < 300 || white < 100 {
		t.Errorf("outline: %d transparent, %d white pixels", transparent, white)
	}
}

// problemsOf returns the problems of a failed Build or Validate.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	return ve.Problems
}

func hasProblem(ps []Problem, file, field, reason string) bool {
	for _, p := range ps {
		if p.File == file && p.Field == field && strings.Contains(p.Reason, reason) {
			return true
		}
	}
	return false
}

func TestBuildRejects(t *testing.T) {
	tests := []struct {
		name                 string
		mod                  func(*Options)
		file, field, because string
	}{
		{"too-long short name", func(o *Options) { o.Name = "MFA-hulp voor studenten van de hogeschool" }, "manifest.json", "name.short", "maxLength"},
		{"too-long short name in nl-nl.json too", func(o *Options) { o.Name = "MFA-hulp voor studenten van de hogeschool" }, "nl-nl.json", "name.short", "maxLength"},
		{"bad accent colour", func(o *Options) { o.AccentColor = "blue" }, "manifest.json", "accentColor", "does not match pattern"},
		{"short hex accent colour", func(o *Options) { o.AccentColor = "#fff" }, "manifest.json", "accentColor", "does not match pattern"},
		{"non-GUID bot id", func(o *Options) { o.BotAppID = "mfabot" }, "manifest.json", "bots[0].botId", "does not match pattern"},
		{"placeholder app id", func(o *Options) { o.AppID = nilGUID }, "manifest.json", "id", "placeholder"},
		{"version not semver", func(o *Options) { o.Version = "1.0" }, "manifest.json", "version", "semver"},
		{"http privacy URL", func(o *Options) { o.PrivacyURL = "http://www.example.nl/privacy" }, "manifest.json", "developer.privacyUrl", "https"},
		{"placeholder website", func(o *Options) { o.WebsiteURL = "https://example.invalid/" }, "manifest.json", "developer.websiteUrl", "placeholder"},
		{"domain with scheme", func(o *Options) { o.ValidDomains = []string{"https://mfabot.example.nl/"} }, "manifest.json", "validDomains[0]", "domain"},
		{"empty name", func(o *Options) { o.Name = "" }, "manifest.json", "name.short", "empty"},
		{"empty developer", func(o *Options) { o.Developer = " " }, "manifest.json", "developer.name", "empty"},
		{"too-long developer", func(o *Options) { o.Developer = strings.Repeat("x", 33) }, "manifest.json", "developer.name", "maxLength"},
		{"too-long Dutch short description", func(o *Options) { o.Description.ShortNL = strings.Repeat("lang ", 20) }, "nl-nl.json", "description.short", "maxLength"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := goodOptions()
			tt.mod(&o)
			pkg, err := Build(o)
			if pkg != nil {
				t.Error("Build returned a package with its error")
			}
			ps := problemsOf(t, err)
			if !hasProblem(ps, tt.file, tt.field, tt.because) {
				t.Errorf("want %s %s: %s; got\n%v", tt.file, tt.field, tt.because, err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message does not name %s: %v", tt.field, err)
			}
		})
	}
}

func TestValidateRejectsTamperedPackages(t *testing.T) {
	good, err := Build(goodOptions())
	if err != nil {
		t.Fatal(err)
	}
	small := func(size int) []byte {
		img := image.NewNRGBA(image.Rect(0, 0, size, size))
		for i := range img.Pix {
			img.Pix[i] = 255
		}
		b, _ := encode(img)
		return b
	}
	opaque32 := func() []byte {
		img := image.NewNRGBA(image.Rect(0, 0, 32, 32))
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 0, 0, 0, 255
		}
		b, _ := encode(img)
		return b
	}
	replace := func(name, old, new string) func(map[string][]byte) {
		return func(f map[string][]byte) {
			f[name] = bytes.Replace(f[name], []byte(old), []byte(new), 1)
		}
	}
	tests := []struct {
		name                 string
		mod                  func(map[string][]byte)
		file, field, because string
	}{
		{"wrong manifest version", replace(ManifestFile, `"manifestVersion": "1.29"`, `"manifestVersion": "1.17"`), "manifest.json", "manifestVersion", "1.29"},
		{"100x100 colour icon", func(f map[string][]byte) { f[ColorIconFile] = small(100) }, "color.png", "", "100x100 pixels, want 192x192"},
		{"100x100 outline icon", func(f map[string][]byte) { f[OutlineIconFile] = small(100) }, "outline.png", "", "100x100 pixels, want 32x32"},
		{"outline not white on transparent", func(f map[string][]byte) { f[OutlineIconFile] = opaque32() }, "outline.png", "", "transparent"},
		{"icon not a PNG", func(f map[string][]byte) { f[ColorIconFile] = []byte("GIF89a") }, "color.png", "", "not a PNG"},
		{"missing icon", func(f map[string][]byte) { delete(f, OutlineIconFile) }, "package", "", `"outline.png"`},
		{"missing localization", func(f map[string][]byte) { delete(f, DutchFile) }, "package", "", `"nl-nl.json"`},
		{"extra file", func(f map[string][]byte) { f["notes.txt"] = []byte("x") }, "package", "", `"notes.txt"`},
		{"file in a folder", func(f map[string][]byte) { f["icons/color.png"] = f[ColorIconFile] }, "package", "", "root"},
		{"unknown manifest field", replace(ManifestFile, `"accentColor"`, `"accentColour": "#000000", "accentColor"`), "manifest.json", "(root)", "accentColour"},
		{"nl-nl name empty", replace(DutchFile, `"name.short": "MFA-hulp"`, `"name.short": " "`), "nl-nl.json", "name.short", "pattern"},
		{"not JSON", func(f map[string][]byte) { f[ManifestFile] = []byte("{") }, "manifest.json", "", "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := unzip(t, good)
			tt.mod(files)
			ps := problemsOf(t, Validate(rezip(t, files)))
			if !hasProblem(ps, tt.file, tt.field, tt.because) {
				t.Errorf("want %s %q: %s; got %v", tt.file, tt.field, tt.because, ps)
			}
		})
	}
	if ps := problemsOf(t, ValidateFor(good, "11111111-2222-4333-8444-555555555555")); !hasProblem(ps, "manifest.json", "bots[0].botId", "bot.app_id") {
		t.Errorf("botId mismatch not reported: %v", ps)
	}
	if ps := problemsOf(t, Validate([]byte("not a zip"))); !hasProblem(ps, "package", "", "zip") {
		t.Errorf("non-zip: %v", ps)
	}
}

// TestSchemaPitfallsHandled checks the schema itself (not our own checks)
// rejects a wrong manifestVersion (const, ignored under draft-04) and an
// over-long localized name (maxLength beside $ref, ignored under draft-04),
// and that the (?! lookahead patterns compile.
func TestSchemaPitfallsHandled(t *testing.T) {
	sch, err := schemas()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ManifestJSON(goodOptions())
	v := &validator{}
	v.schema(ManifestFile, bytes.Replace(m, []byte(`"1.29"`), []byte(`"1.17"`), 1), sch["manifest"])
	if !hasProblem(v.problems, ManifestFile, "manifestVersion", "must be '1.29'") {
		t.Errorf("schema accepted manifestVersion 1.17: %v", v.problems)
	}
	o := goodOptions()
	o.Name = strings.Repeat("n", 31)
	nl, _ := DutchJSON(o)
	v = &validator{}
	v.schema(DutchFile, nl, sch["localization"])
	if !hasProblem(v.problems, DutchFile, "name.short", "maxLength") {
		t.Errorf("schema accepted a 31-character localized name: %v", v.problems)
	}
	v = &validator{}
	v.schema(DutchFile, bytes.Replace(nl, []byte(`"name.short": "`+o.Name+`"`), []byte(`"name.short": "null"`), 1), sch["localization"])
	if !hasProblem(v.problems, DutchFile, "name.short", "pattern") {
		t.Errorf("lookahead pattern did not reject \"null\": %v", v.problems)
	}
}

// FuzzValidate: no input makes the validator panic.
func FuzzValidate(f *testing.F) {
	good, err := Build(goodOptions())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, pkg []byte) {
		_ = Validate(pkg)
	})
}
