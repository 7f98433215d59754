package dashboard

import (
	"context"
	"math"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// The staff comparison of clients: every tenant's KPIs for a period against the one before, with
// the dashboard's own definitions (kpis), from the tenant-level rollups only, so a thousand
// tenants answer in one pass. Counts and rates are exact; the first human reply's median and p90
// come from the rollups' histograms, the estimate the dashboard makes for a large period (the
// same code, so a median marked ≈ on both sides is the same number).

// ComparePeriod is the period of a comparison: the last Days days up to each tenant's own
// today (in its timezone, at Now), or From–To for every tenant when both are set.
type ComparePeriod struct {
	Now      time.Time
	Days     int
	From, To *time.Time
}

// ClientRow is one tenant of the comparison.
type ClientRow struct {
	TenantID                 int64
	Slug, Name, Status, Zone string
	From, To                 time.Time // the period, in the tenant's days
	PrevFrom, PrevTo         time.Time // the one compared with
	KPIs                     KPIs      // FirstHumanReplyP50/P90 approximate
}

// Compare computes the comparison for every client tenant the principal sees (staff).
func (s *Service) Compare(ctx context.Context, p pg.Principal, per ComparePeriod) ([]ClientRow, error) {
	var out []ClientRow
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		out, err = Compare(ctx, tx, per)
		return err
	})
	return out, err
}

// Compare is Service.Compare inside the caller's transaction.
func Compare(ctx context.Context, tx pg.Tx, per ComparePeriod) ([]ClientRow, error) {
	days := int32(per.Days)
	if days < 1 {
		days = 30
	}
	sums, err := tx.ClientComparison(ctx, dbsqlc.ClientComparisonParams{Now: per.Now, Days: days, FromDay: per.From, ToDay: per.To})
	if err != nil {
		return nil, err
	}
	hs, err := tx.ClientComparisonHist(ctx, dbsqlc.ClientComparisonHistParams{Now: per.Now, Days: days, FromDay: per.From, ToDay: per.To})
	if err != nil {
		return nil, err
	}
	// Per tenant, the current period's histogram [0] and the previous one's [1].
	merged := make(map[int64]*[2]histogram, len(sums))
	for _, r := range hs {
		if len(r.Buckets) != len(r.Counts) {
			return nil, errHistArrays
		}
		m := merged[r.TenantID]
		if m == nil {
			m = &[2]histogram{}
			merged[r.TenantID] = m
		}
		h := &m[1]
		if r.Current {
			h = &m[0]
		}
		for i, b := range r.Buckets {
			if b >= 0 && b < histBuckets {
				h[b] += int64(r.Counts[i])
			}
		}
	}
	out := make([]ClientRow, 0, len(sums))
	for _, r := range sums {
		cur := dbsqlc.DashboardSummaryRow{
			Conversations: r.Conversations, Leads: r.Leads, Visits: r.Visits, Conversions: r.Conversions,
			UnansweredLeads: r.UnansweredLeads, HumanReplied: r.HumanReplied, Resolved: r.Resolved,
			BotResolved: r.BotResolved, WithBot: r.WithBot, Handoffs: r.Handoffs,
			CsatResponses: r.CsatResponses, CsatSatisfied: r.CsatSatisfied,
		}
		prev := dbsqlc.DashboardSummaryRow{
			Conversations: r.PrevConversations, Leads: r.PrevLeads, Visits: r.PrevVisits, Conversions: r.PrevConversions,
			UnansweredLeads: r.PrevUnansweredLeads, HumanReplied: r.PrevHumanReplied, Resolved: r.PrevResolved,
			BotResolved: r.PrevBotResolved, WithBot: r.PrevWithBot, Handoffs: r.PrevHandoffs,
			CsatResponses: r.PrevCsatResponses, CsatSatisfied: r.PrevCsatSatisfied,
		}
		for _, sum := range []*dbsqlc.DashboardSummaryRow{&cur, &prev} {
			sum.FirstReplyP50, sum.FirstReplyP90, sum.FirstReplyAvg = math.NaN(), math.NaN(), math.NaN()
			sum.FirstHumanReplyP50, sum.FirstHumanReplyP90, sum.ResolutionP50 = math.NaN(), math.NaN(), math.NaN()
		}
		if m := merged[r.ID]; m != nil {
			cur.FirstHumanReplyP50, cur.FirstHumanReplyP90 = m[0].percentile(0.5), m[0].percentile(0.9)
			prev.FirstHumanReplyP50, prev.FirstHumanReplyP90 = m[1].percentile(0.5), m[1].percentile(0.9)
		}
		out = append(out, ClientRow{
			TenantID: r.ID, Slug: r.Slug, Name: r.Name, Status: r.Status, Zone: r.Timezone,
			From: r.FromDay, To: r.ToDay, PrevFrom: r.PrevFromDay, PrevTo: r.PrevToDay,
			KPIs: kpis(cur, prev),
		})
	}
	return out, nil
}
