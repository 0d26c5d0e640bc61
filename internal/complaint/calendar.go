package complaint

import (
	"fmt"
	"time"
)

// Calendar counts working days: Monday to Friday, minus public holidays,
// plus the weekend days that are made working days in exchange (调休).
// Deadlines in working days follow the App 认定方法 (≤ 15 working days).
type Calendar struct {
	loc      *time.Location
	holidays map[string]bool
	workdays map[string]bool
}

// maxCalendarDays bounds the holiday and make-up lists.
const maxCalendarDays = 2000

// NewCalendar builds a calendar in loc from dates written 2006-01-02.
func NewCalendar(loc *time.Location, holidays, workdays []string) (*Calendar, error) {
	if loc == nil {
		loc = time.UTC
	}
	if len(holidays)+len(workdays) > maxCalendarDays {
		return nil, fmt.Errorf("calendar: more than %d dates", maxCalendarDays)
	}
	c := &Calendar{loc: loc, holidays: map[string]bool{}, workdays: map[string]bool{}}
	for _, set := range []struct {
		in  []string
		out map[string]bool
	}{{holidays, c.holidays}, {workdays, c.workdays}} {
		for _, d := range set.in {
			if _, err := time.ParseInLocation(time.DateOnly, d, loc); err != nil {
				return nil, fmt.Errorf("calendar: %q is not a date (2006-01-02)", d)
			}
			set.out[d] = true
		}
	}
	for d := range c.holidays {
		if c.workdays[d] {
			return nil, fmt.Errorf("calendar: %s is both a holiday and a working day", d)
		}
	}
	return c, nil
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkday reports whether t's date (in the calendar's zone) is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	d := t.In(c.loc)
	key := d.Format(time.DateOnly)
	if c.workdays[key] {
		return true
	}
	if c.holidays[key] {
		return false
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// maxWorkdays bounds a deadline.
const maxWorkdays = 365

// Due returns the end (23:59:59 local) of the n-th working day after the
// day of from: a ticket filed on any day gets n full working days.
func (c *Calendar) Due(from time.Time, n int) time.Time {
	n = max(1, min(n, maxWorkdays))
	d := from.In(c.loc)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.loc)
	// At most n working days among n*7+30 calendar days even with long
	// holidays; the bound keeps a misconfigured calendar from looping.
	for i := 0; n > 0 && i < maxWorkdays*7; i++ {
		day = day.AddDate(0, 0, 1)
		if c.IsWorkday(day) {
			n--
		}
	}
	return day.AddDate(0, 0, 1).Add(-time.Second)
}
