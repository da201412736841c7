// Package config owns mfabot's configuration: defaults, the optional YAML
// file, MFABOT_* environment variables, validation, and the typed Config
// that is decoded once and passed down. viper stays inside this package.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// Config is the whole configuration of one mfabot process.
type Config struct {
	Mode         string       `mapstructure:"mode"`
	HTTP         HTTP         `mapstructure:"http"`
	Log          Log          `mapstructure:"log"`
	Bot          Bot          `mapstructure:"bot"`
	Azure        Azure        `mapstructure:"azure"`
	Graph        Graph        `mapstructure:"graph"`
	Directory    string       `mapstructure:"directory"`
	Store        Store        `mapstructure:"store"`
	LLM          LLM          `mapstructure:"llm"`
	Staff        Staff        `mapstructure:"staff"`
	Conversation Conversation `mapstructure:"conversation"`
	Retention    Retention    `mapstructure:"retention"`
	Institution  Institution  `mapstructure:"institution"`
	Manifest     Manifest     `mapstructure:"manifest"`
}

type HTTP struct {
	Addr        string `mapstructure:"addr"`
	MetricsAddr string `mapstructure:"metrics_addr"`
	// PublicHelp serves the public help page at /hulp and /help.
	PublicHelp bool `mapstructure:"public_help"`
	// PublicHelpURL is the address students use for the help page (this
	// server's /hulp behind the proxy, or the school's own page): named in
	// the bot's welcome, and the Teams manifest's website URL unless
	// manifest.website_url is set.
	PublicHelpURL string `mapstructure:"public_help_url"`
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges)
	// whose X-Forwarded-For gives the client address for the help page's
	// rate limit.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
}

// TrustedProxyPrefixes is TrustedProxies parsed (after Validate).
func (h HTTP) TrustedProxyPrefixes() []netip.Prefix {
	out := []netip.Prefix{}
	for _, p := range h.TrustedProxies {
		if pr, ok := parseProxy(p); ok {
			out = append(out, pr)
		}
	}
	return out
}

func parseProxy(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), true
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), true
	}
	return netip.Prefix{}, false
}

type Log struct {
	Level string `mapstructure:"level"`
}

type Bot struct {
	AppID             string   `mapstructure:"app_id"`
	AppPassword       string   `mapstructure:"app_password" secret:"true"`
	TenantID          string   `mapstructure:"tenant_id"`
	CertificatePath   string   `mapstructure:"certificate_path"`
	OpenIDMetadataURL string   `mapstructure:"openid_metadata_url" secret:"url"`
	AllowedTenants    []string `mapstructure:"allowed_tenants"`
}

type Azure struct {
	AuthorityHost string `mapstructure:"authority_host" secret:"url"`
}

type Graph struct {
	BaseURL      string `mapstructure:"base_url" secret:"url"`
	Scope        string `mapstructure:"scope"`
	TenantID     string `mapstructure:"tenant_id"`
	ClientID     string `mapstructure:"client_id"`
	ClientSecret string `mapstructure:"client_secret" secret:"true"`
}

type Store struct {
	URL string `mapstructure:"url" secret:"url"`
}

type LLM struct {
	Provider   string `mapstructure:"provider"`
	BaseURL    string `mapstructure:"base_url" secret:"url"`
	APIKey     string `mapstructure:"api_key" secret:"true"`
	Model      string `mapstructure:"model"`
	APIVersion string `mapstructure:"api_version"`
}

type Staff struct {
	ChannelID  string `mapstructure:"channel_id"`
	ServiceURL string `mapstructure:"service_url" secret:"url"`
	// SessionKey signs dashboard session cookies; every instance needs the
	// same one (at least 32 characters). Empty in dev: a random key.
	SessionKey string `mapstructure:"session_key" secret:"true"`
	OIDC       OIDC   `mapstructure:"oidc"`
	// Actions turns on the service-desk account actions on the dashboard
	// (Temporary Access Pass, removing a registration, signing out
	// everywhere); they need Graph write permissions (docs/deploy.md).
	Actions bool `mapstructure:"actions"`
	// TAPLifetime is how long a Temporary Access Pass made there lasts
	// (10m to 720h, within the tenant's TAP policy).
	TAPLifetime time.Duration `mapstructure:"tap_lifetime"`
}

