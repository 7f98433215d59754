package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
)

// touchTrickle is live traffic between two syncs: one conversation in every 50th account gets a
// new contact message now (2% of the tenants changed, the rest quiet).
const touchTrickle = `
WITH c AS (
    UPDATE conversations cv
       SET updated_at = now() AT TIME ZONE 'UTC', last_activity_at = now() AT TIME ZONE 'UTC'
     WHERE cv.id IN (SELECT max(id) FROM conversations WHERE account_id % 50 = 3 GROUP BY account_id)
    RETURNING id, account_id, inbox_id, contact_id, updated_at)
INSERT INTO messages (content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at,
                      private, sender_type, sender_id)
SELECT 'Bom dia! Qual o horário de funcionamento no feriado?', c.account_id, c.inbox_id, c.id, 0,
       c.updated_at, c.updated_at, false, 'Contact', c.contact_id
FROM c`

// clientsPhase is what many clients cost the platform: a sync pass over every tenant while a
// trickle of them changed (the scheduler's steady state), and the staff overview of all clients.
func (r *run) clientsPhase(ctx context.Context) error {
	sec := "clients"
	etlDB, err := pg.Open(ctx, r.dbs.authURL, pg.Options{MaxConns: etlWorkers + 1})
	if err != nil {
		return err
	}
	defer etlDB.Close()
	runner := &etl.Runner{DB: etlDB, SourceURL: r.dbs.cwReaderURL, Workers: etlWorkers}
	if _, err := runner.RunAll(ctx, false); err != nil { // settle what earlier phases changed
		return err
	}
	src, err := pgx.Connect(ctx, r.dbs.cwAdminURL)
	if err != nil {
		return err
	}
	tag, err := src.Exec(ctx, touchTrickle)
	src.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("trickle: %w", err)
	}
	t0 := time.Now()
	res, err := runner.RunAll(ctx, false)
	d := time.Since(t0)
	if err != nil {
		return err
	}
	var loaded, unchanged, failed int
	var slowest time.Duration
	for _, x := range res {
		switch {
		case x.Err != nil:
			failed++
		case x.Unchanged:
			unchanged++
		default:
			loaded++
		}
		slowest = max(slowest, x.Duration)
	}
	r.rep.add(sec, fmt.Sprintf("sync pass over all %d tenants, a trickle changed", len(res)), d.Seconds(), "s", atMost(60),
		fmt.Sprintf("%d conversations got a message just before (one in every 50th account); %d tenants loaded, %d settled by the fingerprint, %d failed; slowest tenant %.0f ms; %d workers. Must stay below ETL_INTERVAL (1 min) for the scheduler to keep up",
			tag.RowsAffected(), loaded, unchanged, failed, slowest.Seconds()*1000, etlWorkers))

	// The staff overview of every client (/admin): one query over all tenants.
	svc := &staff.Service{DB: r.db}
	sys := pg.System("bench")
	var lat samples
	n := max(r.cfg.Scale.Samples/4, 20)
	for i := 0; i < n+r.cfg.Scale.Warmup && ctx.Err() == nil; i++ {
		t := time.Now()
		rows, err := svc.Overview(ctx, sys, time.Now().UTC(), 24*time.Hour)
		if err != nil {
			return err
		}
		if i >= r.cfg.Scale.Warmup {
			lat = append(lat, time.Since(t))
		}
		if i == 0 && len(rows) != len(r.tenants) {
			return fmt.Errorf("overview lists %d tenants, want %d", len(rows), len(r.tenants))
		}
	}
	r.rep.add(sec, fmt.Sprintf("admin overview of %d clients, p95", len(r.tenants)), lat.pct(95), "ms", nil,
		fmt.Sprintf("Service.Overview as staff (the /admin table: 30-day activity, sync lag, failures per client); p50 %.1f ms, %d samples",
			lat.pct(50), len(lat)))
	return nil
}
