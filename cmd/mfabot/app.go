package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"mfabot/bot"
	"mfabot/bot/auth"
	"mfabot/bot/connector"
	"mfabot/config"
	"mfabot/dialogs"
	"mfabot/dialogs/intent"
	"mfabot/graph"
	"mfabot/graph/msgraph"
	"mfabot/handoff"
	"mfabot/internal/safe"
	"mfabot/llm"
	"mfabot/public"
	"mfabot/staff"
	"mfabot/store"
)

// app is one wired mfabot: every package built from the configuration.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	now     func() time.Time
	store   store.Store
	dir     graph.Directory
	handoff *handoff.Service
	runner  *dialogs.Runner
	bot     *bot.Server
	staff   http.Handler
	help    http.Handler // the public help page; nil when http.public_help is false
}

// appOptions lets tests hand in transports that trust the local fakes.
type appOptions struct {
	HTTPClient *http.Client // for every outbound call (token, connector, graph, llm, oidc)
	Now        func() time.Time
}

func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	return newAppWith(ctx, cfg, log, appOptions{})
}

func newAppWith(ctx context.Context, cfg *config.Config, log *slog.Logger, o appOptions) (_ *app, err error) {
	if err := dialogs.Validate(); err != nil {
		return nil, fmt.Errorf("dialog flow is invalid: %w", err)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	a := &app{cfg: cfg, log: log, now: now}
	a.store, err = store.Open(ctx, cfg.Store.URL)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	st := a.store
	defer func() {
		if err != nil {
			st.Close()
		}
	}()

	a.dir, err = newDirectory(cfg, log, o.HTTPClient)
	if err != nil {
		return nil, err
	}
	classifier, err := llm.New(llm.Config{
		Provider: cfg.LLM.Provider, BaseURL: cfg.LLM.BaseURL, APIKey: cfg.LLM.APIKey,
		Model: cfg.LLM.Model, APIVersion: cfg.LLM.APIVersion, HTTPClient: o.HTTPClient,
		Now: now, Logger: log, AllowedURLs: allowedURLs(cfg), DetectLanguage: intent.DetectLanguage,
	})
	if err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}

	var cred azcore.TokenCredential
	if !cfg.Dev() {
		cred, err = connector.NewCredential(connector.CredentialOptions{
			AppID: cfg.Bot.AppID, Password: cfg.Bot.AppPassword, CertificatePath: cfg.Bot.CertificatePath,
			TenantID: cfg.Bot.TenantID, AuthorityHost: cfg.Azure.AuthorityHost, Transport: o.HTTPClient,
		})
		if err != nil {
			return nil, fmt.Errorf("bot credentials: %w", err)
		}
	}
	// The bot's token only goes to serviceUrls of validated activities
	// and the configured staff service URL.
	trusted := bot.NewServiceURLs(cfg.Staff.ServiceURL)
	conn := connector.New(connector.Config{
		Credential: cred, HTTPClient: o.HTTPClient, AllowServiceURL: trusted.Allowed, Now: now, Logger: log,
	})

	var validator bot.TokenValidator
	if !cfg.Dev() {
		validator = auth.New(auth.Config{AppID: cfg.Bot.AppID, MetadataURL: cfg.Bot.OpenIDMetadataURL, HTTPClient: o.HTTPClient, Now: now, Logger: log})
	}

	// One id per process, for leases in a shared store and in the logs.
	instanceID := newInstanceID()

	// handoff needs the bot's Notifier and the bot needs handoff: the
	// notifier is attached once the bot exists.
	notifier := &lateNotifier{}
	a.handoff, err = handoff.NewService(handoff.Options{
		Store: a.store, Notifier: notifier, Institution: institution(cfg),
		StaffChannelID: cfg.Staff.ChannelID, DashboardURL: dashboardURL(cfg), InstanceID: instanceID, Now: now, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("handoff: %w", err)
	}
	runnerOpts := dialogs.RunnerOptions{
		Store: a.store, Directory: a.dir, Escalator: a.handoff,
		Settings: dialogSettings(cfg), Now: now, Logger: log,
	}
	if classifier != nil {
		runnerOpts.Classifier = classifier
		runnerOpts.Answerer = classifier
	}
	a.runner, err = dialogs.NewRunner(runnerOpts)
	if err != nil {
		return nil, fmt.Errorf("dialogs: %w", err)
	}
	a.bot, err = bot.New(bot.Options{
		Dev: cfg.Dev(), AppID: cfg.Bot.AppID, AllowedTenants: cfg.Bot.AllowedTenants,
		StaffChannelID: cfg.Staff.ChannelID, StaffServiceURL: cfg.Staff.ServiceURL, StaffTenantID: cfg.Bot.TenantID,
		Store: a.store, Validator: validator, Connector: conn, Turns: a.runner, Staff: a.handoff,
		Logger: log, Now: now, ServiceURLs: trusted, TurnTimeout: turnTimeout, InstanceID: instanceID,
		DeskName: cfg.Institution.Name, DeskPhone: cfg.Institution.Phone,
	})
	if err != nil {
		return nil, fmt.Errorf("bot: %w", err)
	}
	notifier.set(a.bot.Notifier())
	if cfg.HTTP.PublicHelp {
		a.help, err = public.New(public.Options{Settings: dialogSettings(cfg), Desk: a.handoff, BotAppID: cfg.Bot.AppID,
			Dev: cfg.Dev(), TrustedProxies: cfg.HTTP.TrustedProxyPrefixes(), Now: now, Log: log})
		if err != nil {
			return nil, fmt.Errorf("public help page: %w", err)
		}
	}

	if !cfg.Dev() && cfg.Staff.OIDC.Issuer == "" {
		// Without a sign-in there is no dashboard (config check warns).
		a.staff = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "The staff dashboard is disabled: configure staff.oidc.issuer, client_id, client_secret and group.", http.StatusServiceUnavailable)
		})
		return a, nil
	}
	a.staff, err = staff.New(staff.Options{
		Store: a.store, Actions: a.handoff, Dev: cfg.Dev(),
		OIDC: staff.OIDCOptions{
			Issuer: cfg.Staff.OIDC.Issuer, ClientID: cfg.Staff.OIDC.ClientID, ClientSecret: cfg.Staff.OIDC.ClientSecret,
			Group: cfg.Staff.OIDC.Group, RedirectURL: cfg.Staff.OIDC.RedirectURL, HTTPClient: o.HTTPClient,
		},
		SessionKey: sessionKey(cfg), StepOrder: dialogs.StepOrder(), Now: now, Logger: log,
		Account: staffAccount(cfg, a.dir), Route: a.runner, TAPLifetime: cfg.Staff.TAPLifetime,
	})
	if err != nil {
		return nil, fmt.Errorf("staff dashboard: %w", err)
	}
	return a, nil
}

