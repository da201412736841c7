package staff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"mfabot/dialogs/texts"
	"mfabot/graph"
	"mfabot/store"
)

// Service-desk account actions (staff.actions): on a claimed escalation,
// for the staff member who claimed it, after they recorded how they
// checked the student's identity and with a sign-in of at most
// FreshSignIn ago: a Temporary Access Pass, removing a lost phone's
// registration, signing out everywhere. Each is confirmed on a page that
// names the student, CSRF-protected, keyed once (a double click acts
// once), audited (never the pass), and refused for an account whose
// registration details say isAdmin.

// AccountActions are the Graph calls behind the actions (graph.Demo,
// graph/msgraph implement them).
type AccountActions interface {
	Methods(ctx context.Context, userID string) ([]graph.Method, error)
	RegistrationDetails(ctx context.Context, userID string) (graph.RegistrationDetails, error)
	CreateTAP(ctx context.Context, userID string, req graph.TAPRequest) (graph.TAP, error)
	DeleteAuthenticator(ctx context.Context, userID, methodID string) error
	DeleteFIDO2(ctx context.Context, userID, methodID string) error
	RevokeSignInSessions(ctx context.Context, userID string) error
}

// StudentRoute tells the student's conversation that the desk gave them
// a pass (dialogs.Runner implements it: the route from step 3 on).
type StudentRoute interface {
	StaffPassIssued(ctx context.Context, conversationID string) error
}

// actionKeyStore is implemented by the SQL stores (store/actions.go):
// a form's one-time key, claimed before Graph is called.
type actionKeyStore interface {
	ClaimActionKey(ctx context.Context, key string, escalationID int64, action string, at time.Time) (bool, error)
}

const (
	// FreshSignIn is how recent the staff member's sign-in must be for
	// an account action (OIDC max_age).
	FreshSignIn = 10 * time.Minute
	// DefaultTAPLifetime is staff.tap_lifetime's default.
	DefaultTAPLifetime = 60 * time.Minute
	actionTimeout      = 20 * time.Second
)

// Identity check methods a staff member can record. Name, student number
// and date of birth are not among them: anyone can know those.
var identityMethods = []struct{ Code, Label string }{
	{"document", "Identiteitsbewijs gezien aan de balie"},
	{"video", "Videogesprek met identiteitsbewijs in beeld"},
	{"callback", "Teruggebeld op het nummer dat in de administratie staat"},
}

func identityLabel(code string) (string, bool) {
	for _, m := range identityMethods {
		if m.Code == code {
			return m.Label, true
		}
	}
	return "", false
}

func init() {
	for k, v := range map[string]string{
		"identity_checked": "identiteit gecontroleerd",
		"tap_created":      "tijdelijke toegangspas gemaakt",
		"method_removed":   "aanmeldmethode verwijderd",
		"sessions_revoked": "overal afgemeld",
		"action_refused":   "actie geweigerd",
		"action_failed":    "actie mislukt",
	} {
		auditLabels[k] = v
	}
}

// actionFlashes are the actions' messages on the detail page.
var actionFlashes = map[string]struct {
	text string
	err  bool
}{
	"identity":    {"Vastgelegd hoe je de identiteit hebt gecontroleerd. De acties hieronder zijn nu beschikbaar.", false},
	"identity_no": {"Kies hoe je de identiteit hebt gecontroleerd.", true},
	"removed":     {"De aanmeldmethode is verwijderd. Hieronder staat de lijst zoals Microsoft Graph die nu geeft.", false},
	"revoked":     {"De student is overal afgemeld. Let op: toegangstokens blijven nog tot een uur geldig.", false},
	"twice":       {"Dit formulier is al verwerkt (dubbele klik of opnieuw verzonden). Er is niets nog eens gedaan.", true},
}

// actionLocks serialise the actions per escalation on this instance (the
// store's one-time keys do it across instances).
type actionLocks struct {
	mu sync.Mutex
	m  map[int64]*sync.Mutex
}

