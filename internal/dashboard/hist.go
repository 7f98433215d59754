package dashboard

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// histBuckets is the number of analytics.hist_bucket buckets (0-399).
const histBuckets = 400

// histogram is a merged analytics.hist_bucket histogram: conversations per bucket.
type histogram [histBuckets]int64

// bucketEdges are the seconds a bucket covers: [1.05^b - 1, 1.05^(b+1) - 1).
func bucketEdges(b int) (lo, hi float64) {
	return math.Pow(1.05, float64(b)) - 1, math.Pow(1.05, float64(b)+1) - 1
}

// percentile estimates PostgreSQL's percentile_cont from the histogram: it finds the bucket of
// the rank and interpolates inside it as if its values were evenly spread. NaN when empty.
func (h *histogram) percentile(p float64) float64 {
	if h == nil {
		return math.NaN()
	}
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return math.NaN()
	}
	pos := p * float64(n-1)
	var cum int64
	for b, c := range h {
		if c > 0 && pos < float64(cum+c) {
			lo, hi := bucketEdges(b)
			frac := (pos - float64(cum) + 0.5) / float64(c)
			return lo + (hi-lo)*math.Min(1, math.Max(0, frac))
		}
		cum += c
	}
	return math.NaN() // unreachable: pos < n
}

// The histogram metrics of analytics.daily_hist.
const (
	metricFirstReply int16 = iota + 1
	metricFirstHumanReply
	metricResolution
	metricHour
	metricFirstReplyBusiness
	metricFirstHumanReplyBusiness
	metricResolutionBusiness
	metricHumanWait
	metricHumanWaitBusiness
	metricCount = metricHumanWaitBusiness
)

// durationMetrics are the histogram metrics of the durations the dashboard shows, in calendar or
// business time: first reply, first human reply, resolution, first wait for a person.
type durationMetrics struct{ firstReply, firstHuman, resolution, humanWait int16 }

func metricsFor(business bool) durationMetrics {
	if business {
		return durationMetrics{metricFirstReplyBusiness, metricFirstHumanReplyBusiness, metricResolutionBusiness, metricHumanWaitBusiness}
	}
	return durationMetrics{metricFirstReply, metricFirstHumanReply, metricResolution, metricHumanWait}
}

func (m durationMetrics) times() []int16 {
	return []int16{m.firstReply, m.firstHuman, m.resolution, m.humanWait}
}

func (m durationMetrics) all() []int16 { return append(m.times(), metricHour) }

var heatOnly = []int16{metricHour}

// hists is a period's histograms merged over its days: per metric over the chosen inboxes, the
// hour of creation by weekday (the heatmap) and, when asked, the first reply per inbox.
type hists struct {
	all        [metricCount]histogram // by metric - 1 (durations; the hour's entry is unused)
	heat       [7][24]int64
	firstReply map[int32]*histogram // per inbox, of replyMetric
	// replyMetric is the first-reply metric merged per inbox (calendar or business time).
	replyMetric int16
}

// add merges count conversations in bucket of metric on a day of the week.
func (h *hists) add(metric int16, dow time.Weekday, bucket, count int64) {
	switch {
	case metric == metricHour:
		if bucket >= 0 && bucket < 24 {
			h.heat[dow][bucket] += count
		}
	case metric >= metricFirstReply && metric <= metricCount:
		if bucket >= 0 && bucket < histBuckets {
			h.all[metric-1][bucket] += count
		}
	}
}

