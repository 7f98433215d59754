package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pg"
)

// touchSource changes the source's conversations whose id is $2 modulo $1 (modulo 100: 1%) like
// live traffic does: each gets a new contact message, its status flips (resolved ↔ open) and
// updated_at/last_activity_at move. The changes are stamped 15 minutes ago (traffic since a sync
// 15 minutes back), so they are found by the id-set comparison, not only by the watermark, and the
// no-change pass that follows re-reads just what is really inside the 10-minute overlap window
// (the newest generated conversations).
const touchSource = `
WITH c AS (
    UPDATE conversations
       SET updated_at = (now() - interval '15 minutes') AT TIME ZONE 'UTC',
           last_activity_at = (now() - interval '15 minutes') AT TIME ZONE 'UTC',
           status = CASE WHEN status = 1 THEN 0 ELSE 1 END
     WHERE id % $1::int = $2::int
    RETURNING id, account_id, inbox_id, contact_id, updated_at)
INSERT INTO messages (content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at,
                      private, sender_type, sender_id)
SELECT 'Oi! Ainda tenho dúvidas sobre os planos, vocês têm aula experimental amanhã?', c.account_id, c.inbox_id,
       c.id, 0, c.updated_at, c.updated_at, false, 'Contact', c.contact_id
FROM c`

// etlWorkers is ETL_WORKERS's default, which the child `etl run` uses too.
const etlWorkers = 2

