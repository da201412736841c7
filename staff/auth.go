package staff

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"mfabot/internal/devlocal"
)

// oidcProvider is the discovered identity provider, kept once discovery
// succeeded (a provider that is down at start-up is retried on the next
// sign-in).
type oidcProvider struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	client   *http.Client
}

func (s *server) httpClient() *http.Client {
	if s.opt.OIDC.HTTPClient != nil {
		return s.opt.OIDC.HTTPClient
	}
	return &http.Client{Timeout: 15 * time.Second}
}

func (s *server) provider() (*oidcProvider, error) {
	s.oidcMu.Lock()
	defer s.oidcMu.Unlock()
	if s.oidcP != nil {
		return s.oidcP, nil
	}
	client := s.httpClient()
	// The key set keeps this context for later key fetches, so it must
	// not be cancelled; the client's timeout bounds each request.
	ctx := oidc.ClientContext(context.Background(), client)
	p, err := oidc.NewProvider(ctx, s.opt.OIDC.Issuer)
	if err != nil {
		return nil, fmt.Errorf("staff: oidc discovery: %w", err)
	}
	s.oidcP = &oidcProvider{
		provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: s.opt.OIDC.ClientID, Now: s.now}),
		client:   client,
	}
	return s.oidcP, nil
}

func (s *server) oauthConfig(r *http.Request, p *oidcProvider) *oauth2.Config {
	redirect := s.opt.OIDC.RedirectURL
	if redirect == "" {
		scheme := "https"
		if s.opt.Dev && r.TLS == nil {
			scheme = "http"
		}
		redirect = scheme + "://" + r.Host + callbackPath
	}
	return &oauth2.Config{
		ClientID:     s.opt.OIDC.ClientID,
		ClientSecret: s.opt.OIDC.ClientSecret,
		Endpoint:     p.provider.Endpoint(),
		RedirectURL:  redirect,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

// safeNext keeps the post-login redirect on the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, prefix) || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "..") || strings.HasPrefix(next, loginPath) ||
		strings.HasPrefix(next, "/staff/auth/") {
		return prefix
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// devAllowed: the developer sign-in only works in dev mode, from the
// developer's own machine (internal/devlocal, the rule the bot's
// /api/messages follows in dev mode too).
func (s *server) devAllowed(r *http.Request) bool {
	return s.opt.Dev && devlocal.Refusal(r) == ""
}

type loginData struct {
	Next    string
	OIDC    bool
	Dev     bool
	Message string
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.currentSession(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "login", "Aanmelden", loginData{
		Next: safeNext(r.URL.Query().Get("next")),
		OIDC: s.opt.OIDC.Issuer != "",
		Dev:  s.devAllowed(r),
	})
}

func (s *server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.opt.OIDC.Issuer == "" {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Aanmelden via de organisatie is niet ingesteld.")
		return
	}
	p, err := s.provider()
	if err != nil {
		s.log.Error("oidc provider unavailable", "err", err)
		s.errorPage(w, r, http.StatusBadGateway, "Aanmelden lukt nu niet", "De aanmeldserver is niet bereikbaar. Probeer het over een paar minuten opnieuw.")
		return
	}
	st := loginState{
		State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(r.URL.Query().Get("next")), Expires: s.now().Add(loginTTL).Unix(),
		Fresh: r.URL.Query().Get("fresh") == "1",
	}
	v, err := s.sign("login", st)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.SetCookie(w, s.cookie(loginCookie, v, "/staff/auth/", loginTTL))
	opts := []oauth2.AuthCodeOption{oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)}
	if st.Fresh {
		// Account actions: the identity provider must authenticate the
		// staff member again unless they did within FreshSignIn.
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.Itoa(int(FreshSignIn/time.Second))))
	}
	u := s.oauthConfig(r, p).AuthCodeURL(st.State, opts...)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
}

// idClaims are the ID token claims the dashboard uses.
type idClaims struct {
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	OID               string   `json:"oid"`
	Groups            []string `json:"groups"`
	AuthTime          int64    `json:"auth_time"`
}

