package public

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"mfabot/dialogs"
)

// chromium returns the browser to drive, or skips the test (fails in CI).
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("MFABOT_TEST_CHROMIUM")
	if path == "" {
		if os.Getenv("MFABOT_TEST_REQUIRE") == "1" {
			t.Fatal("MFABOT_TEST_CHROMIUM is not set and MFABOT_TEST_REQUIRE=1")
		}
		t.Skip("MFABOT_TEST_CHROMIUM not set: browser test skipped")
	}
	return path
}

// axeSource reads axe-core (MFABOT_TEST_AXE: axe.min.js, or a directory
// holding it or node_modules/axe-core/axe.min.js). Without it the
// accessibility check is skipped, saying so, unless MFABOT_TEST_REQUIRE=1.
func axeSource(t *testing.T) string {
	t.Helper()
	p := os.Getenv("MFABOT_TEST_AXE")
	if p != "" {
		for _, f := range []string{p, filepath.Join(p, "axe.min.js"), filepath.Join(p, "node_modules", "axe-core", "axe.min.js")} {
			if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
				return string(b)
			}
		}
	}
	if os.Getenv("MFABOT_TEST_REQUIRE") == "1" {
		t.Fatalf("axe-core not found at MFABOT_TEST_AXE=%q and MFABOT_TEST_REQUIRE=1", p)
	}
	t.Logf("MFABOT_TEST_AXE not set or no axe.min.js there: accessibility check skipped")
	return ""
}

// artifactDir keeps screenshots: MFABOT_TEST_ARTIFACTS (as the staff
// dashboard's browser test), else the test's artifact directory (kept
// with go test -artifacts).
func artifactDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("MFABOT_TEST_ARTIFACTS"); dir != "" {
		dir = filepath.Join(dir, "public-help")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

// browserLang makes the browser send Accept-Language lang, with a
// phone's or a desktop's user agent.
func browserLang(acceptLanguage string, phone bool) chromedp.Action[chromedp.Void] {
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"
	if phone {
		ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Mobile Safari/537.36"
	}
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: acceptLanguage})
		return chromedp.Void{}, err
	}
}

type domStep struct {
	ID    string   `json:"id"`
	Title string   `json:"title"`
	Do    []string `json:"do"`
	Where []string `json:"where"`
}

type axeResult struct {
	Violations []struct {
		ID     string   `json:"id"`
		Impact string   `json:"impact"`
		Help   string   `json:"help"`
		Nodes  []string `json:"nodes"`
	} `json:"violations"`
	Passes int `json:"passes"`
}

