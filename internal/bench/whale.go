package bench

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
)

// whalePhase measures one tenant that holds the whole source, the size the dashboard targets are
// stated for (a tenant with 1M conversations at full scale). Every inbox moves to a new tenant,
// as an operator remapping inboxes would; `geniai etl run --tenant bench-whale --full` loads it
// (a single-tenant full load: one pipeline, no parallel tenants); then the dashboard, the list,
// the CSV export and the RLS ratio are measured on it as on the others. It runs last: the other
// tenants keep their loaded rows but lose their inboxes.
func (r *run) whalePhase(ctx context.Context) error {
	const sec = "whole-source tenant"
	svc := &staff.Service{DB: r.db, BcryptCost: r.cfg.BcryptCost}
	row, err := svc.CreateTenant(ctx, pg.System("bench"), staff.TenantInput{Slug: "bench-whale", Name: "Academia Bench Rede Nacional"})
	if err != nil {
		return fmt.Errorf("whale tenant: %w", err)
	}
	w := &tenant{id: row.ID, slug: "bench-whale"}
	su, err := pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return err
	}
	tag, err := su.Exec(ctx, "UPDATE app.tenant_inboxes SET tenant_id = $1", w.id)
	su.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("move inboxes: %w", err)
	}
	if err := r.users(ctx, []*tenant{w}); err != nil {
		return err
	}

	env := map[string]string{"DATABASE_URL": r.dbs.authURL, "CHATWOOT_DATABASE_URL": r.dbs.cwReaderURL}
	r.cfg.logf("whale: geniai etl run --tenant %s --full (%d inboxes)", w.slug, tag.RowsAffected())
	t0 := time.Now()
	c, err := r.startChild(ctx, env, "etl", "run", "--tenant", w.slug, "--full")
	if err != nil {
		return err
	}
	rss, err := c.wait()
	d := time.Since(t0)
	if err != nil {
		r.rep.addMissing(sec, "full load throughput, one tenant", "conversations/s", "", err.Error())
		return err
	}
	var msgs int64
	su, err = pgx.Connect(ctx, r.dbs.superAnalyticsURL)
	if err != nil {
		return err
	}
	err = su.QueryRow(ctx, `SELECT (SELECT count(*) FROM analytics.conversations WHERE tenant_id = $1),
		(SELECT coalesce(sum(cardinality(message_ids)), 0) FROM analytics.transcripts WHERE tenant_id = $1)`, w.id).Scan(&w.convs, &msgs)
	su.Close(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	r.rep.add(sec, "full load throughput, one tenant", float64(w.convs)/d.Seconds(), "conversations/s", nil,
		fmt.Sprintf("%s conversations, %s transcript messages in %.1f s, one tenant (one pipeline), process start included; peak RSS %.1f MiB; no absolute target: the ETL section's ratios to the extraction replace it",
			format(float64(w.convs)), format(float64(msgs)), d.Seconds(), rss))

	if err := r.analyze(ctx); err != nil {
		return err
	}
	// 50 samples (and 5 warm-ups) keep the phase within minutes even if a load costs seconds;
	// the notes give the sample count.
	saved := r.cfg.Scale
	r.cfg.Scale.Samples, r.cfg.Scale.Warmup = min(saved.Samples, 50), min(saved.Warmup, 5)
	defer func() { r.cfg.Scale = saved }()

	ds := &dashboard.Service{DB: r.db}
	dt, err := ds.LoadTenant(ctx, r.principal(w), w.id)
	if err != nil {
		return err
	}
	f, err := dashboard.Parse(url.Values{"period": {"90d"}}, dt.Today(time.Now()), 30, dt.InboxIDs())
	if err != nil {
		return err
	}
	p := sized{label: "whole-source", t: w, dt: dt, f: f}
	var inPeriod float64
	var approx bool
	s, err := measure(r.cfg.Scale.Warmup, r.cfg.Scale.Samples, func() error {
		d, err := ds.Load(ctx, r.principal(w), w.id, f)
		if err == nil && d.KPIs.Conversations.Cur != nil {
			inPeriod, approx = *d.KPIs.Conversations.Cur, d.Approx
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("whale dashboard: %w", err)
	}
	how := "medians ranked exactly"
	if approx {
		how = "counts exact, medians/p90 from the rollup histograms (≈)"
	}
	r.latencyRows(sec, fmt.Sprintf("Service.Load, 90 days (tenant of %s conversations, %s in period; %s)", format(float64(w.convs)), format(inPeriod), how), s, 50)
	s, err = measure(r.cfg.Scale.Warmup, r.cfg.Scale.Samples, func() error {
		_, err := ds.List(ctx, r.principal(w), w.id, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("whale list: %w", err)
	}
	r.latencyRows(sec, fmt.Sprintf("Service.List first page (%d rows + total), 90 days", f.PageSize), s, 30)
	if err := r.queueLatency(ctx, ds, []sized{p}); err != nil {
		return err
	}
	if err := r.exportRate(ctx, ds, p); err != nil {
		return err
	}
	return r.rlsCompare(ctx, p)
}
