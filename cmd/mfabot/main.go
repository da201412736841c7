// Command mfabot is the MFA help-desk bot: one binary with subcommands.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "mfabot: wiring in progress")
	os.Exit(2)
}
