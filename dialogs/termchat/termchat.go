// Package termchat runs the conversation in a terminal: the same runner
// (engine, store, directory) as the Teams bot, with Adaptive Cards
// rendered as text and their buttons numbered, so that typing a number
// presses that button. It works with piped input; end of input ends the
// chat cleanly.
package termchat

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"mfabot/dialogs"
	"mfabot/dialogs/texts"
	"mfabot/graph"
	"mfabot/store"
)

// Options configure a terminal chat.
type Options struct {
	Runner  *dialogs.Runner
	Student string // demo student name (sam, lars, noor, eva, kim, pia, ben); default sam
	Lang    string // nl | en: an explicit choice; empty = the usual order
	// UserID is the student's object id; default graph.DemoUserID(Student).
	UserID string
	// ConversationID defaults to "termchat:<student>", so running the chat
	// again continues the same conversation.
	ConversationID string
	// Platform pretends the chat runs on a phone ("iOS", "Android"); empty
	// is a desktop.
	Platform string
	// Width wraps text (default 76).
	Width int
	// Poll is how often due re-check timers are looked for (default 1 s);
	// Now is the clock (default time.Now).
	Poll time.Duration
	Now  func() time.Time
	// WaitAtEOF is how long end of input waits for a pending re-check
	// (default 90 s), so piped conversations see the verification end.
	WaitAtEOF time.Duration
	// Echo prints typed lines (default: when input is not a terminal).
	Echo *bool
}

type chat struct {
	o        Options
	out      io.Writer
	ref      store.ConversationRef
	buttons  []map[string]any // the numbered buttons of the newest card with buttons
	tty      bool
	typingOn bool
}

// Run chats until end of input, "exit"/"quit", or ctx is done.
func Run(ctx context.Context, in io.Reader, out io.Writer, o Options) error {
	if o.Runner == nil {
		return errors.New("termchat: no runner")
	}
	if o.Student == "" {
		o.Student = graph.DefaultDemoStudent
	}
	o.Student = strings.ToLower(strings.TrimSpace(o.Student))
	if o.Lang != "" && o.Lang != "nl" && o.Lang != "en" {
		return fmt.Errorf("termchat: language %q (want nl or en)", o.Lang)
	}
	if o.UserID == "" {
		o.UserID = graph.DemoUserID(o.Student)
	}
	if o.ConversationID == "" {
		o.ConversationID = "termchat:" + o.Student
	}
	if o.Width <= 20 {
		o.Width = 76
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WaitAtEOF <= 0 {
		o.WaitAtEOF = 90 * time.Second
	}
	c := &chat{o: o, out: out, tty: isTerminal(in) && isTerminal(out)}
	echo := !isTerminal(in)
	if o.Echo != nil {
		echo = *o.Echo
	}
	locale := "nl-NL"
	if o.Lang == "en" {
		locale = "en-US"
	}
	c.ref = store.ConversationRef{
		ConversationID: o.ConversationID, ChannelID: "terminal", UserID: "termchat:" + o.Student,
		UserAADObjectID: o.UserID, UserName: o.Student, Locale: locale, ConversationType: "personal",
	}
	c.banner()

	if err := c.turn(ctx, dialogs.Turn{Kind: dialogs.TurnWelcome, Lang: o.Lang}); err != nil {
		return err
	}

	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 64*1024)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	c.prompt()
	for {
		select {
		case <-ctx.Done():
			c.say("")
			return nil
		case <-tick.C:
			if n, err := c.timers(ctx); err != nil {
				return err
			} else if n > 0 {
				c.prompt()
			}
		case line := <-lines:
			if echo {
				fmt.Fprintf(c.out, "> %s\n", line)
			}
			line = strings.TrimSpace(line)
			if line == "" {
				c.prompt()
				continue
			}
			if l := strings.ToLower(line); l == "exit" || l == "quit" || l == "/exit" || l == "/quit" {
				c.goodbye(ctx)
				return nil
			}
			if err := c.turn(ctx, c.turnFor(line)); err != nil {
				return err
			}
			c.prompt()
		case err := <-readErr:
			if err != nil {
				return fmt.Errorf("termchat: read input: %w", err)
			}
			if err := c.drainTimers(ctx); err != nil {
				return err
			}
			c.goodbye(ctx)
			return nil
		}
	}
}

// turnFor reads a typed line: a number presses that button.
func (c *chat) turnFor(line string) dialogs.Turn {
	if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(c.buttons) {
		return dialogs.Turn{Kind: dialogs.TurnMessage, Value: c.buttons[n-1]}
	}
	return dialogs.Turn{Kind: dialogs.TurnMessage, Text: line}
}

