package dashboard_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestStaffFiguresUseTheTenantsClock: with the clock pinned at 22:30 in São Paulo (already the
// next day in UTC), the staff overview's 30-day counts and the client comparison's KPIs are the
// tenant's own dashboard's "30 dias", to the last digit; the medians come from the rollups on both
// sides (marked ≈) and are the same numbers. A UTC "today" would give other counts: the fixture
// has conversations on the day the two clocks disagree about.
func TestStaffFiguresUseTheTenantsClock(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, _ := fixture(t, env)
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 1, 30, 0, 0, time.UTC) // 29/11 22:30 in São Paulo
	staff := pg.System("test")
	client := pg.User(a, 0, pg.AppClient, "", "")
	svc := &dashboard.Service{DB: env.DB, RollupAbove: -1} // the rollups' medians, as the comparison reads them

	ten, err := svc.LoadTenant(ctx, client, a)
	if err != nil {
		t.Fatal(err)
	}
	if ten.Loc.String() != "America/Sao_Paulo" {
		t.Fatalf("fixture tenant in %s", ten.Loc)
	}
	load := func(today time.Time) *dashboard.Dashboard {
		t.Helper()
		f, err := dashboard.Parse(nil, today, 30, ten.InboxIDs())
		if err != nil {
			t.Fatal(err)
		}
		d, err := svc.Load(ctx, client, a, f)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := load(ten.Today(now))
	if !d.Approx {
		t.Fatal("the dashboard did not take the rollups' medians")
	}
	utc := load(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
	if *utc.KPIs.Conversations.Cur == *d.KPIs.Conversations.Cur {
		t.Fatalf("fixture cannot tell the clocks apart: %v conversations either way", *d.KPIs.Conversations.Cur)
	}

	// The overview.
	var ov []dbsqlc.AdminTenantOverviewRow
	if err := env.DB.InReadTx(ctx, staff, func(tx pg.Tx) error {
		var err error
		ov, err = tx.AdminTenantOverview(ctx, dbsqlc.AdminTenantOverviewParams{Now: now, StaleSeconds: 3600})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range ov {
		if r.ID != a {
			continue
		}
		found = true
		if got := r.Today.Format("2006-01-02"); got != "2026-11-29" {
			t.Errorf("overview's today %s, want 2026-11-29", got)
		}
		k := d.KPIs
		for name, pair := range map[string][2]float64{
			"conversations":        {float64(r.Conversations30d), *k.Conversations.Cur},
			"leads":                {float64(r.Leads30d), *k.Leads.Cur},
			"conversations before": {float64(r.ConversationsPrev30d), *k.Conversations.Prev},
			"leads before":         {float64(r.LeadsPrev30d), *k.Leads.Prev},
		} {
			if pair[0] != pair[1] {
				t.Errorf("overview %s %v, the dashboard's 30 dias %v", name, pair[0], pair[1])
			}
		}
	}
	if !found {
		t.Fatal("tenant missing from the overview")
	}

	// The comparison.
	rows, err := svc.Compare(ctx, staff, dashboard.ComparePeriod{Now: now, Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	var row *dashboard.ClientRow
	for i := range rows {
		if rows[i].TenantID == a {
			row = &rows[i]
		}
	}
	if row == nil {
		t.Fatal("tenant missing from the comparison")
	}
	if row.From.Format("2006-01-02") != "2026-10-31" || row.To.Format("2006-01-02") != "2026-11-29" {
		t.Errorf("comparison period %s–%s, want 2026-10-31–2026-11-29", row.From, row.To)
	}
	w, g := d.KPIs, row.KPIs
	for name, pair := range map[string][2]dashboard.Value{
		"conversations": {w.Conversations, g.Conversations}, "leads": {w.Leads, g.Leads},
		"visits": {w.Visits, g.Visits}, "conversions": {w.Conversions, g.Conversions},
		"conversion rate": {w.LeadToConversion, g.LeadToConversion}, "unanswered leads": {w.UnansweredLeads, g.UnansweredLeads},
		"first human reply p50": {w.FirstHumanReplyP50, g.FirstHumanReplyP50},
		"first human reply p90": {w.FirstHumanReplyP90, g.FirstHumanReplyP90},
		"bot resolved":          {w.BotResolvedShare, g.BotResolvedShare}, "handoff": {w.HandoffRate, g.HandoffRate},
		"csat": {w.CSATSatisfaction, g.CSATSatisfaction}, "csat responses": {w.CSATResponses, g.CSATResponses},
	} {
		if pair[0].Cur == nil || !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s: dashboard %v/%v, comparison %v/%v", name, val(pair[0].Cur), val(pair[0].Prev), val(pair[1].Cur), val(pair[1].Prev))
		}
	}
}
