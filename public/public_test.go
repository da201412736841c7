package public

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"mfabot/dialogs"
	"mfabot/handoff"
)

var (
	tagRE   = regexp.MustCompile(`<[^>]+>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

// textOf is what a reader sees of an HTML fragment.
func textOf(frag string) string {
	return strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(frag, "")), " "))
}

// stepFields reads step n of the page: title and the do/where/see/help
// paragraphs (for step 2, those of each route in turn).
func stepFields(t *testing.T, page string, n int) (title string, fields map[string][]string) {
	t.Helper()
	start := strings.Index(page, fmt.Sprintf(`<li id="step%02d" class="step">`, n))
	if start < 0 {
		t.Fatalf("step %d not on the page", n)
	}
	end := strings.Index(page[start:], "\n</li>")
	li := page[start : start+end]
	m := regexp.MustCompile(`<span class="title">(.*?)</span>`).FindStringSubmatch(li)
	if m == nil {
		t.Fatalf("step %d has no title", n)
	}
	fields = map[string][]string{}
	for _, f := range regexp.MustCompile(`<p class="(do|where|see|help)">(.*?)</p>`).FindAllStringSubmatch(li, -1) {
		text := textOf(f[2])
		// The label is the page's; the text after it is the bot's.
		text = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(text,
			"Waar:"), "Where:"), "Je ziet:"), "You'll see:"), "Lukt het niet?"), "Not working?"))
		fields[f[1]] = append(fields[f[1]], text)
	}
	return textOf(m[1]), fields
}

func body(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body.String())
	}
	return w.Body.String()
}

// The page's twelve steps are the bot's: for each route through step 2,
// a walk through the real engine collects the card it shows at every
// step, and the page says the same (title, instruction, where, what you
// see), in both languages.
func TestStepsAreTheBots(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	h := newTestHandler(t, c, nil)
	for _, lang := range dialogs.Languages {
		page := body(t, get(h, "/hulp?lang="+lang, "198.51.100.7:5000", nil))
		// move_phone approves on the old phone, lost_phone (same number)
		// takes the call, a sign-in problem ends in "either".
		routes := map[string]int{dialogs.SitMovePhone: 0, dialogs.SitLostPhone: 1, dialogs.SitSigninProblem: 2}
		for sit, route := range routes {
			cards := botCards(t, testSettings, lang, sit)
			for n := 1; n <= 12; n++ {
				card := cards[n]
				title, f := stepFields(t, page, n)
				if want := plainText(card.Title); title != want {
					t.Errorf("%s step %d title: page %q, bot %q", lang, n, title, want)
				}
				i := 0
				if n == 2 {
					i = route
				} else if sit != dialogs.SitSigninProblem {
					continue // steps other than 2 are the same on every route
				}
				checks := []struct{ field, bot string }{{"do", card.Body[0]}, {"where", card.Where}}
				if n != 2 {
					checks = append(checks, struct{ field, bot string }{"see", card.See})
				} else if got, want := f["see"][0], plainText(card.See); !strings.HasSuffix(want, got) {
					t.Errorf("%s step 2 see: page %q, bot %q", lang, got, want)
				}
				for _, ch := range checks {
					if len(f[ch.field]) <= i {
						t.Fatalf("%s step %d: no %s #%d on the page", lang, n, ch.field, i)
					}
					got, want := f[ch.field][i], plainText(ch.bot)
					// The bot's where/see lines carry their label.
					if !strings.HasSuffix(want, got) || len(want)-len(got) > 12 {
						t.Errorf("%s %s step %d %s: page %q, bot %q", lang, sit, n, ch.field, got, want)
					}
				}
			}
		}
	}
}

// TestSignInPathOnThePage: steps 8-10 show both ways of step 7, the QR
// code first and then signing in in the app, each as the bot shows it to
// a student who took that way.
func TestSignInPathOnThePage(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	h := newTestHandler(t, c, nil)
	for _, lang := range dialogs.Languages {
		page := body(t, get(h, "/hulp?lang="+lang, "198.51.100.7:5000", nil))
		qr := botCardsAt7(t, testSettings, lang, dialogs.SitSigninProblem, dialogs.ActDone)
		signin := botCardsAt7(t, testSettings, lang, dialogs.SitSigninProblem, dialogs.ActSignInPath)
		ways := 0
		for n := 8; n <= 12; n++ {
			if qr[n].Body[0] == signin[n].Body[0] {
				continue
			}
			ways++
			_, f := stepFields(t, page, n)
			for i, card := range []dialogs.Card{qr[n], signin[n]} {
				for _, ch := range []struct{ field, bot string }{{"do", card.Body[0]}, {"where", card.Where}, {"see", card.See}} {
					if len(f[ch.field]) <= i {
						t.Fatalf("%s step %d: no %s for way %d on the page", lang, n, ch.field, i+1)
					}
					if got, want := f[ch.field][i], plainText(ch.bot); !strings.HasSuffix(want, got) || len(want)-len(got) > 12 {
						t.Errorf("%s step %d way %d %s: page %q, bot %q", lang, n, i+1, ch.field, got, want)
					}
				}
			}
		}
		if ways == 0 {
			t.Fatalf("%s: no step after 7 differs between the two ways: the test checks nothing", lang)
		}
		label, _ := dialogs.Text(testSettings, lang, "public.pairing_signin", nil)
		if !strings.Contains(page, label) {
			t.Errorf("%s: the sign-in way is not named on the page (%q)", lang, label)
		}
	}
}

// One source: the texts of the language files the bot embeds are the
// page's. Every step's title and (first) instruction in the YAML, with
// the school's values filled in, appears on the page, so a step changed
// in dialogs/texts changes the page with it.
func TestStepTextsComeFromTheLanguageFiles(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	h := newTestHandler(t, c, nil)
	for _, lang := range dialogs.Languages {
		raw, err := os.ReadFile("../dialogs/texts/" + lang + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		var texts map[string]map[string]string
		if err := yaml.Unmarshal(raw, &texts); err != nil {
			t.Fatal(err)
		}
		page := body(t, get(h, "/hulp?lang="+lang, "198.51.100.7:5000", nil))
		seen := textOf(page)
		fill := strings.NewReplacer("{setup_link}", "aka.ms/mfasetup", "{phone}", texts["summary"]["your_number"])
		for n := 1; n <= 12; n++ {
			sec := texts[fmt.Sprintf("step%02d", n)]
			if len(sec) == 0 {
				t.Fatalf("%s: step%02d missing from the YAML", lang, n)
			}
			for _, k := range []string{"title", "do", "do.unknown", "do.old_phone", "do.call", "see", "where.call"} {
				v, ok := sec[k]
				if !ok {
					continue
				}
				want := plainText(fill.Replace(v))
				if strings.Contains(want, "{") {
					continue // a student's own value (the old device's name)
				}
				if !strings.Contains(seen, want) {
					t.Errorf("%s step%02d.%s from the YAML is not on the page: %q", lang, n, k, want)
				}
			}
		}
	}
}

func TestLanguages(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	h := newTestHandler(t, c, nil)
	tests := []struct {
		path, accept, want string
		vary               bool
	}{
		{"/hulp", "", "nl", true},
		{"/help", "", "en", true},
		{"/hulp", "en-GB,en;q=0.9", "en", true},
		{"/help", "nl-NL,nl;q=0.9,en;q=0.8", "en", true}, // the link followed, and the browser accepts it
		{"/hulp", "en-US,en;q=0.9,nl;q=0.8", "nl", true}, // an English browser that reads Dutch
		{"/help", "nl-NL,nl;q=0.9", "nl", true},          // a Dutch-only browser
		{"/hulp", "*", "nl", true},
		{"/hulp", "de-DE,fr;q=0.8", "nl", true}, // neither: the path decides
		{"/help", "de-DE,en;q=0.5,nl;q=0.4", "en", true},
		{"/help?lang=nl", "en", "nl", false},
		{"/hulp?lang=en", "nl", "en", false},
		{"/hulp?lang=xx", "", "nl", true}, // unknown value: ignored
		{"/hulp?lang=%3Cscript%3E", "", "nl", true},
	}
	for _, tt := range tests {
		w := get(h, tt.path, "198.51.100.7:5000", map[string]string{"Accept-Language": tt.accept})
		page := body(t, w)
		if !strings.Contains(page, `<html lang="`+tt.want+`">`) {
			t.Errorf("%s (Accept-Language %q): page not in %s", tt.path, tt.accept, tt.want)
		}
		if got := w.Header().Get("Content-Language"); got != tt.want {
			t.Errorf("%s: Content-Language %q, want %s", tt.path, got, tt.want)
		}
		if got := w.Header().Get("Vary") == "Accept-Language"; got != tt.vary {
			t.Errorf("%s: Vary Accept-Language = %v, want %v", tt.path, got, tt.vary)
		}
		other, otherName := map[string][2]string{"nl": {"/help?lang=en", "English"}, "en": {"/hulp?lang=nl", "Nederlands"}}[tt.want][0],
			map[string]string{"nl": "English", "en": "Nederlands"}[tt.want]
		otherLang := map[string]string{"nl": "en", "en": "nl"}[tt.want]
		if link := fmt.Sprintf(`<a href="%s" lang="%s" hreflang="%s">%s</a>`, other, otherLang, otherLang, otherName); !strings.Contains(page, link) {
			t.Errorf("%s: no visible switch %s", tt.path, link)
		}
		if strings.Contains(page, "script") {
			t.Errorf("%s: the page mentions script", tt.path)
		}
	}
	en := body(t, get(h, "/help", "198.51.100.7:5000", nil))
	for _, want := range []string{"The 12 steps", "Walk-in desks", "Call 088 - 469 9070", "Open now until 16:00", "Bring your passport"} {
		if !strings.Contains(en, want) {
			t.Errorf("English page lacks %q", want)
		}
	}
}

func TestHeadersAndNoState(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	h := newTestHandler(t, c, nil)
	for _, path := range []string{"/hulp", "/help", "/hulp/style.css"} {
		w := get(h, path, "198.51.100.7:5000", nil)
		body(t, w)
		hd := w.Header()
		csp := hd.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: CSP allows script: %q", path, csp)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := hd.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
		if v := hd.Values("Set-Cookie"); len(v) > 0 {
			t.Errorf("%s sets a cookie: %v", path, v)
		}
	}
	page := body(t, get(h, "/hulp", "198.51.100.7:5000", nil))
	for _, bad := range []string{"<script", "<form", "<input", "<iframe", "<img", "style=", " on", "http://"} {
		if strings.Contains(strings.ToLower(page), bad+"") && bad != " on" {
			t.Errorf("the page contains %q", bad)
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=`).MatchString(page) {
		t.Error("the page has an inline event handler")
	}
	css := get(h, "/hulp/style.css", "198.51.100.7:5000", nil)
	if ct := css.Header().Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("style.css Content-Type %q", ct)
	}
	m := regexp.MustCompile(`<link rel="stylesheet" href="(/hulp/style.css\?v=[0-9a-f]{12})">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page does not link its stylesheet by hash")
	}
	if cc := get(h, m[1], "198.51.100.7:5000", nil).Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("hashed stylesheet Cache-Control %q", cc)
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		r := httptest.NewRequest(method, "/hulp", strings.NewReader("user=x"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s /hulp: %d, want 405", method, w.Code)
		}
	}
	r := httptest.NewRequest(http.MethodHead, "/hulp", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Errorf("HEAD /hulp: %d", w.Code)
	}
	if got := get(h, "/hulp/", "198.51.100.7:5000", nil); got.Code != http.StatusMovedPermanently || got.Header().Get("Location") != "/hulp" {
		t.Errorf("/hulp/: %d %q, want a redirect to /hulp", got.Code, got.Header().Get("Location"))
	}
}

// The hours at a fixed clock: the desks' states in words, and a cache
// lifetime that never outlasts the next change.
func TestDeskHoursAtAFixedClock(t *testing.T) {
	tests := []struct {
		name    string
		now     time.Time
		path    string
		want    []string
		notWant []string
		maxAge  string
	}{
		{"wednesday 10:00, both open", ams(2026, 11, 25, 10, 0), "/hulp",
			[]string{`<span class="state open">Nu open tot 16:00</span>`, `<span class="state open">Nu open tot 17:00</span>`}, []string{"Gesloten"}, "max-age=60"},
		{"wednesday 15:59:30: Zwolle closes in 30 s", ams(2026, 11, 25, 15, 59).Add(30 * time.Second), "/hulp",
			[]string{"Nu open tot 16:00"}, nil, "max-age=30"},
		{"wednesday 16:30: Zwolle closed, Almere open", ams(2026, 11, 25, 16, 30), "/hulp",
			[]string{`<span class="state closed">Gesloten, gaat morgen om 8:00 open</span>`, `<span class="state open">Nu open tot 17:00</span>`}, nil, "max-age=60"},
		{"friday evening", ams(2026, 11, 27, 19, 0), "/hulp",
			[]string{"Gesloten, gaat maandag om 8:00 open", "Gesloten, gaat maandag om 8:30 open"}, []string{"Nu open"}, "max-age=60"},
		{"friday evening, English", ams(2026, 11, 27, 19, 0), "/help",
			[]string{"Closed, opens on Monday at 8:00", "Closed, opens on Monday at 8:30"}, []string{"Open now"}, "max-age=60"},
		{"Christmas, a closed weekday", ams(2026, 12, 25, 10, 0), "/hulp",
			[]string{"Gesloten, gaat maandag om 8:00 open"}, []string{"Nu open"}, "max-age=60"},
		{"thursday 7:59:50", ams(2026, 11, 26, 7, 59).Add(50 * time.Second), "/hulp",
			[]string{"Gesloten, gaat vandaag om 8:00 open"}, nil, "max-age=10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{tt.now}
			h := newTestHandler(t, c, nil)
			w := get(h, tt.path, "198.51.100.7:5000", nil)
			page := body(t, w)
			for _, s := range tt.want {
				if !strings.Contains(page, s) {
					t.Errorf("missing %q", s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(page, s) {
					t.Errorf("unexpected %q", s)
				}
			}
			if cc := w.Header().Get("Cache-Control"); cc != "public, "+tt.maxAge {
				t.Errorf("Cache-Control %q, want public, %s", cc, tt.maxAge)
			}
			if !strings.Contains(page, `<a href="tel:&#43;31884699070">`) {
				t.Error("no tap-to-call link")
			}
		})
	}
}

func TestPhoneHoursShown(t *testing.T) {
	inst := seedInstitution()
	inst.PhoneHours = &handoff.Hours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "08:30", Close: "17:00"}
	for _, tt := range []struct {
		now  time.Time
		want string
	}{
		{ams(2026, 11, 28, 11, 0), `Telefoon: ma-vr 8:30-17:00 · <span class="state closed">weer bereikbaar maandag om 8:30</span>`},
		{ams(2026, 11, 25, 11, 0), `Telefoon: ma-vr 8:30-17:00 · <span class="state open">nu bereikbaar</span>`},
	} {
		c := &clock{tt.now}
		h := newTestHandler(t, c, func(o *Options) { o.Desk = stoppedStoreDesk(t, inst, c.now) })
		if page := body(t, get(h, "/hulp", "198.51.100.7:5000", nil)); !strings.Contains(page, tt.want) {
			t.Errorf("%v: missing %q", tt.now, tt.want)
		}
	}
}

// The store is stopped (closed before the first request, see
// stoppedStoreDesk): the page still answers, with the phone number.
func TestWorksWithTheStoreStopped(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 22, 0)}
	h := newTestHandler(t, c, nil)
	page := body(t, get(h, "/hulp", "198.51.100.7:5000", nil))
	for _, want := range []string{"088 - 469 9070", "De 12 stappen", "Gesloten, gaat morgen om 8:00 open"} {
		if !strings.Contains(page, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestRateLimit(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	h := newTestHandler(t, c, func(o *Options) { o.Rate, o.Burst = 1, 5 })
	for i := 0; i < 5; i++ {
		body(t, get(h, "/hulp", "203.0.113.9:4000", nil))
	}
	w := get(h, "/hulp", "203.0.113.9:4001", nil)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("6th request: %d, want 429", w.Code)
	}
	if ra := w.Header().Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	if !strings.Contains(w.Body.String(), "088 - 469 9070") {
		t.Errorf("429 without the desk's phone number: %q", w.Body.String())
	}
	if len(w.Header().Values("Set-Cookie")) > 0 {
		t.Error("429 sets a cookie")
	}
	// A client-supplied X-Forwarded-For from an untrusted peer changes nothing.
	if w := get(h, "/hulp", "203.0.113.9:4002", map[string]string{"X-Forwarded-For": "192.0.2.1"}); w.Code != http.StatusTooManyRequests {
		t.Errorf("spoofed X-Forwarded-For escaped the limit: %d", w.Code)
	}
	// Another address is not affected; the same one recovers with time.
	body(t, get(h, "/hulp", "203.0.113.10:4000", nil))
	c.t = c.t.Add(2 * time.Second)
	body(t, get(h, "/hulp", "203.0.113.9:4003", nil))

	// IPv6 counts per /64: another address in the same /64 shares it.
	for i := 0; i < 5; i++ {
		body(t, get(h, "/hulp", fmt.Sprintf("[2001:db8:1:2::%x]:443", i+1), nil))
	}
	if w := get(h, "/hulp", "[2001:db8:1:2::ffff]:443", nil); w.Code != http.StatusTooManyRequests {
		t.Errorf("same /64: %d, want 429", w.Code)
	}
	body(t, get(h, "/hulp", "[2001:db8:1:3::1]:443", nil))

	// Behind the reverse proxy on this host, each client has its own
	// bucket: the address the proxy appended counts, not what the client wrote.
	for i := 0; i < 5; i++ {
		body(t, get(h, "/hulp", "127.0.0.1:9000", map[string]string{"X-Forwarded-For": "192.0.2.50"}))
	}
	if w := get(h, "/hulp", "127.0.0.1:9000", map[string]string{"X-Forwarded-For": "192.0.2.50"}); w.Code != http.StatusTooManyRequests {
		t.Errorf("proxied client over the limit: %d, want 429", w.Code)
	}
	if w := get(h, "/hulp", "127.0.0.1:9000", map[string]string{"X-Forwarded-For": "10.9.9.9, 192.0.2.50"}); w.Code != http.StatusTooManyRequests {
		t.Errorf("a forged first hop escaped the limit: %d", w.Code)
	}
	body(t, get(h, "/hulp", "127.0.0.1:9000", map[string]string{"X-Forwarded-For": "192.0.2.51"}))
}

func TestClientKey(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.9:1", "", "203.0.113.9"},
		{"203.0.113.9:1", "192.0.2.1", "203.0.113.9"},                // untrusted peer: header ignored
		{"127.0.0.1:1", "192.0.2.1", "192.0.2.1"},                    // the local proxy
		{"127.0.0.1:1", "192.0.2.1, 10.1.1.1", "192.0.2.1"},          // two trusted hops
		{"127.0.0.1:1", "6.6.6.6, 192.0.2.1, 10.1.1.1", "192.0.2.1"}, // a client-written first entry is skipped
		{"127.0.0.1:1", "garbage", "127.0.0.1"},
		{"127.0.0.1:1", "", "127.0.0.1"},
		{"[::ffff:203.0.113.9]:1", "", "203.0.113.9"},
		{"[2001:db8::1]:1", "", "2001:db8::"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/hulp", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		got, ok := clientKey(r, trusted)
		if !ok || got.String() != tt.want {
			t.Errorf("%s / %q: %v %v, want %s", tt.remote, tt.xff, got, ok, tt.want)
		}
	}
}

func TestLimiterStaysBounded(t *testing.T) {
	l := newLimiter(1, 2, 100)
	now := time.Unix(0, 0)
	for i := 0; i < 1000; i++ {
		a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		l.allow(a, now)
	}
	if n := len(l.buckets); n > 100 {
		t.Errorf("%d buckets, want at most 100", n)
	}
}

func TestDevModeFence(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	h := newTestHandler(t, c, func(o *Options) { o.Dev = true; o.BotAppID = "" })
	body(t, get(h, "/hulp", "127.0.0.1:5000", nil))
	body(t, get(h, "/help", "[::1]:5000", nil))
	if w := get(h, "/hulp", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "203.0.113.1"}); w.Code != http.StatusForbidden {
		t.Errorf("dev mode behind a proxy: %d, want 403", w.Code)
	}
	if w := get(h, "/hulp", "192.0.2.1:5000", nil); w.Code != http.StatusForbidden {
		t.Errorf("dev mode from another machine: %d, want 403", w.Code)
	}
}

func TestTeamsLink(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	with := body(t, get(newTestHandler(t, c, nil), "/hulp", "198.51.100.7:5000", nil))
	if !strings.Contains(with, `href="https://teams.microsoft.com/l/chat/0/0?users=28:`+testAppID+`"`) {
		t.Error("no deep link to the bot's chat")
	}
	without := body(t, get(newTestHandler(t, c, func(o *Options) { o.BotAppID = "" }), "/hulp", "198.51.100.7:5000", nil))
	if strings.Contains(without, "teams.microsoft.com") || strings.Contains(without, "Kun je nog inloggen in Teams?") {
		t.Error("a Teams link without a bot app id")
	}
	if _, err := New(Options{Desk: stoppedStoreDesk(t, seedInstitution(), c.now), BotAppID: `x"><script>`}); err == nil {
		t.Error("a malformed bot app id was accepted")
	}
}

// A school without the call option: step 2 has no call route, and a lost
// phone goes to the desk.
func TestWithoutTheCallOption(t *testing.T) {
	c := &clock{ams(2026, 11, 25, 10, 0)}
	set := testSettings
	set.VoiceCalls = false
	h := newTestHandler(t, c, func(o *Options) { o.Settings = set })
	page := body(t, get(h, "/hulp", "198.51.100.7:5000", nil))
	_, f := stepFields(t, page, 2)
	if len(f["do"]) != 2 {
		t.Errorf("step 2 has %d routes, want 2 (old phone, either)", len(f["do"]))
	}
	if strings.Contains(page, "Zonder je oude telefoon, met hetzelfde nummer") {
		t.Error("the call route is offered")
	}
	want, _ := dialogs.Text(set, "nl", "public.sit_lost_phone_nocall", nil)
	if !strings.Contains(page, want) {
		t.Error("lost phone does not send the student to the desk")
	}
}
