package main

import (
	"context"
	"errors"
	"io"
)

// chat is replaced when dialogs/termchat lands.
func chat(ctx context.Context, configPath string, args []string, in io.Reader, out, stderr io.Writer) error {
	return errors.New("mfabot chat: not available in this build yet")
}
