package dashboard

import (
	"strconv"
	"time"
)

// FRTBuckets are the labels of the first-reply distribution, by analytics.frt_bucket.
var FRTBuckets = []string{"< 1 min", "1–5 min", "5–15 min", "15–60 min", "1–4 h", "4–24 h", "> 24 h"}

// Weekdays are the pt-BR weekday names, Sunday first (created_dow).
var Weekdays = []string{"Domingo", "Segunda", "Terça", "Quarta", "Quinta", "Sexta", "Sábado"}

// DayPoint is one day of the daily chart.
type DayPoint struct {
	Day           time.Time
	Conversations int64
	Leads         int64
	ByInbox       map[int32]int64
}

// DailySeries fills every day of the period (days without conversations are zero); ByInbox
// only when the filter stacks the chart by inbox (Filter.Stacked), the only case Load reads the
// per-inbox series for.
func (d *Dashboard) DailySeries() []DayPoint {
	idx := map[time.Time]int{}
	var out []DayPoint
	for day := d.Filter.From; !day.After(d.Filter.To); day = day.AddDate(0, 0, 1) {
		idx[day] = len(out)
		out = append(out, DayPoint{Day: day, ByInbox: map[int32]int64{}})
	}
	for _, r := range d.Daily {
		i, ok := idx[r.Day]
		if !ok {
			continue
		}
		out[i].Conversations += r.Conversations
		out[i].Leads += r.Leads
		if d.Filter.Stacked {
			out[i].ByInbox[r.InboxID] += r.Conversations
		}
	}
	return out
}

// FRTCounts is the distribution as 7 counts (missing buckets are zero).
func (d *Dashboard) FRTCounts() [7]int64 {
	var out [7]int64
	for _, r := range d.FRT {
		if r.Bucket >= 0 && int(r.Bucket) < len(out) {
			out[r.Bucket] = r.Conversations
		}
	}
	return out
}

// HeatmapGrid is conversations by [weekday][hour].
func (d *Dashboard) HeatmapGrid() (grid [7][24]int64, max int64) {
	for _, r := range d.Heatmap {
		if r.Dow >= 0 && r.Dow < 7 && r.Hour >= 0 && r.Hour < 24 {
			grid[r.Dow][r.Hour] = r.Conversations
			if r.Conversations > max {
				max = r.Conversations
			}
		}
	}
	return grid, max
}

// CSATCounts is ratings 1..5 as counts at index rating-1.
func (d *Dashboard) CSATCounts() [5]int64 {
	var out [5]int64
	for _, r := range d.CSAT {
		if r.Rating >= 1 && r.Rating <= 5 {
			out[r.Rating-1] = r.Conversations
		}
	}
	return out
}

// InboxName returns the display name of an inbox of the tenant.
func (d *Dashboard) InboxName(id int32) string {
	for _, ib := range d.Inboxes {
		if ib.InboxID == id {
			if ib.InboxName != "" {
				return ib.InboxName
			}
			break
		}
	}
	return "Caixa " + strconv.Itoa(int(id))
}

// Grains are the bar widths of the volume chart: one bar per day, per week (Monday to Sunday)
// or per calendar month.
var Grains = []string{"day", "week", "month"}

// DefaultGrain is the grain that keeps the volume chart readable for a period of days days:
// daily up to about six weeks, weekly up to about six months, monthly beyond (a year is 12 or 13
// bars, not 365).
func DefaultGrain(days int) string {
	switch {
	case days <= 45:
		return "day"
	case days <= 190:
		return "week"
	}
	return "month"
}

// Bucket is one bar of the volume chart: the days From..To (inclusive, clipped to the period).
type Bucket struct {
	From, To      time.Time
	Conversations int64
	Leads         int64
	ByInbox       map[int32]int64
}

// Series is the daily series summed into buckets of grain ("day", "week" or "month"); the first
// and last buckets hold only the period's days, so the bars add up to the period's total.
func (d *Dashboard) Series(grain string) []Bucket {
	var out []Bucket
	for _, p := range d.DailySeries() {
		start := bucketStart(p.Day, grain)
		if n := len(out); n == 0 || !bucketStart(out[n-1].From, grain).Equal(start) {
			out = append(out, Bucket{From: p.Day, ByInbox: map[int32]int64{}})
		}
		b := &out[len(out)-1]
		b.To = p.Day
		b.Conversations += p.Conversations
		b.Leads += p.Leads
		for id, n := range p.ByInbox {
			b.ByInbox[id] += n
		}
	}
	return out
}

// bucketStart is the first day of the bucket holding day: itself, its week's Monday, or the
// first of its month.
func bucketStart(day time.Time, grain string) time.Time {
	switch grain {
	case "week":
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case "month":
		return time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, day.Location())
	}
	return day
}
