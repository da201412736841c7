package staff

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"mfabot/dialogs/texts"
	"mfabot/store"
)

var exportHeader = []string{
	"id", "aangemaakt", "status", "status_naam", "beveiliging", "herhaald_contact",
	"student_naam", "student_upn", "student_object_id", "situatie", "situatie_naam",
	"mislukte_stap", "mislukte_stap_naam", "reden", "reden_naam", "methoden", "taal", "opgepakt_door", "opgepakt_op",
	"eerste_reactie_op", "opgelost_door", "opgelost_op", "notitie",
}

// neutralise keeps a spreadsheet from reading a cell as a formula: cells
// starting with =, +, -, @ (or a tab / carriage return, which some
// spreadsheets skip before looking) get a leading apostrophe.
func neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "ja"
	}
	return "nee"
}

func (s *server) export(w http.ResponseWriter, r *http.Request) {
	f := parseQueueFilter(r)
	ef := store.EscalationFilter{Statuses: f.statuses(), Limit: exportLimit, NewestFirst: f.newestFirst(), WithoutTranscript: true}
	if f.Security {
		t := true
		ef.Security = &t
	}
	list, err := s.opt.Store.ListEscalations(r.Context(), ef)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // so that spreadsheets read the file as UTF-8
	cw := csv.NewWriter(&buf)
	_ = cw.Write(exportHeader)
	for _, e := range list {
		created := e.CreatedAt
		row := []string{
			strconv.FormatInt(e.ID, 10), csvTime(&created), e.Status, texts.Status(staffLang, e.Status),
			yesNo(e.Security), yesNo(e.RepeatContact),
			e.StudentName, e.StudentUPN, e.StudentObjectID, e.Situation, texts.Situation(staffLang, e.Situation),
			e.FailedStep, texts.Step(staffLang, e.FailedStep), e.Reason, texts.Reason(staffLang, e.Reason), strings.Join(e.Methods, "; "), e.Language, e.ClaimedBy, csvTime(e.ClaimedAt),
			csvTime(e.FirstResponseAt), e.ResolvedBy, csvTime(e.ResolvedAt), e.ResolutionNote,
		}
		for i := range row {
			row[i] = neutralise(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.serverError(w, r, err)
		return
	}
	ss := sessionFrom(r.Context())
	s.audit(r.Context(), ss.Name, "export", 0, fmt.Sprintf("csv; %s; %d rows", f.Query(), len(list)))
	name := "mfabot-escalaties-" + s.now().In(s.loc).Format("2006-01-02") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(buf.Bytes())
}
