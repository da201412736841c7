package staff

import (
	"context"
	"encoding/csv"
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"mfabot/store"
)

// The statistics page draws its trends as SVG on the server, with the
// same numbers in the tables and in the CSV.
func TestStatisticsChartsAndCSV(t *testing.T) {
	// Step ids the flow does not know are shown as they are: escaped in
	// the page, neutralised in the CSV.
	steps := []string{"step01", "step2 <b>", "=step3"}
	e := newDevEnv(t, steps)
	ctx := context.Background()
	now := time.Now().UTC()
	session := func(id, outcome string, ended time.Time, failAt string) {
		t.Helper()
		if err := e.st.StartSession(ctx, store.Session{ID: id, ConversationID: "c-" + id, UserID: "u-" + id, StartedAt: ended.Add(-time.Hour), LastActivityAt: ended}); err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			if err := e.st.RecordStepEvent(ctx, store.StepEvent{ConversationID: "c-" + id, UserID: "u-" + id, Step: s, Event: "shown", At: ended.Add(-30 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
			if s == failAt {
				if err := e.st.RecordStepEvent(ctx, store.StepEvent{ConversationID: "c-" + id, UserID: "u-" + id, Step: s, Event: "failed", At: ended.Add(-20 * time.Minute)}); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		if err := e.st.EndSession(ctx, id, outcome, ended); err != nil {
			t.Fatal(err)
		}
	}
	session("a", store.OutcomeVerifiedResolved, now.Add(-time.Hour), "")
	session("b", store.OutcomeEscalated, now.Add(-time.Hour), "step2 <b>")
	session("c", store.OutcomeEscalated, now.Add(-3*24*time.Hour), "step2 <b>")
	session("d", store.OutcomeAbandoned, now.Add(-3*24*time.Hour), "step01")

	c := e.devSignIn(t, "Ine")
	res, body := get(t, c, e.srv.URL+"/staff/stats?days=7")
	if res.StatusCode != http.StatusOK {
		t.Fatal(res.StatusCode)
	}
	// Two charts, each an SVG that parses as XML, hidden from screen
	// readers (the tables carry the numbers).
	svgs := regexp.MustCompile(`(?s)<svg class="chart".*?</svg>`).FindAllString(body, -1)
	if len(svgs) != 2 {
		t.Fatalf("%d charts, want 2", len(svgs))
	}
	for _, s := range svgs {
		if !strings.Contains(s, `aria-hidden="true"`) {
			t.Error("chart not hidden from screen readers")
		}
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("chart is not well-formed: %v\n%s", err, s)
			}
		}
	}
	if n := strings.Count(body, "<script"); n != strings.Count(body, `<script src="/staff/static/staff.js"`) {
		t.Error("the statistics page carries a script besides the dashboard's own polling")
	}
	dropoffSVG, outcomesSVG := svgs[0], svgs[1]
	// Drop-off: step 2 (2 of 3 stuck, 67%) before step 1 (1 of 4, 25%);
	// the label is escaped.
	i2, i1 := strings.Index(dropoffSVG, "step2 &lt;b&gt;"), strings.Index(dropoffSVG, ">Stap 1: Open de website<")
	if i2 < 0 || i1 < 0 || i2 > i1 || !strings.Contains(dropoffSVG, ">67%<") || !strings.Contains(dropoffSVG, ">25%<") {
		t.Fatalf("drop-off chart order or numbers wrong:\n%s", dropoffSVG)
	}
	if !strings.Contains(body, "Meeste uitval: step2 &lt;b&gt; (67%)") {
		t.Error("the drop-off summary is missing")
	}
	// Outcomes: one bar segment per day and outcome with its count, 8 days labelled range.
	for _, want := range []string{
		now.Add(-time.Hour).Format("2006-01-02") + " Opgelost (gecontroleerd): 1",
		now.Add(-time.Hour).Format("2006-01-02") + " Doorgezet: 1",
		now.Add(-3*24*time.Hour).Format("2006-01-02") + " Afgebroken: 1",
	} {
		if !strings.Contains(outcomesSVG, want) {
			t.Errorf("outcomes chart lacks %q", want)
		}
	}
	if n := strings.Count(outcomesSVG, "<rect"); n != 4 {
		t.Errorf("outcomes chart has %d bar segments, want 4", n)
	}

	res, csvBody := get(t, c, e.srv.URL+"/staff/stats.csv?days=7")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	r := csv.NewReader(strings.NewReader(csvBody))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, rec := range recs {
		got[rec[0]] = rec
	}
	day := now.Add(-time.Hour).Format("2006-01-02")
	if d := got[day]; len(d) != 7 || d[1] != "1" || d[3] != "1" || d[6] != "2" {
		t.Errorf("csv day %s = %v", day, d)
	}
	if s := got["step2 <b>"]; len(s) != 5 || s[1] != "3" || s[2] != "2" || s[3] != "67" || s[4] != "step2 <b>" {
		t.Errorf("csv step 2 = %v", s)
	}
	if s := got["Stap 1: Open de website"]; len(s) != 5 || s[4] != "step01" {
		t.Errorf("csv step 1 = %v: want the label, and the id in the last column", s)
	}
	if _, ok := got["'=step3"]; !ok {
		t.Errorf("a label starting with = is not neutralised: %v", recs)
	}
}
