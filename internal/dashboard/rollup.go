package dashboard

import (
	"context"
	"math"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// DefaultRollupAbove is the period size (conversations) up to which the rollup path still ranks
// the conversations for exact medians and p90 (one scan, about 1.5 ms per thousand
// conversations, for the period and the previous one); above it they come from 5%-wide
// histograms (interpolated), approximate, and the page says so. Counts, series and tables come
// from the rollups at any size, exactly.
const DefaultRollupAbove = 10000

// rollupOK reports whether the filter only names a period, inboxes and a channel: what the daily
// rollups are keyed by.
func (f Filter) rollupOK() bool {
	return f.Label == "" && f.Status == "" && f.Stage == "" && f.Flag == "" && f.FRT == nil &&
		f.DOW == nil && f.Hour == nil && f.CSAT == nil && f.Search == ""
}

// rollupInboxes is the inbox set the rollup queries filter on: the filter's inboxes, narrowed to
// the channel; nil means every inbox.
func (f Filter) rollupInboxes(inboxes []dbsqlc.TenantInboxNamesRow) []int32 {
	if f.Channel == "" {
		if len(f.Inboxes) == 0 {
			return nil
		}
		return f.Inboxes
	}
	chosen := map[int32]bool{}
	for _, id := range f.Inboxes {
		chosen[id] = true
	}
	out := []int32{} // not nil: a channel no inbox has matches nothing
	for _, ib := range inboxes {
		if ib.ChannelType == f.Channel && (len(f.Inboxes) == 0 || chosen[ib.InboxID]) {
			out = append(out, ib.InboxID)
		}
	}
	return out
}

// rollupSummaries sums the rollups of f's period and, with prev, of the period before it, in one
// statement; a period without rows sums to zeros. inboxes nil reads the tenant-level rows.
func rollupSummaries(ctx context.Context, tx pg.Tx, tenantID int64, f Filter, inboxes []int32, prev bool) (cur, before dbsqlc.RollupSummaryTenantRow, err error) {
	from := f.From
	if prev {
		from = f.Previous().From
	}
	var rows []dbsqlc.RollupSummaryTenantRow
	if inboxes == nil {
		rows, err = tx.RollupSummaryTenant(ctx, dbsqlc.RollupSummaryTenantParams{CurFrom: f.From, TenantID: tenantID, FromDay: from, ToDay: f.To})
	} else {
		var chosen []dbsqlc.RollupSummaryInboxesRow
		chosen, err = tx.RollupSummaryInboxes(ctx, dbsqlc.RollupSummaryInboxesParams{CurFrom: f.From, TenantID: tenantID, Inboxes: inboxes, FromDay: from, ToDay: f.To})
		for _, r := range chosen {
			rows = append(rows, dbsqlc.RollupSummaryTenantRow(r))
		}
	}
	for _, r := range rows {
		if r.Current {
			cur = r
		} else {
			before = r
		}
	}
	return cur, before, err
}

// loadRollups fills d for a filter that only names a period, inboxes and a channel: every count,
// series and table from the daily rollups; medians and p90 exact from one ranking scan when the
// period has at most RollupAbove conversations (in every inbox: what the scan walks), else from
// the rollups' histograms (d.Approx).
func (s *Service) loadRollups(ctx context.Context, tx pg.Tx, d *Dashboard, tenantID int64) error {
	f := d.Filter
	inboxes := f.rollupInboxes(d.Inboxes)
	cur, prev, err := rollupSummaries(ctx, tx, tenantID, f, inboxes, true)
	if err != nil {
		return err
	}
	above := s.RollupAbove
	if above == 0 {
		above = DefaultRollupAbove
	}
	curSum, prevSum := summaryFromRollup(cur, f.Business), summaryFromRollup(prev, f.Business)
	// Unanswered first waits past the SLA target at the sync time: counted from the conversations
	// (the rollups cannot hold a figure that grows with the clock).
	missed, err := tx.RollupSlaUnansweredMissed(ctx, dbsqlc.RollupSlaUnansweredMissedParams{CurFrom: f.From,
		TenantID: tenantID, FromDay: f.Previous().From, ToDay: f.To, Inboxes: inboxes})
	if err != nil {
		return err
	}
	curSum.SlaMissed += missed.Cur
	prevSum.SlaMissed += missed.Prev
	// The ranking scans select the rollups' inbox set (a channel is its inboxes), so every figure
	// of the page counts the same conversations.
	ranked := func(g Filter) dbsqlc.DashboardPercentilesParams {
		return dbsqlc.DashboardPercentilesParams{Business: f.Business, TenantID: tenantID, FromDay: g.From, ToDay: g.To, Inboxes: inboxes}
	}
	// A period is ranked exactly when its ranking scan is cheap: the scan walks the period's
	// conversations of every inbox (the index leads with the day), so with inboxes chosen it is
	// the tenant's period size that counts, not the chosen inboxes' share.
	exact := func(g Filter, n int64) (bool, error) {
		if above < 0 {
			return false, nil
		}
		if inboxes != nil && n <= above {
			var err error
			if n, err = tx.RollupPeriodSize(ctx, dbsqlc.RollupPeriodSizeParams{TenantID: tenantID, FromDay: g.From, ToDay: g.To}); err != nil {
				return false, err
			}
		}
		return n <= above, nil
	}
	curExact, err := exact(f, cur.Conversations)
	if err != nil {
		return err
	}
	prevExact, err := exact(f.Previous(), prev.Conversations)
	if err != nil {
		return err
	}
	// The histograms are read only when a period is too large to rank, and for the heatmap.
	var inboxP50 map[int32]float64
	var cur4 *hists
	if curExact {
		if inboxP50, err = exactPercentiles(ctx, tx, &curSum, ranked(f)); err != nil {
			return err
		}
		if cur4, err = s.readHists(ctx, tx, tenantID, f, inboxes, heatOnly, false); err != nil {
			return err
		}
	} else {
		if cur4, err = s.readHists(ctx, tx, tenantID, f, inboxes, metricsFor(f.Business).all(), true); err != nil {
			return err
		}
		cur4.percentiles(&curSum, metricsFor(f.Business))
		inboxP50 = map[int32]float64{}
		for id, h := range cur4.firstReply {
			inboxP50[id] = h.percentile(0.5)
		}
		d.Approx = true
	}
	if prevExact {
		_, err = exactPercentiles(ctx, tx, &prevSum, ranked(f.Previous()))
	} else {
		var prev3 *hists
		if prev3, err = s.readHists(ctx, tx, tenantID, f.Previous(), inboxes, metricsFor(f.Business).times(), false); err == nil {
			prev3.percentiles(&prevSum, metricsFor(f.Business))
		}
	}
	if err != nil {
		return err
	}
	d.KPIs = kpis(curSum, prevSum)

	// The daily chart reads per-inbox rows only when stacked by inbox or inboxes are chosen.
	d.Daily = d.Daily[:0]
	if inboxes == nil && !f.Stacked {
		daily, err := tx.RollupDailyTenant(ctx, dbsqlc.RollupDailyTenantParams{TenantID: tenantID, FromDay: f.From, ToDay: f.To})
		if err != nil {
			return err
		}
		for _, r := range daily {
			d.Daily = append(d.Daily, dbsqlc.DashboardDailyRow(r))
		}
	} else {
		daily, err := tx.RollupDailyInboxes(ctx, dbsqlc.RollupDailyInboxesParams{TenantID: tenantID, FromDay: f.From, ToDay: f.To, Inboxes: inboxes})
		if err != nil {
			return err
		}
		for _, r := range daily {
			d.Daily = append(d.Daily, dbsqlc.DashboardDailyRow(r))
		}
	}
	d.FRT = d.FRT[:0]
	frt := []int64{cur.Frt0, cur.Frt1, cur.Frt2, cur.Frt3, cur.Frt4, cur.Frt5, cur.Frt6}
	if f.Business {
		frt = []int64{cur.Frtb0, cur.Frtb1, cur.Frtb2, cur.Frtb3, cur.Frtb4, cur.Frtb5, cur.Frtb6}
	}
	for i, n := range frt {
		if n > 0 {
			d.FRT = append(d.FRT, dbsqlc.DashboardFirstReplyBucketsRow{Bucket: int16(i), Conversations: n})
		}
	}
	d.CSAT = d.CSAT[:0]
	for i, n := range []int64{cur.Csat1, cur.Csat2, cur.Csat3, cur.Csat4, cur.Csat5} {
		if n > 0 {
			d.CSAT = append(d.CSAT, dbsqlc.DashboardCSATRow{Rating: int16(i + 1), Conversations: n})
		}
	}
	d.Heatmap = d.Heatmap[:0]
	for dow := range cur4.heat {
		for hour, n := range cur4.heat[dow] {
			if n > 0 {
				d.Heatmap = append(d.Heatmap, dbsqlc.DashboardHeatmapRow{Dow: int16(dow), Hour: int16(hour), Conversations: n})
			}
		}
	}
	byInbox, err := tx.RollupByInbox(ctx, dbsqlc.RollupByInboxParams{TenantID: tenantID, FromDay: f.From, ToDay: f.To, Inboxes: inboxes})
	if err != nil {
		return err
	}
	channel := map[int32]string{}
	for _, ib := range d.Inboxes {
		channel[ib.InboxID] = ib.ChannelType
	}
	d.ByInbox = d.ByInbox[:0]
	for _, r := range byInbox {
		d.ByInbox = append(d.ByInbox, dbsqlc.DashboardByInboxRow{InboxID: r.InboxID, ChannelType: channel[r.InboxID],
			Conversations: r.Conversations, Leads: r.Leads, Visits: r.Visits, Conversions: r.Conversions,
			UnansweredLeads: r.UnansweredLeads, FirstReplyP50: p50(inboxP50, r.InboxID)})
	}
	d.ByLabel = d.ByLabel[:0]
	if inboxes == nil {
		labels, err := tx.RollupLabelsTenant(ctx, dbsqlc.RollupLabelsTenantParams{TenantID: tenantID, FromDay: f.From, ToDay: f.To})
		if err != nil {
			return err
		}
		for _, r := range labels {
			d.ByLabel = append(d.ByLabel, dbsqlc.DashboardByLabelRow(r))
		}
	} else {
		labels, err := tx.RollupLabelsInboxes(ctx, dbsqlc.RollupLabelsInboxesParams{TenantID: tenantID, Inboxes: inboxes, FromDay: f.From, ToDay: f.To})
		if err != nil {
			return err
		}
		for _, r := range labels {
			d.ByLabel = append(d.ByLabel, dbsqlc.DashboardByLabelRow(r))
		}
	}
	return nil
}

// p50 is an inbox's median first reply, NaN (no value) when it has none.
func p50(m map[int32]float64, inbox int32) float64 {
	if v, ok := m[inbox]; ok {
		return v
	}
	return math.NaN()
}

// summaryFromRollup turns rollup sums into the summary the scan path returns (durations in
// business time when business), percentiles NaN until percentilesFromHistograms or
// exactPercentiles fills them, and SlaMissed the answered part only (the caller adds the
// unanswered part).
func summaryFromRollup(r dbsqlc.RollupSummaryTenantRow, business bool) dbsqlc.DashboardSummaryRow {
	avg := math.NaN()
	if r.Replied > 0 {
		avg = r.FirstReplySum / float64(r.Replied)
		if business {
			avg = r.FirstReplyBusinessSum / float64(r.Replied)
		}
	}
	nan := math.NaN()
	return dbsqlc.DashboardSummaryRow{
		Conversations: r.Conversations, Leads: r.Leads, Visits: r.Visits, Conversions: r.Conversions,
		Unanswered: r.Unanswered, UnansweredLeads: r.UnansweredLeads, Replied: r.Replied,
		FirstReplyP50: nan, FirstReplyP90: nan, FirstReplyAvg: avg,
		HumanReplied: r.HumanReplied, FirstHumanReplyP50: nan, FirstHumanReplyP90: nan,
		Resolved: r.Resolved, ResolutionP50: nan, BotResolved: r.BotResolved, WithBot: r.WithBot,
		Handoffs: r.Handoffs, CsatResponses: r.CsatResponses, CsatSatisfied: r.CsatSatisfied,
		HandoffRequests: r.HandoffRequests, HumanWaits: r.HumanWaits, HumanWaitP50: nan, HumanWaitP90: nan,
		SlaWithin: r.SlaWithin, SlaMissed: r.SlaLate,
	}
}

// exactPercentiles ranks the period's conversations for the summary's medians and p90 and
// returns the median first reply per inbox.
func exactPercentiles(ctx context.Context, tx pg.Tx, sum *dbsqlc.DashboardSummaryRow, p dbsqlc.DashboardPercentilesParams) (map[int32]float64, error) {
	rows, err := tx.DashboardPercentiles(ctx, p)
	if err != nil {
		return nil, err
	}
	perInbox := map[int32]float64{}
	for _, r := range rows {
		if r.AllInboxes == 1 {
			sum.FirstReplyP50, sum.FirstReplyP90 = r.FirstReplyP50, r.FirstReplyP90
			sum.FirstHumanReplyP50, sum.FirstHumanReplyP90 = r.FirstHumanReplyP50, r.FirstHumanReplyP90
			sum.ResolutionP50 = r.ResolutionP50
			sum.HumanWaitP50, sum.HumanWaitP90 = r.HumanWaitP50, r.HumanWaitP90
			continue
		}
		perInbox[r.InboxID] = r.FirstReplyP50
	}
	return perInbox, nil
}

// readHists reads the period's histograms (see readHists).
func (s *Service) readHists(ctx context.Context, tx pg.Tx, tenantID int64, g Filter, inboxes []int32, metrics []int16, perInbox bool) (*hists, error) {
	if s.histReader != nil {
		return s.histReader(ctx, tx, tenantID, g, inboxes, metrics, perInbox)
	}
	return readHists(ctx, tx, tenantID, g, inboxes, metrics, perInbox)
}