type OIDC struct {
	Issuer       string `mapstructure:"issuer" secret:"url"`
	ClientID     string `mapstructure:"client_id"`
	ClientSecret string `mapstructure:"client_secret" secret:"true"`
	Group        string `mapstructure:"group"`
	// RedirectURL is the public URL of /staff/auth/callback; empty means
	// derived from the request.
	RedirectURL string `mapstructure:"redirect_url"`
}

type Conversation struct {
	AbandonAfter time.Duration `mapstructure:"abandon_after"`
}

type Retention struct {
	TranscriptDays int `mapstructure:"transcript_days"`
	EscalationDays int `mapstructure:"escalation_days"`
}

// Desk is one walk-in service desk. Hours are per weekday in the
// institution's time zone.
type Desk struct {
	Name     string   `mapstructure:"name" yaml:"name"`
	Location string   `mapstructure:"location" yaml:"location"`
	Days     []string `mapstructure:"days" yaml:"days"`   // mon..sun
	Open     string   `mapstructure:"open" yaml:"open"`   // "08:00"
	Close    string   `mapstructure:"close" yaml:"close"` // "16:00"
}

// Hours is an opening-hours window used for the phone line.
type Hours struct {
	Days  []string `mapstructure:"days" yaml:"days"`
	Open  string   `mapstructure:"open" yaml:"open"`
	Close string   `mapstructure:"close" yaml:"close"`
}

type Institution struct {
	Name              string   `mapstructure:"name"`
	Phone             string   `mapstructure:"phone"`
	PhoneHours        *Hours   `mapstructure:"phone_hours"`
	Desks             []Desk   `mapstructure:"desks"`
	ClosedDays        []string `mapstructure:"closed_days"` // YYYY-MM-DD in Timezone
	Timezone          string   `mapstructure:"timezone"`
	SetupURL          string   `mapstructure:"setup_url"`
	PasswordChangeURL string   `mapstructure:"password_change_url"`
	IdentityCheck     string   `mapstructure:"identity_check"`
	VoiceCalls        string   `mapstructure:"voice_calls"` // auto, true or false (see VoiceCallsSetting)
	PrivacyText       string   `mapstructure:"privacy_text"`
}

type Manifest struct {
	AppID        string   `mapstructure:"app_id"`
	Name         string   `mapstructure:"name"`
	Developer    string   `mapstructure:"developer"`
	WebsiteURL   string   `mapstructure:"website_url"`
	PrivacyURL   string   `mapstructure:"privacy_url"`
	TermsURL     string   `mapstructure:"terms_url"`
	ValidDomains []string `mapstructure:"valid_domains"`
	Version      string   `mapstructure:"version"`
}

// Placeholder values of the manifest keys; config check flags them in
// production.
const (
	PlaceholderAppID = "00000000-0000-0000-0000-000000000000"
	PlaceholderURL   = "https://example.invalid/"
)

