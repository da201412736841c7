// Package staff owns the service desk's web dashboard under /staff/: the
// escalation queue, an escalation's detail page with claim/resolve/reopen,
// the statistics, the CSV export, and the sign-in (OpenID Connect, or a
// loopback-only developer sign-in in dev mode). Staff actions go through
// Actions (implemented by handoff); the service-desk account actions
// (staff.actions: Temporary Access Pass, removing a lost phone, signing
// out everywhere) through AccountActions (actions.go); everything else
// reads the store.
package staff

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
	_ "time/tzdata" // the display time zone must exist on minimal hosts

	"mfabot/handoff"
	"mfabot/internal/devlocal"
	"mfabot/store"
)

// Actions are the staff actions with side effects (audit log, Teams card
// update, message to the student). *handoff.Service implements them.
type Actions interface {
	Claim(ctx context.Context, id int64, actor string) (store.Escalation, error)
	Resolve(ctx context.Context, id int64, actor, note string) (store.Escalation, error)
	Reopen(ctx context.Context, id int64, actor string) (store.Escalation, error)
}

var _ Actions = (*handoff.Service)(nil)

// dashboardStore is what the dashboard reads and writes of the store: the
// escalations, their audit log, the statistics and the answer feedback.
// (The one-time keys of the account actions are asked for with a type
// assertion, see actionKeyStore.)
type dashboardStore interface {
	store.Escalations
	store.AuditLog
	store.Statistics
	store.Feedback
}

// OIDCOptions configure the OpenID Connect sign-in.
type OIDCOptions struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// Group must appear in the ID token's "groups" claim.
	Group string
	// RedirectURL is the absolute URL of /staff/auth/callback as
	// registered at the identity provider. Empty: derived from the
	// request (https, or http in dev mode without TLS).
	RedirectURL string
	// HTTPClient talks to the identity provider; nil: a client with a
	// 15 s timeout.
	HTTPClient *http.Client
}

// Options configure the dashboard.
type Options struct {
	Store   dashboardStore // a store.Store
	Actions Actions
	// Dev enables the loopback-only developer sign-in and allows cookies
	// without the Secure flag.
	Dev  bool
	OIDC OIDCOptions
	// SessionKey signs the session cookies; nil: random (sessions end
	// on restart and are not shared between instances).
	SessionKey []byte
	// StepOrder orders the step funnel (the flow's steps; their names
	// come from the language files, like every label staff read).
	StepOrder []string
	Now       func() time.Time
	Logger    *slog.Logger
	// Location is the time zone times are shown in; nil: Europe/Amsterdam.
	Location *time.Location
	// Account turns on the service-desk account actions (staff.actions;
	// actions.go); nil: off. Route tells the student's conversation about
	// a pass; TAPLifetime is staff.tap_lifetime (0: 60 minutes).
	Account     AccountActions
	Route       StudentRoute
	TAPLifetime time.Duration
}

// Paths, relative to the host. The lead mounts the handler at "/staff/".
const (
	prefix       = "/staff/"
	loginPath    = "/staff/login"
	callbackPath = "/staff/auth/callback"
)

const (
	sessionTTL  = 8 * time.Hour
	loginTTL    = 10 * time.Minute
	pollSeconds = 4
	queueLimit  = 200
	exportLimit = 10000
	maxNoteLen  = 2000
)

type server struct {
	opt     Options
	now     func() time.Time
	log     *slog.Logger
	loc     *time.Location
	key     []byte
	pages   *pages
	cop     *http.CrossOriginProtection
	oidcMu  sync.Mutex
	oidcP   *oidcProvider
	handler http.Handler
	locks   actionLocks     // account actions per escalation
	keysMu  sync.Mutex      // keys: one-time form keys, for a store
	keys    map[string]bool // without action_keys (tests' fakes)
}

