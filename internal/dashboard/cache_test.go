package dashboard_test

import (
	"context"
	"net/url"
	"testing"
	"time"

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
