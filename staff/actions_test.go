package staff

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mfabot/graph"
	"mfabot/internal/testenv"
	"mfabot/store"
)

// countingDirectory is the demo directory with the calls counted and
// failures injected, the way Graph answers (graph's sentinels).
type countingDirectory struct {
	*graph.Demo
	mu      sync.Mutex
	creates int
	deletes int
	revokes int
	passes  []string
	fail    error // returned by every write while set
	admin   bool
	regErr  error
	delay   time.Duration
}

func (d *countingDirectory) CreateTAP(ctx context.Context, id string, req graph.TAPRequest) (graph.TAP, error) {
	time.Sleep(d.delay)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.creates++
	if d.fail != nil {
		return graph.TAP{}, fmt.Errorf("graph: create tap: %w", d.fail)
	}
	tap, err := d.Demo.CreateTAP(ctx, id, req)
	d.passes = append(d.passes, tap.Pass)
	return tap, err
}

func (d *countingDirectory) DeleteAuthenticator(ctx context.Context, id, m string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deletes++
	if d.fail != nil {
		return d.fail
	}
	return d.Demo.DeleteAuthenticator(ctx, id, m)
}

func (d *countingDirectory) RevokeSignInSessions(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.revokes++
	if d.fail != nil {
		return d.fail
	}
	return nil
}

func (d *countingDirectory) RegistrationDetails(ctx context.Context, id string) (graph.RegistrationDetails, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.regErr != nil {
		return graph.RegistrationDetails{}, d.regErr
	}
	return graph.RegistrationDetails{IsAdmin: d.admin}, nil
}

type recordedRoute struct {
	mu    sync.Mutex
	convs []string
}

func (r *recordedRoute) StaffPassIssued(ctx context.Context, conv string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.convs = append(r.convs, conv)
	return nil
}

type actionsEnv struct {
	*env
	dir   *countingDirectory
	route *recordedRoute
	logs  *testenv.LogBuffer
	mu    sync.Mutex
	now   time.Time
	id    int64
	user  string
}