func (s *server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	refuse := func(reason string) {
		s.log.Warn("oidc callback refused", "reason", reason)
		metricLogins.WithLabelValues("oidc", "failed").Inc()
		s.errorPage(w, r, http.StatusBadRequest, "Aanmelden mislukt", "De aanmelding kon niet worden bevestigd. Probeer het opnieuw.")
	}
	if s.opt.OIDC.Issuer == "" {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Aanmelden via de organisatie is niet ingesteld.")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil {
		refuse("no login state cookie")
		return
	}
	// The state is single use: drop the cookie whatever happens next.
	http.SetCookie(w, s.cookie(loginCookie, "", "/staff/auth/", -1))
	var st loginState
	if err := s.verify("login", c.Value, &st); err != nil || s.now().Unix() >= st.Expires {
		refuse("login state invalid or expired")
		return
	}
	q := r.URL.Query()
	if got := q.Get("state"); got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(st.State)) != 1 {
		refuse("state mismatch")
		return
	}
	if e := q.Get("error"); e != "" {
		s.log.Warn("identity provider returned an error", "error", e)
		s.errorPage(w, r, http.StatusForbidden, "Aanmelden mislukt", "De aanmeldserver heeft de aanmelding geweigerd.")
		return
	}
	code := q.Get("code")
	if code == "" {
		refuse("no code")
		return
	}
	p, err := s.provider()
	if err != nil {
		s.log.Error("oidc provider unavailable", "err", err)
		s.errorPage(w, r, http.StatusBadGateway, "Aanmelden lukt nu niet", "De aanmeldserver is niet bereikbaar. Probeer het over een paar minuten opnieuw.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	ctx = context.WithValue(oidc.ClientContext(ctx, p.client), oauth2.HTTPClient, p.client)
	tok, err := s.oauthConfig(r, p).Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.log.Warn("oidc code exchange failed", "err", err)
		refuse("code exchange failed")
		return
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		refuse("no id_token")
		return
	}
	idt, err := p.verifier.Verify(ctx, raw)
	if err != nil {
		s.log.Warn("id token rejected", "err", err)
		refuse("id token invalid")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		refuse("nonce mismatch")
		return
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		refuse("claims unreadable")
		return
	}
	subject := cl.OID
	if subject == "" {
		subject = idt.Subject
	}
	name := firstNonEmpty(cl.Name, cl.PreferredUsername, cl.Email, subject)
	upn := firstNonEmpty(cl.PreferredUsername, cl.Email)
	if !contains(cl.Groups, s.opt.OIDC.Group) {
		s.audit(r.Context(), name, "login_denied", 0, "not in staff group; subject "+subject)
		s.log.Warn("staff sign-in refused: not in staff group", "subject", subject)
		metricLogins.WithLabelValues("oidc", "denied").Inc()
		s.errorPage(w, r, http.StatusForbidden, "Geen toegang", "Je account is niet lid van de groep die dit dashboard mag gebruiken. Vraag toegang aan bij de beheerder van de ICT Servicedesk.")
		return
	}
	authTime := cl.AuthTime
	if authTime > s.now().Add(time.Minute).Unix() {
		authTime = 0 // from the future: not trusted as fresh
	}
	if st.Fresh && (authTime == 0 || s.now().Sub(time.Unix(authTime, 0)) > FreshSignIn) {
		s.log.Warn("fresh sign-in asked, identity provider gave an older one", "subject", subject, "auth_time", authTime)
	}
	if err := s.startSession(w, session{Name: name, UPN: upn, Subject: subject, Method: "oidc", AuthTime: authTime}); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(r.Context(), name, "login", 0, "oidc; subject "+subject)
	s.log.Info("staff signed in", "method", "oidc", "subject", subject)
	metricLogins.WithLabelValues("oidc", "ok").Inc()
	http.Redirect(w, r, safeNext(st.Next), http.StatusSeeOther)
}

func (s *server) devLogin(w http.ResponseWriter, r *http.Request) {
	if !s.devAllowed(r) {
		s.log.Warn("developer sign-in refused", "remote", r.RemoteAddr)
		metricLogins.WithLabelValues("dev", "denied").Inc()
		s.errorPage(w, r, http.StatusForbidden, "Geen toegang", "Aanmelden als ontwikkelaar kan alleen op deze computer zelf (loopback), zonder proxy.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" || len(name) > 80 || strings.ContainsAny(name, "\r\n\t") {
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, http.StatusBadRequest, "login", "Aanmelden", loginData{
			Next: safeNext(r.PostFormValue("next")), OIDC: s.opt.OIDC.Issuer != "", Dev: true,
			Message: "Vul een naam in (hoogstens 80 tekens).",
		})
		return
	}
	if err := s.startSession(w, session{Name: name, Subject: "dev:" + name, Method: "dev", AuthTime: s.now().Unix()}); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.audit(r.Context(), name, "login", 0, "dev sign-in")
	s.log.Info("staff signed in", "method", "dev")
	metricLogins.WithLabelValues("dev", "ok").Inc()
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	ss := sessionFrom(r.Context())
	http.SetCookie(w, s.cookie(sessionCookie, "", prefix, -1))
	s.audit(r.Context(), ss.Name, "logout", 0, "")
	http.Redirect(w, r, loginPath, http.StatusSeeOther)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
