package dashboard

import (
	"testing"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
)

func TestSeriesBuckets(t *testing.T) {
	t.Parallel()
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	// Wednesday 28/10 to Tuesday 01/12: one conversation a day, a lead every other day.
	d := &Dashboard{Filter: Filter{From: day(10, 28), To: day(12, 1)}}
	for x := d.Filter.From; !x.After(d.Filter.To); x = x.AddDate(0, 0, 1) {
		d.Daily = append(d.Daily, dbsqlc.DashboardDailyRow{Day: x, InboxID: 1, Conversations: 1, Leads: int64(x.Day() % 2)})
	}
	total := int64(len(d.DailySeries()))
	for _, c := range []struct {
		grain       string
		n           int
		first, last [2]time.Time
	}{
		{"day", 35, [2]time.Time{day(10, 28), day(10, 28)}, [2]time.Time{day(12, 1), day(12, 1)}},
		{"week", 6, [2]time.Time{day(10, 28), day(11, 1)}, [2]time.Time{day(11, 30), day(12, 1)}},
		{"month", 3, [2]time.Time{day(10, 28), day(10, 31)}, [2]time.Time{day(12, 1), day(12, 1)}},
	} {
		s := d.Series(c.grain)
		var sum int64
		for i, b := range s {
			sum += b.Conversations
			if i > 0 && !b.From.Equal(s[i-1].To.AddDate(0, 0, 1)) {
				t.Errorf("%s: bucket %d starts %s after %s", c.grain, i, b.From, s[i-1].To)
			}
			if b.Conversations != int64(b.To.Sub(b.From).Hours()/24)+1 {
				t.Errorf("%s: bucket %v has %d", c.grain, b.From, b.Conversations)
			}
		}
		if len(s) != c.n || sum != total || !s[0].From.Equal(c.first[0]) || !s[0].To.Equal(c.first[1]) ||
			!s[len(s)-1].From.Equal(c.last[0]) || !s[len(s)-1].To.Equal(c.last[1]) {
			t.Errorf("%s: %d buckets (sum %d of %d), first %v–%v last %v–%v", c.grain, len(s), sum, total,
				s[0].From, s[0].To, s[len(s)-1].From, s[len(s)-1].To)
		}
	}
	for days, want := range map[int]string{1: "day", 30: "day", 45: "day", 90: "week", 190: "week", 365: "month", 731: "month"} {
		if got := DefaultGrain(days); got != want {
			t.Errorf("DefaultGrain(%d) = %s, want %s", days, got, want)
		}
	}
}