// etlPhase: full load (the real `geniai etl run --full` binary, whose peak RSS it also reads),
// an incremental run after 1% of the conversations changed, and a no-change pass.
func (r *run) etlPhase(ctx context.Context) error {
	sec := "ETL"
	env := map[string]string{"DATABASE_URL": r.dbs.authURL, "CHATWOOT_DATABASE_URL": r.dbs.cwReaderURL}
	// The binary is built before any clock starts: `go build` (a link, at least, even with a warm
	// cache) took about 2 s, which the full load's figure used to include, as much as the whole load
	// of the small scale.
	if _, err := r.buildBinary(ctx); err != nil {
		return err
	}
	// Each of the three timings below starts from a checkpoint, so none pays for the writes of
	// the one before (the bare copy writes about as much WAL as the full load).
	r.cfg.logf("ETL: the source extraction alone (the full load's queries, rows discarded)")
	if err := r.checkpoint(ctx); err != nil {
		return err
	}
	extractTime, extracted, err := r.extractOnly(ctx)
	if err != nil {
		return fmt.Errorf("extraction alone: %w", err)
	}
	r.cfg.logf("ETL: the bare copy (the same extraction, its rows copied as they come into plain tables)")
	if err := r.checkpoint(ctx); err != nil {
		return err
	}
	copyTime, _, err := r.bareCopy(ctx)
	if err != nil {
		return fmt.Errorf("bare copy: %w", err)
	}
	if err := r.checkpoint(ctx); err != nil {
		return err
	}
	r.cfg.logf("ETL full load: geniai etl run --full (child process)")
	t0 := time.Now()
	c, err := r.startChild(ctx, env, "etl", "run", "--full")
	if err != nil {
		return err
	}
	rss, err := c.wait()
	d := time.Since(t0)
	if err != nil {
		r.rep.addMissing(sec, "full load throughput", "conversations/s", "≥ 20000 conversations/s", err.Error())
		return err
	}
	convs, msgs, err := r.countConversations(ctx)
	if err != nil {
		return err
	}
	r.rep.Params["analytics_conversations"] = convs
	r.rep.Params["full_load_seconds"] = d.Seconds()
	r.rep.Params["analytics_messages"] = msgs
	note := fmt.Sprintf("%s conversations, %s transcript messages, %d tenants in %.1f s (`geniai etl run --full`, process start included)",
		format(float64(convs)), format(float64(msgs)), len(r.tenants), d.Seconds())
	r.rep.add(sec, "full load throughput", float64(convs)/d.Seconds(), "conversations/s", nil, note)
	r.rep.add(sec, "full load ÷ source extraction alone", d.Seconds()/extractTime.Seconds(), "×", atMost(1.5),
		fmt.Sprintf("full load %.1f s; the same source queries (%s conversations, %d workers, chunks of %d) read and discarded in %.1f s just before, in this run",
			d.Seconds(), format(float64(extracted)), etlWorkers, etl.DefaultChunkSize, extractTime.Seconds()))
	r.rep.add(sec, "bare copy ÷ source extraction alone", copyTime.Seconds()/extractTime.Seconds(), "×", nil,
		fmt.Sprintf("the floor of any loader that keeps what it reads: the same extraction, each chunk copied as it came (COPY, one row of scalars and one of transcript arrays per conversation) into logged tables with a primary key and nothing else, one transaction per tenant: %.1f s", copyTime.Seconds()))
	r.rep.add(sec, "full load ÷ bare copy", d.Seconds()/copyTime.Seconds(), "×", nil,
		"the ETL's own work beyond keeping the rows: RLS-checked staging and merge, derived metrics, search document and its GIN indexes, sorted transcripts, daily rollups, history and run records")
	r.rep.add(sec, "full load throughput (messages)", float64(msgs)/d.Seconds(), "messages/s", nil,
		fmt.Sprintf("%s source messages incl. private notes and activity", format(float64(r.gen.Messages))))
	r.rep.add("memory", "peak RSS of `geniai etl run --full`", rss, "MiB", nil,
		fmt.Sprintf("ru_maxrss of the child, full load of %s conversations (flat in conversations = streaming)", format(float64(convs))))

	// Incremental: 1% of the conversations change in the source.
	src, err := pgx.Connect(ctx, r.dbs.cwAdminURL)
	if err != nil {
		return err
	}
	tag, err := src.Exec(ctx, touchSource, 100, 7)
	src.Close(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("touch source: %w", err)
	}
	changed := tag.RowsAffected()
	etlDB, err := pg.Open(ctx, r.dbs.authURL, pg.Options{MaxConns: etlWorkers + 1})
	if err != nil {
		return err
	}
	defer etlDB.Close()
	runner := &etl.Runner{DB: etlDB, SourceURL: r.dbs.cwReaderURL, Workers: etlWorkers}
	t0 = time.Now()
	res, err := runner.RunAll(ctx, false)
	d = time.Since(t0)
	if err != nil {
		return err
	}
	var upd, ins, m, failed int
	for _, x := range res {
		upd += x.Updated
		ins += x.Inserted
		m += x.Messages
		if x.Err != nil {
			failed++
		}
	}
	r.rep.add(sec, "incremental run, 1% of conversations changed", d.Seconds(), "s", nil,
		fmt.Sprintf("%s conversations changed in the source (new contact message, status flip); %s updated, %s inserted, %s messages, %d tenants failed; %s changed conversations/s",
			format(float64(changed)), format(float64(upd)), format(float64(ins)), format(float64(m)), failed, format(float64(changed)/d.Seconds())))

	// No change: a pass over every tenant.
	t0 = time.Now()
	res, err = runner.RunAll(ctx, false)
	d = time.Since(t0)
	if err != nil {
		return err
	}
	var moved, reread, unchanged, slowest int
	var slow time.Duration
	for i, x := range res {
		moved += x.Inserted + x.Updated + x.Deleted
		reread += x.Extracted
		if x.Unchanged {
			unchanged++
		}
		if x.Err != nil {
			failed++
		}
		if x.Duration > slow {
			slow, slowest = x.Duration, i
		}
	}
	note = fmt.Sprintf("%d tenants, %d workers, %d rows changed, %d failed; %d tenants settled by the source fingerprint alone, %d conversations re-read inside the overlap window",
		len(res), etlWorkers, moved, failed, unchanged, reread)
	if len(res) > 0 {
		note += fmt.Sprintf("; slowest %s %.0f ms", res[slowest].Slug, slow.Seconds()*1000)
	}
	r.rep.add(sec, fmt.Sprintf("no-change pass over all %d tenants", len(res)), d.Seconds(), "s", atMost(1), note)
	return nil
}