func (c *chat) turn(ctx context.Context, t dialogs.Turn) error {
	t.Ref = c.ref
	t.Platform = c.o.Platform
	t.At = c.o.Now()
	replies, err := c.o.Runner.Handle(ctx, t, c.typing)
	c.clearTyping()
	if err != nil {
		return fmt.Errorf("termchat: %w", err)
	}
	c.show(replies)
	return nil
}

// timers runs this conversation's due re-checks; it returns how many.
func (c *chat) timers(ctx context.Context) (int, error) {
	due, err := c.o.Runner.DueTimers(ctx, c.ref.ConversationID, c.o.Now())
	if err != nil {
		return 0, fmt.Errorf("termchat: timers: %w", err)
	}
	for _, tm := range due {
		_, replies, err := c.o.Runner.HandleTimer(ctx, tm, c.typing)
		c.clearTyping()
		if err != nil {
			return 0, fmt.Errorf("termchat: %w", err)
		}
		if len(replies) > 0 {
			fmt.Fprintln(c.out)
		}
		c.show(replies)
	}
	return len(due), nil
}

// drainTimers waits (bounded) for a pending re-check at end of input.
func (c *chat) drainTimers(ctx context.Context) error {
	deadline := c.o.Now().Add(c.o.WaitAtEOF)
	for c.o.Now().Before(deadline) {
		s, err := c.o.Runner.State(ctx, c.ref.ConversationID)
		if err != nil || (s.Step != dialogs.StepVerifyNew && s.Step != dialogs.StepVerifyOld) {
			return nil
		}
		if _, err := c.timers(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.o.Poll):
		}
	}
	return nil
}

func (c *chat) lang(ctx context.Context) string {
	s, err := c.o.Runner.State(ctx, c.ref.ConversationID)
	if err != nil {
		return "nl"
	}
	return dialogs.LanguageOf(s)
}

func (c *chat) banner() {
	fmt.Fprintf(c.out, "mfabot chat - demo student %q (%s)\n", c.o.Student, graph.DemoUserID(c.o.Student)[:8])
	fmt.Fprintln(c.out, "Type a number to press a button, or type freely. 'exit' or Ctrl-D ends the chat.")
	fmt.Fprintln(c.out, strings.Repeat("-", min(c.o.Width, 60)))
}

func (c *chat) goodbye(ctx context.Context) {
	c.say("\n" + texts.T(c.lang(ctx), "chat.bye", nil))
}

func (c *chat) prompt() {
	if c.tty {
		fmt.Fprint(c.out, "> ")
	}
}

func (c *chat) typing() {
	if c.tty && !c.typingOn {
		c.typingOn = true
		fmt.Fprint(c.out, "\r... ")
	}
}

func (c *chat) clearTyping() {
	if c.typingOn {
		c.typingOn = false
		fmt.Fprint(c.out, "\r\033[K")
	}
}

func (c *chat) say(s string) { fmt.Fprintln(c.out, s) }

func (c *chat) show(replies []dialogs.Reply) {
	for _, r := range replies {
		if r.Text != "" && r.AI != nil {
			// Teams shows it labelled as AI-generated, with its sources.
			c.say(wrap("bot (AI): ", plain(r.Text), c.o.Width))
			for i, src := range r.AI.Citations {
				line := fmt.Sprintf("[%d] %s", i+1, src.Name)
				if src.URL != "" {
					line += " - " + src.URL
				}
				c.say(wrap("          ", line, c.o.Width))
			}
		} else if r.Text != "" {
			c.say(wrap("bot: ", plain(r.Text), c.o.Width))
		}
		if len(r.Card) > 0 {
			c.card(r.Card)
		}
	}
}

// ---- Adaptive Card rendering ----

