package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/etl"
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
// (Service.Load, the cluster and the single node interleaved); the ETL's steady state, no-change
// passes and passes after a trickle of changes (citusPasses); and checks that a tenant's
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
	return r.citusPasses(ctx, sec, cc)
}

// Passes of the steady state measured per side: no-change passes in interleaved pairs, and
// trickle rounds, each a fresh touch of the source followed by one pass on each side.
const (
	citusQuietPairs    = 5
	citusTrickleRounds = 3
	citusTrickleMod    = 1000 // a trickle: 0.1% of the source's conversations per round
)

// passSum is one ETL pass over every tenant, summed up.
type passSum struct {
	d                            time.Duration
	tenants, unchanged           int           // unchanged: nothing read, the source fingerprint matched
	settled                      int           // of the unchanged, those the pass settled together (ADR 031)
	settle                       time.Duration // their settling transactions (etl.settle_unchanged)
	extracted, changed, messages int
}

// runPass runs one pass of every tenant (the ETL's steady state: `geniai serve`'s loop calls
// RunAll) and fails when a tenant's run failed, which would make the times incomparable.
func runPass(ctx context.Context, runner *etl.Runner) (passSum, error) {
	// AfterSettle names the tenants settled together; each one's Duration is its share of its
	// batch's transaction, so theirs sum to the settling transactions' time.
	together := map[int64]bool{}
	runner.AfterSettle = func(_ context.Context, ids []int64) error {
		for _, id := range ids {
			together[id] = true
		}
		return nil
	}
	t0 := time.Now()
	res, err := runner.RunAll(ctx, false)
	s := passSum{d: time.Since(t0), tenants: len(res)}
	if err != nil {
		return s, err
	}
	for _, x := range res {
		if x.Err != nil {
			return s, fmt.Errorf("tenant %s: %w", x.Slug, x.Err)
		}
		if x.Unchanged {
			s.unchanged++
		}
		if together[x.TenantID] {
			s.settled++
			s.settle += x.Duration
		}
		s.extracted += x.Extracted
		s.changed += x.Inserted + x.Updated + x.Deleted
		s.messages += x.Messages
	}
	return s, nil
}

