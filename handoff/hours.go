package handoff

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	// The binary may run in a container without /usr/share/zoneinfo;
	// opening hours must still be computed in the institution's zone.
	_ "time/tzdata"

	"mfabot/dialogs/texts"
)

// Institution is the service desk as the student sees it. The lead maps
// config.Institution into it.
type Institution struct {
	Name              string
	Phone             string
	PhoneHours        *Hours // nil: no phone hours shown
	Desks             []Desk
	ClosedDays        []string // YYYY-MM-DD in Timezone (public holidays)
	Timezone          string   // IANA name; empty = Europe/Amsterdam
	SetupURL          string
	PasswordChangeURL string
	// IdentityCheck says what to bring for the identity check. A text of
	// the form "Dutch text / English text" is split by language.
	IdentityCheck string
}

// Desk is one walk-in service desk.
type Desk struct {
	Name     string
	Location string
	Days     []string // mon..sun
	Open     string   // HH:MM
	Close    string   // HH:MM
}

// Hours is an opening-hours window (the phone line).
type Hours struct {
	Days  []string // mon..sun
	Open  string   // HH:MM
	Close string   // HH:MM
}

// DefaultTimezone is used when Institution.Timezone is empty.
const DefaultTimezone = "Europe/Amsterdam"

// window is a parsed opening-hours window.
type window struct {
	days        [7]bool // indexed by time.Weekday
	open, close int     // minutes after local midnight
}

// schedule is the parsed form of an Institution.
type schedule struct {
	loc    *time.Location
	closed map[string]bool // YYYY-MM-DD
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"zo": time.Sunday, "ma": time.Monday, "di": time.Tuesday, "wo": time.Wednesday,
	"do": time.Thursday, "vr": time.Friday, "za": time.Saturday,
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || len(m) != 2 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	return hh*60 + mm, nil
}

func parseWindow(days []string, open, close string) (window, error) {
	var w window
	if len(days) == 0 {
		return w, fmt.Errorf("no days")
	}
	for _, d := range days {
		wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return w, fmt.Errorf("day %q: want mon..sun", d)
		}
		w.days[wd] = true
	}
	var err error
	if w.open, err = parseClock(open); err != nil {
		return w, err
	}
	if w.close, err = parseClock(close); err != nil {
		return w, err
	}
	if w.close <= w.open {
		return w, fmt.Errorf("closes (%s) before it opens (%s)", close, open)
	}
	return w, nil
}

func newSchedule(inst Institution) (schedule, error) {
	tz := inst.Timezone
	if tz == "" {
		tz = DefaultTimezone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return schedule{}, fmt.Errorf("handoff: timezone %q: %w", tz, err)
	}
	sc := schedule{loc: loc, closed: map[string]bool{}}
	for _, d := range inst.ClosedDays {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return schedule{}, fmt.Errorf("handoff: closed day %q: want YYYY-MM-DD", d)
		}
		sc.closed[d] = true
	}
	return sc, nil
}

// at is the moment minutes-after-midnight on the local date of day, in
// the schedule's zone. time.Date resolves daylight saving.
func (sc schedule) at(day time.Time, minutes int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, minutes/60, minutes%60, 0, 0, sc.loc)
}

func (sc schedule) isClosedDay(day time.Time) bool {
	return sc.closed[day.Format("2006-01-02")]
}

// status tells whether w is open at now, and when it closes (open) or
// next opens (closed). next is zero when it never opens again within a
// year (no days, or everything closed).
func (sc schedule) status(w window, now time.Time) (open bool, closes, next time.Time) {
	local := now.In(sc.loc)
	if w.days[local.Weekday()] && !sc.isClosedDay(local) {
		o, c := sc.at(local, w.open), sc.at(local, w.close)
		if !local.Before(o) && local.Before(c) {
			return true, c, time.Time{}
		}
	}
	y, m, d := local.Date()
	for i := 0; i <= 366; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, sc.loc)
		if !w.days[day.Weekday()] || sc.isClosedDay(day) {
			continue
		}
		o := sc.at(day, w.open)
		if o.After(local) {
			return false, time.Time{}, o
		}
	}
	return false, time.Time{}, time.Time{}
}

// dayDiff is the number of calendar days from a to b in loc.
func dayDiff(a, b time.Time, loc *time.Location) int {
	a, b = a.In(loc), b.In(loc)
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// Keys of the language files' calendar.day.*, calendar.day_short.* and
// calendar.month.*.
var (
	dayKeys   = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	monthKeys = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
)

// clock formats a local time as 8:00 / 16:30.
func clock(t time.Time) string {
	return fmt.Sprintf("%d:%02d", t.Hour(), t.Minute())
}

func clockMinutes(m int) string {
	return fmt.Sprintf("%d:%02d", m/60, m%60)
}

// whenText says when t is, relative to now: "vandaag om 8:00", "morgen
// om 8:00", "maandag om 8:30", "maandag 4 januari om 8:00" (and English).
func whenText(now, t time.Time, loc *time.Location, lang string) string {
	lt := t.In(loc)
	n := dayDiff(now, t, loc)
	vars := map[string]string{
		"time":    clock(lt),
		"weekday": texts.T(lang, "calendar.day."+dayKeys[lt.Weekday()], nil),
		"day":     strconv.Itoa(lt.Day()),
		"month":   texts.T(lang, "calendar.month."+monthKeys[lt.Month()-1], nil),
	}
	switch {
	case n == 0:
		return texts.T(lang, "when.today", vars)
	case n == 1:
		return texts.T(lang, "when.tomorrow", vars)
	case n < 7:
		return texts.T(lang, "when.weekday", vars)
	default:
		return texts.T(lang, "when.date", vars)
	}
}

// hoursText formats a window as "ma-vr 8:00-16:00" / "Mon-Fri 8:00-16:00".
func hoursText(w window, lang string) string {
	var names [7]string
	for d, k := range dayKeys {
		names[d] = texts.T(lang, "calendar.day_short."+k, nil)
	}
	// Walk Monday..Sunday and join runs of consecutive days.
	order := [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	var parts []string
	for i := 0; i < 7; {
		if !w.days[order[i]] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && w.days[order[j+1]] {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, names[order[i]])
		case j == i+1:
			parts = append(parts, names[order[i]], names[order[j]])
		default:
			parts = append(parts, names[order[i]]+"-"+names[order[j]])
		}
		i = j + 1
	}
	return strings.Join(parts, ", ") + " " + clockMinutes(w.open) + "-" + clockMinutes(w.close)
}
