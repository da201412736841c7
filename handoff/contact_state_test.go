package handoff

import (
	"testing"
	"time"
)

// The desk states and ValidUntil are what the public help page shows and
// how long it may be cached: each state in words, in both languages, and
// the first moment any of them (or the "vandaag"/"morgen" wording) changes.
func TestContactStatesAndValidUntil(t *testing.T) {
	inst := seedInstitution()
	inst.ClosedDays = []string{"2026-12-25"}
	inst.PhoneHours = &Hours{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "08:30", Close: "17:00"}
	svc := hoursService(t, inst)
	tests := []struct {
		name               string
		now                time.Time
		zwolleNL, almereNL string
		zwolleEN, phoneNL  string
		validUntil         time.Time
	}{
		{"wednesday 10:00, both open", ams(2026, 11, 25, 10, 0),
			"nu open tot 16:00", "nu open tot 17:00", "open now until 16:00", "nu bereikbaar", ams(2026, 11, 25, 16, 0)},
		{"wednesday 8:10, Almere and the phone not yet", ams(2026, 11, 25, 8, 10),
			"nu open tot 16:00", "gaat vandaag om 8:30 open", "open now until 16:00", "weer bereikbaar vandaag om 8:30", ams(2026, 11, 25, 8, 30)},
		{"wednesday 16:30, Zwolle closed", ams(2026, 11, 25, 16, 30),
			"gaat morgen om 8:00 open", "nu open tot 17:00", "opens tomorrow at 8:00", "nu bereikbaar", ams(2026, 11, 25, 17, 0)},
		{"wednesday 20:00: wording changes at midnight", ams(2026, 11, 25, 20, 0),
			"gaat morgen om 8:00 open", "gaat morgen om 8:30 open", "opens tomorrow at 8:00", "weer bereikbaar morgen om 8:30", ams(2026, 11, 26, 0, 0)},
		{"saturday", ams(2026, 11, 28, 12, 0),
			"gaat maandag om 8:00 open", "gaat maandag om 8:30 open", "opens on Monday at 8:00", "weer bereikbaar maandag om 8:30", ams(2026, 11, 29, 0, 0)},
		{"Christmas (a closed day, a Friday)", ams(2026, 12, 25, 10, 0),
			"gaat maandag om 8:00 open", "gaat maandag om 8:30 open", "opens on Monday at 8:00", "weer bereikbaar maandag om 8:30", ams(2026, 12, 26, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nl := svc.ContactFor(tt.now, "nl")
			en := svc.ContactFor(tt.now, "en")
			if got := nl.Desks[0].State; got != tt.zwolleNL {
				t.Errorf("Zwolle nl = %q, want %q", got, tt.zwolleNL)
			}
			if got := nl.Desks[1].State; got != tt.almereNL {
				t.Errorf("Almere nl = %q, want %q", got, tt.almereNL)
			}
			if got := en.Desks[0].State; got != tt.zwolleEN {
				t.Errorf("Zwolle en = %q, want %q", got, tt.zwolleEN)
			}
			if got := nl.PhoneState; got != tt.phoneNL {
				t.Errorf("phone nl = %q, want %q", got, tt.phoneNL)
			}
			if !nl.ValidUntil.Equal(tt.validUntil) {
				t.Errorf("ValidUntil = %v, want %v", nl.ValidUntil, tt.validUntil)
			}
		})
	}
}

func TestDeskThatNeverOpensAgain(t *testing.T) {
	inst := seedInstitution()
	inst.Desks = inst.Desks[:1]
	inst.Desks[0].Days = []string{"sat"}
	for d := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC); d.Year() < 2028; d = d.AddDate(0, 0, 7) {
		inst.ClosedDays = append(inst.ClosedDays, d.Format("2006-01-02"))
	}
	c := hoursService(t, inst).ContactFor(ams(2026, 11, 25, 10, 0), "nl")
	if got := c.Desks[0].State; got != "gesloten" {
		t.Errorf("state = %q, want gesloten", got)
	}
}
