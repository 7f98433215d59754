package bench

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// compareTenants is the number of client tenants the staff figures are measured at.
const compareTenants = 1000

// comparePhase: the staff panel's cross-client figures at 1,000 tenants — the comparison of
// clients (dashboard.Compare: the rollups' sums and the first-human-reply histograms of every
// tenant, for the period and the one before) for 7, 30 and 90 days without a cache, then with
// the comparison cache when nothing changed and when a tenth of the clients synced, and the overview
// (AdminTenantOverview), side by side with one tenant's own dashboard for 30 days. A scale with
// fewer tenants is topped up with clones of its loaded tenants' tenant-level rollups (real
// histograms, new ids), so the figure is taken at 1,000 tenants at any scale; the clones have
// no conversations, inboxes or users and come after every other phase. Last, the same pages
// through the real server as a signed-in staff user (/admin, /admin/clients): staffPagesHTTP.
func (r *run) comparePhase(ctx context.Context) error {
	sc := r.cfg.Scale
	clones, err := r.cloneTenants(ctx, compareTenants)
	if err != nil {
		return fmt.Errorf("clone tenants: %w", err)
	}
	if err := r.analyze(ctx); err != nil {
		return err
	}
	sys := pg.System("bench")
	svc := &dashboard.Service{DB: r.db}
	now := time.Now()
	note := fmt.Sprintf("%d client tenants (%d loaded, %d clones of their rollups)", compareTenants, compareTenants-clones, clones)
	r.rep.Params["comparison"] = note
	var n int
	var dur30 samples
	for _, days := range []int{7, 30, 90} {
		s, err := measure(sc.Warmup, sc.Samples, func() error {
			rows, err := svc.Compare(ctx, sys, dashboard.ComparePeriod{Now: now, Days: days})
			n = len(rows)
			return err
		})
		if err != nil {
			return fmt.Errorf("compare %dd: %w", days, err)
		}
		if n != compareTenants {
			return fmt.Errorf("compare %dd: %d rows, want %d", days, n, compareTenants)
		}
		if days == 30 {
			dur30 = s
		}
		r.latencyRows("staff panel", fmt.Sprintf("comparison of %s clients, %d days + the %d before, every client summed (dashboard.Compare, no cache)", format(compareTenants), days, days), s, 500)
	}
	// With the comparison cache, as `geniai serve` runs it: between syncs every client comes from
	// the cache (the tenants' versions and periods are still read); after syncs, the clients
	// whose data changed are summed again.
	cached := &dashboard.Service{DB: r.db, CompareCache: &dashboard.CompareCache{}}
	for _, days := range []int{7, 30, 90} {
		s, err := measure(sc.Warmup, sc.Samples, func() error {
			_, err := cached.Compare(ctx, sys, dashboard.ComparePeriod{Now: now, Days: days})
			return err
		})
		if err != nil {
			return fmt.Errorf("compare %dd cached: %w", days, err)
		}
		r.latencyRows("staff panel", fmt.Sprintf("comparison of %s clients, %d days, cached, no client changed since the last view", format(compareTenants), days), s, 100)
	}
	changed, err := r.compareAfterSyncs(ctx, cached, now, 90, compareTenants/10)
	if err != nil {
		return fmt.Errorf("compare after syncs: %w", err)
	}
	r.latencyRows("staff panel", fmt.Sprintf("comparison of %s clients, 90 days, cached, %d clients synced new data since the last view", format(compareTenants), compareTenants/10), changed, 250)
	s, err := measure(sc.Warmup, sc.Samples, func() error {
		return r.db.InReadTx(ctx, sys, func(tx pg.Tx) error {
			_, err := tx.AdminTenantOverview(ctx, dbsqlc.AdminTenantOverviewParams{Now: now, StaleSeconds: 180})
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("overview: %w", err)
	}
	r.latencyRows("staff panel", fmt.Sprintf("overview of %s clients, 30 days + health (AdminTenantOverview)", format(compareTenants)), s, 500)
	// One tenant's own 30-day dashboard, in the same run: what the comparison costs per tenant.
	ts := r.bySize()
	if len(ts) > 0 {
		t := ts[len(ts)/2]
		dt, err := svc.LoadTenant(ctx, r.principal(t), t.id)
		if err != nil {
			return err
		}
		f, err := dashboard.Parse(url.Values{"period": {"30d"}}, dt.Today(now), 30, dt.InboxIDs())
		if err != nil {
			return err
		}
		one, err := measure(sc.Warmup, sc.Samples, func() error {
			_, err := svc.Load(ctx, r.principal(t), t.id, f)
			return err
		})
		if err != nil {
			return err
		}
		r.rep.add("staff panel", "comparison of 1,000 clients ÷ one median tenant's 30-day dashboard (p50 ÷ p50)",
			dur30.pct(50)/one.pct(50), "×", nil, fmt.Sprintf("dashboard p50 %.1f ms; %s", one.pct(50), note))
	}
	return r.staffPagesHTTP(ctx, note)
}

// compareAfterSyncs measures the cached comparison when k clients' versions moved since the
// last view, as syncs that merged data move them: before each (unmeasured) step, k clients'
// records are stamped (a change of the version the cache checks, which costs the same to
// recompute as a data version moved by a sync).
func (r *run) compareAfterSyncs(ctx context.Context, svc *dashboard.Service, now time.Time, days, k int) (samples, error) {
	c, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, `SET session_replication_role = replica`); err != nil { // no audit rows
		return nil, err
	}
	per := dashboard.ComparePeriod{Now: now, Days: days}
	if _, err := svc.Compare(ctx, pg.System("bench"), per); err != nil {
		return nil, err
	}
	sc := r.cfg.Scale
	out := make(samples, 0, sc.Samples)
	for i := range sc.Warmup + sc.Samples {
		if _, err := c.Exec(ctx, `UPDATE app.tenants SET updated_at = clock_timestamp()
			WHERE id IN (SELECT id FROM app.tenants WHERE NOT is_platform ORDER BY random() LIMIT $1)`, k); err != nil {
			return nil, err
		}
		t := time.Now()
		if _, err := svc.Compare(ctx, pg.System("bench"), per); err != nil {
			return nil, err
		}
		if i >= sc.Warmup {
			out = append(out, time.Since(t))
		}
	}
	return out, nil
}

// cloneTenants tops the client tenants up to total with clones of the loaded tenants'
// tenant-level rollups (stats and histograms, every day), as the superuser, and returns how many
// it added. Bench fixture SQL, not product SQL: the clones exist only in the bench database.
func (r *run) cloneTenants(ctx context.Context, total int) (int, error) {
	c, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return 0, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	var have int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM app.tenants WHERE NOT is_platform`).Scan(&have); err != nil {
		return 0, err
	}
	add := total - have
	if add <= 0 || have == 0 {
		return 0, nil
	}
	steps := []string{
		`SET session_replication_role = replica`,
		`CREATE TEMP TABLE clone_src AS
		 SELECT id AS src, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS n
		 FROM app.tenants WHERE NOT is_platform`,
		`CREATE TEMP TABLE clone_map (g integer, new_id bigint, src bigint)`,
		`WITH ins AS (
		     INSERT INTO app.tenants (slug, name)
		     SELECT 'bench-clone-' || g, 'Bench clone ' || g FROM generate_series(1, $1::integer) g
		     RETURNING id, substr(slug, 13)::integer AS g)
		 INSERT INTO clone_map SELECT ins.g, ins.id, s.src
		 FROM ins JOIN clone_src s ON s.k = (ins.g - 1) % s.n`,
		`CREATE TEMP TABLE clone_stats AS SELECT m.new_id, d.* FROM clone_map m JOIN analytics.tenant_daily_stats d ON d.tenant_id = m.src`,
		`ALTER TABLE clone_stats DROP COLUMN tenant_id`,
		`INSERT INTO analytics.tenant_daily_stats SELECT * FROM clone_stats`,
		`CREATE TEMP TABLE clone_hist AS SELECT m.new_id, d.* FROM clone_map m JOIN analytics.tenant_daily_hist d ON d.tenant_id = m.src`,
		`ALTER TABLE clone_hist DROP COLUMN tenant_id`,
		`INSERT INTO analytics.tenant_daily_hist SELECT * FROM clone_hist`,
		`RESET session_replication_role`,
	}
	for _, q := range steps {
		var err error
		if q[:4] == "WITH" {
			_, err = c.Exec(ctx, q, add)
		} else {
			_, err = c.Exec(ctx, q)
		}
		if err != nil {
			return 0, fmt.Errorf("%.60s…: %w", q, err)
		}
	}
	return add, nil
}