func setDefaults(v *viper.Viper) {
	v.SetDefault("mode", "dev")
	v.SetDefault("http.addr", "127.0.0.1:3978")
	v.SetDefault("http.metrics_addr", "127.0.0.1:9090")
	v.SetDefault("http.public_help", true)
	v.SetDefault("http.public_help_url", "")
	v.SetDefault("http.trusted_proxies", "127.0.0.1, ::1")
	v.SetDefault("log.level", "info")
	v.SetDefault("bot.app_id", "")
	v.SetDefault("bot.app_password", "")
	v.SetDefault("bot.tenant_id", "")
	v.SetDefault("bot.certificate_path", "")
	v.SetDefault("bot.openid_metadata_url", "https://login.botframework.com/v1/.well-known/openidconfiguration")
	v.SetDefault("bot.allowed_tenants", "")
	v.SetDefault("azure.authority_host", "https://login.microsoftonline.com/")
	v.SetDefault("graph.base_url", "https://graph.microsoft.com/v1.0")
	v.SetDefault("graph.scope", "https://graph.microsoft.com/.default")
	v.SetDefault("graph.tenant_id", "")
	v.SetDefault("graph.client_id", "")
	v.SetDefault("graph.client_secret", "")
	v.SetDefault("directory", "")
	v.SetDefault("store.url", "sqlite:./mfabot-data/mfabot.db")
	v.SetDefault("llm.provider", "none")
	v.SetDefault("llm.base_url", "")
	v.SetDefault("llm.api_key", "")
	v.SetDefault("llm.model", "")
	v.SetDefault("llm.api_version", "2024-10-21")
	v.SetDefault("staff.channel_id", "")
	v.SetDefault("staff.service_url", "")
	v.SetDefault("staff.session_key", "")
	v.SetDefault("staff.oidc.issuer", "")
	v.SetDefault("staff.oidc.client_id", "")
	v.SetDefault("staff.oidc.client_secret", "")
	v.SetDefault("staff.oidc.group", "")
	v.SetDefault("staff.oidc.redirect_url", "")
	v.SetDefault("staff.actions", false)
	v.SetDefault("staff.tap_lifetime", "60m")
	v.SetDefault("conversation.abandon_after", "24h")
	v.SetDefault("retention.transcript_days", 30)
	v.SetDefault("retention.escalation_days", 180)
	v.SetDefault("institution.name", "ICT Servicedesk")
	v.SetDefault("institution.phone", "088 - 469 9070")
	v.SetDefault("institution.desks", []map[string]any{
		{"name": "Zwolle", "location": "F2.03", "days": []string{"mon", "tue", "wed", "thu", "fri"}, "open": "08:00", "close": "16:00"},
		{"name": "Almere", "location": "Serviceplein, 6e etage", "days": []string{"mon", "tue", "wed", "thu", "fri"}, "open": "08:30", "close": "17:00"},
	})
	v.SetDefault("institution.closed_days", "")
	v.SetDefault("institution.timezone", "Europe/Amsterdam")
	v.SetDefault("institution.setup_url", "https://aka.ms/mfasetup")
	v.SetDefault("institution.password_change_url", "https://mysignins.microsoft.com/security-info/password/change")
	v.SetDefault("institution.identity_check", "Neem je identiteitsbewijs (paspoort, ID-kaart of rijbewijs) of je studentenpas mee. / Bring your passport, ID card or driving licence, or your student card.")
	v.SetDefault("institution.voice_calls", VoiceCallsAuto)
	// Empty: the bot tells each student in their own language what it keeps.
	v.SetDefault("institution.privacy_text", "")
	v.SetDefault("manifest.app_id", PlaceholderAppID)
	v.SetDefault("manifest.name", "MFA-hulp")
	v.SetDefault("manifest.developer", "ICT Servicedesk")
	v.SetDefault("manifest.website_url", PlaceholderURL)
	v.SetDefault("manifest.privacy_url", PlaceholderURL)
	v.SetDefault("manifest.terms_url", PlaceholderURL)
	v.SetDefault("manifest.valid_domains", "")
	v.SetDefault("manifest.version", "1.0.0")
}

// Load reads the defaults, the YAML file at path (if not empty; else
// MFABOT_CONFIG) and the MFABOT_* environment, then validates.
func Load(path string) (*Config, error) {
	c, err := decode(path)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadForPackaging reads the configuration like Load but checks only what
// building the Teams app package needs: an administrator can build it
// without the bot's secret (bot.app_id is not a secret).
func LoadForPackaging(path string) (*Config, error) {
	c, err := decode(path)
	if err != nil {
		return nil, err
	}
	if c.Bot.AppID == "" {
		return nil, errors.New("bot.app_id: required to build the Teams app package (the manifest's botId)")
	}
	return c, nil
}

func decode(path string) (*Config, error) {
	v := viper.New()
	setDefaults(v)
	v.SetEnvPrefix("MFABOT")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	// Every key has a default, so AutomaticEnv sees it; BindEnv makes that
	// explicit for keys whose default is a structured value.
	for _, k := range v.AllKeys() {
		_ = v.BindEnv(k)
	}
	if path == "" {
		path = os.Getenv("MFABOT_CONFIG")
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config: read %s: %w", path, err)
		}
	}
	var c Config
	dec := viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		stringToListHook,
	))
	// Exact: a misspelt key in the file (voice_call for voice_calls) is an
	// error, not silently ignored.
	if err := v.UnmarshalExact(&c, dec); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.normalise()
	return &c, nil
}