func (l *actionLocks) lock(id int64) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[int64]*sync.Mutex{}
	}
	m := l.m[id]
	if m == nil {
		m = &sync.Mutex{}
		l.m[id] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// actionsView is the actions panel of the detail page.
type actionsView struct {
	On              bool
	ID              int64
	Student         string
	Claimer         bool   // the viewer claimed this escalation
	ClaimedBy       string // who did, when it is someone else
	Claimed         bool
	IdentityChecked bool
	IdentityHow     string
	IdentityMethods []struct{ Code, Label string }
	Fresh           bool
	FreshURL        string // OIDC sign-in again; empty in dev (form below)
	DevName         string // the dev re-sign-in form's name
	Security        bool
	Admin           bool
	Blocked         string // a reason no action can be taken at all
	Methods         []graph.Method
	MethodsErr      string
	Removable       []graph.Method
	CSRF            string
	Flash           string
	FlashError      bool
	TAPMinutes      int
}

// Ready: every condition for an account action holds.
func (v actionsView) Ready() bool {
	return v.On && v.Claimer && v.IdentityChecked && v.Fresh && !v.Admin && v.Blocked == ""
}

func (s *server) actionsOn() bool { return s.opt.Account != nil }

func (s *server) tapMinutes() int {
	d := s.opt.TAPLifetime
	if d <= 0 {
		d = DefaultTAPLifetime
	}
	return int(d / time.Minute)
}

// identityCheck returns how the viewer checked the student's identity
// since they claimed the escalation ("" if they did not).
func identityCheck(e store.Escalation, audit []store.AuditEntry, actor string) string {
	if e.ClaimedAt == nil {
		return ""
	}
	how := ""
	for _, a := range audit {
		if a.Action == "identity_checked" && a.Actor == actor && !a.At.Before(e.ClaimedAt.Add(-time.Second)) {
			how = a.Detail
		}
	}
	return how
}

func (s *server) fresh(ss *session) bool {
	return ss.AuthTime > 0 && s.now().Sub(time.Unix(ss.AuthTime, 0)) <= FreshSignIn
}

// actionsPanel builds the panel; it reads the methods and the
// registration report live when the viewer may act.
func (s *server) actionsPanel(r *http.Request, e store.Escalation, audit []store.AuditEntry) *actionsView {
	if !s.actionsOn() {
		return nil
	}
	ss := sessionFrom(r.Context())
	v := &actionsView{
		On: true, ID: e.ID, Student: studentName(e), Security: e.Security, CSRF: ss.CSRF,
		Claimed: e.Status == store.StatusClaimed, IdentityMethods: identityMethods, TAPMinutes: s.tapMinutes(),
	}
	v.Claimer = v.Claimed && e.ClaimedBy == ss.Name
	if v.Claimed && !v.Claimer {
		v.ClaimedBy = e.ClaimedBy
	}
	v.IdentityHow = identityCheck(e, audit, ss.Name)
	v.IdentityChecked = v.IdentityHow != ""
	v.Fresh = s.fresh(ss)
	if s.opt.OIDC.Issuer != "" && ss.Method == "oidc" {
		v.FreshURL = "/staff/auth/start?fresh=1&next=" + urlQueryEscape(fmt.Sprintf("/staff/escalations/%d", e.ID))
	} else if ss.Method == "dev" {
		v.DevName = ss.Name
	}
	if f, ok := actionFlashes[r.URL.Query().Get("a")]; ok {
		v.Flash, v.FlashError = f.text, f.err
	}
	if msg := r.URL.Query().Get("e"); msg != "" {
		if text, ok := errorSentences[msg]; ok {
			v.Flash, v.FlashError = text, true
		}
	}
	if e.StudentObjectID == "" {
		v.Blocked = "Van deze student is geen object-ID bekend; acties op het account zijn niet mogelijk."
		return v
	}
	if !v.Claimer || !v.IdentityChecked {
		return v
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	if blocked := s.adminBlock(ctx, e); blocked != "" {
		v.Admin, v.Blocked = true, blocked
		return v
	}
	ms, err := s.opt.Account.Methods(ctx, e.StudentObjectID)
	if err != nil {
		s.log.Warn("actions: methods not read", "escalation", e.ID, "err", err)
		v.MethodsErr = sentence(err, "read")
		return v
	}
	v.Methods = ms
	for _, m := range ms {
		if m.Kind == graph.KindAuthenticator || m.Kind == graph.KindFIDO2 {
			v.Removable = append(v.Removable, m)
		}
	}
	return v
}

// adminBlock refuses accounts whose registration details say isAdmin,
// and accounts whose report cannot be read (fail closed).
func (s *server) adminBlock(ctx context.Context, e store.Escalation) string {
	rd, err := s.opt.Account.RegistrationDetails(ctx, e.StudentObjectID)
	if err != nil {
		s.log.Warn("actions: registration details not read", "escalation", e.ID, "err", err)
		return "Het registratierapport van dit account is niet te lezen (AuditLog.Read.All en Entra ID P1/P2 nodig), dus niet uit te sluiten dat dit een beheerdersaccount is. Acties vanuit mfabot zijn daarom uit; gebruik het Entra-beheercentrum."
	}
	if rd.IsAdmin {
		return "Dit account heeft een beheerdersrol. mfabot wijzigt nooit beheerdersaccounts; dit gaat via het Entra-beheercentrum."
	}
	return ""
}

func studentName(e store.Escalation) string {
	if e.StudentName != "" {
		return e.StudentName
	}
	if e.StudentUPN != "" {
		return e.StudentUPN
	}
	return "onbekende student"
}

// errorSentences are what a staff member reads when Graph refuses.
var errorSentences = map[string]string{
	"forbidden": "Microsoft Graph weigert dit: de app-registratie van mfabot mist de schrijfrechten (zie docs/deploy.md). Er is niets gewijzigd.",
	"notfound":  "Dit account of deze aanmeldmethode bestaat niet (meer) in Entra ID. Er is niets gewijzigd.",
	"policy":    "Entra ID weigert dit volgens het beleid van de tenant: staat het beleid voor tijdelijke toegangspassen voor deze student aan, past de geldigheid erin, en is dit niet de standaardmethode? Er is niets gewijzigd.",
	"throttled": "Microsoft Graph vraagt even te wachten (te veel verzoeken). Er is niets gewijzigd; probeer het over een minuut opnieuw.",
	"unknown":   "Microsoft Graph gaf geen antwoord. Het is niet zeker of er iets is gewijzigd: bekijk de aanmeldmethoden hieronder voordat je het opnieuw probeert.",
	"read":      "De aanmeldmethoden zijn nu niet te lezen via Microsoft Graph. Probeer het over een minuut opnieuw.",
}

func errorCode(err error) string {
	switch {
	case errors.Is(err, graph.ErrForbidden):
		return "forbidden"
	case errors.Is(err, graph.ErrNotFound):
		return "notfound"
	case errors.Is(err, graph.ErrPolicy):
		return "policy"
	case errors.Is(err, graph.ErrThrottled):
		return "throttled"
	}
	return "unknown"
}

func sentence(err error, fallback string) string {
	code := errorCode(err)
	if code == "unknown" && fallback != "" {
		code = fallback
	}
	return errorSentences[code]
}

// ---- handlers ----

// gate loads the escalation and checks that the viewer may act on it:
// actions on, claimed by them, identity checked (unless checkIdentity is
// false), a fresh sign-in, not an admin account. On refusal it has
// answered and audited.
func (s *server) gate(w http.ResponseWriter, r *http.Request, action string, needIdentity bool) (store.Escalation, bool) {
	id, ok := parseID(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze escalatie bestaat niet.")
		return store.Escalation{}, false
	}
	ss := sessionFrom(r.Context())
	e, err := s.opt.Store.GetEscalation(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze escalatie bestaat niet (meer).")
		return e, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return e, false
	}
	refuse := func(status int, reason, msg string) (store.Escalation, bool) {
		s.audit(r.Context(), ss.Name, "action_refused", id, action+": "+reason)
		s.log.Warn("staff account action refused", "action", action, "escalation", id, "actor", ss.Name, "reason", reason)
		metricRefused.WithLabelValues("action_" + reason).Inc()
		s.errorPage(w, r, status, "Actie niet uitgevoerd", msg)
		return e, false
	}
	if e.Status != store.StatusClaimed || e.ClaimedBy != ss.Name {
		return refuse(http.StatusForbidden, "not_claimer", "Alleen wie deze escalatie heeft opgepakt, kan acties op het account van de student doen. Er is niets gewijzigd.")
	}
	if e.StudentObjectID == "" {
		return refuse(http.StatusConflict, "no_object_id", "Van deze student is geen object-ID bekend. Er is niets gewijzigd.")
	}
	if !s.fresh(ss) {
		return refuse(http.StatusForbidden, "stale_sign_in", "Meld je eerst opnieuw aan (je aanmelding mag voor een actie hoogstens 10 minuten oud zijn). Er is niets gewijzigd.")
	}
	if needIdentity {
		audit, err := s.opt.Store.Audit(r.Context(), id)
		if err != nil {
			s.serverError(w, r, err)
			return e, false
		}
		if identityCheck(e, audit, ss.Name) == "" {
			return refuse(http.StatusForbidden, "no_identity_check", "Leg eerst vast hoe je de identiteit van de student hebt gecontroleerd. Er is niets gewijzigd.")
		}
		ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
		defer cancel()
		if msg := s.adminBlock(ctx, e); msg != "" {
			return refuse(http.StatusForbidden, "admin_or_unknown", msg+" Er is niets gewijzigd.")
		}
	}
	return e, true
}

// claimKey claims the form's one-time key; false: already used (answered).
func (s *server) claimKey(w http.ResponseWriter, r *http.Request, e store.Escalation, action string) bool {
	key := r.PostFormValue("key")
	if len(key) < 16 || len(key) > 100 {
		s.errorPage(w, r, http.StatusBadRequest, "Verzoek geweigerd", "Het formulier is niet compleet. Open de bevestiging opnieuw vanaf de escalatie.")
		return false
	}
	ks, ok := s.opt.Store.(actionKeyStore)
	if !ok {
		s.keysMu.Lock()
		defer s.keysMu.Unlock()
		if s.keys == nil {
			s.keys = map[string]bool{}
		}
		if s.keys[key] {
			http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?a=twice", e.ID), http.StatusSeeOther)
			return false
		}
		s.keys[key] = true
		return true
	}
	first, err := ks.ClaimActionKey(r.Context(), key, e.ID, action, s.now().UTC())
	if err != nil {
		s.serverError(w, r, err)
		return false
	}
	if !first {
		s.log.Info("staff account action form sent again; not repeated", "action", action, "escalation", e.ID)
		http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?a=twice", e.ID), http.StatusSeeOther)
		return false
	}
	return true
}

func (s *server) failed(w http.ResponseWriter, r *http.Request, e store.Escalation, action string, err error) {
	ss := sessionFrom(r.Context())
	code := errorCode(err)
	s.log.Warn("staff account action failed", "action", action, "escalation", e.ID, "actor", ss.Name, "outcome", code, "err", err)
	s.audit(r.Context(), ss.Name, "action_failed", e.ID, action+": "+code)
	http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?e=%s#acties", e.ID, code), http.StatusSeeOther)
}

func (s *server) recordIdentity(w http.ResponseWriter, r *http.Request) {
	e, ok := s.gate(w, r, "identity_check", false)
	if !ok {
		return
	}
	how, ok := identityLabel(r.PostFormValue("how"))
	if !ok {
		http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?a=identity_no#acties", e.ID), http.StatusSeeOther)
		return
	}
	s.audit(r.Context(), sessionFrom(r.Context()).Name, "identity_checked", e.ID, how)
	http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?a=identity#acties", e.ID), http.StatusSeeOther)
}

type confirmData struct {
	E          store.Escalation
	Student    string
	Do         string // tap | remove | revoke
	Method     graph.Method
	TAPMinutes int
	Key        string
	CSRF       string
}

// confirm shows the confirmation page that names the student.
func (s *server) confirm(w http.ResponseWriter, r *http.Request) {
	do := r.URL.Query().Get("do")
	if do != "tap" && do != "remove" && do != "revoke" {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze actie bestaat niet.")
		return
	}
	e, ok := s.gate(w, r, do, true)
	if !ok {
		return
	}
	d := confirmData{E: e, Student: studentName(e), Do: do, TAPMinutes: s.tapMinutes(), Key: randomToken(), CSRF: sessionFrom(r.Context()).CSRF}
	if do == "remove" {
		m, ok := s.removable(w, r, e, r.URL.Query().Get("method"))
		if !ok {
			return
		}
		d.Method = m
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "confirm", "Bevestigen: "+d.Student, d)
}

// removable finds the chosen Authenticator or passkey in the live list.
func (s *server) removable(w http.ResponseWriter, r *http.Request, e store.Escalation, id string) (graph.Method, bool) {
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	ms, err := s.opt.Account.Methods(ctx, e.StudentObjectID)
	if err != nil {
		s.failed(w, r, e, "remove", err)
		return graph.Method{}, false
	}
	for _, m := range ms {
		if m.ID == id && id != "" && (m.Kind == graph.KindAuthenticator || m.Kind == graph.KindFIDO2) {
			return m, true
		}
	}
	http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?e=notfound#acties", e.ID), http.StatusSeeOther)
	return graph.Method{}, false
}

type tapData struct {
	E        store.Escalation
	Student  string
	Pass     string
	Minutes  int
	Once     bool
	Until    string
	RouteErr bool
}

func (s *server) createTAP(w http.ResponseWriter, r *http.Request) {
	e, ok := s.gate(w, r, "tap", true)
	if !ok {
		return
	}
	unlock := s.locks.lock(e.ID)
	defer unlock()
	if !s.claimKey(w, r, e, "tap") {
		return
	}
	ss := sessionFrom(r.Context())
	once := r.PostFormValue("once") == "yes"
	req := graph.TAPRequest{LifetimeMinutes: s.tapMinutes(), UsableOnce: once}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	tap, err := s.opt.Account.CreateTAP(ctx, e.StudentObjectID, req)
	if err != nil {
		s.failed(w, r, e, "tap", err)
		return
	}
	kind := "meermaals te gebruiken"
	if tap.UsableOnce {
		kind = "eenmalig te gebruiken"
	}
	s.audit(r.Context(), ss.Name, "tap_created", e.ID, fmt.Sprintf("%s, %d minuten geldig (de pas zelf wordt nergens bewaard)", kind, tap.LifetimeMinutes))
	s.log.Info("staff created a temporary access pass", "escalation", e.ID, "actor", ss.Name, "lifetime_minutes", tap.LifetimeMinutes, "once", tap.UsableOnce)
	metricAccountActions.WithLabelValues("tap").Inc()
	d := tapData{E: e, Student: studentName(e), Pass: tap.Pass, Minutes: tap.LifetimeMinutes, Once: tap.UsableOnce}
	start := tap.StartsAt
	if start.IsZero() {
		start = s.now()
	}
	d.Until = s.fmtTime(start.Add(time.Duration(tap.LifetimeMinutes) * time.Minute))
	if s.opt.Route != nil && e.ConversationID != "" {
		if err := s.opt.Route.StaffPassIssued(context.WithoutCancel(r.Context()), e.ConversationID); err != nil {
			s.log.Error("student not told about the pass", "escalation", e.ID, "err", err)
			d.RouteErr = true
		}
	}
	// Shown once: never cached, never stored, and not in this redirect-less
	// POST's URL. A reload resends the form, whose key is spent.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	s.render(w, r, http.StatusOK, "tap", "Tijdelijke toegangspas voor "+d.Student, d)
}

func (s *server) removeMethod(w http.ResponseWriter, r *http.Request) {
	e, ok := s.gate(w, r, "remove", true)
	if !ok {
		return
	}
	unlock := s.locks.lock(e.ID)
	defer unlock()
	if !s.claimKey(w, r, e, "remove") {
		return
	}
	m, ok := s.removable(w, r, e, r.PostFormValue("method"))
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	var err error
	if m.Kind == graph.KindFIDO2 {
		err = s.opt.Account.DeleteFIDO2(ctx, e.StudentObjectID, m.ID)
	} else {
		err = s.opt.Account.DeleteAuthenticator(ctx, e.StudentObjectID, m.ID)
	}
	if err != nil {
		s.failed(w, r, e, "remove", err)
		return
	}
	ss := sessionFrom(r.Context())
	s.audit(r.Context(), ss.Name, "method_removed", e.ID, fmt.Sprintf("%s %q (id %s)", methodKindLabel(m.Kind), m.DisplayName, m.ID))
	s.log.Info("staff removed a sign-in method", "escalation", e.ID, "actor", ss.Name, "kind", string(m.Kind))
	metricAccountActions.WithLabelValues("remove_method").Inc()
	http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?a=removed#acties", e.ID), http.StatusSeeOther)
}

func (s *server) revokeSessions(w http.ResponseWriter, r *http.Request) {
	e, ok := s.gate(w, r, "revoke", true)
	if !ok {
		return
	}
	unlock := s.locks.lock(e.ID)
	defer unlock()
	if !s.claimKey(w, r, e, "revoke") {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), actionTimeout)
	defer cancel()
	if err := s.opt.Account.RevokeSignInSessions(ctx, e.StudentObjectID); err != nil {
		s.failed(w, r, e, "revoke", err)
		return
	}
	ss := sessionFrom(r.Context())
	s.audit(r.Context(), ss.Name, "sessions_revoked", e.ID, "alle sessies ingetrokken; toegangstokens blijven tot een uur geldig")
	s.log.Info("staff revoked the student's sessions", "escalation", e.ID, "actor", ss.Name)
	metricAccountActions.WithLabelValues("revoke_sessions").Inc()
	http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?a=revoked#acties", e.ID), http.StatusSeeOther)
}

func methodKindLabel(k graph.MethodKind) string { return texts.Method(staffLang, string(k)) }

// actionRoutes registers the account actions (staff.actions).
func (s *server) actionRoutes(mux *http.ServeMux) {
	if !s.actionsOn() {
		return
	}
	mux.HandleFunc("POST /staff/escalations/{id}/identity", s.requirePOST(s.recordIdentity))
	mux.HandleFunc("GET /staff/escalations/{id}/confirm", s.requireGET(s.confirm))
	mux.HandleFunc("POST /staff/escalations/{id}/tap", s.requirePOST(s.createTAP))
	mux.HandleFunc("POST /staff/escalations/{id}/remove-method", s.requirePOST(s.removeMethod))
	mux.HandleFunc("POST /staff/escalations/{id}/revoke-sessions", s.requirePOST(s.revokeSessions))
}

var metricAccountActions = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "mfabot_staff_account_actions_total",
	Help: "Service-desk account actions done through Microsoft Graph, by action (tap, remove_method, revoke_sessions).",
}, []string{"action"})
