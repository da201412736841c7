package main

import (
	"fmt"
	"io"

	"mfabot/config"
)

// configCheck loads and validates the configuration and prints it with
// secrets masked; an invalid configuration is an error naming the key.
func configCheck(path string, out io.Writer) error {
	c, err := config.Load(path)
	if err != nil {
		return err
	}
	c.Print(out)
	for _, w := range c.ProductionWarnings() {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
	fmt.Fprintf(out, "configuration OK (%s mode)\n", c.Mode)
	return nil
}