// stringToListHook turns "a, b" (as environment variables give lists)
// into []string{"a","b"}; an empty string becomes an empty list.
func stringToListHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() != reflect.Slice || to.Elem().Kind() != reflect.String {
		return data, nil
	}
	s := strings.TrimSpace(data.(string))
	if s == "" {
		return []string{}, nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

func (c *Config) normalise() {
	c.Mode = strings.ToLower(strings.TrimSpace(c.Mode))
	if c.Directory == "" {
		if c.Mode == "production" {
			c.Directory = "graph"
		} else {
			c.Directory = "demo"
		}
	}
	if len(c.Bot.AllowedTenants) == 0 && c.Bot.TenantID != "" {
		c.Bot.AllowedTenants = []string{c.Bot.TenantID}
	}
	if c.Graph.TenantID == "" {
		c.Graph.TenantID = c.Bot.TenantID
	}
	if c.Graph.ClientID == "" {
		c.Graph.ClientID = c.Bot.AppID
	}
	if c.Graph.ClientSecret == "" {
		c.Graph.ClientSecret = c.Bot.AppPassword
	}
	if c.LLM.Provider == "" {
		c.LLM.Provider = "none"
	}
	c.HTTP.PublicHelpURL = strings.TrimSpace(c.HTTP.PublicHelpURL)
	if c.Manifest.WebsiteURL == PlaceholderURL && c.HTTP.PublicHelpURL != "" {
		// The school named its help page and no other website.
		c.Manifest.WebsiteURL = c.HTTP.PublicHelpURL
	}
}

// Dev reports whether the process runs in dev mode.
func (c *Config) Dev() bool { return c.Mode == "dev" }

// HasBotCredentials reports whether any bot credential is configured.
func (c *Config) HasBotCredentials() bool {
	return c.Bot.AppID != "" || c.Bot.AppPassword != "" || c.Bot.CertificatePath != ""
}

// Validate checks the configuration and returns one error naming every
// offending key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	switch c.Mode {
	case "dev":
		if c.HasBotCredentials() {
			bad("mode", "dev mode refuses bot credentials (bot.app_id, bot.app_password, bot.certificate_path); set mode: production")
		}
		if c.Directory == "graph" {
			bad("directory", "dev mode refuses directory=graph; set mode: production")
		}
		if !loopbackAddr(c.HTTP.Addr) {
			bad("http.addr", "dev mode only listens on a loopback address, got %q", c.HTTP.Addr)
		}
	case "production":
		if c.Bot.AppID == "" {
			bad("bot.app_id", "required in production mode")
		}
		if c.Bot.AppPassword == "" && c.Bot.CertificatePath == "" {
			bad("bot.app_password", "required in production mode (or bot.certificate_path)")
		}
		if c.Bot.TenantID == "" {
			bad("bot.tenant_id", "required in production mode (single-tenant bot)")
		}
	default:
		bad("mode", "must be dev or production, got %q", c.Mode)
	}
	if u := c.HTTP.PublicHelpURL; u != "" {
		if pu, err := url.Parse(u); err != nil || pu.Host == "" || (pu.Scheme != "https" && pu.Scheme != "http") || pu.User != nil {
			bad("http.public_help_url", "must be an absolute http(s) URL without a user name, got %q", u)
		} else if c.Mode == "production" && pu.Scheme != "https" {
			bad("http.public_help_url", "must use https in production mode")
		}
	}
	for _, p := range c.HTTP.TrustedProxies {
		if _, ok := parseProxy(p); !ok {
			bad("http.trusted_proxies", "%q is not an IP address or CIDR range", p)
		}
	}
	if c.Directory != "demo" && c.Directory != "graph" {
		bad("directory", "must be graph or demo, got %q", c.Directory)
	}
	for _, k := range []struct{ key, val string }{
		{"bot.openid_metadata_url", c.Bot.OpenIDMetadataURL},
		{"azure.authority_host", c.Azure.AuthorityHost},
		{"graph.base_url", c.Graph.BaseURL},
	} {
		if u, err := url.Parse(k.val); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			bad(k.key, "must be an absolute http(s) URL, got %q", k.val)
		} else if c.Mode == "production" && u.Scheme != "https" {
			bad(k.key, "must use https in production mode")
		}
	}
	if !strings.HasPrefix(c.Store.URL, "sqlite:") && !strings.HasPrefix(c.Store.URL, "postgres://") && !strings.HasPrefix(c.Store.URL, "postgresql://") {
		bad("store.url", "must start with sqlite: or postgres://")
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	if c.Mode == "production" && c.Directory == "demo" {
		bad("directory", "demo is a simulation for dev mode; production reads Microsoft Graph (directory: graph)")
	}
	switch c.LLM.Provider {
	case "none":
	case "openai", "azure":
		if c.LLM.Model == "" {
			bad("llm.model", "required when llm.provider is %s", c.LLM.Provider)
		}
		if c.LLM.Provider == "azure" && c.LLM.BaseURL == "" {
			bad("llm.base_url", "required when llm.provider is azure")
		}
	default:
		bad("llm.provider", "must be none, openai or azure, got %q", c.LLM.Provider)
	}
	if c.LLM.Provider != "none" && c.LLM.BaseURL != "" {
		// The API key travels with every request: https, or a server on
		// this machine (a local Ollama or vLLM).
		if u, err := url.Parse(c.LLM.BaseURL); err != nil || u.Host == "" {
			bad("llm.base_url", "must be an absolute URL")
		} else if c.Mode == "production" && u.Scheme != "https" && !loopbackHost(u.Hostname()) {
			bad("llm.base_url", "must use https in production mode (http only for a server on this machine)")
		}
	}
	if c.Staff.ChannelID != "" && c.Mode == "production" && c.Staff.ServiceURL == "" {
		bad("staff.service_url", "required when staff.channel_id is set")
	}
	if c.Staff.ServiceURL != "" {
		if u, err := url.Parse(c.Staff.ServiceURL); err != nil || u.Host == "" {
			bad("staff.service_url", "must be an absolute URL")
		} else if c.Mode == "production" && u.Scheme != "https" {
			bad("staff.service_url", "must use https in production mode")
		}
	}
	if o := c.Staff.OIDC; o.Issuer != "" {
		if u, err := url.Parse(o.Issuer); err != nil || u.Host == "" {
			bad("staff.oidc.issuer", "must be an absolute URL")
		} else if c.Mode == "production" && u.Scheme != "https" {
			bad("staff.oidc.issuer", "must use https in production mode")
		}
		if o.ClientID == "" {
			bad("staff.oidc.client_id", "required when staff.oidc.issuer is set")
		}
		if o.Group == "" {
			bad("staff.oidc.group", "required when staff.oidc.issuer is set: only members of this group may use the dashboard")
		}
		if c.Mode == "production" && o.ClientSecret == "" {
			bad("staff.oidc.client_secret", "required when staff.oidc.issuer is set")
		}
		if c.Mode == "production" && len(c.Staff.SessionKey) < 32 {
			bad("staff.session_key", "at least 32 characters, the same on every instance (it signs the dashboard's session cookies)")
		}
	}
	if c.Staff.Actions && c.Mode == "production" && c.Staff.OIDC.Issuer == "" {
		bad("staff.actions", "needs the dashboard's OIDC sign-in (staff.oidc.issuer): account actions are never offered without it")
	}
	if c.Staff.TAPLifetime < 10*time.Minute || c.Staff.TAPLifetime > 43200*time.Minute {
		bad("staff.tap_lifetime", "must be between 10m and 720h (Microsoft's bounds for a Temporary Access Pass), got %s", c.Staff.TAPLifetime)
	} else if c.Staff.TAPLifetime%time.Minute != 0 {
		bad("staff.tap_lifetime", "must be whole minutes, got %s", c.Staff.TAPLifetime)
	}
	if c.Staff.SessionKey != "" && len(c.Staff.SessionKey) < 32 {
		bad("staff.session_key", "at least 32 characters")
	}
	if c.Conversation.AbandonAfter <= 0 {
		bad("conversation.abandon_after", "must be a positive duration such as 24h")
	}
	if c.Retention.TranscriptDays <= 0 || c.Retention.TranscriptDays > MaxRetentionDays {
		bad("retention.transcript_days", "must be between 1 and %d", MaxRetentionDays)
	}
	if c.Retention.EscalationDays <= 0 || c.Retention.EscalationDays > MaxRetentionDays {
		bad("retention.escalation_days", "must be between 1 and %d", MaxRetentionDays)
	}
	if _, err := time.LoadLocation(c.Institution.Timezone); err != nil {
		bad("institution.timezone", "unknown time zone %q", c.Institution.Timezone)
	}
	switch v := strings.ToLower(strings.TrimSpace(c.Institution.VoiceCalls)); v {
	case VoiceCallsAuto, "true", "false":
		c.Institution.VoiceCalls = v
	case "1", "yes", "on":
		c.Institution.VoiceCalls = "true" // a YAML true arrives as "1"
	case "0", "no", "off":
		c.Institution.VoiceCalls = "false"
	default:
		bad("institution.voice_calls", "%q: want auto, true or false", c.Institution.VoiceCalls)
	}
	for i, d := range c.Institution.Desks {
		if d.Name == "" {
			bad(fmt.Sprintf("institution.desks[%d].name", i), "required")
		}
		if !validClock(d.Open) || !validClock(d.Close) || d.Open >= d.Close {
			bad(fmt.Sprintf("institution.desks[%d]", i), "open/close must be HH:MM with open before close")
		}
		if err := validDays(d.Days); err != nil {
			bad(fmt.Sprintf("institution.desks[%d].days", i), "%v", err)
		}
	}
	if h := c.Institution.PhoneHours; h != nil {
		if !validClock(h.Open) || !validClock(h.Close) || h.Open >= h.Close {
			bad("institution.phone_hours", "open/close must be HH:MM with open before close")
		}
		if err := validDays(h.Days); err != nil {
			bad("institution.phone_hours.days", "%v", err)
		}
	}
	for _, d := range c.Institution.ClosedDays {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			bad("institution.closed_days", "%q is not a date YYYY-MM-DD", d)
		}
	}
	return errors.Join(errs...)
}

