// Command mfabot is the MFA help-desk bot: one binary whose subcommands
// are the server, a terminal chat, and tools for operators.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `mfabot: the MFA help-desk bot for Microsoft Teams

Usage:
  mfabot [serve]                                  run the bot server (dev mode without configuration)
  mfabot chat [--student NAME] [--lang nl|en]     talk to the bot in this terminal (demo directory)
  mfabot flow [--format mermaid|dot]              print the dialog graph
  mfabot understand [--lang nl|en] [--at STEP] [TEXT...]
                                                  show how messages are read (one JSON line each)
  mfabot manifest --out FILE.zip                  build and validate the Teams app package
  mfabot config check                             validate the configuration and print it, secrets masked
  mfabot version

Global flag (before or after the subcommand):
  --config FILE   YAML configuration (or MFABOT_CONFIG); MFABOT_* environment variables override it
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	beforeExit()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "mfabot: %v\n\n%s", err, usage)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "mfabot: %v\n", err)
		os.Exit(1)
	}
}

// beforeExit runs as main returns (the profile build stops its CPU
// profile there).
var beforeExit = func() {}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run dispatches a subcommand; it is main without the process exits, so
// tests can call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	configPath, rest, err := extractConfigFlag(args)
	if err != nil {
		return err
	}
	cmd := "serve"
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, configPath, rest, stderr)
	case "chat":
		return chat(ctx, configPath, rest, stdin, stdout, stderr)
	case "flow":
		return flow(rest, stdout)
	case "understand":
		return understand(ctx, configPath, rest, stdin, stdout)
	case "manifest":
		return buildManifest(configPath, rest, stdout)
	case "config":
		if len(rest) != 1 || rest[0] != "check" {
			return usageError{"usage: mfabot config check"}
		}
		return configCheck(configPath, stdout)
	case "version", "--version":
		fmt.Fprintf(stdout, "mfabot %s\n", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// extractConfigFlag removes --config FILE / --config=FILE from anywhere in
// args: the design lets it stand before or after the subcommand.
func extractConfigFlag(args []string) (string, []string, error) {
	var path string
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				return "", nil, usageError{"--config needs a file"}
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--config="):
			path = strings.TrimPrefix(a, "--config=")
		case strings.HasPrefix(a, "-config="):
			path = strings.TrimPrefix(a, "-config=")
		default:
			rest = append(rest, a)
		}
	}
	return path, rest, nil
}
