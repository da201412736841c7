package acceptance

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var envName = regexp.MustCompile(`MFABOT_[A-Z0-9_]*[A-Z0-9]`)

// TestDeployDocUsesTheSuitesNames keeps docs/deploy.md and this suite on
// the same names: every MFABOT_* variable the suite sets is on the page,
// and every variable on the page is a configuration key that
// mfabot.example.yaml documents (or MFABOT_CONFIG).
func TestDeployDocUsesTheSuitesNames(t *testing.T) {
	doc, err := os.ReadFile("../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../mfabot.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sources, _ := filepath.Glob("*_test.go")
	used := map[string]bool{}
	for _, f := range sources {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range envName.FindAllString(string(b), -1) {
			if !strings.HasPrefix(n, "MFABOT_TEST") {
				used[n] = true
			}
		}
	}
	if len(used) < 3 {
		t.Fatalf("found only %v in the suite's sources", used)
	}
	keys := exampleKeys(string(example))
	for n := range used {
		if !strings.Contains(string(doc), n) && (keys[n] == "" || !strings.Contains(string(doc), keys[n])) {
			t.Errorf("the suite sets %s, docs/deploy.md names neither it nor its key", n)
		}
	}
	for _, n := range envName.FindAllString(string(doc), -1) {
		if n == "MFABOT_CONFIG" {
			continue
		}
		if keys[n] == "" {
			t.Errorf("docs/deploy.md names %s, which is no key of mfabot.example.yaml", n)
		}
	}
}

// exampleKeys maps the MFABOT_* name of each key of the example file to
// the key, dotted (two-space indentation, as the file is written).
func exampleKeys(yaml string) map[string]string {
	keys := map[string]string{}
	var path []string
	key := regexp.MustCompile(`^( *)([a-z_]+):`)
	for _, line := range strings.Split(yaml, "\n") {
		m := key.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		depth := len(m[1]) / 2
		if depth > len(path) {
			continue
		}
		path = append(path[:depth], m[2])
		keys["MFABOT_"+strings.ToUpper(strings.Join(path, "_"))] = strings.Join(path, ".")
	}
	return keys
}
