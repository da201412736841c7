package main

import (
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/mod/semver"
)

// msbotbuilder-go v0.2.5 asks for golang-jwt/jwt/v4 v4.1.0 (CVE-2025-30204)
// and an old lestrrat-go/jwx; go.mod pins the patched versions. `go mod
// tidy` drops such pins when no package of ours imports them, so this test
// guards them.
func TestPatchedTransitiveVersionsArePinned(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	min := map[string]string{
		"github.com/golang-jwt/jwt/v4": "v4.5.2",
		"github.com/lestrrat-go/jwx":   "v1.2.31",
		"golang.org/x/crypto":          "v0.35.0",
	}
	for mod, want := range min {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", mod).Output()
		if err != nil {
			t.Fatalf("go list -m %s: %v", mod, err)
		}
		got := strings.TrimSpace(string(out))
		if semver.Compare(got, want) < 0 {
			t.Errorf("%s is %s in the build list, want >= %s (re-pin with go get %s@%s after go mod tidy)", mod, got, want, mod, want)
		}
	}
}