// Handler is the public HTTP surface: /api/messages, /healthz, /readyz
// and the staff dashboard.
func (a *app) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", a.bot.Handler())
	mux.Handle("/staff/", a.staff)
	mux.Handle("GET /staff", http.RedirectHandler("/staff/", http.StatusFound))
	if a.help != nil {
		for _, p := range public.Routes() {
			mux.Handle(p, a.help)
		}
	}
	return mux
}

// RunWorkers runs the inbox worker, timers, and the periodic sweeps
// (abandoned conversations, retention) until ctx ends.
func (a *app) RunWorkers(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		a.sweepLoop(ctx)
	}()
	go func() {
		defer wg.Done()
		a.handoff.RunOutbox(ctx) // staff action notifications: retries, and those of a stopped instance
	}()
	err := a.bot.Run(ctx)
	wg.Wait()
	// Staff actions still running, then the card updates and messages to
	// students they queued.
	waitCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if werr := a.bot.WaitDetached(waitCtx); werr != nil {
		a.log.Error("staff actions still running at shutdown", "err", werr)
	}
	if werr := a.handoff.Wait(waitCtx); werr != nil {
		a.log.Error("staff notifications still pending at shutdown", "err", werr)
	}
	return err
}

func (a *app) sweepLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		a.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep records abandoned conversations and purges what is past its
// retention period.
func (a *app) sweep(ctx context.Context) {
	defer safe.Recover(a.log, "sweep") // the next tick tries again
	now := a.now()
	n, err := a.store.AbandonIdle(ctx, now.Add(-a.cfg.Conversation.AbandonAfter), now)
	if err != nil && ctx.Err() == nil {
		a.log.Error("abandon sweep failed", "err", err)
	} else if n > 0 {
		a.log.Info("conversations abandoned", "count", n)
	}
	if n, err := a.handoff.PostPending(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("posting pending staff cards failed", "err", err)
	} else if n > 0 {
		a.log.Info("pending staff cards posted", "count", n)
	}
	transcriptsBefore := now.AddDate(0, 0, -a.cfg.Retention.TranscriptDays)
	escalationsBefore := now.AddDate(0, 0, -a.cfg.Retention.EscalationDays)
	if err := a.store.Purge(ctx, transcriptsBefore, escalationsBefore); err != nil && ctx.Err() == nil {
		a.log.Error("retention purge failed", "err", err)
	}
}