type element struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	Title    string          `json:"title"`
	URL      string          `json:"url"`
	Weight   string          `json:"weight"`
	IsSubtle bool            `json:"isSubtle"`
	Size     string          `json:"size"`
	Facts    []fact          `json:"facts"`
	Items    []element       `json:"items"`
	Columns  []element       `json:"columns"`
	Inlines  []element       `json:"inlines"`
	Actions  []element       `json:"actions"`
	Data     json.RawMessage `json:"data"`
	Body     []element       `json:"body"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

func (c *chat) card(raw json.RawMessage) {
	var card element
	if err := json.Unmarshal(raw, &card); err != nil {
		c.say("bot: [a card that cannot be shown]")
		return
	}
	var lines []string
	var actions []element
	var walk func([]element)
	walk = func(els []element) {
		for _, e := range els {
			switch e.Type {
			case "TextBlock":
				t := plain(e.Text)
				if e.Weight == "Bolder" {
					if c.tty {
						t = "\033[1m" + t + "\033[0m"
					} else {
						t = "# " + t
					}
				}
				lines = append(lines, t)
			case "RichTextBlock":
				var parts []string
				for _, in := range e.Inlines {
					parts = append(parts, plain(in.Text))
				}
				lines = append(lines, strings.Join(parts, ""))
			case "FactSet":
				for _, f := range e.Facts {
					lines = append(lines, "  "+plain(f.Title)+": "+plain(f.Value))
				}
			case "ActionSet":
				actions = append(actions, e.Actions...)
			}
			walk(e.Items)
			walk(e.Columns)
		}
	}
	walk(card.Body)
	actions = append(actions, card.Actions...)

	fmt.Fprintln(c.out, "+"+strings.Repeat("-", min(c.o.Width, 60)-1))
	for _, l := range lines {
		if l == "" {
			fmt.Fprintln(c.out, "|")
			continue
		}
		fmt.Fprintln(c.out, wrap("| ", l, c.o.Width))
	}
	var submits []map[string]any
	var labels, links []string
	for _, a := range actions {
		switch a.Type {
		case "Action.Submit", "Action.Execute":
			var data map[string]any
			if err := json.Unmarshal(a.Data, &data); err != nil {
				continue
			}
			submits = append(submits, data)
			if a.Title == strconv.Itoa(len(submits)) {
				labels = append(labels, fmt.Sprintf("[%d]", len(submits)))
			} else {
				labels = append(labels, fmt.Sprintf("[%d] %s", len(submits), plain(a.Title)))
			}
		case "Action.OpenUrl":
			links = append(links, fmt.Sprintf("%s: %s", plain(a.Title), a.URL))
		}
	}
	for _, l := range links {
		fmt.Fprintln(c.out, wrap("| ", l, c.o.Width))
	}
	// Numbers always press the newest card's buttons; a card without
	// buttons leaves none to press (typed text is sent as it is).
	c.buttons = submits
	if len(labels) > 0 {
		if row := "| " + strings.Join(labels, "   "); len(row) <= c.o.Width {
			fmt.Fprintln(c.out, row)
		} else {
			for _, l := range labels {
				fmt.Fprintln(c.out, wrap("| ", l, c.o.Width))
			}
		}
	}
	fmt.Fprintln(c.out, "+"+strings.Repeat("-", min(c.o.Width, 60)-1))
}

var (
	mdLink = regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`)
	mdBold = regexp.MustCompile(`\*\*([^*\s][^*]*[^*\s]|[^*\s])\*\*`)
)

// plain turns the Markdown of card texts into terminal text: links as
// "text (url)" (just the text when it is the address), bold unmarked.
func plain(s string) string {
	s = mdLink.ReplaceAllStringFunc(s, func(m string) string {
		p := mdLink.FindStringSubmatch(m)
		text, url := p[1], p[2]
		bare := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(url, "https://"), "http://"), "/")
		if text == bare || text == url {
			return url
		}
		return text + " (" + url + ")"
	})
	return mdBold.ReplaceAllString(s, "$1")
}

// wrap breaks s into lines of at most width, each starting with prefix
// (the first) or spaces of the same length.
func wrap(prefix, s string, width int) string {
	var out []string
	indent := strings.Repeat(" ", len(prefix))
	if strings.HasPrefix(prefix, "|") {
		indent = "| "
	}
	for _, para := range strings.Split(s, "\n") {
		line, prev := "", ""
		for _, w := range strings.Fields(para) {
			// a masked phone number ("+31 6 ** ** ** 78") stays on one line
			glue := w == "**" || prev == "**"
			prev = w
			if line != "" && !glue && len(line)+1+len(w) > width-len(prefix) {
				out = append(out, line)
				line = w
				continue
			}
			if line == "" {
				line = w
			} else {
				line += " " + w
			}
		}
		out = append(out, line)
	}
	for i := range out {
		if i == 0 {
			out[i] = prefix + out[i]
		} else {
			out[i] = indent + out[i]
		}
	}
	return strings.Join(out, "\n")
}

func isTerminal(x any) bool {
	f, ok := x.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
