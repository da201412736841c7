package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mfabot/graph/graphfake"
	"mfabot/staff"
	"mfabot/store"
)

// The lost-phone loop across the real parts: a student in Teams (fake
// Connector) with only an Authenticator on the lost phone is handed off;
// a staff member claims the escalation on the dashboard, records the
// identity check, removes the lost phone and creates a Temporary Access
// Pass through graph/msgraph against the fake Graph (real tokens); the
// bot's timer worker tells the student the route; the student adds the
// new phone from step 3 and it is verified through Graph. The pass
// reaches the dashboard page once and no log line, Teams message, store
// row or transcript. The dashboard runs in dev mode here only for its
// sign-in (the OIDC sign-in is tested in staff); everything else is the
// production app.
func TestE2ELostPhoneLoopWithTemporaryAccessPass(t *testing.T) {
	w := newWorld(t)
	const oid = "7e6d5c4b-3333-4a2b-9c3d-5e6f7a8b9c0d"
	const oldID, newID = "6803c096-c096-6803-96c0-036896c00368", "bb11bb22-cc33-dd44-ee55-ff6677889900"
	w.graph.SetUser(oid, "Lars Jansen", "s2345678@student.example.nl", "nl-NL")
	w.graph.AddMethod(oid, graphfake.Password("28c10230-6103-485e-b985-444c60001490"))
	w.graph.AddMethod(oid, graphfake.Authenticator(oldID, "Galaxy S20"))
	w.graph.SetRegistrationJSON(oid, []byte(`{"id":"`+oid+`","userPrincipalName":"s2345678@student.example.nl","isAdmin":false,"isMfaRegistered":true,"methodsRegistered":["microsoftAuthenticatorPush"],"lastUpdatedDateTime":"2026-09-01T10:15:00Z"}`))
	s := w.student(oid, "Lars Jansen")

	acts := clickSituation(t, s, s.welcome(), "lost_phone")
	escs, err := w.app.store.ListEscalations(context.Background(), store.EscalationFilter{})
	if err != nil || len(escs) != 1 {
		t.Fatalf("escalations: %v %v\n%s", escs, err, texts(acts))
	}
	esc := escs[0]

	account, ok := w.app.dir.(staff.AccountActions)
	if !ok {
		t.Fatal("the Graph directory does not implement the account actions")
	}
	h, err := staff.New(staff.Options{Store: w.app.store, Actions: w.app.handoff, Dev: true,
		Account: account, Route: w.app.runner, TAPLifetime: 60 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	dash := httptest.NewServer(h)
	t.Cleanup(dash.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	do := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, dash.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	csrf := func(page string) string {
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no csrf token:\n%s", page)
		}
		return m[1]
	}
	detail := fmt.Sprintf("/staff/escalations/%d", esc.ID)
	if code, _ := do("POST", "/staff/login/dev", url.Values{"name": {"Petra"}, "next": {detail}}); code != http.StatusOK {
		t.Fatalf("sign-in: %d", code)
	}
	_, page := do("GET", detail, nil)
	do("POST", detail+"/claim", url.Values{"csrf": {csrf(page)}})
	_, page = do("GET", detail, nil)
	do("POST", detail+"/identity", url.Values{"csrf": {csrf(page)}, "how": {"document"}})
	_, page = do("GET", detail, nil)
	if !strings.Contains(page, "Galaxy S20") || !strings.Contains(page, "/confirm?do=tap") {
		t.Fatalf("after claim and identity check the live methods and the TAP should be offered:\n%s", page)
	}
	confirm := func(q string) url.Values {
		_, p := do("GET", detail+"/confirm?"+q, nil)
		m := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(p)
		if m == nil || !strings.Contains(p, "Lars Jansen") {
			t.Fatalf("confirmation %s:\n%s", q, p)
		}
		return url.Values{"csrf": {csrf(p)}, "key": {m[1]}}
	}
	// Remove the lost phone's registration, then the pass.
	f := confirm("do=remove&method=" + oldID)
	f.Set("method", oldID)
	if _, p := do("POST", detail+"/remove-method", f); !strings.Contains(p, "De aanmeldmethode is verwijderd") {
		t.Fatalf("remove:\n%s", p)
	}
	f = confirm("do=tap")
	f.Set("once", "yes")
	code, tapPage := do("POST", detail+"/tap", f)
	created := w.graph.CreatedTAPs()
	if code != http.StatusOK || len(created) != 1 || !strings.Contains(html.UnescapeString(tapPage), created[0].Pass) || !created[0].UsableOnce || created[0].LifetimeMinutes != 60 {
		t.Fatalf("TAP: %d, created %d\n%s", code, len(created), tapPage)
	}
	pass := created[0].Pass
	// A resend of the same form makes no second pass.
	if _, again := do("POST", detail+"/tap", f); strings.Contains(html.UnescapeString(again), pass) || len(w.graph.CreatedTAPs()) != 1 {
		t.Fatalf("the form sent again made %d passes", len(w.graph.CreatedTAPs()))
	}

	if _, p := do("GET", detail, nil); strings.Contains(html.UnescapeString(p), pass) {
		t.Error("the detail page shows the pass")
	}
	// The bot's worker tells the student the route, and step 3 follows.
	before := len(s.sent())
	deadline := time.Now().Add(20 * time.Second)
	for len(s.sent()) <= before || stepOf(s.sent()[before:]) == "" {
		if time.Now().After(deadline) {
			t.Fatalf("the student was not told the route:\n%s", texts(s.sent()[before:]))
		}
		time.Sleep(20 * time.Millisecond)
	}
	acts = s.sent()[before:]
	if got := texts(acts); !strings.Contains(got, "tijdelijke toegangspas") || !strings.Contains(got, "aka.ms/mfasetup") || !strings.Contains(got, "3 van 12") {
		t.Fatalf("route message:\n%s", got)
	}
	added := false
	for turns := 0; find(buttons(acts), "rate") == nil; turns++ {
		if turns > 30 {
			t.Fatalf("no end after 30 turns:\n%s", texts(acts))
		}
		if stepOf(acts) == "step10" && !added {
			w.graph.AddMethod(oid, graphfake.Authenticator(newID, "Pixel 8"))
			added = true
		}
		next := find(buttons(acts), "done")
		if next == nil {
			next = find(buttons(acts), "continue")
		}
		if next == nil {
			t.Fatalf("stuck at %q:\n%s", stepOf(acts), texts(acts))
		}
		acts = s.click(next, "card")
	}
	if !added || w.outcomes()[store.OutcomeVerifiedResolved] != 1 {
		t.Fatalf("not verified through Graph: added=%v outcomes %v", added, w.outcomes())
	}

	// The pass is nowhere but on that one page.
	if strings.Contains(w.logs.String(), pass) {
		t.Error("a log line holds the pass")
	}
	if strings.Contains(texts(s.sent()), pass) {
		t.Error("a Teams message holds the pass")
	}
	for _, r := range w.conn.Requests() {
		if strings.Contains(fmt.Sprint(r.Body), pass) {
			t.Errorf("a Connector request holds the pass: %s %s", r.Method, r.Path)
		}
	}
	lines, _ := w.app.store.Transcript(context.Background(), s.convID, time.Time{})
	for _, l := range lines {
		if strings.Contains(l.Text, pass) {
			t.Errorf("the transcript holds the pass: %q", l.Text)
		}
	}
	audit, _ := w.app.store.Audit(context.Background(), esc.ID)
	var verbs []string
	for _, a := range audit {
		verbs = append(verbs, a.Action)
		if strings.Contains(a.Detail, pass) {
			t.Errorf("an audit row holds the pass: %+v", a)
		}
	}
	for _, want := range []string{"claim", "identity_checked", "method_removed", "tap_created"} {
		if !strings.Contains(strings.Join(verbs, ","), want) {
			t.Errorf("audit lacks %s: %v", want, verbs)
		}
	}
	// The database files themselves (SQLite and its WAL).
	dbPath := strings.TrimPrefix(os.Getenv("MFABOT_STORE_URL"), "sqlite:")
	files, _ := filepath.Glob(dbPath + "*")
	if len(files) == 0 {
		t.Fatal("no database file to search")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), pass) {
			t.Errorf("%s holds the pass", filepath.Base(f))
		}
	}
}
