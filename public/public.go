// Package public owns the public help page (/hulp in Dutch, /help in
// English): the guide's situations and twelve steps for a student who
// cannot sign in at all, rendered from the bot's own flow and language
// files, and the service desk's phone and opening hours, live. No sign-in,
// no personal data, no cookies, no script, no form; it reads neither the
// store nor Graph nor the LLM, so it stays up when they are down.
package public

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"mfabot/dialogs"
	"mfabot/handoff"
)

//go:embed templates/page.html
var pageFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// Desk gives the service desk's contact details at a moment.
// handoff.Service implements it from the configuration alone, without
// the store.
type Desk interface {
	ContactFor(now time.Time, lang string) handoff.Contact
}

// Options configure the page.
type Options struct {
	// Settings are the chat's own (setup and password URLs, the call
	// option), so the page says what the bot says.
	Settings dialogs.Settings
	Desk     Desk
	// BotAppID is the bot's Microsoft App ID; when set, the page links to
	// the chat with the bot in Teams.
	BotAppID string
	// Dev: answer only loopback requests without proxy headers, as the
	// rest of a dev-mode server does.
	Dev bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed for the rate limit; nil: loopback only.
	TrustedProxies []netip.Prefix
	// Rate (requests a second) and Burst per client address; defaults 5
	// and 60.
	Rate  float64
	Burst int
	Now   func() time.Time
	Log   *slog.Logger
}

// Paths of the page and its stylesheet.
const (
	PathNL    = "/hulp"
	PathEN    = "/help"
	StylePath = "/hulp/style.css"
	// maxAge bounds how long a browser or proxy may keep the page: the
	// desk states in it are at most this old (less, near a change).
	maxAge = 60
)

// Handler serves the page.
type Handler struct {
	o        Options
	tmpl     *template.Template
	styleURL string
	teamsURL string
	limit    *limiter
	mux      *http.ServeMux
}

var appIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// New checks the options and the texts the page needs.
func New(o Options) (*Handler, error) {
	if o.Desk == nil {
		return nil, errors.New("public: Options.Desk is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Rate <= 0 {
		o.Rate = 5
	}
	if o.Burst <= 0 {
		o.Burst = 60
	}
	if o.TrustedProxies == nil {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	h := &Handler{o: o, limit: newLimiter(o.Rate, o.Burst, 10000)}
	if id := strings.TrimSpace(o.BotAppID); id != "" {
		if !appIDPattern.MatchString(id) {
			return nil, fmt.Errorf("public: bot app id %q is not a GUID", id)
		}
		h.teamsURL = "https://teams.microsoft.com/l/chat/0/0?users=28:" + strings.ToLower(id)
	}
	sum := sha256.Sum256(styleCSS)
	h.styleURL = StylePath + "?v=" + hex.EncodeToString(sum[:6])
	var err error
	h.tmpl, err = template.New("page.html").ParseFS(pageFS, "templates/page.html")
	if err != nil {
		return nil, fmt.Errorf("public: template: %w", err)
	}
	// Render once per language now: a missing text fails at start-up, not
	// in front of a student.
	for _, lang := range dialogs.Languages {
		if _, err := h.render(lang, o.Now()); err != nil {
			return nil, err
		}
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET "+PathNL, h.page("nl"))
	h.mux.HandleFunc("GET "+PathEN, h.page("en"))
	h.mux.HandleFunc("GET "+PathNL+"/{$}", redirect(PathNL))
	h.mux.HandleFunc("GET "+PathEN+"/{$}", redirect(PathEN))
	h.mux.HandleFunc("GET "+StylePath, h.style)
	return h, nil
}

// Routes are the patterns to mount the handler at.
func Routes() []string {
	return []string{PathNL, PathNL + "/", PathEN, PathEN + "/"}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if h.o.Dev && !devAllowed(r) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "dev mode: only from this machine, without a proxy in front\n")
		return
	}
	key, ok := clientKey(r, h.o.TrustedProxies)
	if !ok {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if ok, retry := h.limit.allow(key, h.o.Now()); !ok {
		h.tooMany(w, r, retry)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func securityHeaders(hd http.Header) {
	// No script at all; the only stylesheet is our own file.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
}

func redirect(to string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		target := to
		if q := r.URL.Query().Get("lang"); q == "nl" || q == "en" {
			target += "?lang=" + q
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	}
}

// page serves the page; the path gives the language unless ?lang= or
// the browser's Accept-Language names one we have.
func (h *Handler) page(pathLang string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang, negotiated := pickLang(r, pathLang)
		now := h.o.Now()
		body, err := h.render(lang, now)
		if err != nil {
			h.o.Log.Error("public help page: render failed", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		hd := w.Header()
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Content-Language", lang)
		if negotiated {
			hd.Set("Vary", "Accept-Language")
		}
		hd.Set("Cache-Control", "public, max-age="+strconv.Itoa(h.maxAge(lang, now)))
		hd.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}
}

// maxAge: the page can be kept until the first desk state in it changes,
// and never longer than a minute.
func (h *Handler) maxAge(lang string, now time.Time) int {
	until := h.o.Desk.ContactFor(now, lang).ValidUntil
	if until.IsZero() {
		return maxAge
	}
	secs := int(math.Floor(until.Sub(now).Seconds()))
	return max(0, min(maxAge, secs))
}

func (h *Handler) style(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/css; charset=utf-8")
	if r.URL.Query().Get("v") != "" {
		// The page links to the file by its content hash: a new version
		// gets a new address.
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "public, max-age=3600")
	}
	hd.Set("Content-Length", strconv.Itoa(len(styleCSS)))
	_, _ = w.Write(styleCSS)
}

// tooMany still gives the desk's phone number: the student who is
// refused may be the one who needs it most.
func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, retry time.Duration) {
	lang, _ := pickLang(r, langOfPath(r.URL.Path))
	c := h.o.Desk.ContactFor(h.o.Now(), lang)
	msg, _ := dialogs.Text(h.o.Settings, lang, "public.too_many", nil)
	if c.Phone != "" {
		call, _ := dialogs.Text(h.o.Settings, lang, "public.desk_phone", nil)
		msg += "\n" + c.Name + ", " + strings.ToLower(call) + ": " + c.Phone
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retry.Seconds())))))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = io.WriteString(w, msg+"\n")
}

func langOfPath(p string) string {
	if strings.HasPrefix(p, PathEN) {
		return "en"
	}
	return "nl"
}

// pickLang: ?lang=nl|en (the visible switch); else the path's language
// (the link the student followed) when the browser accepts it or names
// neither; else the one of nl and en the browser prefers. So a Dutch
// student whose browser is English but lists Dutch gets /hulp in Dutch,
// and an exchange student sent to /hulp with an English-only browser
// gets English. negotiated tells whether Accept-Language was looked at
// (the response then varies with it).
func pickLang(r *http.Request, pathLang string) (lang string, negotiated bool) {
	if q := r.URL.Query().Get("lang"); q == "nl" || q == "en" {
		return q, false
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil {
		return pathLang, true
	}
	preferred := ""
	for _, t := range tags {
		base, _ := t.Base()
		switch b := base.String(); {
		case b == pathLang:
			return pathLang, true
		case (b == "nl" || b == "en") && preferred == "":
			preferred = b
		}
	}
	if preferred != "" {
		return preferred, true
	}
	return pathLang, true
}

var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "X-Client-Ip", "True-Client-Ip", "Cf-Connecting-Ip"}

// devAllowed is dev mode's fence, the one /api/messages and the staff
// dev sign-in apply: a loopback peer and no proxy in front.
func devAllowed(r *http.Request) bool {
	for _, hd := range proxyHeaders {
		if _, ok := r.Header[hd]; ok {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (h *Handler) render(lang string, now time.Time) ([]byte, error) {
	v, err := h.view(lang, now)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := h.tmpl.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("public: render %s: %w", lang, err)
	}
	return buf.Bytes(), nil
}