// ProductionWarnings lists values that are allowed but certainly wrong
// in production (placeholders left in place).
func (c *Config) ProductionWarnings() []string {
	var w []string
	if c.Mode != "production" {
		return nil
	}
	if c.Manifest.AppID == PlaceholderAppID {
		w = append(w, "manifest.app_id: still the placeholder")
	}
	for _, k := range []struct{ key, val string }{
		{"manifest.website_url", c.Manifest.WebsiteURL},
		{"manifest.privacy_url", c.Manifest.PrivacyURL},
		{"manifest.terms_url", c.Manifest.TermsURL},
	} {
		if k.val == PlaceholderURL {
			w = append(w, k.key+": still the placeholder")
		}
	}
	if c.Staff.OIDC.Issuer == "" {
		w = append(w, "staff.oidc.issuer: not set, the staff dashboard is disabled")
	}
	return w
}

// MaxRetentionDays bounds the retention keys (ten years).
const MaxRetentionDays = 3650

func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return loopbackHost(host)
}

func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validClock(s string) bool {
	_, err := time.Parse("15:04", s)
	return err == nil && len(s) == 5
}

var weekdays = map[string]bool{"mon": true, "tue": true, "wed": true, "thu": true, "fri": true, "sat": true, "sun": true}

func validDays(days []string) error {
	if len(days) == 0 {
		return errors.New("at least one day (mon..sun)")
	}
	for _, d := range days {
		if !weekdays[strings.ToLower(d)] {
			return fmt.Errorf("%q is not one of mon..sun", d)
		}
	}
	return nil
}

// VoiceCallsAuto is institution.voice_calls' default: the call option
// while Microsoft still calls and texts (until 31 January 2027).
const VoiceCallsAuto = "auto"

// MicrosoftVoiceEnd is when Microsoft stops SMS and voice verification:
// 1 February 2027, 00:00 in Europe/Amsterdam.
var MicrosoftVoiceEnd = func() time.Time {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC) // CET is UTC+1
	}
	return time.Date(2027, 2, 1, 0, 0, 0, 0, ams)
}()

// VoiceCallsSetting says whether the call route is offered and until
// when (zero: no end): auto until Microsoft's end date, true for a school
// with its own telecom provider, false never.
func (in Institution) VoiceCallsSetting() (on bool, end time.Time) {
	switch in.VoiceCalls {
	case "false":
		return false, time.Time{}
	case "true":
		return true, time.Time{}
	default:
		return true, MicrosoftVoiceEnd
	}
}