func (a *app) Close() error { return a.store.Close() }

func newDirectory(cfg *config.Config, log *slog.Logger, hc *http.Client) (graph.Directory, error) {
	if cfg.Directory == "demo" {
		return graph.NewDemo(), nil
	}
	gc := msgraph.Config{
		BaseURL: cfg.Graph.BaseURL, Scope: cfg.Graph.Scope, TenantID: cfg.Graph.TenantID,
		ClientID: cfg.Graph.ClientID, ClientSecret: cfg.Graph.ClientSecret,
		AuthorityHost: cfg.Azure.AuthorityHost, Transport: hc, Logger: log,
	}
	if gc.ClientSecret == "" {
		// The bot authenticates with a certificate: Graph uses it too.
		gc.CertificatePath = cfg.Bot.CertificatePath
	}
	d, err := msgraph.New(gc)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	return d, nil
}

func institution(cfg *config.Config) handoff.Institution {
	in := cfg.Institution
	out := handoff.Institution{
		Name: in.Name, Phone: in.Phone, ClosedDays: in.ClosedDays, Timezone: in.Timezone,
		SetupURL: in.SetupURL, PasswordChangeURL: in.PasswordChangeURL, IdentityCheck: in.IdentityCheck,
	}
	if in.PhoneHours != nil {
		out.PhoneHours = &handoff.Hours{Days: in.PhoneHours.Days, Open: in.PhoneHours.Open, Close: in.PhoneHours.Close}
	}
	for _, d := range in.Desks {
		out.Desks = append(out.Desks, handoff.Desk{Name: d.Name, Location: d.Location, Days: d.Days, Open: d.Open, Close: d.Close})
	}
	return out
}

func dialogSettings(cfg *config.Config) dialogs.Settings {
	in := cfg.Institution
	calls, callsEnd := in.VoiceCallsSetting()
	return dialogs.Settings{
		VoiceCalls: calls, VoiceCallsEnd: callsEnd, SetupURL: in.SetupURL, PasswordChangeURL: in.PasswordChangeURL,
		InstitutionName: in.Name, PrivacyText: in.PrivacyText, PublicHelpURL: cfg.HTTP.PublicHelpURL,
	}
}

// allowedURLs are the only links an LLM answer may contain.
func allowedURLs(cfg *config.Config) []string {
	return []string{cfg.Institution.SetupURL, cfg.Institution.PasswordChangeURL, "https://aka.ms/mfasetup", "https://mysignins.microsoft.com"}
}

// dashboardURL is the public address of /staff/ for links on the staff
// card: derived from the OIDC redirect URL, or the dev listen address.
func dashboardURL(cfg *config.Config) string {
	if r := cfg.Staff.OIDC.RedirectURL; r != "" {
		if i := strings.Index(r, "/staff/"); i >= 0 {
			return r[:i+len("/staff/")]
		}
	}
	if cfg.Dev() {
		return "http://" + cfg.HTTP.Addr + "/staff/"
	}
	return ""
}

// turnTimeout bounds one turn (Graph and LLM calls, replies); shutdown
// waits a little longer so that in-flight turns can finish.
const turnTimeout = 30 * time.Second

// drainTimeout bounds the wait for staff actions and their notifications
// at shutdown, after the turns have finished.
const drainTimeout = 15 * time.Second

// sessionKey is the configured dashboard cookie key; nil lets staff make
// a random one (dev mode).
func sessionKey(cfg *config.Config) []byte {
	if cfg.Staff.SessionKey == "" {
		return nil
	}
	return []byte(cfg.Staff.SessionKey)
}

// newInstanceID names this process: the host name and a random suffix.
func newInstanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%x", host, b)
}
