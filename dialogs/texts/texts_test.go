package texts

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestBothLanguagesHaveTheSameKeys(t *testing.T) {
	nl, en := Keys("nl"), Keys("en")
	if strings.Join(nl, "\n") != strings.Join(en, "\n") {
		t.Fatalf("nl has %d keys, en %d: they differ", len(nl), len(en))
	}
	for _, k := range nl {
		if strings.TrimSpace(T("nl", k, nil)) == "" || strings.TrimSpace(T("en", k, nil)) == "" {
			t.Errorf("%s is empty", k)
		}
	}
}

func TestT(t *testing.T) {
	if got := T("en", "contact.desk_opens", map[string]string{"desk": "Zwolle", "when": "tomorrow at 8:00"}); got != "The Zwolle desk opens tomorrow at 8:00." {
		t.Errorf("T = %q", got)
	}
	if got := T("fr", "bot.ack", nil); got != "Ontvangen." {
		t.Errorf("an unknown language falls back to Dutch: %q", got)
	}
	if got := T("en", "no.such.key", nil); got != "no.such.key" {
		t.Errorf("missing key = %q", got)
	}
	for in, want := range map[string]string{"en-GB": "en", "EN": "en", "nl-NL": "nl", "": "nl", "de": "nl"} {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// sentences are the parts of the language files' texts, between their
// {placeholders}, that are long enough to be a sentence of their own (four
// words or more): the words a Go string must not repeat.
func sentences() map[string]string {
	out := map[string]string{}
	for _, lang := range Languages {
		for _, k := range Keys(lang) {
			for _, part := range placeholder.Split(T(lang, k, nil), -1) {
				part = strings.TrimSpace(part)
				if len(strings.Fields(part)) >= 4 && len(part) >= 25 {
					out[part] = lang + ":" + k
				}
			}
		}
	}
	return out
}

// goStrings returns every string literal of the module's Go files outside
// this package, tests excluded, by file.
func goStrings(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	here, _ := filepath.Abs(".")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root {
			if abs, _ := filepath.Abs(p); abs == here || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out[p] = append(out[p], s)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// No text of the language files is written again in Go: a student's
// sentence (or a staff name) that lives in a .go file would not change
// when the language file does, and would not be translated.
func TestNoTextOfTheLanguageFilesInGo(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	want := sentences()
	if len(want) < 200 {
		t.Fatalf("only %d sentences in the language files", len(want))
	}
	files := goStrings(t, root)
	if len(files) < 50 {
		t.Fatalf("only %d Go files found", len(files))
	}
	for file, lits := range files {
		for _, lit := range lits {
			for sentence, key := range want {
				if strings.Contains(lit, sentence) {
					t.Errorf("%s has the text of %s in Go: %q", file, key, sentence)
				}
			}
		}
	}
}

// The check above catches what it is meant to: the old apology, written
// in Go as it was before it moved to the language files.
func TestTheCheckFindsAMovedSentence(t *testing.T) {
	old := "Sorry, er ging bij mij iets mis. Probeer het zo nog eens, of typ \"medewerker\"."
	found := false
	for sentence := range sentences() {
		if strings.Contains(old, sentence) {
			found = true
		}
	}
	if !found {
		t.Fatal("the apology is not among the sentences the check looks for")
	}
}
