package staff

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"time"

	"mfabot/handoff"
	"mfabot/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type pages struct {
	set map[string]*template.Template
}

var pageNames = []string{"login", "error", "queue", "detail", "stats", "confirm", "tap"}

func loadPages(s *server) (*pages, error) {
	funcs := template.FuncMap{
		"time":        func(t time.Time) string { return s.fmtTime(t) },
		"timep":       func(t *time.Time) string { return s.fmtTime(deref(t)) },
		"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"isop":        func(t *time.Time) string { return deref(t).UTC().Format(time.RFC3339) },
		"status":      statusLabel,
		"situation":   situationLabel,
		"reason":      reasonLabel,
		"step":        stepLabel,
		"transcript":  transcriptText,
		"auditdetail": auditDetail,
		"auditverb":   func(c string) string { return label(auditLabels, c) },
		"role":        func(c string) string { return label(roleLabels, c) },
		"language":    languageLabel,
		"outcome":     outcomeLabel,
		"duration":    humanDuration,
		"kindlabel":   methodKindLabel,
	}
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/actions.html", "templates/feedback.html")
	if err != nil {
		return nil, fmt.Errorf("staff: parse templates: %w", err)
	}
	p := &pages{set: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("staff: parse template %s: %w", name, err)
		}
		p.set[name] = t
	}
	p.set["partials"] = base
	return p, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string
	Session *session
	Dev     bool
	Poll    int
	Data    any
}

func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	v := view{Title: title, Nav: page, Session: sessionFrom(r.Context()), Dev: s.opt.Dev, Poll: pollSeconds, Data: data}
	var buf bytes.Buffer
	if err := s.pages.set[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("render failed", "page", page, "err", err)
		http.Error(w, "Er ging iets mis bij het tonen van deze pagina.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct{ Heading, Message string }

func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, status, "error", heading, errorData{heading, msg})
}

func (s *server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "Er ging iets mis", "Probeer het opnieuw. Blijft dit gebeuren, meld het dan bij de beheerder.")
}

