package dashboard_test

import (
	"context"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
	"github.com/geniai/analytics/internal/staff"
)

// TestStaffCrossClientFiguresEqualEachDashboard: with five clients of different sizes and
// timezones (São Paulo, Manaus and Tokyo, whose "today" differ at the pinned clock; one client
// with no conversation at all), every row of the client comparison (7, 30 and 90 days and an
// explicit period) and of the staff overview carries that client's own dashboard's figures, read
// one client at a time as the client itself. On a Citus cluster (`make test/citus`) the staff
// reads join coordinator tables (app.tenants) with distributed rollups across every worker,
// while a client's dashboard is a query on its one worker: the two must agree to the last digit.
func TestStaffCrossClientFiguresEqualEachDashboard(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, b := fixture(t, env)
	c := pgtest.SeedClient(t, env, "academia-manaus", "America/Manaus", 5, 1001, 300)
	d := pgtest.SeedClient(t, env, "academia-tokyo", "Asia/Tokyo", 6, 2001, 120)
	e := pgtest.SeedClient(t, env, "academia-vazia", "America/Sao_Paulo", 7, 0, 0)
	tenants := []int64{a, b, c, d, e}
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 1, 30, 0, 0, time.UTC) // 29/11 in the Americas, 30/11 in Tokyo
	support := pg.User(0, 0, pg.AppSupport, "", "")
	svc := &dashboard.Service{DB: env.DB, RollupAbove: -1} // the rollups' medians, as the comparison reads them

	own := func(id int64, q url.Values, days int) *dashboard.Dashboard {
		t.Helper()
		p := pg.User(id, 0, pg.AppClient, "", "")
		ten, err := svc.LoadTenant(ctx, p, id)
		if err != nil {
			t.Fatal(err)
		}
		f, err := dashboard.Parse(q, ten.Today(now), days, ten.InboxIDs())
		if err != nil {
			t.Fatal(err)
		}
		dash, err := svc.Load(ctx, p, id, f)
		if err != nil {
			t.Fatal(err)
		}
		return dash
	}
	kpis := func(k dashboard.KPIs) map[string]dashboard.Value {
		return map[string]dashboard.Value{
			"conversations": k.Conversations, "leads": k.Leads, "visits": k.Visits, "conversions": k.Conversions,
			"conversion rate": k.LeadToConversion, "unanswered leads": k.UnansweredLeads,
			"first human reply p50": k.FirstHumanReplyP50, "first human reply p90": k.FirstHumanReplyP90,
			"bot resolved": k.BotResolvedShare, "handoff": k.HandoffRate,
			"csat": k.CSATSatisfaction, "csat responses": k.CSATResponses,
		}
	}
	from, to := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	for _, per := range []struct {
		name string
		cp   dashboard.ComparePeriod
		q    url.Values
		days int
	}{
		{"7 days", dashboard.ComparePeriod{Now: now, Days: 7}, nil, 7},
		{"30 days", dashboard.ComparePeriod{Now: now, Days: 30}, nil, 30},
		{"90 days", dashboard.ComparePeriod{Now: now, Days: 90}, nil, 90},
		{"1/10–15/11", dashboard.ComparePeriod{Now: now, From: &from, To: &to}, url.Values{"from": {"2026-10-01"}, "to": {"2026-11-15"}}, 30},
	} {
		rows, err := svc.Compare(ctx, support, per.cp)
		if err != nil {
			t.Fatalf("%s: %v", per.name, err)
		}
		got := map[int64]dashboard.ClientRow{}
		for _, r := range rows {
			got[r.TenantID] = r
		}
		if len(rows) != len(tenants) {
			t.Errorf("%s: %d clients in the comparison, want %d", per.name, len(rows), len(tenants))
		}
		for _, id := range tenants {
			row, ok := got[id]
			if !ok {
				t.Errorf("%s: client %d missing from the comparison", per.name, id)
				continue
			}
			dash := own(id, per.q, per.days)
			if !dash.Approx && id != e {
				t.Fatalf("%s: client %d's dashboard did not take the rollups' medians", per.name, id)
			}
			if !row.From.Equal(dash.Filter.From) || !row.To.Equal(dash.Filter.To) {
				t.Errorf("%s, %s: comparison period %s–%s, the dashboard's %s–%s", per.name, row.Slug,
					row.From.Format(time.DateOnly), row.To.Format(time.DateOnly), dash.Filter.From.Format(time.DateOnly), dash.Filter.To.Format(time.DateOnly))
			}
			want := kpis(dash.KPIs)
			for name, v := range kpis(row.KPIs) {
				if !reflect.DeepEqual(v, want[name]) {
					t.Errorf("%s, %s, %s: comparison %v/%v, the client's dashboard %v/%v", per.name, row.Slug, name,
						val(v.Cur), val(v.Prev), val(want[name].Cur), val(want[name].Prev))
				}
			}
			if id != e && (want["conversations"].Cur == nil || *want["conversations"].Cur == 0) && per.days >= 30 {
				t.Errorf("%s, %s: no conversations; the check proves little", per.name, row.Slug)
			}
		}
	}

	// Nobody but staff runs the cross-client reads: a client's admin is refused before any
	// statement (on Citus their outer joins under a tenant's row-level security crash the
	// coordinator), and the database answers staff afterwards.
	for _, p := range []pg.Principal{pg.User(a, 0, pg.AppAdmin, "", ""), pg.User(c, 0, pg.AppClient, "", "")} {
		if rows, err := svc.Compare(ctx, p, dashboard.ComparePeriod{Now: now, Days: 30}); apperr.CodeOf(err) != apperr.NotFound || rows != nil {
			t.Errorf("a client's %s compared clients: %d rows, %v", p.Role, len(rows), err)
		}
		if rows, err := (&staff.Service{DB: env.DB}).Overview(ctx, p, now, time.Hour); apperr.CodeOf(err) != apperr.NotFound || rows != nil {
			t.Errorf("a client's %s read the staff overview: %d rows, %v", p.Role, len(rows), err)
		}
	}
	if _, err := svc.Compare(ctx, support, dashboard.ComparePeriod{Now: now, Days: 30}); err != nil {
		t.Fatalf("staff after a client's attempt: %v", err)
	}

	// The overview's 30-day counts, for every client, are its dashboard's "30 dias".
	var ov []dbsqlc.AdminTenantOverviewRow
	if err := env.DB.InReadTx(ctx, support, func(tx pg.Tx) error {
		var err error
		ov, err = tx.AdminTenantOverview(ctx, dbsqlc.AdminTenantOverviewParams{Now: now, StaleSeconds: 3600})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(ov) != len(tenants) {
		t.Errorf("%d clients in the overview, want %d", len(ov), len(tenants))
	}
	for _, r := range ov {
		k := own(r.ID, nil, 30).KPIs
		for name, pair := range map[string][2]float64{
			"conversations":        {float64(r.Conversations30d), *k.Conversations.Cur},
			"leads":                {float64(r.Leads30d), *k.Leads.Cur},
			"conversations before": {float64(r.ConversationsPrev30d), *k.Conversations.Prev},
			"leads before":         {float64(r.LeadsPrev30d), *k.Leads.Prev},
		} {
			if pair[0] != pair[1] {
				t.Errorf("overview, %s, %s: %v, the dashboard's 30 dias %v", r.Slug, name, pair[0], pair[1])
			}
		}
		if r.Inboxes != 1 && r.ID != a {
			t.Errorf("overview, %s: %d inboxes, want 1", r.Slug, r.Inboxes)
		}
	}
}
