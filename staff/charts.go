package staff

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Trends on the statistics page: server-rendered SVG (no chart library
// in the browser; the CSP allows no inline script anyway). The tables
// below the charts carry the same numbers for screen readers, and
// /staff/stats.csv gives them as a file. The SVGs are aria-hidden with a
// text summary, so a screen reader reads the table, not the shapes.

// outcomeColours follow outcomeOrder.
var outcomeColours = []string{"#1a7f37", "#7cc48b", "#e0a100", "#b42318", "#8c959f"}

// statsDays parses ?days (7, 30, 90, 365; default 30).
func statsDays(r *http.Request) int {
	switch r.URL.Query().Get("days") {
	case "7":
		return 7
	case "90":
		return 90
	case "365":
		return 365
	}
	return 30
}

// dayRange is every UTC day (the store's days) from since to now, so a
// day without sessions shows as a gap rather than disappearing.
func dayRange(since, now time.Time) []string {
	var out []string
	d := since.UTC().Truncate(24 * time.Hour)
	for end := now.UTC(); !d.After(end); d = d.Add(24 * time.Hour) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out
}

// outcomesChart draws one stacked bar per day (oldest left).
func outcomesChart(days []string, rows []dayRow) template.HTML {
	byDay := map[string]dayRow{}
	max := 0
	for _, r := range rows {
		byDay[r.Day] = r
		if r.Total > max {
			max = r.Total
		}
	}
	if max == 0 || len(days) == 0 {
		return ""
	}
	const w, h, left, bottom, top = 720.0, 220.0, 36.0, 24.0, 8.0
	plotW, plotH := w-left-4, h-bottom-top
	step := plotW / float64(len(days))
	barW := step * 0.8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">`, w, h)
	// Axis: 0 and max, with a light grid line at max.
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/>`, left, top+plotH, w-4, top+plotH)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, left, top, w-4, top)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%d</text>`, left-4, top+4, max)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">0</text>`, left-4, top+plotH+4)
	for i, day := range days {
		x := left + float64(i)*step + (step-barW)/2
		y := top + plotH
		r := byDay[day]
		for j, n := range r.Counts {
			if n == 0 || j >= len(outcomeColours) {
				continue
			}
			bh := plotH * float64(n) / float64(max)
			y -= bh
			fmt.Fprintf(&b, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"><title>%s: %d</title></rect>`,
				x, y, barW, bh, outcomeColours[j], html.EscapeString(day+" "+outcomeLabel(outcomeOrder[j])), n)
		}
		// Label the first, the last and about six days between.
		if i == 0 || i == len(days)-1 || (len(days) > 7 && i%(len(days)/6) == 0 && i < len(days)-len(days)/12-1) || len(days) <= 7 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>`, x+barW/2, h-6, html.EscapeString(day[5:]))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// dropoffRow is one step in the drop-off chart.
type dropoffRow struct {
	Label          string
	Reached, Stuck int
	Pct            int // stuck of reached
}

// dropoff orders the steps by where students get stuck: the share of
// those who reached a step and failed there, highest first (ties: more
// students first). Steps nobody reached are left out.
func dropoff(funnel []funnelRow) []dropoffRow {
	var out []dropoffRow
	for _, f := range funnel {
		if f.Reached == 0 {
			continue
		}
		out = append(out, dropoffRow{Label: f.Label, Reached: f.Reached, Stuck: f.Failed, Pct: f.FailedOfReach})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pct != out[j].Pct {
			return out[i].Pct > out[j].Pct
		}
		return out[i].Stuck > out[j].Stuck
	})
	return out
}

// dropoffChart draws horizontal bars of the stuck share per step.
func dropoffChart(rows []dropoffRow) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	const w, rowH, labelW = 720.0, 22.0, 300.0
	h := rowH*float64(len(rows)) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">`, w, h)
	for i, r := range rows {
		y := 4 + float64(i)*rowH
		name := r.Label
		if len([]rune(name)) > 42 {
			name = string([]rune(name)[:41]) + "…"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>`, labelW-6, y+14, html.EscapeString(name))
		bw := (w - labelW - 60) * float64(r.Pct) / 100
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="track"/>`, labelW, y+3, w-labelW-60, rowH-8)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.2f" height="%.1f" class="stuck"><title>%s: %d van %d vastgelopen</title></rect>`,
			labelW, y+3, bw, rowH-8, html.EscapeString(r.Label), r.Stuck, r.Reached)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick">%d%%</text>`, w-54, y+14, r.Pct)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// statsCSV: the numbers of the statistics page as a file (the same
// period), in two blocks: outcomes per day, then the steps.
func (s *server) statsCSV(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadStats(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	head := []string{"dag"}
	for _, o := range outcomeOrder {
		head = append(head, o)
	}
	_ = cw.Write(append(head, "totaal"))
	for i := len(d.PerDay) - 1; i >= 0; i-- { // oldest first, like the chart
		row := d.PerDay[i]
		rec := []string{row.Day}
		for _, n := range row.Counts {
			rec = append(rec, strconv.Itoa(n))
		}
		_ = cw.Write(append(rec, strconv.Itoa(row.Total)))
	}
	_ = cw.Write(nil)
	_ = cw.Write([]string{"stap", "bereikt", "mislukt", "uitval_procent", "stap_id"})
	for _, f := range d.Funnel {
		pct := ""
		if f.HasReachedData {
			pct = strconv.Itoa(f.FailedOfReach)
		}
		_ = cw.Write([]string{neutralise(f.Label), strconv.Itoa(f.Reached), strconv.Itoa(f.Failed), pct, neutralise(f.Step)})
	}
	cw.Flush()
	s.audit(r.Context(), sessionFrom(r.Context()).Name, "export", 0, fmt.Sprintf("statistieken, %d dagen", d.Days))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="mfabot-statistieken-%dd.csv"`, d.Days))
	_, _ = w.Write(buf.Bytes())
}
