package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"mfabot/config"
	"mfabot/dialogs"
	"mfabot/dialogs/intent"
	"mfabot/llm"
	"mfabot/manifest"
)

// flow prints the dialog graph.
func flow(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("flow", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "mermaid", "mermaid or dot")
	if err := fs.Parse(args); err != nil {
		return usageError{"flow: " + err.Error()}
	}
	g, err := dialogs.FlowGraph(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	_, err = fmt.Fprint(out, g)
	return err
}

// understand prints how each message is read, one JSON line per text.
func understand(ctx context.Context, configPath string, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("understand", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	lang := fs.String("lang", "nl", "nl or en")
	at := fs.String("at", "", "read as an answer at this step (welcome, step07, ask_old_phone, ...)")
	if err := fs.Parse(args); err != nil {
		return usageError{"understand: " + err.Error()}
	}
	where := intent.Context{}
	if *at != "" {
		w, ok := dialogs.ContextAt(*at)
		if !ok {
			return usageError{fmt.Sprintf("understand: --at %q is not a step of the flow (mfabot flow lists them)", *at)}
		}
		where = w
	}
	if *lang != "nl" && *lang != "en" {
		return usageError{"understand: --lang must be nl or en"}
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	client, err := llm.New(llm.Config{
		Provider: cfg.LLM.Provider, BaseURL: cfg.LLM.BaseURL, APIKey: cfg.LLM.APIKey,
		Model: cfg.LLM.Model, APIVersion: cfg.LLM.APIVersion, Logger: newLogger(io.Discard, "error"),
		DetectLanguage: intent.DetectLanguage,
	})
	if err != nil {
		return err
	}
	var classifier intent.Classifier
	if client != nil {
		classifier = client
	}
	enc := json.NewEncoder(out)
	read := func(text string) error {
		if *at != "" {
			return enc.Encode(intent.UnderstandIn(ctx, where, text, *lang, classifier))
		}
		return enc.Encode(intent.Understand(ctx, text, *lang, classifier))
	}
	if fs.NArg() > 0 {
		for _, text := range fs.Args() {
			if err := read(text); err != nil {
				return err
			}
		}
		return nil
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if err := read(text); err != nil {
			return err
		}
	}
	return sc.Err()
}

// buildManifest writes the validated Teams app package.
func buildManifest(configPath string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("manifest", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dest := fs.String("out", "", "the zip file to write")
	if err := fs.Parse(args); err != nil {
		return usageError{"manifest: " + err.Error()}
	}
	if *dest == "" {
		return usageError{"manifest: --out FILE.zip is required"}
	}
	cfg, err := config.LoadForPackaging(configPath)
	if err != nil {
		return err
	}
	m := cfg.Manifest
	zip, err := manifest.Build(manifest.Options{
		BotAppID: cfg.Bot.AppID, AppID: m.AppID, Name: m.Name, Developer: m.Developer,
		WebsiteURL: m.WebsiteURL, PrivacyURL: m.PrivacyURL, TermsURL: m.TermsURL,
		Version: m.Version, ValidDomains: m.ValidDomains,
	})
	if err != nil {
		return fmt.Errorf("manifest not written: %w", err)
	}
	if err := os.WriteFile(*dest, zip, 0o644); err != nil {
		return err
	}
	for _, w := range cfg.ProductionWarnings() {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
	fmt.Fprintf(out, "wrote %s (%d bytes), validated against the Teams manifest schema v1.29\n", *dest, len(zip))
	return nil
}
