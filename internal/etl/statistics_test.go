package etl

import (
	"context"
	"testing"

	"github.com/geniai/analytics/internal/pg"
)

// TestRunsRefreshPlannerStatistics: after a tenant's first load, the planner's statistics of
// what it wrote are current at once (not at autovacuum's next nap), so the next run's join of its
// staged ids with the tenant's conversations is planned for the rows really there; a quiet run
// analyses nothing. Tenant by tenant and as passes over every tenant.
func TestRunsRefreshPlannerStatistics(t *testing.T) {
	t.Parallel()
	for _, pass := range []bool{false, true} {
		t.Run(map[bool]string{false: "tenant", true: "pass"}[pass], func(t *testing.T) {
			t.Parallel()
			f := seeded(t, 400)
			f.pass = pass
			ctx := context.Background()
			stats := func() (pages int32, tuples float64, rows int64) {
				t.Helper()
				if err := f.super.QueryRow(ctx, `SELECT c.relpages, c.reltuples, (SELECT count(*) FROM analytics.conversations)
					FROM pg_class c WHERE c.oid = 'analytics.conversations'::regclass`).Scan(&pages, &tuples, &rows); err != nil {
					t.Fatal(err)
				}
				return pages, tuples, rows
			}
			var citus bool
			if err := f.super.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')").Scan(&citus); err != nil {
				t.Fatal(err)
			}
			if res := f.run(f.tenantA, true); res.Inserted == 0 {
				t.Fatalf("first load inserted nothing: %+v", res)
			}
			pages, tuples, rows := stats()
			switch {
			case citus:
				// The rows are in the workers' shards; the coordinator's table stays empty and is
				// left alone (the workers' autovacuum owns the shards' statistics).
				if rows < 100 || pages != 0 {
					t.Fatalf("on Citus: %d conversations, coordinator table of %d pages", rows, pages)
				}
			case rows < 100 || tuples != float64(rows):
				t.Fatalf("after the first load the planner counts %v conversations, the table holds %d", tuples, rows)
			}
			if res := f.run(f.tenantA, false); !res.Unchanged {
				t.Fatalf("second run not quiet: %+v", res)
			}
			var analyzed []string
			if err := f.env.DB.InTx(ctx, f.runner.principal(0), func(tx pg.Tx) error {
				var err error
				analyzed, err = tx.EtlRefreshStatistics(ctx)
				return err
			}); err != nil || len(analyzed) != 0 {
				t.Errorf("nothing grew, yet analysed %v (%v)", analyzed, err)
			}
			if p, tu, _ := stats(); p != pages || tu != tuples {
				t.Errorf("statistics moved without a change: pages %d→%d, tuples %v→%v", pages, p, tuples, tu)
			}
		})
	}
}