func (a *actionsEnv) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *actionsEnv) advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// newActionsEnv: the dev dashboard with staff.actions on over the demo
// directory, and one open lost-phone escalation of demo student sam.
func newActionsEnv(t *testing.T) *actionsEnv {
	t.Helper()
	st := openStore(t)
	a := &actionsEnv{dir: &countingDirectory{Demo: graph.NewDemo()}, route: &recordedRoute{}, logs: &testenv.LogBuffer{},
		now: time.Now(), user: graph.DemoUserID("sam")}
	h, err := New(Options{
		Store: st, Actions: fakeActions{st: st, now: a.clock}, Dev: true, Now: a.clock,
		Logger:  slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Account: a.dir, Route: a.route, TAPLifetime: 30 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	a.env = &env{st: st, srv: srv}
	a.id = addEscalation(t, st, store.Escalation{StudentName: "Sam de Vries", StudentUPN: "sam@student.example.nl",
		StudentObjectID: a.user, Situation: "lost_phone", Reason: "no_usable_method", ConversationID: "a:conv-sam"})
	return a
}

func (a *actionsEnv) url(path string) string {
	return fmt.Sprintf("%s/staff/escalations/%d%s", a.srv.URL, a.id, path)
}

func (a *actionsEnv) claim(t *testing.T, c *http.Client) {
	t.Helper()
	_, body := get(t, c, a.url(""))
	res, _ := postForm(t, c, a.url("/claim"), url.Values{"csrf": {csrfFrom(t, body)}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d", res.StatusCode)
	}
}

func (a *actionsEnv) identity(t *testing.T, c *http.Client, how string) *http.Response {
	t.Helper()
	_, body := get(t, c, a.url(""))
	res, _ := postForm(t, c, a.url("/identity"), url.Values{"csrf": {csrfFrom(t, body)}, "how": {how}}, nil)
	return res
}

var keyRe = regexp.MustCompile(`name="key" value="([^"]+)"`)

// confirmPage opens the confirmation for do and returns its form values.
func (a *actionsEnv) confirmPage(t *testing.T, c *http.Client, query string) (int, string, url.Values) {
	t.Helper()
	res, body := get(t, c, a.url("/confirm?"+query))
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, body, nil
	}
	m := keyRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no key in the confirmation page:\n%s", body)
	}
	return res.StatusCode, body, url.Values{"csrf": {csrfFrom(t, body)}, "key": {m[1]}}
}

var passRe = regexp.MustCompile(`id="tap-pass"[^>]*><code>([^<]+)</code>`)

func TestTAPOnlyForTheClaimerAfterTheIdentityCheck(t *testing.T) {
	a := newActionsEnv(t)
	ine := a.devSignIn(t, "Ine")
	bo := a.devSignIn(t, "Bo")

	// Before the claim: no actions, the warning about personal details.
	_, body := get(t, ine, a.url(""))
	for _, want := range []string{"geen bewijs", "AA23-320A", "Pak de escalatie eerst op"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if res, _, _ := a.confirmPage(t, ine, "do=tap"); res != http.StatusForbidden {
		t.Fatalf("confirmation before the claim: %d, want 403", res)
	}
	a.claim(t, ine)

	// Claimed, identity not yet checked: actions disabled, refused.
	_, body = get(t, ine, a.url(""))
	if !strings.Contains(body, `id="identity-form"`) || strings.Contains(body, `href="/staff/escalations/`+fmt.Sprint(a.id)+`/confirm?do=tap"`) {
		t.Fatalf("before the identity check the TAP must be disabled and the check offered:\n%s", body)
	}
	if res, _, _ := a.confirmPage(t, ine, "do=tap"); res != http.StatusForbidden {
		t.Fatalf("confirmation before the identity check: %d, want 403", res)
	}
	// Someone else can neither record the check nor act.
	if res := a.identity(t, bo, "document"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("identity check by another staff member: %d, want 403", res.StatusCode)
	}
	// A method that is no proof is refused.
	if res := a.identity(t, ine, "date_of_birth"); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "identity_no") {
		t.Fatalf("identity 'date_of_birth': %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := a.identity(t, ine, "video"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("identity check: %d", res.StatusCode)
	}
	_, body = get(t, ine, a.url(""))
	if !strings.Contains(body, "Videogesprek met identiteitsbewijs") || !strings.Contains(body, "/confirm?do=tap") {
		t.Fatalf("after the identity check the TAP must be offered:\n%s", body)
	}
	if !strings.Contains(body, "iPhone 12") {
		t.Errorf("the live methods list (sam's iPhone 12) is missing")
	}
	if res, _, _ := a.confirmPage(t, bo, "do=tap"); res != http.StatusForbidden {
		t.Fatalf("confirmation for another staff member: %d, want 403", res)
	}

	// The confirmation names the student; then the pass, once.
	status, page, form := a.confirmPage(t, ine, "do=tap")
	if status != http.StatusOK || !strings.Contains(page, "Sam de Vries") || !strings.Contains(page, "30 minuten") {
		t.Fatalf("confirmation: %d\n%s", status, page)
	}
	// Bo cannot use Ine's form (another session's CSRF token).
	if res, _ := postForm(t, bo, a.url("/tap"), form, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("TAP with another session's form: %d", res.StatusCode)
	}
	// Without the CSRF token: refused.
	noCSRF := url.Values{"key": form["key"], "once": {"yes"}}
	if res, _ := postForm(t, ine, a.url("/tap"), noCSRF, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("TAP without csrf: %d", res.StatusCode)
	}
	form.Set("once", "yes")
	res, tapPage := postForm(t, ine, a.url("/tap"), form, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("TAP: %d\n%s", res.StatusCode, tapPage)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("TAP page Cache-Control = %q, want no-store", cc)
	}
	m := passRe.FindStringSubmatch(tapPage)
	if m == nil || len(a.dir.passes) != 1 || html.UnescapeString(m[1]) != a.dir.passes[0] {
		t.Fatalf("the page does not show the created pass %v:\n%s", a.dir.passes, tapPage)
	}
	pass := a.dir.passes[0]
	// html/template writes '+' as &#43;: a leak on a page may look so.
	leaks := func(s string) bool {
		return strings.Contains(s, pass) || strings.Contains(s, strings.ReplaceAll(pass, "+", "&#43;"))
	}
	if !strings.Contains(tapPage, "Eenmalig") {
		t.Errorf("the pass is not shown as one-time")
	}
	// The same form again (a reload, a double click): no second pass.
	res, again := postForm(t, ine, a.url("/tap"), form, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "a=twice") || leaks(again) {
		t.Fatalf("form sent again: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if a.dir.creates != 1 {
		t.Fatalf("Graph got %d creates, want 1", a.dir.creates)
	}
	// The student's conversation was told.
	if len(a.route.convs) != 1 || a.route.convs[0] != "a:conv-sam" {
		t.Fatalf("student route: %v", a.route.convs)
	}
	// The pass is nowhere else: not on the detail page, the audit, the log.
	_, body = get(t, ine, a.url(""))
	if leaks(body) {
		t.Fatal("the detail page shows the pass")
	}
	audit, _ := a.st.Audit(context.Background(), a.id)
	found := false
	for _, e := range audit {
		if strings.Contains(e.Detail, pass) || strings.Contains(e.Actor, pass) {
			t.Fatalf("audit entry holds the pass: %+v", e)
		}
		if e.Action == "tap_created" && e.Actor == "Ine" && strings.Contains(e.Detail, "30 minuten") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no tap_created audit entry by Ine: %v", auditActions(t, a.st, a.id))
	}
	if strings.Contains(a.logs.String(), pass) {
		t.Fatal("a log line holds the pass")
	}
	if !strings.Contains(a.logs.String(), "temporary access pass") {
		t.Fatal("the TAP was not logged at all (the test would not see a leak)")
	}
}

// A double click: two POSTs of one form at the same time create one pass.
func TestTAPDoubleClickCreatesOnePass(t *testing.T) {
	a := newActionsEnv(t)
	ine := a.devSignIn(t, "Ine")
	a.claim(t, ine)
	a.identity(t, ine, "document")
	_, _, form := a.confirmPage(t, ine, "do=tap")
	a.dir.delay = 50 * time.Millisecond
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _ := postForm(t, ine, a.url("/tap"), form, nil)
			codes[i] = res.StatusCode
		}()
	}
	wg.Wait()
	if a.dir.creates != 1 {
		t.Fatalf("two clicks made %d creates, want 1 (answers %v)", a.dir.creates, codes)
	}
}

func TestActionsNeedAFreshSignIn(t *testing.T) {
	a := newActionsEnv(t)
	ine := a.devSignIn(t, "Ine")
	a.claim(t, ine)
	a.identity(t, ine, "callback")
	_, _, form := a.confirmPage(t, ine, "do=tap")
	a.advance(FreshSignIn + time.Minute)
	_, body := get(t, ine, a.url(""))
	if !strings.Contains(body, `id="fresh-needed"`) || strings.Contains(body, "/confirm?do=tap") {
		t.Fatalf("a stale sign-in must disable the actions and offer a new sign-in:\n%s", body)
	}
	if res, _ := postForm(t, ine, a.url("/tap"), form, nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("TAP with a stale sign-in: %d, want 403", res.StatusCode)
	}
	if a.dir.creates != 0 {
		t.Fatal("Graph was called with a stale sign-in")
	}
	// Signing in again makes it fresh; the identity check still holds.
	res, _ := postForm(t, ine, a.srv.URL+"/staff/login/dev", url.Values{"name": {"Ine"}, "next": {"/staff/"}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	_, _, form = a.confirmPage(t, ine, "do=tap")
	form.Set("once", "yes")
	if res, _ := postForm(t, ine, a.url("/tap"), form, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("TAP after signing in again: %d", res.StatusCode)
	}
}

func TestAdminAccountsAreNeverTouched(t *testing.T) {
	for _, tc := range []struct {
		name   string
		admin  bool
		regErr error
	}{{"isAdmin", true, nil}, {"report unreadable", false, graph.ErrForbidden}} {
		t.Run(tc.name, func(t *testing.T) {
			a := newActionsEnv(t)
			a.dir.admin, a.dir.regErr = tc.admin, tc.regErr
			ine := a.devSignIn(t, "Ine")
			a.claim(t, ine)
			a.identity(t, ine, "document")
			_, body := get(t, ine, a.url(""))
			if !strings.Contains(body, `id="actions-blocked"`) || strings.Contains(body, "/confirm?do=") {
				t.Fatalf("actions offered on this account:\n%s", body)
			}
			if status, _, _ := a.confirmPage(t, ine, "do=revoke"); status != http.StatusForbidden {
				t.Fatalf("confirmation: %d, want 403", status)
			}
			if a.dir.creates+a.dir.deletes+a.dir.revokes != 0 {
				t.Fatal("Graph was written to")
			}
		})
	}
}

func TestRemoveLostPhoneAndReadTheListAgain(t *testing.T) {
	a := newActionsEnv(t)
	ine := a.devSignIn(t, "Ine")
	a.claim(t, ine)
	a.identity(t, ine, "document")
	ms, _ := a.dir.Methods(context.Background(), a.user)
	old := graph.Authenticators(ms)[0]
	if status, _, _ := a.confirmPage(t, ine, "do=remove&method=not-a-method"); status != http.StatusSeeOther {
		t.Fatalf("an unknown method: %d, want a redirect with a sentence", status)
	}
	phone := graph.Phones(ms)[0]
	if status, _, _ := a.confirmPage(t, ine, "do=remove&method="+phone.ID); status != http.StatusSeeOther {
		t.Fatalf("the phone number is no lost phone's registration: %d", status)
	}
	status, page, form := a.confirmPage(t, ine, "do=remove&method="+old.ID)
	if status != http.StatusOK || !strings.Contains(page, "Sam de Vries") || !strings.Contains(page, "iPhone 12") {
		t.Fatalf("confirmation: %d\n%s", status, page)
	}
	form.Set("method", old.ID)
	res, _ := postForm(t, ine, a.url("/remove-method"), form, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "a=removed") {
		t.Fatalf("remove: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	ms, _ = a.dir.Methods(context.Background(), a.user)
	if graph.HasID(ms, old.ID) || !graph.HasID(ms, phone.ID) {
		t.Fatalf("after removal: %+v", ms)
	}
	_, body := get(t, ine, a.url(res.Header.Get("Location")[len(fmt.Sprintf("/staff/escalations/%d", a.id)):]))
	list := body[strings.Index(body, `id="live-methods"`):]
	list = list[:strings.Index(list, "</ul>")]
	if strings.Contains(list, "iPhone 12") || !strings.Contains(list, "Telefoonnummer") || !strings.Contains(body, "De aanmeldmethode is verwijderd") {
		t.Fatalf("the page must show the list read again, without the removed phone:\n%s", body)
	}
	if got := auditActions(t, a.st, a.id); !strings.Contains(strings.Join(got, ","), "method_removed:Ine") {
		t.Fatalf("audit: %v", got)
	}
}

func TestSignOutEverywhereFirstOnSecurityEscalations(t *testing.T) {
	a := newActionsEnv(t)
	e := mustEscalation(t, a.st, a.id)
	e.Security = true
	if _, err := a.st.UpdateEscalation(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	ine := a.devSignIn(t, "Ine")
	a.claim(t, ine)
	a.identity(t, ine, "callback")
	_, body := get(t, ine, a.url(""))
	rev, tap := strings.Index(body, `id="do-revoke"`), strings.Index(body, `id="do-tap"`)
	if rev < 0 || tap < 0 || rev > tap {
		t.Fatalf("sign out everywhere must come first on a security escalation (revoke at %d, tap at %d)", rev, tap)
	}
	if !strings.Contains(body, "tot een uur geldig") {
		t.Error("the note about access tokens is missing")
	}
	_, _, form := a.confirmPage(t, ine, "do=revoke")
	res, _ := postForm(t, ine, a.url("/revoke-sessions"), form, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "a=revoked") || a.dir.revokes != 1 {
		t.Fatalf("revoke: %d %s, %d calls", res.StatusCode, res.Header.Get("Location"), a.dir.revokes)
	}
}

func TestGraphErrorsBecomeSentences(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{graph.ErrForbidden, "mist de schrijfrechten"},
		{graph.ErrNotFound, "bestaat niet (meer)"},
		{graph.ErrPolicy, "beleid"},
		{graph.ErrThrottled, "te veel verzoeken"},
		{graph.ErrUnavailable, "niet zeker of er iets is gewijzigd"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			a := newActionsEnv(t)
			ine := a.devSignIn(t, "Ine")
			a.claim(t, ine)
			a.identity(t, ine, "document")
			a.dir.fail = tc.err
			_, _, form := a.confirmPage(t, ine, "do=tap")
			res, body := postForm(t, ine, a.url("/tap"), form, nil)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("failed TAP: %d\n%s", res.StatusCode, body)
			}
			loc := res.Header.Get("Location")
			_, page := get(t, ine, a.srv.URL+loc)
			if !strings.Contains(page, tc.want) {
				t.Fatalf("page after %v lacks %q (at %s)", tc.err, tc.want, loc)
			}
			if len(a.route.convs) != 0 {
				t.Fatal("the student was told about a pass that was not made")
			}
			if got := strings.Join(auditActions(t, a.st, a.id), ","); strings.Contains(got, "tap_created") || !strings.Contains(got, "action_failed:Ine") {
				t.Fatalf("audit: %s", got)
			}
		})
	}
}

func TestActionsOffByDefault(t *testing.T) {
	e := newDevEnv(t, nil)
	id := addEscalation(t, e.st, store.Escalation{StudentName: "Sam", StudentObjectID: graph.DemoUserID("sam")})
	c := e.devSignIn(t, "Ine")
	_, body := get(t, c, fmt.Sprintf("%s/staff/escalations/%d", e.srv.URL, id))
	if strings.Contains(body, "Acties op het account") {
		t.Fatal("account actions shown without staff.actions")
	}
	if res, _ := get(t, c, fmt.Sprintf("%s/staff/escalations/%d/confirm?do=tap", e.srv.URL, id)); res.StatusCode != http.StatusNotFound {
		t.Fatalf("confirm without staff.actions: %d, want 404", res.StatusCode)
	}
}

// With OIDC, a fresh sign-in asks the identity provider for max_age=600
// and an action needs the ID token's auth_time within 10 minutes.
func TestOIDCFreshSignInForActions(t *testing.T) {
	st := openStore(t)
	idp := newFakeIdP(t)
	idp.setUser("Ine Docent", staffGroup)
	dir := &countingDirectory{Demo: graph.NewDemo()}
	h, err := New(Options{
		Store: st, Actions: fakeActions{st: st, now: time.Now},
		OIDC:   OIDCOptions{Issuer: idp.srv.URL, ClientID: idp.clientID, ClientSecret: idp.secret, Group: staffGroup},
		Logger: testLogger(t), Account: dir, Route: &recordedRoute{},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	e := &env{st: st, srv: srv, idp: idp}
	id := addEscalation(t, st, store.Escalation{StudentName: "Sam de Vries", StudentObjectID: graph.DemoUserID("sam")})
	detail := fmt.Sprintf("%s/staff/escalations/%d", srv.URL, id)

	signIn := func(c *http.Client, start string) {
		t.Helper()
		res, _ := get(t, c, srv.URL+start)
		res, body := get(t, c, res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound {
			t.Fatalf("authorize: %d %s", res.StatusCode, body)
		}
		if res, _ = get(t, c, res.Header.Get("Location")); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", res.StatusCode)
		}
	}
	c := e.client(t, false)
	// An SSO sign-in of an hour ago: fine for the dashboard, not for an action.
	idp.mu.Lock()
	idp.authTime = time.Now().Add(-time.Hour).Unix()
	idp.mu.Unlock()
	signIn(c, "/staff/auth/start?next=/staff/")
	_, body := get(t, c, detail)
	res, _ := postForm(t, c, detail+"/claim", url.Values{"csrf": {csrfFrom(t, body)}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	_, body = get(t, c, detail)
	res, _ = postForm(t, c, detail+"/identity", url.Values{"csrf": {csrfFrom(t, body)}, "how": {"document"}}, nil)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("identity check with an hour-old sign-in: %d, want 403", res.StatusCode)
	}
	_, body = get(t, c, detail)
	m := regexp.MustCompile(`href="(/staff/auth/start\?fresh=1[^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no fresh sign-in link:\n%s", body)
	}
	// The identity provider re-authenticates: auth_time now.
	idp.mu.Lock()
	idp.authTime = time.Now().Unix()
	idp.mu.Unlock()
	signIn(c, strings.ReplaceAll(m[1], "&amp;", "&"))
	idp.mu.Lock()
	maxAge := idp.maxAge
	idp.mu.Unlock()
	if maxAge != "600" {
		t.Fatalf("fresh sign-in sent max_age=%q, want 600", maxAge)
	}
	_, body = get(t, c, detail)
	res, _ = postForm(t, c, detail+"/identity", url.Values{"csrf": {csrfFrom(t, body)}, "how": {"document"}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("identity check after a fresh sign-in: %d", res.StatusCode)
	}
	_, body = get(t, c, detail)
	if !strings.Contains(body, "/confirm?do=tap") {
		t.Fatalf("TAP not offered after a fresh sign-in and the identity check:\n%s", body)
	}
}
