package handoff

import (
	"strings"
	"testing"
	"time"
)

func hoursService(t *testing.T, inst Institution) *Service {
	t.Helper()
	return newFixture(t, inst, time.Time{}).svc
}

func TestOpeningHours(t *testing.T) {
	inst := seedInstitution()
	inst.ClosedDays = []string{"2026-12-25"}
	svc := hoursService(t, inst)
	long := seedInstitution()
	long.ClosedDays = []string{"2026-12-25", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01"}
	longSvc := hoursService(t, long)

	utc := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		svc        *Service
		now        time.Time
		zwolleOpen bool
		almereOpen bool
		zwolleNext time.Time // when closed
		nextNL     string    // Zwolle's next opening, as the student reads it
		nextEN     string
	}{
		{name: "weekday morning", now: ams(2026, 11, 25, 10, 0), zwolleOpen: true, almereOpen: true},
		{name: "weekday at 8:00 sharp", now: ams(2026, 11, 25, 8, 0), zwolleOpen: true, almereOpen: false},
		{name: "weekday before hours", now: ams(2026, 11, 25, 7, 30),
			zwolleNext: ams(2026, 11, 25, 8, 0), nextNL: "vandaag om 8:00", nextEN: "today at 8:00"},
		{name: "weekday 16:00 sharp: Zwolle closed, Almere open", now: ams(2026, 11, 25, 16, 0), almereOpen: true,
			zwolleNext: ams(2026, 11, 26, 8, 0), nextNL: "morgen om 8:00", nextEN: "tomorrow at 8:00"},
		{name: "weekday evening", now: ams(2026, 11, 25, 20, 0),
			zwolleNext: ams(2026, 11, 26, 8, 0), nextNL: "morgen om 8:00", nextEN: "tomorrow at 8:00"},
		{name: "friday evening -> monday", now: ams(2026, 11, 27, 18, 0),
			zwolleNext: ams(2026, 11, 30, 8, 0), nextNL: "maandag om 8:00", nextEN: "on Monday at 8:00"},
		{name: "saturday", now: ams(2026, 11, 28, 12, 0),
			zwolleNext: ams(2026, 11, 30, 8, 0), nextNL: "maandag om 8:00", nextEN: "on Monday at 8:00"},
		{name: "sunday evening", now: ams(2026, 11, 29, 21, 0),
			zwolleNext: ams(2026, 11, 30, 8, 0), nextNL: "morgen om 8:00", nextEN: "tomorrow at 8:00"},
		// Summer time starts Sunday 2026-03-29: 8:00 is 07:00 UTC before, 06:00 UTC after.
		{name: "DST spring: friday 07:30 UTC is 8:30 CET", now: utc(2026, 3, 27, 7, 30), zwolleOpen: true, almereOpen: true},
		{name: "DST spring: friday 06:30 UTC is 7:30 CET", now: utc(2026, 3, 27, 6, 30),
			zwolleNext: utc(2026, 3, 27, 7, 0), nextNL: "vandaag om 8:00", nextEN: "today at 8:00"},
		{name: "DST spring: saturday night -> monday 06:00 UTC", now: utc(2026, 3, 28, 22, 0),
			zwolleNext: utc(2026, 3, 30, 6, 0), nextNL: "maandag om 8:00", nextEN: "on Monday at 8:00"},
		{name: "DST spring: the switch night itself", now: utc(2026, 3, 29, 1, 30),
			zwolleNext: utc(2026, 3, 30, 6, 0), nextNL: "morgen om 8:00", nextEN: "tomorrow at 8:00"},
		{name: "DST spring: monday 06:30 UTC is 8:30 CEST", now: utc(2026, 3, 30, 6, 30), zwolleOpen: true, almereOpen: true},
		// Summer time ends Sunday 2026-10-25.
		{name: "DST autumn: friday 06:30 UTC is 8:30 CEST", now: utc(2026, 10, 23, 6, 30), zwolleOpen: true, almereOpen: true},
		{name: "DST autumn: saturday night -> monday 07:00 UTC", now: utc(2026, 10, 24, 21, 0),
			zwolleNext: utc(2026, 10, 26, 7, 0), nextNL: "maandag om 8:00", nextEN: "on Monday at 8:00"},
		{name: "DST autumn: the repeated hour", now: utc(2026, 10, 25, 0, 30),
			zwolleNext: utc(2026, 10, 26, 7, 0), nextNL: "morgen om 8:00", nextEN: "tomorrow at 8:00"},
		{name: "DST autumn: monday 06:30 UTC is 7:30 CET", now: utc(2026, 10, 26, 6, 30),
			zwolleNext: utc(2026, 10, 26, 7, 0), nextNL: "vandaag om 8:00", nextEN: "today at 8:00"},
		{name: "closed day during hours", now: ams(2026, 12, 25, 10, 0),
			zwolleNext: ams(2026, 12, 28, 8, 0), nextNL: "maandag om 8:00", nextEN: "on Monday at 8:00"},
		{name: "evening before a closed day skips it", now: ams(2026, 12, 24, 17, 0),
			zwolleNext: ams(2026, 12, 28, 8, 0), nextNL: "maandag om 8:00", nextEN: "on Monday at 8:00"},
		{name: "a week of closed days gives the date", svc: longSvc, now: ams(2026, 12, 24, 17, 0),
			zwolleNext: ams(2027, 1, 4, 8, 0), nextNL: "maandag 4 januari om 8:00", nextEN: "on Monday 4 January at 8:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := svc
			if tc.svc != nil {
				s = tc.svc
			}
			c := s.Contact(tc.now)
			if len(c.Desks) != 2 {
				t.Fatalf("desks = %d, want 2", len(c.Desks))
			}
			z, a := c.Desks[0], c.Desks[1]
			if z.OpenNow != tc.zwolleOpen || a.OpenNow != tc.almereOpen {
				t.Fatalf("open now: Zwolle %v Almere %v, want %v %v", z.OpenNow, a.OpenNow, tc.zwolleOpen, tc.almereOpen)
			}
			if c.AnyDeskOpen != (tc.zwolleOpen || tc.almereOpen) {
				t.Errorf("AnyDeskOpen = %v", c.AnyDeskOpen)
			}
			if tc.zwolleOpen {
				if want := time.Date(tc.now.In(amsterdam).Year(), tc.now.In(amsterdam).Month(), tc.now.In(amsterdam).Day(), 16, 0, 0, 0, amsterdam); !z.ClosesAt.Equal(want) {
					t.Errorf("Zwolle closes %v, want %v", z.ClosesAt, want)
				}
				return
			}
			if !z.NextOpen.Equal(tc.zwolleNext) {
				t.Errorf("Zwolle next open %v, want %v", z.NextOpen.UTC(), tc.zwolleNext.UTC())
			}
			if got := whenText(tc.now, z.NextOpen, amsterdam, "nl"); got != tc.nextNL {
				t.Errorf("nl: %q, want %q", got, tc.nextNL)
			}
			if got := whenText(tc.now, z.NextOpen, amsterdam, "en"); got != tc.nextEN {
				t.Errorf("en: %q, want %q", got, tc.nextEN)
			}
			if a.OpenNow == false && !a.NextOpen.After(z.NextOpen) {
				t.Errorf("Almere (8:30) should open after Zwolle (8:00): %v vs %v", a.NextOpen, z.NextOpen)
			}
		})
	}
}