// TestBrowserHelpPage walks the page in real Chromium at phone and
// desktop width, in both languages, inside and outside opening hours:
// the steps are the bot's, the desk states are right for the clock, no
// cookie is set, the keyboard reaches the skip link first, nothing
// scrolls sideways on a phone, axe-core finds no WCAG 2.1 A/AA (nor
// best-practice) violation, and the print stylesheet fits the page on
// paper. Screenshots and the PDF go to the artifact directory.
func TestBrowserHelpPage(t *testing.T) {
	exe := chromium(t)
	axe := axeSource(t)
	dir := artifactDir(t)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelC()
	if err := chromedp.Do(ctx); err != nil { // start the browser on a context without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()

	// What the bot shows at each step (the walk through the real engine),
	// per language and route.
	bot := map[string]map[string]map[int]dialogs.Card{}
	for _, lang := range dialogs.Languages {
		bot[lang] = map[string]map[int]dialogs.Card{
			dialogs.RouteOldPhone: botCards(t, testSettings, lang, dialogs.SitMovePhone),
			dialogs.RouteCall:     botCards(t, testSettings, lang, dialogs.SitLostPhone),
			dialogs.RouteEither:   botCards(t, testSettings, lang, dialogs.SitSigninProblem),
			// the other way of step 7: sign in in the app
			dialogs.PairingSignIn: botCardsAt7(t, testSettings, lang, dialogs.SitSigninProblem, dialogs.ActSignInPath),
		}
	}

	clocks := []struct {
		name  string
		now   time.Time
		state map[string][]string // desk states per language
	}{
		{"open", ams(2026, 11, 25, 10, 0), map[string][]string{
			"nl": {"Nu open tot 16:00", "Nu open tot 17:00"}, "en": {"Open now until 16:00", "Open now until 17:00"}}},
		{"closed", ams(2026, 11, 27, 19, 0), map[string][]string{
			"nl": {"Gesloten, gaat maandag om 8:00 open", "Gesloten, gaat maandag om 8:30 open"},
			"en": {"Closed, opens on Monday at 8:00", "Closed, opens on Monday at 8:30"}}},
		{"christmas", ams(2026, 12, 25, 11, 0), map[string][]string{
			"nl": {"Gesloten, gaat maandag om 8:00 open", "Gesloten, gaat maandag om 8:30 open"},
			"en": {"Closed, opens on Monday at 8:00", "Closed, opens on Monday at 8:30"}}},
	}
	widths := []struct {
		name string
		w, h int64
		mob  bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 900, false}}

	var axeLog []string
	for _, ck := range clocks {
		c := &clock{ck.now}
		srv := httptest.NewServer(newTestHandler(t, c, nil))
		defer srv.Close()
		for _, wd := range widths {
			for _, lang := range dialogs.Languages {
				if ck.name == "christmas" && wd.name == "desktop" {
					continue // the closed day once, at phone width
				}
				name := fmt.Sprintf("%s-%s-%s", ck.name, lang, wd.name)
				path := map[string]string{"nl": "/hulp", "en": "/help"}[lang]
				vp := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
				if wd.mob {
					vp = append(vp, chromedp.EmulateMobile)
				}
				// A Dutch student's browser, or an English one.
				accept := map[string]string{"nl": "nl-NL,nl;q=0.9,en;q=0.8", "en": "en-GB,en;q=0.9"}[lang]
				if err := chromedp.Do(ctx,
					chromedp.EmulateViewport(wd.w, wd.h, vp...),
					browserLang(accept, wd.mob),
					chromedp.Navigate(srv.URL+path),
					chromedp.WaitVisible(chromedp.CSS(`h1`)),
				); err != nil {
					t.Fatalf("%s: open: %v", name, err)
				}
				eval := func(js string, into any) {
					t.Helper()
					raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js))
					if err != nil {
						t.Fatalf("%s: %s: %v", name, js, err)
					}
					if err := json.Unmarshal(raw, into); err != nil {
						t.Fatalf("%s: %s: %v (%s)", name, js, err, raw)
					}
				}

				var htmlLang string
				eval(`document.documentElement.lang`, &htmlLang)
				if htmlLang != lang {
					t.Errorf("%s: <html lang=%q>", name, htmlLang)
				}
				var jsCookie string
				eval(`document.cookie`, &jsCookie)
				cookies, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
					return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL + path, srv.URL + StylePath}})
				})
				if err != nil {
					t.Fatalf("%s: cookies: %v", name, err)
				}
				if jsCookie != "" || len(cookies.Cookies) > 0 {
					t.Errorf("%s: cookies set: %q %d", name, jsCookie, len(cookies.Cookies))
				}

				// The steps, as a reader sees them, against the bot's cards.
				var steps []domStep
				var stepsJSON string
				eval(`JSON.stringify([...document.querySelectorAll('li.step')].map(li => ({id: li.id,
					title: li.querySelector('.title').innerText,
					do: [...li.querySelectorAll('p.do')].map(p => p.innerText),
					where: [...li.querySelectorAll('p.where')].map(p => p.innerText)})))`, &stepsJSON)
				if err := json.Unmarshal([]byte(stepsJSON), &steps); err != nil {
					t.Fatal(err)
				}
				if len(steps) != 12 {
					t.Fatalf("%s: %d steps on the page", name, len(steps))
				}
				for i, s := range steps {
					n := i + 1
					either := bot[lang][dialogs.RouteEither][n]
					if want := plainText(either.Title); s.Title != want {
						t.Errorf("%s step %d title %q, bot %q", name, n, s.Title, want)
					}
					routes := []string{dialogs.RouteEither}
					switch {
					case n == 2:
						routes = []string{dialogs.RouteOldPhone, dialogs.RouteCall, dialogs.RouteEither}
					case n > 7 && bot[lang][dialogs.PairingSignIn][n].Body[0] != either.Body[0]:
						routes = []string{dialogs.RouteEither, dialogs.PairingSignIn} // the QR code, then signing in
					}
					if len(s.Do) != len(routes) {
						t.Fatalf("%s step %d: %d instructions, want %d", name, n, len(s.Do), len(routes))
					}
					for j, r := range routes {
						card := bot[lang][r][n]
						if want := plainText(card.Body[0]); s.Do[j] != want {
							t.Errorf("%s step %d (%s): page %q, bot %q", name, n, r, s.Do[j], want)
						}
						if want := plainText(card.Where); s.Where[j] != want {
							t.Errorf("%s step %d (%s) where: page %q, bot %q", name, n, r, s.Where[j], want)
						}
					}
				}

				// The desks at this clock.
				var states []string
				var statesJSON string
				eval(`JSON.stringify([...document.querySelectorAll('.desks .state')].map(e => e.innerText))`, &statesJSON)
				_ = json.Unmarshal([]byte(statesJSON), &states)
				if !slices.Equal(states, ck.state[lang]) {
					t.Errorf("%s: desk states %q, want %q", name, states, ck.state[lang])
				}
				var tel string
				eval(`document.querySelector('.call a').getAttribute('href')`, &tel)
				if tel != "tel:+31884699070" {
					t.Errorf("%s: call link %q", name, tel)
				}
				var scroll struct{ Doc, Win int }
				var scrollJSON string
				eval(`JSON.stringify({Doc: document.documentElement.scrollWidth, Win: window.innerWidth})`, &scrollJSON)
				_ = json.Unmarshal([]byte(scrollJSON), &scroll)
				if scroll.Doc > scroll.Win {
					t.Errorf("%s: the page scrolls sideways (%d > %d)", name, scroll.Doc, scroll.Win)
				}
				// Keyboard: the first Tab lands on the skip link, visibly.
				if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
					t.Fatal(err)
				}
				var focus string
				eval(`(() => { const e = document.activeElement, r = e.getBoundingClientRect();
					return e.className + (r.top >= 0 && r.height > 0 ? ' visible' : ' hidden') })()`, &focus)
				if focus != "skip visible" {
					t.Errorf("%s: first Tab focuses %q, want the visible skip link", name, focus)
				}
				if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil { // move on: screenshots without the skip link
					t.Fatal(err)
				}
				if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`)); err != nil {
					t.Fatal(err)
				}

				// The CSP is in force: a script element added to the page does not run.
				var ran bool
				eval(`(() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true';
					document.body.appendChild(s); s.remove(); return window.__ran === true })()`, &ran)
				if ran {
					t.Errorf("%s: an inline script ran despite the CSP", name)
				}

				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatalf("%s: screenshot: %v", name, err)
				}
				shot := filepath.Join(dir, name+".png")
				if err := os.WriteFile(shot, png, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot: %s", shot)

				if axe != "" {
					// Injected through the DevTools protocol: the page's CSP
					// (no script at all) does not apply to it.
					if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
						t.Fatalf("%s: inject axe-core: %v", name, err)
					}
					raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag',
						values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}, resultTypes: ['violations']})
						.then(r => JSON.stringify({violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
							nodes: v.nodes.map(n => n.target.join(' '))})), passes: r.passes.length}))`, chromedp.EvalAwaitPromise))
					if err != nil {
						t.Fatalf("%s: axe.run: %v", name, err)
					}
					var res axeResult
					if err := json.Unmarshal([]byte(raw), &res); err != nil {
						t.Fatal(err)
					}
					for _, v := range res.Violations {
						t.Errorf("%s: axe %s (%s): %s at %s", name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
					}
					axeLog = append(axeLog, fmt.Sprintf("%s: %d violations, %d rules passed", name, len(res.Violations), res.Passes))
				}
			}
		}
		if ck.name == "open" {
			// An English-only browser sent to /hulp reads English, and the
			// visible switch gives Dutch.
			if err := chromedp.Do(ctx, browserLang("en-US", true), chromedp.Navigate(srv.URL+"/hulp"), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
				t.Fatal(err)
			}
			h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1`)))
			if want, _ := dialogs.Text(testSettings, "en", "public.title", nil); h1 != want {
				t.Errorf("English browser at /hulp: h1 %q, want %q", h1, want)
			}
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav.lang a`)), chromedp.WaitVisible(chromedp.CSS(`html[lang=nl] h1`))); err != nil {
				t.Fatalf("language switch: %v", err)
			}
			if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/hulp?lang=nl") {
				t.Errorf("the switch went to %s", loc)
			}
			// On paper (A4), Dutch.
			if err := chromedp.Do(ctx, browserLang("nl-NL,nl", false), chromedp.Navigate(srv.URL+"/hulp"), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
				t.Fatal(err)
			}
			pdf, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (page.PrintToPDFResult, error) {
				return cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: 8.27, PaperHeight: 11.69})
			})
			if err != nil {
				t.Fatalf("print: %v", err)
			}
			p := filepath.Join(dir, "print-nl-a4.pdf")
			if err := os.WriteFile(p, pdf.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			pages := bytes.Count(pdf.Data, []byte("/Type /Page")) - bytes.Count(pdf.Data, []byte("/Type /Pages"))
			t.Logf("print: %s (%d A4 pages)", p, pages)
			if pages < 1 || pages > 3 {
				t.Errorf("the printed page takes %d A4 sheets, want at most 3", pages)
			}
		}
	}
	for _, l := range axeLog {
		t.Logf("axe-core: %s", l)
	}
}
