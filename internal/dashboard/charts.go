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