func TestClosedCardWording(t *testing.T) {
	svc := hoursService(t, seedInstitution())
	tests := []struct {
		now  time.Time
		lang string
		want string
	}{
		{ams(2026, 11, 25, 20, 0), "nl", "De balie in Zwolle gaat morgen om 8:00 open. Je melding staat al bij de servicedesk."},
		{ams(2026, 11, 25, 20, 0), "en", "The Zwolle desk opens tomorrow at 8:00. Your request is already with the service desk."},
		{ams(2026, 11, 27, 18, 0), "nl", "De balie in Zwolle gaat maandag om 8:00 open."},
		{ams(2026, 11, 25, 10, 0), "nl", "De servicedesk is open: bel of loop nu binnen."},
		{ams(2026, 11, 25, 10, 0), "en", "The service desk is open: call or walk in now."},
		{ams(2026, 11, 25, 16, 30), "nl", "Almere, Serviceplein, 6e etage\",\"value\":\"ma-vr 8:30-17:00 · nu open tot 17:00"},
		{ams(2026, 11, 27, 18, 0), "nl", "\"value\":\"ma-vr 8:30-17:00 · gaat maandag om 8:30 open\""},
	}
	for _, tc := range tests {
		card := string(svc.ContactCard(tc.now, tc.lang, false, false))
		if !strings.Contains(card, tc.want) {
			t.Errorf("%v %s: card lacks %q:\n%s", tc.now, tc.lang, tc.want, card)
		}
	}
}

