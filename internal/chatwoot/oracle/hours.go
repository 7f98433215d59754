package oracle

import "time"

// Hours are an inbox's opening hours (docs/metrics.md, business hours), computed here from
// Chatwoot's rows without any of GeniAI's SQL. A nil *Hours is open around the clock.
type Hours struct {
	Loc *time.Location
	// Open and Close per weekday (0 = Sunday), seconds since local midnight; Open == Close
	// means closed that day.
	Open, Close [7]int
}

// WorkingHour is one Chatwoot working_hours row; nil pointers are NULL columns.
type WorkingHour struct {
	ID                                          int64
	Day                                         int
	ClosedAllDay, OpenAllDay                    *bool
	OpenHour, OpenMinutes, CloseHour, CloseMins *int
}

// NewHours applies Chatwoot's rules to an inbox's rows: closed_all_day is closed; open_all_day
// is open from midnight to midnight; otherwise open from the opening to the closing time, a
// close of 23:59 meaning the end of the day and a close at or before the open meaning closed.
// A weekday without a row is closed; of two rows of one weekday the one with the larger id
// counts.
func NewHours(loc *time.Location, rows []WorkingHour) *Hours {
	h := &Hours{Loc: loc}
	best := map[int]WorkingHour{}
	for _, r := range rows {
		if r.Day < 0 || r.Day > 6 {
			continue
		}
		if b, ok := best[r.Day]; !ok || r.ID > b.ID {
			best[r.Day] = r
		}
	}
	truth := func(b *bool) bool { return b != nil && *b }
	inRange := func(p *int, hi int) bool { return p != nil && *p >= 0 && *p <= hi }
	for day, r := range best {
		switch {
		case truth(r.ClosedAllDay):
		case truth(r.OpenAllDay):
			h.Open[day], h.Close[day] = 0, 86400
		case inRange(r.OpenHour, 23) && inRange(r.OpenMinutes, 59) && inRange(r.CloseHour, 23) && inRange(r.CloseMins, 59):
			o := *r.OpenHour*3600 + *r.OpenMinutes*60
			c := *r.CloseHour*3600 + *r.CloseMins*60
			if *r.CloseHour == 23 && *r.CloseMins == 59 {
				c = 86400
			}
			if c > o {
				h.Open[day], h.Close[day] = o, c
			}
		}
	}
	return h
}

// instant turns a local date and a time of day (seconds, up to 86400) into an instant the way
// PostgreSQL's AT TIME ZONE does: a local time that occurs twice (the clock goes back) is the
// later instant, and one that does not exist (the clock jumps forward) is read with the offset
// in force before the jump, which lands after the jump.
func instant(loc *time.Location, y int, m time.Month, d, secs int) time.Time {
	naive := time.Date(y, m, d, 0, 0, secs, 0, time.UTC)
	offsetAt := func(t time.Time) int { _, off := t.In(loc).Zone(); return off }
	before, after := offsetAt(naive.Add(-36*time.Hour)), offsetAt(naive.Add(36*time.Hour))
	c1 := naive.Add(-time.Duration(before) * time.Second)
	c2 := naive.Add(-time.Duration(after) * time.Second)
	ok1, ok2 := offsetAt(c1) == before, offsetAt(c2) == after
	switch {
	case ok1 && ok2:
		if c2.After(c1) {
			return c2
		}
		return c1
	case ok2:
		return c2
	default: // valid with the earlier offset only, or a gap
		return c1
	}
}

// intervals calls fn with each day's open interval [s, e) from a's local day on, until fn
// returns false.
func (h *Hours) intervals(a time.Time, fn func(s, e time.Time) bool) {
	l := a.In(h.Loc)
	y, m, d := l.Date()
	for i := 0; i < 800; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC) // calendar arithmetic only
		wd := int(day.Weekday())
		if h.Open[wd] >= h.Close[wd] {
			continue
		}
		s := instant(h.Loc, day.Year(), day.Month(), day.Day(), h.Open[wd])
		e := instant(h.Loc, day.Year(), day.Month(), day.Day(), h.Close[wd])
		if !fn(s, e) {
			return
		}
	}
}

// Seconds is the business seconds between a and b: the part of [a, b] inside the opening hours
// (b - a for nil hours; 0 when b is not after a).
func (h *Hours) Seconds(a, b time.Time) float64 {
	if !b.After(a) {
		return 0
	}
	if h == nil {
		return b.Sub(a).Seconds()
	}
	var total time.Duration
	h.intervals(a, func(s, e time.Time) bool {
		if !s.Before(b) {
			return false
		}
		if s.Before(a) {
			s = a
		}
		if e.After(b) {
			e = b
		}
		if e.After(s) {
			total += e.Sub(s)
		}
		return true
	})
	return total.Seconds()
}

// Due is the latest instant t with Seconds(a, t) <= secs: a wait lasting past it exceeds secs
// of business time. nil when the hours never open.
func (h *Hours) Due(a time.Time, secs float64) *time.Time {
	if h == nil {
		t := a.Add(time.Duration(secs * float64(time.Second)))
		return &t
	}
	rem := time.Duration(secs * float64(time.Second))
	var out *time.Time
	h.intervals(a, func(s, e time.Time) bool {
		if s.Before(a) {
			s = a
		}
		if !e.After(s) {
			return true
		}
		if e.Sub(s) > rem {
			t := s.Add(rem)
			out = &t
			return false
		}
		rem -= e.Sub(s)
		return true
	})
	return out
}

// IsOpen reports whether instant t is inside the opening hours.
func (h *Hours) IsOpen(t time.Time) bool {
	if h == nil {
		return true
	}
	l := t.In(h.Loc)
	wd := int(l.Weekday())
	sec := l.Hour()*3600 + l.Minute()*60 + l.Second()
	return sec >= h.Open[wd] && sec < h.Close[wd]
}
