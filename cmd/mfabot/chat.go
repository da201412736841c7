package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"mfabot/config"
	"mfabot/dialogs"
	"mfabot/dialogs/termchat"
	"mfabot/graph"
	"mfabot/handoff"
	"mfabot/store"
)

// chat runs a conversation in the terminal: the same engine and store as
// serve, against the demo directory, so an escalation made here shows up
// on a running server's dashboard.
func chat(ctx context.Context, configPath string, args []string, in io.Reader, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	student := fs.String("student", "sam", "demo student: sam, lars, noor, eva, kim, pia or ben")
	lang := fs.String("lang", "", "nl or en (default: Dutch until you write in English)")
	if err := fs.Parse(args); err != nil {
		return usageError{"chat: " + err.Error()}
	}
	if *lang != "" && *lang != "nl" && *lang != "en" {
		return usageError{"chat: --lang must be nl or en"}
	}
	if graph.DemoUserID(*student) == "" {
		return usageError{fmt.Sprintf("chat: unknown demo student %q (sam, lars, noor, eva, kim, pia, ben)", *student)}
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	if !cfg.Dev() {
		// Demo students must never land in a production queue (and from
		// there in the real staff channel).
		return fmt.Errorf("chat runs against the demo directory and refuses a production configuration (mode: %s); use it with dev settings", cfg.Mode)
	}
	log := newLogger(stderr, "error")
	st, err := store.Open(ctx, cfg.Store.URL)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	esc, err := handoff.NewService(handoff.Options{Store: st, Institution: institution(cfg), Now: time.Now, Logger: log})
	if err != nil {
		return err
	}
	runner, err := dialogs.NewRunner(dialogs.RunnerOptions{
		Store: st, Directory: graph.NewDemo(), Escalator: esc,
		Settings: dialogSettings(cfg), Now: time.Now, Logger: log,
	})
	if err != nil {
		return err
	}
	return termchat.Run(ctx, in, out, termchat.Options{Runner: runner, Student: *student, Lang: *lang})
}