func TestPhoneHoursWording(t *testing.T) {
	inst := seedInstitution()
	inst.PhoneHours = &Hours{Days: weekdays, Open: "09:00", Close: "12:00"}
	svc := hoursService(t, inst)
	tests := []struct {
		now        time.Time
		lang, want string
	}{
		{ams(2026, 11, 25, 14, 0), "nl", "De balie is open: loop nu binnen."},
		{ams(2026, 11, 25, 14, 0), "en", "The desk is open: walk in now."},
		{ams(2026, 11, 25, 14, 0), "nl", "Telefoon: 088 - 469 9070 (ma-vr 9:00-12:00, weer bereikbaar morgen om 9:00)"},
		{ams(2026, 11, 25, 10, 0), "nl", "De servicedesk is open: bel of loop nu binnen."},
		{ams(2026, 11, 25, 10, 0), "en", "Phone: 088 - 469 9070 (Mon-Fri 9:00-12:00, open now)"},
	}
	for _, tc := range tests {
		if card := string(svc.ContactCard(tc.now, tc.lang, false, false)); !strings.Contains(card, tc.want) {
			t.Errorf("%v %s: card lacks %q:\n%s", tc.now, tc.lang, tc.want, card)
		}
	}
	c := svc.Contact(ams(2026, 11, 25, 14, 0))
	if c.PhoneOpenNow == nil || *c.PhoneOpenNow || c.PhoneHours != "ma-vr 9:00-12:00" {
		t.Errorf("contact phone: %v %q", c.PhoneOpenNow, c.PhoneHours)
	}
	if plain := hoursService(t, seedInstitution()).Contact(ams(2026, 11, 25, 14, 0)); plain.PhoneOpenNow != nil || plain.PhoneHours != "" {
		t.Errorf("phone hours shown without configuration: %+v", plain)
	}
}

func TestContactCardWhenNothingWasQueued(t *testing.T) {
	svc := hoursService(t, seedInstitution())
	now := ams(2026, 11, 25, 20, 0)
	for _, sec := range []bool{false, true} {
		card := string(svc.ContactCardWith(now, "nl", ContactCardOptions{Security: sec, NotQueued: true}))
		if strings.Contains(card, "Je melding staat al") || !strings.Contains(card, "De balie in Zwolle gaat morgen om 8:00 open.") {
			t.Errorf("security=%v: card claims a queued request or lacks the opening:\n%s", sec, card)
		}
	}
	if card := string(svc.ContactCardWith(now, "en", ContactCardOptions{Security: true, NotQueued: true})); !strings.Contains(card, "3. Call the service desk or walk in as soon as it opens.") {
		t.Errorf("security step 3 without a queued report:\n%s", card)
	}
}

func TestNewServiceRejectsBadHours(t *testing.T) {
	st := newFixture(t, seedInstitution(), time.Time{}).st
	bad := []func(*Institution){
		func(i *Institution) { i.Timezone = "Mars/Olympus" },
		func(i *Institution) { i.ClosedDays = []string{"25-12-2026"} },
		func(i *Institution) { i.Desks[0].Days = []string{"maandag"} },
		func(i *Institution) { i.Desks[0].Open = "8h" },
		func(i *Institution) { i.Desks[0].Close = "07:00" },
		func(i *Institution) { i.PhoneHours = &Hours{Days: weekdays, Open: "09:00", Close: "25:00"} },
	}
	for i, mutate := range bad {
		inst := seedInstitution()
		mutate(&inst)
		if _, err := NewService(Options{Store: st, Institution: inst}); err == nil {
			t.Errorf("case %d: NewService accepted %+v", i, inst)
		}
	}
	if _, err := NewService(Options{Institution: seedInstitution()}); err == nil {
		t.Error("NewService without a store was accepted")
	}
}

