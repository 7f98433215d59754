//go:build citus

package dashboard_test

import (
	"context"
	"testing"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestCitusDashboardReachesOneWorker: on a cluster, everything a tenant's dashboard and
// conversation list read is sent to the one worker that holds the tenant's shards (router
// queries), for every path the dashboard takes (rollups, exact scan, filters, search, a page of
// the list), whether a tenant user or staff asks.
func TestCitusDashboardReachesOneWorker(t *testing.T) {
	env := pgtest.New(t)
	a, b := fixture(t, env)
	ctx := context.Background()
	svc := &dashboard.Service{DB: env.DB}
	// Control: what the check sees of a statement over every shard.
	nodes, err := pg.RemoteNodes(ctx, env.AuthURL, pg.User(0, 0, pg.AppSupport, "", ""), func(tx pg.Tx) error {
		_, err := tx.Raw.Exec(ctx, "SELECT count(*) FROM analytics.conversations")
		return err
	})
	if err != nil || len(nodes) != 2 {
		t.Fatalf("control: a count over every shard reached %v (%v), want both workers", nodes, err)
	}
	for _, tenant := range []int64{a, b} {
		for _, p := range []pg.Principal{pg.User(tenant, 0, pg.AppClient, "", ""), pg.User(0, 0, pg.AppSupport, "", "")} {
			for _, q := range []string{"period=30d", "period=90d&inbox=1", "period=90d&channel=Channel::Instagram",
				"period=90d&label=lead", "period=7d&stage=lead&flag=unanswered", "period=90d&q=contato"} {
				f := parse(t, q)
				var d *dashboard.Dashboard
				nodes, err := pg.RemoteNodes(ctx, env.AuthURL, p, func(tx pg.Tx) error {
					var err error
					d, err = svc.LoadIn(ctx, tx, tenant, f)
					if err != nil {
						return err
					}
					_, err = svc.ListIn(ctx, tx, tenant, f)
					return err
				})
				if err != nil {
					t.Fatalf("tenant %d, %s: %v", tenant, q, err)
				}
				if len(nodes) != 1 {
					t.Errorf("tenant %d as %s, %s: the dashboard reached workers %v, want exactly one", tenant, p.Role, q, nodes)
				}
				if q == "period=30d" && (d.KPIs.Conversations.Cur == nil || *d.KPIs.Conversations.Cur == 0) {
					t.Errorf("tenant %d as %s: no conversations in 30 days; the check proves nothing", tenant, p.Role)
				}
			}
		}
	}
}