// citusPasses compares the ETL's steady state on the cluster with the single node, both reading
// the same source: (1) no-change passes over every tenant, where a pass settles its unchanged
// tenants a hundred at a time in one statement that switches the tenant with a SET LOCAL per
// tenant (ADR 031), which Citus replays on the workers; (2) passes after a trickle of changes,
// each round touching the source once and running one pass on each side, the side that goes
// first alternating (the first reads the changed source pages cold).
func (r *run) citusPasses(ctx context.Context, sec string, cc *CitusConfig) error {
	// The same pool on both sides: the ETL's workers and one connection for the pass itself.
	sdb, err := pg.Open(ctx, r.dbs.authURL, pg.Options{MaxConns: etlWorkers + 1})
	if err != nil {
		return err
	}
	defer sdb.Close()
	cdb, err := pg.Open(ctx, cc.DatabaseURL, pg.Options{MaxConns: etlWorkers + 1})
	if err != nil {
		return err
	}
	defer cdb.Close()
	single := &etl.Runner{DB: sdb, SourceURL: r.dbs.cwReaderURL, Workers: etlWorkers}
	cluster := &etl.Runner{DB: cdb, SourceURL: r.dbs.cwReaderURL, Workers: etlWorkers}
	pair := func(i int) (s, c passSum, err error) {
		if i%2 == 1 {
			if c, err = runPass(ctx, cluster); err != nil {
				return s, c, fmt.Errorf("cluster pass: %w", err)
			}
		}
		if s, err = runPass(ctx, single); err != nil {
			return s, c, fmt.Errorf("single-node pass: %w", err)
		}
		if i%2 == 0 {
			if c, err = runPass(ctx, cluster); err != nil {
				return s, c, fmt.Errorf("cluster pass: %w", err)
			}
		}
		return s, c, nil
	}

	// One pass each, unmeasured: the cluster's first pass after its full load does what the single
	// node's passes of the ETL phase already did (record the first check of every tenant).
	r.cfg.logf("Citus: no-change passes, cluster and single node interleaved")
	if _, _, err := pair(0); err != nil {
		return err
	}
	var ss, cs, sSettle, cSettle samples
	var sLast, cLast passSum
	for i := 0; i < citusQuietPairs; i++ {
		s, c, err := pair(i)
		if err != nil {
			return err
		}
		ss, cs = append(ss, s.d), append(cs, c.d)
		sSettle, cSettle = append(sSettle, s.settle), append(cSettle, c.settle)
		sLast, cLast = s, c
	}
	n := cLast.tenants
	r.rep.add(sec, fmt.Sprintf("no-change pass over all %d tenants, cluster ÷ single node", n), cs.pct(50)/ss.pct(50), "×", nil,
		fmt.Sprintf("cluster %.1f ms vs single node %.1f ms (medians of %d interleaved passes of `etl.Runner.RunAll`, %d workers and the same source each; slowest %.1f vs %.1f ms; the source fingerprints and the tenants the pass runs on their own included); last pass: %d of %d tenants settled by the source fingerprint on the cluster, %d on the single node, %d vs %d conversations re-read inside the overlap window, %d vs %d rows changed",
			cs.pct(50), ss.pct(50), len(cs), etlWorkers, cs.pct(100), ss.pct(100),
			cLast.unchanged, n, sLast.unchanged, cLast.extracted, sLast.extracted, cLast.changed, sLast.changed))
	r.rep.add(sec, "settling a no-change pass's unchanged tenants together, cluster ÷ single node", cSettle.pct(50)/sSettle.pct(50), "×", nil,
		fmt.Sprintf("cluster %.1f ms vs single node %.1f ms for %d vs %d tenants (medians over the same passes; the transactions of etl.settle_unchanged, batches of up to 100 tenants, one SET LOCAL of the tenant each, which Citus replays on the workers the transaction reached): %.2f vs %.2f ms a tenant",
			cSettle.pct(50), sSettle.pct(50), cLast.settled, sLast.settled,
			cSettle.pct(50)/float64(max(cLast.settled, 1)), sSettle.pct(50)/float64(max(sLast.settled, 1))))

	r.cfg.logf("Citus: trickle passes, one touch of the source per round, both sides after each")
	src, err := pgx.Connect(ctx, r.dbs.cwAdminURL)
	if err != nil {
		return err
	}
	defer src.Close(context.WithoutCancel(ctx))
	ss, cs = nil, nil
	var touched int64
	var sSum, cSum passSum
	for i := 0; i < citusTrickleRounds; i++ {
		// Residues that the ETL phase's touch (7 modulo 100) and the other rounds leave alone.
		tag, err := src.Exec(ctx, touchSource, citusTrickleMod, 100*i+11)
		if err != nil {
			return fmt.Errorf("touch source: %w", err)
		}
		touched += tag.RowsAffected()
		s, c, err := pair(i)
		if err != nil {
			return err
		}
		ss, cs = append(ss, s.d), append(cs, c.d)
		sSum.changed, sSum.messages, sSum.unchanged = sSum.changed+s.changed, sSum.messages+s.messages, sSum.unchanged+s.unchanged
		cSum.changed, cSum.messages, cSum.unchanged = cSum.changed+c.changed, cSum.messages+c.messages, cSum.unchanged+c.unchanged
	}
	r.rep.add(sec, fmt.Sprintf("pass after a trickle of changes, %d tenants, cluster ÷ single node", n), cs.pct(50)/ss.pct(50), "×", nil,
		fmt.Sprintf("cluster %.1f ms vs single node %.1f ms (medians of %d rounds; each round changes 0.1%% of the source's conversations once, %d in all, then runs one pass on each side, the first side alternating); over the rounds %d vs %d rows changed, %d vs %d messages, %d vs %d tenant checks settled by the source fingerprint",
			cs.pct(50), ss.pct(50), len(cs), touched, cSum.changed, sSum.changed, cSum.messages, sSum.messages, cSum.unchanged, sSum.unchanged))
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