func (s *server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := fs.ReadFile(staticFS, "static/"+path.Base(name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}

// ---- queue ----

type queueFilter struct {
	Status   string // active | open | claimed | resolved | all
	Security bool
}

func parseQueueFilter(r *http.Request) queueFilter {
	f := queueFilter{Status: r.URL.Query().Get("status"), Security: r.URL.Query().Get("security") == "1"}
	switch f.Status {
	case "open", "claimed", "resolved", "all":
	default:
		f.Status = "active"
	}
	return f
}

func (f queueFilter) statuses() []string {
	switch f.Status {
	case "open":
		return []string{store.StatusOpen}
	case "claimed":
		return []string{store.StatusClaimed}
	case "resolved":
		return []string{store.StatusResolved}
	case "all":
		return nil
	}
	return []string{store.StatusOpen, store.StatusClaimed}
}

// newestFirst: the resolved and all views show the latest cases first;
// the working views keep security first, then the longest waiting.
func (f queueFilter) newestFirst() bool { return f.Status == "resolved" || f.Status == "all" }

// Caption describes the table's order for screen readers.
func (f queueFilter) Caption() string {
	if f.newestFirst() {
		return "Escalaties, nieuwste eerst"
	}
	return "Escalaties, beveiliging eerst, daarna oudste eerst"
}

func (f queueFilter) Query() string {
	q := "status=" + f.Status
	if f.Security {
		q += "&security=1"
	}
	return q
}

type queueRow struct {
	store.Escalation
	Waiting     string
	WaitingLong bool
}

type queueData struct {
	Filter   queueFilter
	Rows     []queueRow
	Open     int
	Claimed  int
	Security int
	// More is how many escalations of this view are not shown (the list
	// stops at queueLimit).
	More      int
	UpdatedAt string
	CSRF      string
	Tabs      []tab
}

type tab struct {
	Value, Label string
	Current      bool
	Query        string
}

func (s *server) loadQueue(r *http.Request) (queueData, error) {
	f := parseQueueFilter(r)
	// The page is polled every few seconds: the list has no transcripts
	// and the numbers are counts, whatever the queue's length.
	ef := store.EscalationFilter{Statuses: f.statuses(), Limit: queueLimit, NewestFirst: f.newestFirst(), WithoutTranscript: true}
	if f.Security {
		t := true
		ef.Security = &t
	}
	ctx := r.Context()
	list, err := s.opt.Store.ListEscalations(ctx, ef)
	if err != nil {
		return queueData{}, err
	}
	now := s.now()
	d := queueData{Filter: f, UpdatedAt: now.In(s.loc).Format("15:04:05"), CSRF: sessionFrom(ctx).CSRF}
	yes := true
	for _, c := range []struct {
		n *int
		f store.EscalationFilter
	}{
		{&d.Open, store.EscalationFilter{Statuses: []string{store.StatusOpen}}},
		{&d.Claimed, store.EscalationFilter{Statuses: []string{store.StatusClaimed}}},
		{&d.Security, store.EscalationFilter{Statuses: []string{store.StatusOpen, store.StatusClaimed}, Security: &yes}},
	} {
		if *c.n, err = s.opt.Store.CountEscalations(ctx, c.f); err != nil {
			return queueData{}, err
		}
	}
	if len(list) >= queueLimit {
		total, err := s.opt.Store.CountEscalations(ctx, ef)
		if err != nil {
			return queueData{}, err
		}
		d.More = total - len(list)
	}
	for _, e := range list {
		row := queueRow{Escalation: e}
		if e.Status == store.StatusOpen {
			w := now.Sub(e.CreatedAt)
			row.Waiting = humanDuration(w)
			row.WaitingLong = w >= 30*time.Minute
		} else if e.FirstResponseAt != nil {
			row.Waiting = "na " + humanDuration(e.FirstResponseAt.Sub(e.CreatedAt))
		} else if e.ClaimedAt != nil {
			row.Waiting = "na " + humanDuration(e.ClaimedAt.Sub(e.CreatedAt))
		} else {
			row.Waiting = "—"
		}
		d.Rows = append(d.Rows, row)
	}
	for _, t := range []tab{{Value: "active", Label: "Actief"}, {Value: "open", Label: "Open"}, {Value: "claimed", Label: "In behandeling"}, {Value: "resolved", Label: "Opgelost"}, {Value: "all", Label: "Alle"}} {
		t.Current = t.Value == f.Status
		t.Query = queueFilter{Status: t.Value, Security: f.Security}.Query()
		d.Tabs = append(d.Tabs, t)
	}
	return d, nil
}

func (s *server) queue(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadQueue(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	title := "Wachtrij"
	if d.Open > 0 {
		title = fmt.Sprintf("(%d) Wachtrij", d.Open)
	}
	s.render(w, r, http.StatusOK, "queue", title, d)
}

// queueFragment is polled by the queue page: the table part only.
func (s *server) queueFragment(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadQueue(r)
	if err != nil {
		s.log.Error("queue fragment failed", "err", err)
		http.Error(w, "tijdelijk niet beschikbaar", http.StatusServiceUnavailable)
		return
	}
	var buf bytes.Buffer
	if err := s.pages.set["partials"].ExecuteTemplate(&buf, "queuetable", d); err != nil {
		s.log.Error("render fragment failed", "err", err)
		http.Error(w, "tijdelijk niet beschikbaar", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Open-Count", strconv.Itoa(d.Open))
	_, _ = w.Write(buf.Bytes())
}

// ---- detail ----

type detailData struct {
	E          store.Escalation
	Audit      []store.AuditEntry
	Waiting    string
	CSRF       string
	Flash      string
	FlashError bool
	Actions    *actionsView // staff.actions; nil: off
}

var flashes = map[string]struct {
	text string
	err  bool
}{
	"claimed":   {"Je hebt deze escalatie opgepakt. De student krijgt daarover bericht.", false},
	"resolved":  {"De escalatie is opgelost. De student krijgt daarover bericht.", false},
	"reopened":  {"De escalatie is heropend.", false},
	"conflict":  {"Iemand anders heeft deze escalatie net gewijzigd. Hieronder zie je de actuele stand.", true},
	"note":      {"Schrijf een korte notitie over de oplossing (hoogstens 2000 tekens).", true},
	"state":     {"Deze actie past niet (meer) bij de status van de escalatie; misschien was iemand je voor. Hieronder zie je de actuele stand.", true},
	"failed":    {"Dat lukte niet. Bekijk de actuele stand hieronder en probeer het opnieuw.", true},
	"notfound":  {"Deze escalatie bestaat niet (meer).", true},
	"transient": {"De actie lukte nu niet door een storing. Probeer het over een minuut opnieuw.", true},
}

func parseID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (s *server) detail(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze escalatie bestaat niet.")
		return
	}
	e, err := s.opt.Store.GetEscalation(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze escalatie bestaat niet (meer).")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ss := sessionFrom(r.Context())
	s.audit(r.Context(), ss.Name, "view", id, "")
	audit, err := s.opt.Store.Audit(r.Context(), id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := detailData{E: e, Audit: audit, CSRF: ss.CSRF, Actions: s.actionsPanel(r, e, audit)}
	if e.Status == store.StatusOpen {
		d.Waiting = humanDuration(s.now().Sub(e.CreatedAt))
	}
	if f, ok := flashes[r.URL.Query().Get("m")]; ok {
		d.Flash, d.FlashError = f.text, f.err
	}
	name := e.StudentName
	if name == "" {
		name = "onbekende student"
	}
	s.render(w, r, http.StatusOK, "detail", fmt.Sprintf("Escalatie #%d: %s", e.ID, name), d)
}

// detailVersion is polled by the detail page to say "this changed".
func (s *server) detailVersion(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	e, err := s.opt.Store.GetEscalation(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.log.Error("detail version failed", "err", err)
		http.Error(w, "tijdelijk niet beschikbaar", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"version": e.Version, "status": e.Status})
}

// ---- actions ----

func (s *server) afterAction(w http.ResponseWriter, r *http.Request, id int64, err error, ok string) {
	code := ok
	switch {
	case err == nil:
	case errors.Is(err, store.ErrNotFound):
		code = "notfound"
	case errors.Is(err, store.ErrConflict):
		code = "conflict"
	case errors.Is(err, handoff.ErrInvalidTransition):
		code = "state"
	default:
		code = "failed"
	}
	if err != nil {
		s.log.Warn("staff action failed", "escalation", id, "path", r.URL.Path, "err", err)
	}
	if r.PostFormValue("back") == "queue" && err == nil {
		http.Redirect(w, r, prefix, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?m=%s", id, code), http.StatusSeeOther)
}

func (s *server) claim(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze escalatie bestaat niet.")
		return
	}
	_, err := s.opt.Actions.Claim(r.Context(), id, sessionFrom(r.Context()).Name)
	s.afterAction(w, r, id, err, "claimed")
}

func (s *server) resolve(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze escalatie bestaat niet.")
		return
	}
	note := trimNote(r.PostFormValue("note"))
	if note == "" || len([]rune(note)) > maxNoteLen {
		http.Redirect(w, r, fmt.Sprintf("/staff/escalations/%d?m=note", id), http.StatusSeeOther)
		return
	}
	_, err := s.opt.Actions.Resolve(r.Context(), id, sessionFrom(r.Context()).Name, note)
	s.afterAction(w, r, id, err, "resolved")
}

func (s *server) reopen(w http.ResponseWriter, r *http.Request) {
	id, ok := parseID(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "Niet gevonden", "Deze escalatie bestaat niet.")
		return
	}
	_, err := s.opt.Actions.Reopen(r.Context(), id, sessionFrom(r.Context()).Name)
	s.afterAction(w, r, id, err, "reopened")
}

func trimNote(s string) string {
	b := []byte(s)
	return string(bytes.TrimSpace(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))))
}

// ---- statistics ----

type funnelRow struct {
	Step           string
	Label          string
	Reached        int
	Failed         int
	ReachedPct     int // bar width relative to the most reached step
	FailedPct      int
	FailedOfReach  int // percent of those who reached it
	HasReachedData bool
}

type dayRow struct {
	Day    string
	Counts []int
	Total  int
}

type statsData struct {
	Days          int
	DayOptions    []int
	Outcomes      []string
	PerDay        []dayRow
	Totals        []int
	GrandTotal    int
	Funnel        []funnelRow
	FirstResponse string
	Resolution    string
	Satisfaction  []satRow
	SatTotal      int
	SatAverage    string
	Open          int
	// charts.go: server-rendered SVG of the same numbers.
	OutcomesChart template.HTML
	DropoffChart  template.HTML
	Dropoff       []dropoffRow
	Legend        []legendItem
	// feedback.go: the reactions to the model's answers.
	Feedback feedbackView
}

type legendItem struct {
	Label  string
	Colour template.CSS
}

type satRow struct {
	Score, Count, Pct int
}

func (s *server) stats(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadStats(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "stats", "Statistieken", d)
}

func (s *server) loadStats(r *http.Request) (statsData, error) {
	days := statsDays(r)
	since := s.now().Add(-time.Duration(days) * 24 * time.Hour)
	st, err := s.opt.Store.Stats(r.Context(), since)
	if err != nil {
		return statsData{}, err
	}
	d := statsData{Days: days, DayOptions: []int{7, 30, 90, 365}, Outcomes: outcomeOrder, Open: st.OpenEscalations}
	d.Totals = make([]int, len(outcomeOrder))
	for _, day := range st.OutcomesPerDay {
		row := dayRow{Day: day.Day}
		for j, o := range outcomeOrder {
			n := day.Counts[o]
			row.Counts = append(row.Counts, n)
			row.Total += n
			d.Totals[j] += n
		}
		d.GrandTotal += row.Total
		d.PerDay = append(d.PerDay, row)
	}
	sortDaysDesc(d.PerDay) // newest first
	d.Funnel = s.orderFunnel(st.Funnel)
	d.FirstResponse = medianText(st.MedianFirstResponse)
	d.Resolution = medianText(st.MedianResolution)
	sum := 0
	for score := 1; score <= 5; score++ {
		d.SatTotal += st.SatisfactionCounts[score]
		sum += score * st.SatisfactionCounts[score]
	}
	for score := 5; score >= 1; score-- {
		n := st.SatisfactionCounts[score]
		pct := 0
		if d.SatTotal > 0 {
			pct = (n*100 + d.SatTotal/2) / d.SatTotal
		}
		d.Satisfaction = append(d.Satisfaction, satRow{score, n, pct})
	}
	if d.SatTotal > 0 {
		d.SatAverage = strconv.FormatFloat(float64(sum)/float64(d.SatTotal), 'f', 1, 64)
	}
	if d.Feedback, err = s.loadFeedback(r.Context(), since); err != nil {
		return statsData{}, err
	}
	// charts.go
	d.OutcomesChart = outcomesChart(dayRange(since, s.now()), d.PerDay)
	d.Dropoff = dropoff(d.Funnel)
	d.DropoffChart = dropoffChart(d.Dropoff)
	for i, o := range outcomeOrder {
		d.Legend = append(d.Legend, legendItem{Label: outcomeLabel(o), Colour: template.CSS(outcomeColours[i])})
	}
	return d, nil
}

func medianText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return humanDuration(d)
}

func sortDaysDesc(rows []dayRow) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].Day > rows[j-1].Day; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// orderFunnel puts the funnel in flow order; steps the flow does not name
// (an older version's steps) follow in the order the store gave them.
func (s *server) orderFunnel(in []store.FunnelRow) []funnelRow {
	byStep := map[string]store.FunnelRow{}
	for _, r := range in {
		byStep[r.Step] = r
	}
	var ordered []store.FunnelRow
	seen := map[string]bool{}
	for _, step := range s.opt.StepOrder {
		if seen[step] {
			continue
		}
		seen[step] = true
		r, ok := byStep[step]
		if !ok {
			r = store.FunnelRow{Step: step}
		}
		ordered = append(ordered, r)
	}
	for _, r := range in {
		if !seen[r.Step] {
			seen[r.Step] = true
			ordered = append(ordered, r)
		}
	}
	max := 0
	for _, r := range ordered {
		if r.Reached > max {
			max = r.Reached
		}
	}
	out := make([]funnelRow, 0, len(ordered))
	for _, r := range ordered {
		fr := funnelRow{Step: r.Step, Label: stepLabel(r.Step), Reached: r.Reached, Failed: r.Failed, HasReachedData: r.Reached > 0}
		if max > 0 {
			fr.ReachedPct = r.Reached * 100 / max
			fr.FailedPct = r.Failed * 100 / max
		}
		if r.Reached > 0 {
			fr.FailedOfReach = (r.Failed*100 + r.Reached/2) / r.Reached
		}
		out = append(out, fr)
	}
	return out
}
