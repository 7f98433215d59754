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

// TestCompareCacheNeverStale: with a CompareCache, the comparison sums only tenants it has not
// computed at their current version and period. Every result equals the uncached comparison: a
// second view is served from the cache, a sync that merged (rollups rebuilt, data version moved)
// recomputes that tenant only, a settings change and another period do too, a non-staff principal
// neither fills nor reads the cache, and the cache stays within its bound.
func TestCompareCacheNeverStale(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, b := fixture(t, env)
	ctx := context.Background()
	super := pgtest.Conn(t, env.SuperURL)
	cache := &dashboard.CompareCache{Max: 100}
	svc := &dashboard.Service{DB: env.DB, CompareCache: cache}
	plain := &dashboard.Service{DB: env.DB} // the uncached truth
	staff := pg.System("test")
	now := time.Date(2026, 11, 30, 1, 30, 0, 0, time.UTC)
	month := dashboard.ComparePeriod{Now: now, Days: 30}
	compare := func(p pg.Principal, per dashboard.ComparePeriod, wantHits, wantMisses uint64) map[int64]dashboard.ClientRow {
		t.Helper()
		before := cache.Stats()
		got, err := svc.Compare(ctx, p, per)
		if err != nil {
			t.Fatal(err)
		}
		truth, err := plain.Compare(ctx, p, per)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, truth) {
			t.Fatalf("served %+v, the database says %+v", got, truth)
		}
		after := cache.Stats()
		if h, m := after.Hits-before.Hits, after.Misses-before.Misses; h != wantHits || m != wantMisses {
			t.Fatalf("%d hits and %d misses, want %d and %d", h, m, wantHits, wantMisses)
		}
		out := map[int64]dashboard.ClientRow{}
		for _, r := range got {
			out[r.TenantID] = r
		}
		return out
	}
	first := compare(staff, month, 0, 2)
	if *first[a].KPIs.Conversations.Cur == 0 || *first[a].KPIs.Conversations.Cur == *first[b].KPIs.Conversations.Cur {
		t.Fatal("the fixture's tenants look alike: the check would prove nothing")
	}
	compare(staff, month, 2, 0)

	// A sync that merged for A: conversations gone, rollups rebuilt, the version moved in the same
	// transaction. A is summed again and shows fewer; B comes from the cache.
	if _, err := super.Exec(ctx, `INSERT INTO etl.watermarks (tenant_id) VALUES ($1), ($2)`, a, b); err != nil {
		t.Fatal(err)
	}
	compare(staff, month, 2, 0) // a watermark row at version 0 is version 0
	if _, err := super.Exec(ctx, `DELETE FROM analytics.conversations WHERE tenant_id = $1 AND conversation_id IN (
		SELECT conversation_id FROM analytics.conversations WHERE tenant_id = $1 AND created_day > '2026-11-01' ORDER BY conversation_id LIMIT 5)`, a); err != nil {
		t.Fatal(err)
	}
	pgtest.RefreshRollups(t, super, a)
	if err := env.DB.InTx(ctx, pg.ETL(a), func(tx pg.Tx) error {
		return tx.EtlStoreFingerprint(ctx, dbsqlc.EtlStoreFingerprintParams{SourceNow: time.Now(), TenantID: a})
	}); err != nil {
		t.Fatal(err)
	}
	synced := compare(staff, month, 1, 1)
	if got, was := *synced[a].KPIs.Conversations.Cur, *first[a].KPIs.Conversations.Cur; got != was-5 {
		t.Fatalf("after the sync A has %v conversations, want %v", got, was-5)
	}

	// A settings change of B; another period; the same absolute days under "from/to" are the
	// same entries as the relative period that resolves to them.
	if _, err := super.Exec(ctx, `UPDATE app.tenant_settings SET display_name = 'Academia B+' WHERE tenant_id = $1`, b); err != nil {
		t.Fatal(err)
	}
	compare(staff, month, 1, 1)
	compare(staff, dashboard.ComparePeriod{Now: now, Days: 7}, 0, 2)
	from, to := synced[a].From, synced[a].To
	compare(staff, dashboard.ComparePeriod{Now: now, From: &from, To: &to}, 2, 0)
	// The next day in São Paulo: other days, other entries.
	compare(staff, dashboard.ComparePeriod{Now: now.Add(24 * time.Hour), Days: 30}, 0, 2)

	// A tenant's user never fills or reads the cache (and sees at most its own tenant).
	s0 := cache.Stats()
	rows, err := svc.Compare(ctx, pg.User(a, 0, pg.AppAdmin, "", ""), month)
	for _, r := range rows {
		if r.TenantID != a {
			t.Fatalf("tenant A's admin saw tenant %d", r.TenantID)
		}
	}
	if s := cache.Stats(); s != s0 {
		t.Fatalf("a tenant user's comparison (%v) touched the cache: %+v, was %+v", err, s, s0)
	}

	// Bounded.
	small := &dashboard.CompareCache{Max: 3}
	bounded := &dashboard.Service{DB: env.DB, CompareCache: small}
	for i := range 5 {
		if _, err := bounded.Compare(ctx, staff, dashboard.ComparePeriod{Now: now.AddDate(0, 0, -i), Days: 30}); err != nil {
			t.Fatal(err)
		}
	}
	if n := small.Stats().Entries; n != 3 {
		t.Fatalf("%d entries in a cache of 3", n)
	}
}
