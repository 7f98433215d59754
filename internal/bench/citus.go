package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
)

// CitusConfig is a Citus cluster to measure next to the single node: a bootstrapped database
// (db/citus/cluster.sh bootstrap: extension, workers, roles) that the phase migrates, distributes
// and loads from the same Chatwoot source.
type CitusConfig struct {
	DatabaseURL  string // the authenticator on the coordinator
	MigrationURL string // the owner on the coordinator
	Workers      int    // workers in the cluster (for the report)
}

// citusPhase loads the same source into the cluster with `geniai etl run --full` and compares,
// in one run on one machine: the full load's time, and each picked tenant's dashboard latency
// (Service.Load, the cluster and the single node interleaved); and checks that a tenant's
// dashboard reaches one worker only.
func (r *run) citusPhase(ctx context.Context) error {
	sec := "Citus"
	cc := r.cfg.Citus
	if cc == nil || cc.DatabaseURL == "" {
		r.rep.addMissing(sec, "cluster vs single node", "", "", "no cluster configured (make bench starts one; CITUS_DATABASE_URL, CITUS_MIGRATION_DATABASE_URL)")
		return nil
	}
	r.cfg.logf("Citus: migrate and distribute")
	if err := pg.Migrate(ctx, cc.MigrationURL, -1, nil); err != nil {
		return fmt.Errorf("migrate the cluster: %w", err)
	}
	if _, err := pg.Distribute(ctx, cc.MigrationURL, pg.DistributeOptions{}, nil); err != nil {
		return fmt.Errorf("distribute: %w", err)
	}
	cdb, err := pg.Open(ctx, cc.DatabaseURL, pg.Options{MaxConns: 8})
	if err != nil {
		return err
	}
	defer cdb.Close()

	// The same tenants, mapped to the same inboxes, created the same way.
	ids := map[string]int64{}
	svc := &staff.Service{DB: cdb, BcryptCost: 4}
	for _, t := range r.tenants {
		in := staff.TenantInput{Slug: t.slug, Name: "Academia " + t.slug}
		in.Inboxes = append(in.Inboxes, t.mapped...)
		row, err := svc.CreateTenant(ctx, pg.System("bench"), in)
		if err != nil {
			return fmt.Errorf("cluster tenant %s: %w", t.slug, err)
		}
		ids[t.slug] = row.ID
	}

	r.cfg.logf("Citus: full load on the cluster (geniai etl run --full, child process)")
	env := map[string]string{"DATABASE_URL": cc.DatabaseURL, "CHATWOOT_DATABASE_URL": r.dbs.cwReaderURL}
	t0 := time.Now()
	c, err := r.startChild(ctx, env, "etl", "run", "--full")
	if err != nil {
		return err
	}
	if _, err := c.wait(); err != nil {
		return fmt.Errorf("cluster full load: %w: %s", err, lastLines(c.output.String(), 5))
	}
	clusterLoad := time.Since(t0)
	single, _ := r.rep.Params["full_load_seconds"].(float64)
	convs, _ := r.rep.Params["analytics_conversations"].(int64)
	note := fmt.Sprintf("cluster %.1f s vs single node %.1f s for the same %s conversations (`geniai etl run --full` each, same source, same machine; %d workers)",
		clusterLoad.Seconds(), single, format(float64(convs)), cc.Workers)
	if single > 0 {
		r.rep.add(sec, "ETL full load, cluster ÷ single node", clusterLoad.Seconds()/single, "×", nil, note)
	} else {
		r.rep.add(sec, "ETL full load on the cluster", clusterLoad.Seconds(), "s", nil, note)
	}

	dsvc := &dashboard.Service{DB: r.db}
	csvc := &dashboard.Service{DB: cdb}
	picks, err := r.pick(ctx, dsvc)
	if err != nil {
		return err
	}
	if _, err := pgxAnalyze(ctx, cc.MigrationURL); err != nil {
		return err
	}
	sc := r.cfg.Scale
	for _, p := range picks {
		cid := ids[p.t.slug]
		cp := pg.User(cid, 0, pg.AppClient, "127.0.0.1", "geniai-bench")
		var nSingle, nCluster float64
		viaSingle := func() error {
			d, err := dsvc.Load(ctx, r.principal(p.t), p.t.id, p.f)
			if err == nil && d.KPIs.Conversations.Cur != nil {
				nSingle = *d.KPIs.Conversations.Cur
			}
			return err
		}
		viaCluster := func() error {
			d, err := csvc.Load(ctx, cp, cid, p.f)
			if err == nil && d.KPIs.Conversations.Cur != nil {
				nCluster = *d.KPIs.Conversations.Cur
			}
			return err
		}
		for i := 0; i < sc.Warmup; i++ {
			if err := viaSingle(); err != nil {
				return err
			}
			if err := viaCluster(); err != nil {
				return fmt.Errorf("cluster dashboard %s: %w", p.t.slug, err)
			}
		}
		if nSingle != nCluster {
			return fmt.Errorf("%s: the cluster counts %.0f conversations in the period, the single node %.0f", p.t.slug, nCluster, nSingle)
		}
		var ss, cs samples
		for i := 0; i < sc.Samples; i++ {
			a, b, first, second := viaSingle, viaCluster, &ss, &cs
			if i%2 == 1 {
				a, b, first, second = viaCluster, viaSingle, &cs, &ss
			}
			t0 := time.Now()
			if err := a(); err != nil {
				return err
			}
			*first = append(*first, time.Since(t0))
			t0 = time.Now()
			if err := b(); err != nil {
				return err
			}
			*second = append(*second, time.Since(t0))
		}
		r.rep.add(sec, fmt.Sprintf("Service.Load p50, %s tenant, cluster vs single node", p.label), cs.pct(50), "ms", nil,
			fmt.Sprintf("cluster %.2f ms vs single node %.2f ms (%.2f×); p95 %.2f vs %.2f ms; %d interleaved pairs, %s conversations in 90 days",
				cs.pct(50), ss.pct(50), cs.pct(50)/ss.pct(50), cs.pct(95), ss.pct(95), len(cs), format(nCluster)))
		r.rep.add(sec, fmt.Sprintf("Service.Load p95, %s tenant, cluster", p.label), cs.pct(95), "ms", atMost(50),
			fmt.Sprintf("single node %.2f ms in the same run", ss.pct(95)))

		// Router check: everything the tenant's dashboard and list read goes to one worker.
		nodes, err := pg.RemoteNodes(ctx, cc.DatabaseURL, cp, func(tx pg.Tx) error {
			if _, err := csvc.LoadIn(ctx, tx, cid, p.f); err != nil {
				return err
			}
			_, err := csvc.ListIn(ctx, tx, cid, p.f)
			return err
		})
		if err != nil {
			return err
		}
		r.rep.addCheck(sec, fmt.Sprintf("%s tenant's dashboard and list reach one worker (router queries)", p.label), len(nodes) == 1,
			fmt.Sprintf("workers reached: %s, of %d", strings.Join(nodes, ", "), cc.Workers))
	}
	return nil
}

// pgxAnalyze refreshes the cluster's statistics after the load, as the single-node phases do
// (ANALYZE on the coordinator reaches every shard).
func pgxAnalyze(ctx context.Context, ownerURL string) (bool, error) {
	c, err := pgx.Connect(ctx, ownerURL)
	if err != nil {
		return false, err
	}
	defer c.Close(context.WithoutCancel(ctx))
	_, err = c.Exec(ctx, "ANALYZE analytics.conversations, analytics.daily_stats, analytics.tenant_daily_stats, analytics.daily_hist, analytics.tenant_daily_hist, analytics.daily_labels, analytics.tenant_daily_labels")
	return err == nil, err
}