// New builds the dashboard handler. Outside dev mode the OIDC issuer,
// client id and group are required.
func New(o Options) (http.Handler, error) {
	if o.Store == nil {
		return nil, errors.New("staff: Store is required")
	}
	if o.Actions == nil {
		return nil, errors.New("staff: Actions is required")
	}
	oidcOn := o.OIDC.Issuer != ""
	if oidcOn && (o.OIDC.ClientID == "" || o.OIDC.Group == "") {
		return nil, errors.New("staff: OIDC needs a client id and a staff group")
	}
	if !o.Dev && !oidcOn {
		return nil, errors.New("staff: OIDC issuer is required outside dev mode")
	}
	s := &server{opt: o, now: o.Now, log: o.Logger, loc: o.Location, key: o.SessionKey}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.log = s.log.With("component", "staff")
	if s.loc == nil {
		loc, err := time.LoadLocation("Europe/Amsterdam")
		if err != nil {
			return nil, fmt.Errorf("staff: load time zone: %w", err)
		}
		s.loc = loc
	}
	if len(s.key) == 0 {
		s.key = make([]byte, 32)
		if _, err := rand.Read(s.key); err != nil {
			return nil, fmt.Errorf("staff: session key: %w", err)
		}
	} else if len(s.key) < 16 {
		return nil, errors.New("staff: SessionKey must be at least 16 bytes")
	}
	p, err := loadPages(s)
	if err != nil {
		return nil, err
	}
	s.pages = p
	s.cop = http.NewCrossOriginProtection()
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		metricRefused.WithLabelValues("cross_origin").Inc()
		s.errorPage(w, r, http.StatusForbidden, "Verzoek geweigerd", "Dit formulier kwam niet van het dashboard zelf.")
	}))
	s.handler = s.routes()
	return s, nil
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /staff/static/{file}", s.static)

	mux.HandleFunc("GET /staff/login", s.loginPage)
	mux.HandleFunc("GET /staff/auth/start", s.oidcStart)
	mux.HandleFunc("GET /staff/auth/callback", s.oidcCallback)
	if s.opt.Dev {
		mux.HandleFunc("POST /staff/login/dev", s.devLogin)
	}
	mux.HandleFunc("POST /staff/logout", s.requirePOST(s.logout))

	mux.HandleFunc("GET /staff/{$}", s.requireGET(s.queue))
	mux.HandleFunc("GET /staff/queue/fragment", s.requireAPI(s.queueFragment))
	mux.HandleFunc("GET /staff/escalations/{id}", s.requireGET(s.detail))
	mux.HandleFunc("GET /staff/escalations/{id}/version", s.requireAPI(s.detailVersion))
	mux.HandleFunc("POST /staff/escalations/{id}/claim", s.requirePOST(s.claim))
	mux.HandleFunc("POST /staff/escalations/{id}/resolve", s.requirePOST(s.resolve))
	mux.HandleFunc("POST /staff/escalations/{id}/reopen", s.requirePOST(s.reopen))
	mux.HandleFunc("GET /staff/stats", s.requireGET(s.stats))
	mux.HandleFunc("GET /staff/stats.csv", s.requireGET(s.statsCSV))
	mux.HandleFunc("GET /staff/export.csv", s.requireGET(s.export))
	s.actionRoutes(mux)
	mux.HandleFunc("/staff/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze pagina bestaat niet.")
	})
	return s.cop.Handler(mux)
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	// In dev mode the dashboard listens on loopback without a real
	// sign-in. A web page the developer visits can still reach it by DNS
	// rebinding (its own name resolving to 127.0.0.1, so the browser
	// treats it as same-origin); only a loopback Host is the developer.
	if s.opt.Dev && !devlocal.LoopbackHost(r.Host) {
		s.log.Warn("dev mode request with a foreign Host refused", "path", r.URL.Path)
		metricRefused.WithLabelValues("dev_host_not_loopback").Inc()
		s.errorPage(w, r, http.StatusForbidden, "Verzoek geweigerd", "In de ontwikkelmodus werkt het dashboard alleen via localhost of 127.0.0.1.")
		return
	}
	s.handler.ServeHTTP(w, r)
}

// audit writes an audit entry; a failure is logged, never shown.
func (s *server) audit(ctx context.Context, actor, action string, id int64, detail string) {
	err := s.opt.Store.AppendAudit(ctx, store.AuditEntry{
		At: s.now().UTC(), Actor: actor, Action: action, EscalationID: id, Detail: detail,
	})
	if err != nil {
		s.log.Error("audit write failed", "action", action, "escalation", id, "err", err)
	}
}