func TestHoursText(t *testing.T) {
	tests := []struct {
		days     []string
		nl, en   string
		open, cl string
	}{
		{weekdays, "ma-vr 8:00-16:00", "Mon-Fri 8:00-16:00", "08:00", "16:00"},
		{[]string{"mon", "wed"}, "ma, wo 8:30-17:00", "Mon, Wed 8:30-17:00", "08:30", "17:00"},
		{[]string{"sat", "sun", "mon"}, "ma, za, zo 9:00-12:00", "Mon, Sat, Sun 9:00-12:00", "09:00", "12:00"},
	}
	for _, tc := range tests {
		w, err := parseWindow(tc.days, tc.open, tc.cl)
		if err != nil {
			t.Fatal(err)
		}
		if got := hoursText(w, "nl"); got != tc.nl {
			t.Errorf("nl %q, want %q", got, tc.nl)
		}
		if got := hoursText(w, "en"); got != tc.en {
			t.Errorf("en %q, want %q", got, tc.en)
		}
	}
}

func TestPhoneURIAndIdentityCheck(t *testing.T) {
	for in, want := range map[string]string{
		"088 - 469 9070":    "tel:+31884699070",
		"088 – 469 9070":    "tel:+31884699070",
		"+31 88 469 9070":   "tel:+31884699070",
		"0031 (88) 4699070": "tel:+31884699070",
		"":                  "",
	} {
		if got := phoneURI(in); got != want {
			t.Errorf("phoneURI(%q) = %q, want %q", in, got, want)
		}
	}
	both := seedInstitution().IdentityCheck
	if got := identityCheck(both, "nl"); got != "Neem je identiteitsbewijs (paspoort, ID-kaart of rijbewijs) of je studentenpas mee." {
		t.Errorf("nl: %q", got)
	}
	if got := identityCheck(both, "en"); got != "Bring your passport, ID card or driving licence, or your student card." {
		t.Errorf("en: %q", got)
	}
	if got := identityCheck("Neem je pas mee.", "en"); got != "Neem je pas mee." {
		t.Errorf("single language text: %q", got)
	}
}

func TestContactCardGolden(t *testing.T) {
	svc := hoursService(t, seedInstitution())
	phone := seedInstitution()
	phone.PhoneHours = &Hours{Days: weekdays, Open: "08:00", Close: "17:00"}
	phoneSvc := hoursService(t, phone)
	tests := []struct {
		file      string
		svc       *Service
		now       time.Time
		lang      string
		lost, sec bool
	}{
		{"contact_open_nl.json", svc, ams(2026, 11, 25, 10, 0), "nl", false, false},
		{"contact_evening_nl.json", svc, ams(2026, 11, 25, 20, 0), "nl", false, false},
		{"contact_friday_evening_en.json", svc, ams(2026, 11, 27, 18, 0), "en", false, false},
		{"contact_lost_phone_nl.json", svc, ams(2026, 11, 25, 20, 0), "nl", true, false},
		{"contact_lost_phone_en.json", svc, ams(2026, 11, 25, 10, 0), "en", true, false},
		{"contact_security_night_nl.json", svc, ams(2026, 11, 28, 23, 0), "nl", false, true},
		{"contact_security_night_en.json", svc, ams(2026, 11, 28, 23, 0), "en", false, true},
		{"contact_phone_hours_nl.json", phoneSvc, ams(2026, 11, 25, 16, 30), "nl", false, false},
		{"contact_phone_hours_evening_en.json", phoneSvc, ams(2026, 11, 25, 20, 0), "en", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			golden(t, tc.file, tc.svc.ContactCard(tc.now, tc.lang, tc.lost, tc.sec))
		})
	}
}

func TestContactCardEssentials(t *testing.T) {
	svc := hoursService(t, seedInstitution())
	card := string(svc.ContactCard(ams(2026, 11, 28, 23, 0), "nl", true, true))
	for _, want := range []string{
		`"version":"1.5"`,
		`"type":"Action.OpenUrl","url":"tel:+31884699070"`,
		`"url":"https://mysignins.microsoft.com/security-info/password/change"`,
		"Keur het verzoek niet goed: tik op Weigeren.",
		"Wijzig nu meteen je wachtwoord, ook 's avonds of in het weekend.",
		"Neem je identiteitsbewijs (paspoort, ID-kaart of rijbewijs) of je studentenpas mee.",
		"De balie in Zwolle gaat maandag om 8:00 open.",
	} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q:\n%s", want, card)
		}
	}
	if strings.Contains(card, "Telefoon: 088 - 469 9070 (") {
		t.Error("phone hours shown although none are configured")
	}
}
