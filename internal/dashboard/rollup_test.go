package dashboard_test

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestRollupsMatchExactPath: the rollup path gives the scan path's counts, series and tables
// exactly; its medians and p90 are exact too while the period is small enough to rank, and
// within the histograms' 5% bucket width above that.
func TestRollupsMatchExactPath(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, _ := fixture(t, env)
	ctx := context.Background()
	exact := &dashboard.Service{DB: env.DB, ScanOnly: true}
	rolled := &dashboard.Service{DB: env.DB, RollupAbove: -1}
	ranked := &dashboard.Service{DB: env.DB}
	p := pg.User(a, 0, pg.AppClient, "", "")
	for _, q := range []string{"period=30d", "period=90d", "period=90d&stack=inbox", "period=90d&inbox=1", "period=365d&channel=Channel::Instagram", "from=2026-11-01&to=2026-11-15&inbox=1&inbox=2",
		"period=90d&hours=business", "period=90d&inbox=1&hours=business"} {
		f := parse(t, q)
		want, err := exact.Load(ctx, p, a, f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rolled.Load(ctx, p, a, f)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Approx || want.Approx {
			t.Fatalf("%s: paths not taken as asked (rollup %v, exact %v)", q, got.Approx, want.Approx)
		}
		// Rollups with ranked percentiles: everything equal to the scan path, to the last digit.
		hybrid, err := ranked.Load(ctx, p, a, f)
		if err != nil {
			t.Fatal(err)
		}
		if hybrid.Approx {
			t.Fatalf("%s: ranked rollup path marked approximate", q)
		}
		// The list's total, summed from the rollups, is the counted one.
		counted, err := exact.List(ctx, p, a, f)
		if err != nil {
			t.Fatal(err)
		}
		summed, err := ranked.List(ctx, p, a, f)
		if err != nil {
			t.Fatal(err)
		}
		if counted.Total != summed.Total || counted.Total != int64(*want.KPIs.Conversations.Cur) {
			t.Errorf("%s: list total counted %d, from rollups %d, KPI %v", q, counted.Total, summed.Total, *want.KPIs.Conversations.Cur)
		}
		if !reflect.DeepEqual(want.KPIs, hybrid.KPIs) || !reflect.DeepEqual(want.ByInbox, hybrid.ByInbox) ||
			!reflect.DeepEqual(want.ByLabel, hybrid.ByLabel) || !reflect.DeepEqual(want.DailySeries(), hybrid.DailySeries()) ||
			want.FRTCounts() != hybrid.FRTCounts() || want.CSATCounts() != hybrid.CSATCounts() {
			t.Errorf("%s: rollups with ranked percentiles differ from the scan path:\n%+v\n%+v", q, want.KPIs, hybrid.KPIs)
		}
		if *want.KPIs.Conversations.Cur == 0 {
			t.Fatalf("%s: fixture has no conversations", q)
		}
		w, g := want.KPIs, got.KPIs
		for name, pair := range map[string][2]dashboard.Value{
			"conversations": {w.Conversations, g.Conversations}, "leads": {w.Leads, g.Leads}, "visits": {w.Visits, g.Visits},
			"conversions": {w.Conversions, g.Conversions}, "unanswered leads": {w.UnansweredLeads, g.UnansweredLeads},
			"resolution rate": {w.ResolutionRate, g.ResolutionRate}, "bot resolved": {w.BotResolvedShare, g.BotResolvedShare},
			"handoff": {w.HandoffRate, g.HandoffRate}, "csat": {w.CSATSatisfaction, g.CSATSatisfaction},
			"csat responses": {w.CSATResponses, g.CSATResponses}, "lead→visit": {w.LeadToVisit, g.LeadToVisit},
			"requests for a person": {w.HandoffRequests, g.HandoffRequests}, "human waits": {w.HumanWaits, g.HumanWaits},
			"sla within": {w.SLAWithin, g.SLAWithin}, "sla missed": {w.SLAMissed, g.SLAMissed}, "sla share": {w.SLAWithinShare, g.SLAWithinShare},
		} {
			if !reflect.DeepEqual(pair[0], pair[1]) {
				t.Errorf("%s: %s exact %v/%v, rollup %v/%v", q, name, val(pair[0].Cur), val(pair[0].Prev), val(pair[1].Cur), val(pair[1].Prev))
			}
		}
		for name, pair := range map[string][2]dashboard.Value{
			"first reply p50": {w.FirstReplyP50, g.FirstReplyP50}, "first reply p90": {w.FirstReplyP90, g.FirstReplyP90},
			"first human p50": {w.FirstHumanReplyP50, g.FirstHumanReplyP50}, "first human p90": {w.FirstHumanReplyP90, g.FirstHumanReplyP90},
			"resolution p50": {w.ResolutionP50, g.ResolutionP50},
			"human wait p50": {w.HumanWaitP50, g.HumanWaitP50}, "human wait p90": {w.HumanWaitP90, g.HumanWaitP90},
		} {
			if !close(pair[0].Cur, pair[1].Cur) || !close(pair[0].Prev, pair[1].Prev) {
				t.Errorf("%s: %s exact %v (previous %v), rollup %v (previous %v)", q, name, val(pair[0].Cur), val(pair[0].Prev), val(pair[1].Cur), val(pair[1].Prev))
			}
		}
		if !reflect.DeepEqual(want.DailySeries(), got.DailySeries()) || want.FRTCounts() != got.FRTCounts() || want.CSATCounts() != got.CSATCounts() {
			t.Errorf("%s: daily, first-reply or CSAT distribution differ", q)
		}
		wg, _ := want.HeatmapGrid()
		gg, _ := got.HeatmapGrid()
		if wg != gg {
			t.Errorf("%s: heatmaps differ", q)
		}
		if len(want.ByInbox) != len(got.ByInbox) || len(want.ByLabel) != len(got.ByLabel) {
			t.Fatalf("%s: table sizes differ", q)
		}
		for i := range want.ByInbox {
			a, b := want.ByInbox[i], got.ByInbox[i]
			ap, bp := a.FirstReplyP50, b.FirstReplyP50
			a.FirstReplyP50, b.FirstReplyP50 = 0, 0
			if a != b || !close(&ap, &bp) {
				t.Errorf("%s: inbox row %+v vs %+v", q, a, b)
			}
		}
		if !reflect.DeepEqual(want.ByLabel, got.ByLabel) {
			t.Errorf("%s: label tables differ: %v vs %v", q, want.ByLabel, got.ByLabel)
		}
	}
}

func val(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}

// TestRankingSizeCountsEveryInbox: with inboxes chosen, whether medians are ranked exactly is
// decided by the period's size in every inbox (what the ranking scan walks), not by the chosen
// inboxes' share.
func TestRankingSizeCountsEveryInbox(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, _ := fixture(t, env)
	ctx := context.Background()
	p := pg.User(a, 0, pg.AppClient, "", "")
	all, err := (&dashboard.Service{DB: env.DB}).Load(ctx, p, a, parse(t, "period=90d"))
	if err != nil {
		t.Fatal(err)
	}
	f := parse(t, "period=90d&inbox=1")
	one, err := (&dashboard.Service{DB: env.DB}).Load(ctx, p, a, f)
	if err != nil {
		t.Fatal(err)
	}
	total, chosen := int64(*all.KPIs.Conversations.Cur), int64(*one.KPIs.Conversations.Cur)
	if chosen == 0 || chosen >= total {
		t.Fatalf("fixture: inbox 1 has %d of %d conversations", chosen, total)
	}
	for _, tc := range []struct {
		above  int64
		approx bool
	}{{chosen, true}, {total - 1, true}, {total, false}} {
		d, err := (&dashboard.Service{DB: env.DB, RollupAbove: tc.above}).Load(ctx, p, a, f)
		if err != nil {
			t.Fatal(err)
		}
		if d.Approx != tc.approx {
			t.Errorf("ranking above %d (inbox 1: %d, every inbox: %d): approximate %v, want %v", tc.above, chosen, total, d.Approx, tc.approx)
		}
	}
}

// close: both absent, or within 5% (the histograms' bucket width) or 0.05 s.
func close(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	d := math.Abs(*a - *b)
	return d <= 0.05 || d <= 0.05*math.Abs(*a)
}
