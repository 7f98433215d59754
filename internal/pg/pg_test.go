package pg_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestContextIsolationUnderConcurrency runs 50 goroutines × 200 transactions over 10 tenants on a
// pool of 4 connections: every transaction must see exactly its own tenant's rows, and a
// transaction without context that follows on the same connection must see none.
func TestContextIsolationUnderConcurrency(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ctx := context.Background()
	owner := pgtest.Conn(t, env.SuperURL) // fixtures bypass RLS

	const tenants = 10
	ids := make([]int64, tenants)
	for i := range ids {
		err := owner.QueryRow(ctx, `
			WITH t AS (INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id)
			SELECT id FROM t`, fmt.Sprintf("tenant-%02d", i)).Scan(&ids[i])
		if err != nil {
			t.Fatal(err)
		}
		// i+1 conversations per tenant, so a leak shows up as a wrong count too.
		_, err = owner.Exec(ctx, `
			INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id,
				status, created_at, source_updated_at, last_activity_at, created_day, created_hour, created_dow)
			SELECT $1::bigint, $1::int * 1000 + g, 1, 1, g, 0, now(), now(), now(), current_date, 0, 0
			FROM generate_series(1, $2::int) g`, ids[i], i+1)
		if err != nil {
			t.Fatal(err)
		}
	}

	pool, err := pg.Open(ctx, env.AuthURL, pg.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for w := 0; w < 50; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				i := (w + n) % tenants
				if n%10 == 9 {
					// A transaction with a role but no tenant must see nothing.
					err := pool.InReadTx(ctx, pg.Principal{DBRole: pg.RoleTenant}, func(tx pg.Tx) error {
						return expect(ctx, tx, 0, 0)
					})
					if err != nil {
						errs <- fmt.Errorf("no-context transaction: %w", err)
						return
					}
					continue
				}
				p := pg.User(ids[i], 0, pg.AppClient, "", "")
				err := pool.InReadTx(ctx, p, func(tx pg.Tx) error { return expect(ctx, tx, ids[i], i+1) })
				if err != nil {
					errs <- fmt.Errorf("worker %d tenant %d: %w", w, ids[i], err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func expect(ctx context.Context, tx pg.Tx, tenant int64, n int) error {
	cur, err := tx.ContextCurrent(ctx)
	if err != nil {
		return err
	}
	if cur.TenantID != tenant {
		return fmt.Errorf("context tenant %d, want %d", cur.TenantID, tenant)
	}
	var count, foreign int
	err = tx.Raw.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE tenant_id <> $1) FROM analytics.conversations`, tenant).Scan(&count, &foreign)
	if err != nil {
		return err
	}
	if count != n || foreign != 0 {
		return fmt.Errorf("saw %d rows (%d foreign), want %d", count, foreign, n)
	}
	return nil
}

// TestAuthenticatorHasNoPrivileges checks that the pooled role cannot read tenant data without
// switching role, and that an unknown role in a principal is refused before any SQL runs.
func TestAuthenticatorHasNoPrivileges(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ctx := context.Background()
	auth := pgtest.Conn(t, env.AuthURL)
	for _, table := range []string{"app.tenants", "app.users", "analytics.conversations", "etl.runs", "audit.events"} {
		_, err := auth.Exec(ctx, "SELECT 1 FROM "+table+" LIMIT 1")
		if err == nil {
			t.Errorf("authenticator read %s without switching role", table)
		}
	}
	if err := env.DB.InTx(ctx, pg.Principal{DBRole: "postgres"}, func(pg.Tx) error { return nil }); err == nil {
		t.Error("a principal with an unknown role was accepted")
	}
	// The session table is the exception: scs/pgxstore uses it through the pool.
	if _, err := auth.Exec(ctx, "SELECT count(*) FROM public.sessions"); err != nil {
		t.Errorf("authenticator cannot read public.sessions: %v", err)
	}
}

// TestReady reports the migration state.
func TestReady(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	if err := env.DB.Ready(context.Background()); err != nil {
		t.Fatalf("fresh database not ready: %v", err)
	}
	owner := pgtest.Conn(t, env.OwnerURL)
	if _, err := owner.Exec(context.Background(), "UPDATE public.schema_version SET version = version - 1"); err != nil {
		t.Fatal(err)
	}
	if err := env.DB.Ready(context.Background()); err == nil {
		t.Fatal("database one migration behind reported ready")
	}
}

// TestMigrationRoundTrip migrates a fresh database up, down to zero and up again.
func TestMigrationRoundTrip(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t) // already up
	ctx := context.Background()
	if err := pg.Migrate(ctx, env.OwnerURL, 0, nil); err != nil {
		t.Fatalf("down to zero: %v", err)
	}
	owner := pgtest.Conn(t, env.OwnerURL)
	var schemas int
	if err := owner.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname IN ('app','analytics','etl','audit')`).Scan(&schemas); err != nil {
		t.Fatal(err)
	}
	if schemas != 0 {
		t.Fatalf("%d schemas left after migrating down to zero", schemas)
	}
	if err := pg.Migrate(ctx, env.OwnerURL, -1, nil); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if err := env.DB.Ready(ctx); err != nil {
		t.Fatalf("not ready after up again: %v", err)
	}
}

// TestMigrationRebuildsRollups: migration 013 turns analytics.daily_dist into array histograms
// and 014 adds tenant-level daily rollups, both built for tenants already loaded; 013's down
// migration rebuilds daily_dist. Every rebuild holds the counts of a fresh refresh. (Metrics 1-4:
// going down past 016 drops the columns metrics 5-9 count, which the next sync re-reads.)
func TestMigrationRebuildsRollups(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ctx := context.Background()
	pgtest.SeedAnalytics(t, env)
	su := pgtest.Conn(t, env.SuperURL)
	const fromHists = `SELECT coalesce(string_agg(format('%s/%s/%s/%s/%s', tenant_id, day, inbox_id, metric, n), ',' ORDER BY tenant_id, day, inbox_id, metric, n), '')
		FROM (SELECT h.tenant_id, h.day, h.inbox_id, h.metric, sum(c)::bigint AS n
		      FROM analytics.daily_hist h, unnest(h.counts) c WHERE h.metric <= 4 GROUP BY 1, 2, 3, 4) x`
	const fromTenantHists = `SELECT coalesce(string_agg(format('%s/%s/%s/%s', tenant_id, day, metric, n), ',' ORDER BY tenant_id, day, metric, n), '')
		FROM (SELECT h.tenant_id, h.day, h.metric, sum(c)::bigint AS n
		      FROM analytics.tenant_daily_hist h, unnest(h.counts) c WHERE h.metric <= 4 GROUP BY 1, 2, 3) x`
	snapshot := func(q string) string {
		t.Helper()
		var s string
		if err := su.QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	const tenantStats = `SELECT coalesce(string_agg(format('%s/%s/%s/%s/%s', tenant_id, day, conversations, leads, first_reply_sum), ',' ORDER BY tenant_id, day), '')
		FROM analytics.tenant_daily_stats`
	const tenantLabels = `SELECT coalesce(string_agg(format('%s/%s/%s/%s/%s', tenant_id, day, label, conversations, conversions), ',' ORDER BY tenant_id, day, label), '')
		FROM analytics.tenant_daily_labels`
	const summedStats = `SELECT coalesce(string_agg(format('%s/%s/%s/%s/%s', tenant_id, day, c, l, f), ',' ORDER BY tenant_id, day), '')
		FROM (SELECT tenant_id, day, sum(conversations) AS c, sum(leads) AS l, sum(first_reply_sum) AS f FROM analytics.daily_stats GROUP BY 1, 2) x`
	const packed = `SELECT coalesce(string_agg(format('%s/%s/%s/%s/%s', h.tenant_id, h.day, e.inbox_id, e.bucket, e.conversations), ','
		ORDER BY h.tenant_id, h.day, e.inbox_id, e.bucket), '')
		FROM analytics.tenant_daily_hist h, analytics.inbox_hist_entries(h.by_inbox) e WHERE h.metric = 1`
	const unpacked = `SELECT coalesce(string_agg(format('%s/%s/%s/%s/%s', h.tenant_id, h.day, h.inbox_id, u.b, u.c), ','
		ORDER BY h.tenant_id, h.day, h.inbox_id, u.b), '')
		FROM analytics.daily_hist h, unnest(h.buckets, h.counts) u(b, c) WHERE h.metric = 1`
	perInbox, perTenant, stats, labels := snapshot(fromHists), snapshot(fromTenantHists), snapshot(tenantStats), snapshot(tenantLabels)
	if got, want := snapshot(packed), snapshot(unpacked); got != want || got == "" {
		t.Errorf("tenant_daily_hist.by_inbox unpacks to\n%s\nwant daily_hist's first replies\n%s", got, want)
	}
	if perInbox == "" || perTenant == "" || stats == "" || labels == "" {
		t.Fatal("fixture left no rollups")
	}
	if want := snapshot(summedStats); stats != want {
		t.Errorf("tenant_daily_stats\n%s\nis not daily_stats summed over inboxes\n%s", stats, want)
	}
	if err := pg.Migrate(ctx, env.OwnerURL, 12, nil); err != nil {
		t.Fatalf("down to 12: %v", err)
	}
	old := snapshot(`SELECT coalesce(string_agg(format('%s/%s/%s/%s/%s', tenant_id, day, inbox_id, metric, n), ',' ORDER BY tenant_id, day, inbox_id, metric, n), '')
		FROM (SELECT tenant_id, day, inbox_id, metric, sum(conversations)::bigint AS n FROM analytics.daily_dist GROUP BY 1, 2, 3, 4) x`)
	if old != perInbox {
		t.Errorf("down migration rebuilt daily_dist as\n%s\nwant\n%s", old, perInbox)
	}
	if err := pg.Migrate(ctx, env.OwnerURL, -1, nil); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got := snapshot(fromHists); got != perInbox {
		t.Errorf("up migration rebuilt daily_hist as\n%s\nwant\n%s", got, perInbox)
	}
	if got := snapshot(fromTenantHists); got != perTenant {
		t.Errorf("up migration rebuilt tenant_daily_hist as\n%s\nwant\n%s", got, perTenant)
	}
	if got := snapshot(tenantStats); got != stats {
		t.Errorf("up migration rebuilt tenant_daily_stats as\n%s\nwant\n%s", got, stats)
	}
	if got := snapshot(tenantLabels); got != labels {
		t.Errorf("up migration rebuilt tenant_daily_labels as\n%s\nwant\n%s", got, labels)
	}
	var forced int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relnamespace = 'analytics'::regnamespace
		AND relkind = 'r' AND relrowsecurity AND relforcerowsecurity`).Scan(&forced); err != nil {
		t.Fatal(err)
	}
	var tables int
	if err := su.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relnamespace = 'analytics'::regnamespace AND relkind = 'r'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if forced != tables {
		t.Errorf("%d of %d analytics tables have forced row-level security after the round trip", forced, tables)
	}
}

// TestMigrationTranscripts: migration 015 turns analytics.messages (a row per message) into one
// transcript row per conversation, oldest message first, with an empty one for a conversation
// without messages; its down migration gives the same messages back.
func TestMigrationTranscripts(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ctx := context.Background()
	a, _ := pgtest.SeedAnalytics(t, env)
	su := pgtest.Conn(t, env.SuperURL)
	if err := pg.Migrate(ctx, env.OwnerURL, 14, nil); err != nil {
		t.Fatalf("down to 14: %v", err)
	}
	// Messages stored out of order (ids against time), a deleted one, one conversation with none.
	if _, err := su.Exec(ctx, `INSERT INTO analytics.messages (tenant_id, conversation_id, message_id, created_at, sender, message_type, content, deleted)
		SELECT c.tenant_id, c.conversation_id, c.conversation_id * 10 + k, c.created_at + make_interval(mins => 5 - k),
		       (ARRAY['contact', 'bot', 'human', 'system'])[1 + k % 4], (k % 4)::smallint, 'mensagem ' || k || ' de ' || c.conversation_id, k = 2
		FROM analytics.conversations c, generate_series(1, 3) k
		WHERE c.conversation_id <> (SELECT min(conversation_id) FROM analytics.conversations WHERE tenant_id = $1)`, a); err != nil {
		t.Fatal(err)
	}
	const fromMessages = `SELECT string_agg(format('%s/%s/%s/%s/%s/%s/%s/%s', tenant_id, conversation_id, message_id, created_at, sender, message_type, content, deleted),
		',' ORDER BY tenant_id, conversation_id, created_at, message_id) FROM analytics.messages`
	const fromTranscripts = `SELECT string_agg(format('%s/%s/%s/%s/%s/%s/%s/%s', tr.tenant_id, tr.conversation_id, m.id, m.created_at, m.sender, m.message_type, m.content, m.deleted),
		',' ORDER BY tr.tenant_id, tr.conversation_id, m.n)
		FROM analytics.transcripts tr, unnest(tr.message_ids, tr.message_created_at, tr.message_senders, tr.message_types,
		     tr.message_contents, tr.message_deleted) WITH ORDINALITY AS m(id, created_at, sender, message_type, content, deleted, n)`
	snapshot := func(q string) string {
		t.Helper()
		var s *string
		if err := su.QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s == nil {
			t.Fatalf("no rows: %s", q)
		}
		return *s
	}
	messages := snapshot(fromMessages)
	if err := pg.Migrate(ctx, env.OwnerURL, 15, nil); err != nil {
		t.Fatalf("up to 15: %v", err)
	}
	if got := snapshot(fromTranscripts); got != messages {
		t.Errorf("transcripts after the up migration:\n%.600s\nwant the messages\n%.600s", got, messages)
	}
	var convs, transcripts, empty int
	if err := su.QueryRow(ctx, `SELECT (SELECT count(*) FROM analytics.conversations), (SELECT count(*) FROM analytics.transcripts),
		(SELECT count(*) FROM analytics.transcripts WHERE message_ids = '{}')`).Scan(&convs, &transcripts, &empty); err != nil {
		t.Fatal(err)
	}
	if convs != transcripts || empty != 1 {
		t.Errorf("%d conversations, %d transcripts of which %d empty; want one each, one empty", convs, transcripts, empty)
	}
	if err := pg.Migrate(ctx, env.OwnerURL, 14, nil); err != nil {
		t.Fatalf("down to 14 again: %v", err)
	}
	if got := snapshot(fromMessages); got != messages {
		t.Errorf("messages after the down migration:\n%.600s\nwant\n%.600s", got, messages)
	}
}

// TestReadTxIsOneReadOnlySnapshot: pages and exports read in a read-only REPEATABLE READ
// transaction, so every statement of a dashboard or an export sees the same committed ETL run.
func TestReadTxIsOneReadOnlySnapshot(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	ctx := context.Background()
	err := env.DB.InReadTx(ctx, pg.ETL(0), func(tx pg.Tx) error {
		var iso, ro string
		if err := tx.Raw.QueryRow(ctx, "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')").Scan(&iso, &ro); err != nil {
			return err
		}
		if iso != "repeatable read" || ro != "on" {
			t.Errorf("read transaction is %q, read only %q", iso, ro)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