// readHists merges the histograms of period g over the inbox set (nil: every inbox) for the
// metrics asked; perInbox also merges the first reply per inbox. With no inbox chosen everything
// comes from tenant_daily_hist, one row per day and metric whatever the number of inboxes (the
// first reply's row packing every inbox's histogram); with inboxes chosen, from their daily_hist
// rows.
func readHists(ctx context.Context, tx pg.Tx, tenantID int64, g Filter, inboxes []int32, metrics []int16, perInbox bool) (*hists, error) {
	h := &hists{replyMetric: metricsFor(g.Business).firstReply}
	if perInbox {
		h.firstReply = map[int32]*histogram{}
	}
	if inboxes == nil {
		rows, err := tx.RollupTenantHist(ctx, dbsqlc.RollupTenantHistParams{TenantID: tenantID, FromDay: g.From, ToDay: g.To, Metrics: metrics, ByInbox: perInbox})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if err := h.addRow(-1, r.Metric, r.Day, r.Buckets, r.Counts); err != nil {
				return nil, err
			}
			if perInbox && r.Metric == h.replyMetric {
				if err := h.addPacked(r.ByInbox); err != nil {
					return nil, err
				}
			}
		}
		return h, nil
	}
	rows, err := tx.RollupInboxHist(ctx, dbsqlc.RollupInboxHistParams{TenantID: tenantID, FromDay: g.From, ToDay: g.To, Metrics: metrics, Inboxes: inboxes})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		inbox := int32(-1)
		if perInbox {
			inbox = r.InboxID
		}
		if err := h.addRow(inbox, r.Metric, r.Day, r.Buckets, r.Counts); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// errHistArrays is a histogram whose parallel arrays differ in length (the tables' CHECKs rule
// it out).
var errHistArrays = errors.New("dashboard: histogram arrays of different lengths")

// addRow merges one row's histogram of metric on day; inbox ≥ 0 also merges a first reply into
// that inbox's histogram.
func (h *hists) addRow(inbox int32, metric int16, day time.Time, buckets []int16, counts []int32) error {
	if len(buckets) != len(counts) {
		return errHistArrays
	}
	dow := day.Weekday()
	for i, b := range buckets {
		h.add(metric, dow, int64(b), int64(counts[i]))
	}
	if inbox >= 0 && metric == h.replyMetric {
		ib := h.inbox(inbox)
		for i, b := range buckets {
			if b >= 0 && b < histBuckets {
				ib[b] += int64(counts[i])
			}
		}
	}
	return nil
}

// inbox is the first-reply histogram of an inbox, created empty.
func (h *hists) inbox(id int32) *histogram {
	ib := h.firstReply[id]
	if ib == nil {
		ib = &histogram{}
		h.firstReply[id] = ib
	}
	return ib
}

// errPacked is a malformed tenant_daily_hist.by_inbox (its CHECK rules it out).
var errPacked = errors.New("dashboard: malformed packed histograms")

// addPacked merges a tenant_daily_hist.by_inbox: 10-byte entries of big-endian inbox (4 bytes),
// bucket (2) and conversations (4), sorted by inbox (analytics.inbox_hist_entries reads it in
// SQL). Our own format, not the driver's: as three arrays, PostgreSQL encodes every element
// through a function call, and a 200-inbox tenant's 90 days are hundreds of thousands of them
// (docs/adr/013-dashboard-histogram-encoding.md).
func (h *hists) addPacked(b []byte) error {
	if len(b)%10 != 0 {
		return errPacked
	}
	var last int32 = -1
	var ib *histogram
	for ; len(b) >= 10; b = b[10:] {
		id := int32(binary.BigEndian.Uint32(b))
		bucket := int16(binary.BigEndian.Uint16(b[4:]))
		n := int64(int32(binary.BigEndian.Uint32(b[6:])))
		if id != last || ib == nil {
			last, ib = id, h.inbox(id)
		}
		if bucket >= 0 && bucket < histBuckets {
			ib[bucket] += n
		}
	}
	return nil
}

// percentiles estimates the summary's medians and p90 from the merged histograms of m.
func (h *hists) percentiles(sum *dbsqlc.DashboardSummaryRow, m durationMetrics) {
	fr, fh, rs, hw := &h.all[m.firstReply-1], &h.all[m.firstHuman-1], &h.all[m.resolution-1], &h.all[m.humanWait-1]
	sum.FirstReplyP50, sum.FirstReplyP90 = fr.percentile(0.5), fr.percentile(0.9)
	sum.FirstHumanReplyP50, sum.FirstHumanReplyP90 = fh.percentile(0.5), fh.percentile(0.9)
	sum.ResolutionP50 = rs.percentile(0.5)
	sum.HumanWaitP50, sum.HumanWaitP90 = hw.percentile(0.5), hw.percentile(0.9)
}
