package dashboard_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestCacheServesOnlyItsOwnVersion: a cached dashboard is served again to the same asker for the
// same tenant, filter and version, and never to another tenant, another kind of asker, after a
// sync merged data, after a settings change, or after midnight moved a relative period.
func TestCacheServesOnlyItsOwnVersion(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, b := fixture(t, env)
	ctx := context.Background()
	super := pgtest.Conn(t, env.SuperURL)
	cache := &dashboard.Cache{Max: 100}
	var hits, misses int
	svc := &dashboard.Service{DB: env.DB, Cache: cache, OnCache: func(hit bool) {
		if hit {
			hits++
		} else {
			misses++
		}
	}}
	plain := &dashboard.Service{DB: env.DB} // the uncached truth
	today := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	filter := func(q string, day time.Time) dashboard.Filter {
		t.Helper()
		v, _ := url.ParseQuery(q)
		f, err := dashboard.Parse(v, day, 30, []int32{1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	load := func(p pg.Principal, tenant int64, f dashboard.Filter, wantHit bool) *dashboard.Dashboard {
		t.Helper()
		h0, m0 := hits, misses
		d, err := svc.Load(ctx, p, tenant, f)
		if err != nil {
			t.Fatal(err)
		}
		if hit := hits > h0; hit != wantHit || hits+misses != h0+m0+1 {
			t.Fatalf("tenant %d as %s/%d, %s..%s %s: hit=%v, want %v", tenant, p.DBRole, p.TenantID,
				f.From.Format(time.DateOnly), f.To.Format(time.DateOnly), f.Query().Encode(), hit, wantHit)
		}
		truth, err := plain.Load(ctx, p, tenant, f)
		if err != nil {
			t.Fatal(err)
		}
		if conv(d) != conv(truth) || conv(d.KPIs.Leads) != conv(truth.KPIs.Leads) {
			t.Fatalf("served %v conversations / %v leads, the database says %v / %v", conv(d), conv(d.KPIs.Leads), conv(truth), conv(truth.KPIs.Leads))
		}
		return d
	}
	clientA, clientB := pg.User(a, 0, pg.AppClient, "", ""), pg.User(b, 0, pg.AppClient, "", "")
	adminA, staff := pg.User(a, 0, pg.AppAdmin, "", ""), pg.System("test")
	month, labelled := filter("period=30d", today), filter("period=90d&label=lead", today)

	dA := load(clientA, a, month, false)
	load(clientA, a, month, true)
	dB := load(clientB, b, month, false)
	if conv(dA) == conv(dB) {
		t.Fatal("the fixture's tenants look alike: the cross-tenant check would prove nothing")
	}
	// Another tenant asking for A's id gets nothing of A's (RLS), never A's cached result.
	entries := cache.Stats().Entries
	if d, err := svc.Load(ctx, clientB, a, month); err != nil || conv(d) != 0 {
		t.Fatalf("tenant B asking for A's dashboard got %v conversations (%v)", conv(d), err)
	}
	if cache.Stats().Entries != entries {
		t.Fatal("a tenant the asker cannot see was cached")
	}
	load(adminA, a, month, false) // another app role: its own entry
	load(staff, a, month, false)  // staff: its own entry
	load(clientA, a, labelled, false)
	load(clientA, a, labelled, true)

	// A sync that merged: data changed and the ETL moved the version in the same transaction.
	if _, err := super.Exec(ctx, `INSERT INTO etl.watermarks (tenant_id) VALUES ($1), ($2)`, a, b); err != nil {
		t.Fatal(err)
	}
	load(clientA, a, labelled, true) // a watermark row alone changes nothing
	if _, err := super.Exec(ctx, `DELETE FROM analytics.conversations WHERE tenant_id = $1 AND conversation_id IN (
		SELECT conversation_id FROM analytics.conversations WHERE tenant_id = $1 AND 'lead' = ANY (labels) ORDER BY conversation_id LIMIT 5)`, a); err != nil {
		t.Fatal(err)
	}
	if err := env.DB.InTx(ctx, pg.ETL(a), func(tx pg.Tx) error {
		return tx.EtlStoreFingerprint(ctx, dbsqlc.EtlStoreFingerprintParams{SourceNow: time.Now(), TenantID: a})
	}); err != nil {
		t.Fatal(err)
	}
	load(clientA, a, labelled, false) // and load checks it shows 5 leads fewer, like the database
	load(clientA, a, labelled, true)
	load(clientB, b, month, true) // B's version did not move

	// A settings change (branding, funnel rules, timezone: the settings row or the tenant's).
	if _, err := super.Exec(ctx, `UPDATE app.tenant_settings SET display_name = 'Academia A+' WHERE tenant_id = $1`, a); err != nil {
		t.Fatal(err)
	}
	load(clientA, a, month, false)
	load(clientA, a, month, true)

	// An unchanged check of the source moves the moment the SLA states are judged at without a
	// new data version: the result is computed again.
	if _, err := super.Exec(ctx, `UPDATE etl.watermarks SET source_checked_at = $2 WHERE tenant_id = $1`, a, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	load(clientA, a, month, false)
	load(clientA, a, month, true)

	// Midnight: "7d" is other days the next day; the same absolute days are the same entry.
	week := filter("period=7d", today)
	load(clientA, a, week, false)
	load(clientA, a, week, true)
	load(clientA, a, filter("period=7d", today.AddDate(0, 0, 1)), false)
	load(clientA, a, filter("from="+week.From.Format(time.DateOnly)+"&to="+week.To.Format(time.DateOnly), today.AddDate(0, 0, 1)), false)

	// Bounded: never more entries than Max.
	small := &dashboard.Cache{Max: 3}
	bounded := &dashboard.Service{DB: env.DB, Cache: small}
	for i := 0; i < 10; i++ {
		if _, err := bounded.Load(ctx, clientA, a, filter("period=30d&inbox=1", today.AddDate(0, 0, -i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := small.Stats().Entries; n != 3 {
		t.Fatalf("%d entries in a cache of 3", n)
	}
}

func conv(x any) float64 {
	switch v := x.(type) {
	case *dashboard.Dashboard:
		return conv(v.KPIs.Conversations)
	case dashboard.Value:
		if v.Cur == nil {
			return 0
		}
		return *v.Cur
	}
	return -1
}

// TestCachedTenantFollowsItsVersion: with a Cache, LoadTenant returns the tenant a fresh read
// returns — after a settings change, a new inbox and a sync that brought a new label — and
// another tenant's id is still NotFound for a tenant user, cached or not.
func TestCachedTenantFollowsItsVersion(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	a, b := fixture(t, env)
	ctx := context.Background()
	super := pgtest.Conn(t, env.SuperURL)
	svc := &dashboard.Service{DB: env.DB, Cache: &dashboard.Cache{Max: 100}}
	plain := &dashboard.Service{DB: env.DB}
	clientA, clientB := pg.User(a, 0, pg.AppClient, "", ""), pg.User(b, 0, pg.AppClient, "", "")
	same := func(step string) *dashboard.Tenant {
		t.Helper()
		for range 2 { // the second read comes from the cache
			got, err := svc.LoadTenant(ctx, clientA, a)
			if err != nil {
				t.Fatal(err)
			}
			want, err := plain.LoadTenant(ctx, clientA, a)
			if err != nil {
				t.Fatal(err)
			}
			if got.Settings.DisplayName != want.Settings.DisplayName || len(got.Inboxes) != len(want.Inboxes) ||
				strings.Join(got.Labels, ",") != strings.Join(want.Labels, ",") || got.Timezone != want.Timezone {
				t.Fatalf("%s: cached tenant %q %d inboxes %v, fresh %q %d inboxes %v", step, got.Settings.DisplayName,
					len(got.Inboxes), got.Labels, want.Settings.DisplayName, len(want.Inboxes), want.Labels)
			}
		}
		got, _ := svc.LoadTenant(ctx, clientA, a)
		return got
	}
	same("first")
	for range 2 {
		if _, err := svc.LoadTenant(ctx, clientB, a); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("tenant B reading A's tenant: %v, want NotFound", err)
		}
	}
	if _, err := super.Exec(ctx, `UPDATE app.tenant_settings SET display_name = 'Academia A+' WHERE tenant_id = $1`, a); err != nil {
		t.Fatal(err)
	}
	if same("settings").Settings.DisplayName != "Academia A+" {
		t.Fatal("the new display name is not shown")
	}
	if _, err := super.Exec(ctx, `INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, inbox_name, channel_type) VALUES ($1, 99, 'Nova', 'Channel::Api')`, a); err != nil {
		t.Fatal(err)
	}
	same("inbox")
	if _, err := super.Exec(ctx, `UPDATE app.tenants SET timezone = 'America/Manaus' WHERE id = $1`, a); err != nil {
		t.Fatal(err)
	}
	if same("timezone").Timezone != "America/Manaus" {
		t.Fatal("the new timezone is not used")
	}
	if _, err := super.Exec(ctx, `INSERT INTO etl.watermarks (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING`, a); err != nil {
		t.Fatal(err)
	}
	if _, err := super.Exec(ctx, `UPDATE analytics.conversations SET labels = labels || '{novidade}' WHERE tenant_id = $1`, a); err != nil {
		t.Fatal(err)
	}
	pgtest.RefreshRollups(t, super, a)
	if err := env.DB.InTx(ctx, pg.ETL(a), func(tx pg.Tx) error {
		return tx.EtlStoreFingerprint(ctx, dbsqlc.EtlStoreFingerprintParams{SourceNow: time.Now(), TenantID: a})
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(same("sync").Labels, "novidade") {
		t.Fatal("the synced label is not offered")
	}
}
