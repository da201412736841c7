package public

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"mfabot/dialogs"
	"mfabot/handoff"
	"mfabot/store"
)

var testSettings = dialogs.Settings{VoiceCalls: true, SetupURL: "https://aka.ms/mfasetup",
	PasswordChangeURL: "https://mysignins.microsoft.com/security-info/password/change", InstitutionName: "ICT Servicedesk"}

const testAppID = "11111111-2222-3333-4444-555555555555"

// seedInstitution is the guide's service desk (config's defaults).
func seedInstitution() handoff.Institution {
	week := []string{"mon", "tue", "wed", "thu", "fri"}
	return handoff.Institution{
		Name: "ICT Servicedesk", Phone: "088 - 469 9070", Timezone: "Europe/Amsterdam",
		Desks: []handoff.Desk{
			{Name: "Zwolle", Location: "F2.03", Days: week, Open: "08:00", Close: "16:00"},
			{Name: "Almere", Location: "Serviceplein, 6e etage", Days: week, Open: "08:30", Close: "17:00"},
		},
		ClosedDays:        []string{"2026-12-25"},
		SetupURL:          "https://aka.ms/mfasetup",
		PasswordChangeURL: "https://mysignins.microsoft.com/security-info/password/change",
		IdentityCheck:     "Neem je identiteitsbewijs (paspoort, ID-kaart of rijbewijs) of je studentenpas mee. / Bring your passport, ID card or driving licence, or your student card.",
	}
}

func ams(y int, m time.Month, d, hh, mm int) time.Time {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// stoppedStoreDesk is the real handoff.Service, built on a SQLite store
// that is closed before the page is asked for anything: the page must not
// need it.
func stoppedStoreDesk(t *testing.T, inst handoff.Institution, now func() time.Time) *handoff.Service {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := handoff.NewService(handoff.Options{Store: st, Institution: inst, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Ping(context.Background()); err == nil {
		t.Fatal("the store still answers after Close")
	}
	return svc
}

func newTestHandler(t *testing.T, c *clock, mut func(*Options)) *Handler {
	t.Helper()
	o := Options{Settings: testSettings, Desk: stoppedStoreDesk(t, seedInstitution(), c.now), BotAppID: testAppID, Now: c.now}
	if mut != nil {
		mut(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get requests path from a given peer with headers.
func get(h http.Handler, path, remote string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	if remote != "" {
		r.RemoteAddr = remote
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
