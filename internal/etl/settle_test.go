package etl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geniai/analytics/internal/pg"
)

// stmtCounter counts the statements a connection sends (BEGIN and COMMIT included).
type stmtCounter struct {
	mu   sync.Mutex
	sqls []string
}

func (c *stmtCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	c.sqls = append(c.sqls, strings.Join(strings.Fields(data.SQL), " "))
	c.mu.Unlock()
	return ctx
}

func (c *stmtCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns the statements counted since the last take.
func (c *stmtCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sqls
	c.sqls = nil
	return out
}

// TestPassCostFollowsChanges: a pass over many tenants costs the analytics database and the
// source a few statements when nothing changed, whatever the number of tenants, and still
// finds everything: the unchanged check is recorded for every tenant (folded runs, watermark
// and source clock moved), a changed conversation in one tenant and a deleted one in another
// are loaded by the next pass, a tenant whose run fails fails alone and changes nothing, a
// tenant another runner holds is skipped, and runs left by a dead process are closed.
func TestPassCostFollowsChanges(t *testing.T) {
	t.Parallel()
	const extra = 40 // tenants besides A and B, one inbox and three conversations each
	ctx := context.Background()
	url, src := newSource(t)
	f := newFixture(t, url, src)
	f.seedCatalog()
	f.exec(src, `INSERT INTO inboxes (id, account_id, channel_id, name, channel_type, created_at, updated_at)
		SELECT i, 1, i, 'inbox ' || i, 'Channel::Whatsapp', now(), now() FROM generate_series(5, 4 + $1::int) i`, extra)
	f.exec(src, `INSERT INTO contacts (id, account_id, name, phone_number, created_at, updated_at)
		SELECT g, 1, 'Contato ' || g, '+55119' || lpad(g::text, 8, '0'), now(), now() FROM generate_series(1000, 999 + 3 * $1::int) g`, extra)
	f.exec(src, `INSERT INTO conversations (id, account_id, inbox_id, status, created_at, updated_at, contact_id, display_id, last_activity_at)
		SELECT g, 1, 5 + (g - 1000) / 3, 0, timestamp '2025-02-01' + g * interval '1 hour',
		       timestamp '2025-02-01' + g * interval '1 hour' + interval '5 minutes', g, g,
		       timestamp '2025-02-01' + g * interval '1 hour' + interval '5 minutes'
		FROM generate_series(1000, 999 + 3 * $1::int) g`, extra)
	f.exec(src, `INSERT INTO messages (content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, private, sender_type)
		SELECT 'mensagem ' || k, 1, c.inbox_id, c.id, k % 2, c.created_at + k * interval '1 minute', c.created_at, false,
		       CASE WHEN k % 2 = 0 THEN 'Contact' ELSE 'User' END
		FROM conversations c, generate_series(0, 3) k WHERE c.id >= 1000`)
	tenants := map[int]int64{} // by inbox
	for i := 5; i < 5+extra; i++ {
		tenants[i] = f.mkTenant(fmt.Sprintf("academia-%03d", i), i)
	}
	all := extra + 2

	// The runner's database and source, traced.
	db, dbTrace := tracedDB(t, f.env.AuthURL)
	srcTrace := &stmtCounter{}
	f.runner.DB, f.runner.sourceTracer = db, srcTrace
	// Batches of 8 tenants, two at a time.
	f.runner.settleSize, f.runner.Workers = 8, 2
	batches := (all + 7) / 8
	quietCost := 10 + 5*batches // listing the tenants and their inboxes, then a transaction per batch

	pass := func(what string) map[int64]Result {
		t.Helper()
		res, err := f.runner.RunAll(ctx, false)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(res) != all {
			t.Fatalf("%s ran %d tenants, want %d", what, len(res), all)
		}
		out := map[int64]Result{}
		for _, r := range res {
			out[r.TenantID] = r
		}
		return out
	}
	quiet := func(what string, res map[int64]Result, except ...int64) {
		t.Helper()
		for id, r := range res {
			if r.Err != nil || (!r.Unchanged && !containsID(except, id)) {
				t.Errorf("%s, tenant %s: %+v, want settled unchanged", what, r.Slug, r)
			}
		}
	}
	for _, r := range pass("first load") {
		if r.Err != nil {
			t.Fatalf("first load, tenant %s: %v", r.Slug, r.Err)
		}
	}
	quiet("first check", pass("first check"))
	dbTrace.take()
	srcTrace.take()

	// A quiet pass: a few statements in all, no run of its own for any tenant.
	type mark struct {
		checked, success time.Time
		runs, checks     int
	}
	marks := func() map[int64]mark {
		t.Helper()
		rows, err := f.super.Query(ctx, `SELECT w.tenant_id, w.source_checked_at, w.last_success_at,
			(SELECT count(*) FROM etl.runs r WHERE r.tenant_id = w.tenant_id),
			(SELECT sum(r.checks) FROM etl.runs r WHERE r.tenant_id = w.tenant_id)
			FROM etl.watermarks w`)
		if err != nil {
			t.Fatal(err)
		}
		out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct {
			id int64
			m  mark
		}, error) {
			var x struct {
				id int64
				m  mark
			}
			err := row.Scan(&x.id, &x.m.checked, &x.m.success, &x.m.runs, &x.m.checks)
			return x, err
		})
		if err != nil {
			t.Fatal(err)
		}
		m := map[int64]mark{}
		for _, x := range out {
			m[x.id] = x.m
		}
		return m
	}
	before := marks()
	quiet("quiet pass", pass("quiet pass"))
	stmts, srcStmts := dbTrace.take(), srcTrace.take()
	if len(stmts) > quietCost {
		t.Errorf("a quiet pass over %d tenants sent %d statements to the analytics database, want at most %d:\n%s", all, len(stmts), quietCost, strings.Join(stmts, "\n"))
	}
	// The column check, every inbox's fingerprint, every inbox's description.
	if len(srcStmts) > 3 {
		t.Errorf("a quiet pass sent %d statements to the source, want at most 3:\n%s", len(srcStmts), strings.Join(srcStmts, "\n"))
	}
	after := marks()
	if len(after) != all {
		t.Fatalf("%d watermarks, want %d", len(after), all)
	}
	for id, a := range after {
		b := before[id]
		if !a.checked.After(b.checked) || !a.success.After(b.success) || a.runs != b.runs || a.checks != b.checks+1 {
			t.Errorf("tenant %d: watermark and runs %+v after a quiet pass, before %+v: want the check folded and the clocks moved", id, a, b)
		}
	}

	// One conversation changed in one tenant, one deleted in another: the next pass loads them,
	// and costs what those two tenants' runs cost on top of the quiet pass.
	changed, deleted := tenants[7], tenants[9]
	f.exec(src, `UPDATE conversations SET status = 1, updated_at = updated_at + interval '1 day' WHERE id = 1006`) // inbox 7
	f.exec(src, `INSERT INTO messages (content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, private, sender_type)
		VALUES ('quero agendar uma visita', 1, 7, 1006, 0, timestamp '2025-06-01', timestamp '2025-06-01', false, 'Contact')`)
	f.exec(src, `DELETE FROM messages WHERE conversation_id = 1012`) // inbox 9
	f.exec(src, `DELETE FROM conversations WHERE id = 1012`)
	// Alerts: the settled tenants are handed over together, the others one by one.
	var afterMu sync.Mutex
	var afterRun, afterSettle []int64
	f.runner.AfterRun = func(_ context.Context, id int64) error {
		afterMu.Lock()
		defer afterMu.Unlock()
		afterRun = append(afterRun, id)
		return nil
	}
	f.runner.AfterSettle = func(_ context.Context, ids []int64) error {
		afterMu.Lock()
		defer afterMu.Unlock()
		afterSettle = append(afterSettle, ids...)
		return nil
	}
	res := pass("pass after two changes")
	f.runner.AfterRun, f.runner.AfterSettle = nil, nil
	slices.Sort(afterRun)
	if want := []int64{min(changed, deleted), max(changed, deleted)}; !slices.Equal(afterRun, want) {
		t.Errorf("AfterRun called for %v, want the two tenants that ran on their own %v", afterRun, want)
	}
	if len(afterSettle) != all-2 || containsID(afterSettle, changed) || containsID(afterSettle, deleted) {
		t.Errorf("AfterSettle got %d tenants %v, want the %d settled ones", len(afterSettle), afterSettle, all-2)
	}
	quiet("pass after two changes", res, changed, deleted)
	if r := res[changed]; r.Unchanged || r.Updated != 1 || r.Messages != 1 || r.Deleted != 0 {
		t.Errorf("changed tenant: %+v, want one conversation updated with its new message", r)
	}
	if r := res[deleted]; r.Unchanged || r.Deleted != 1 || r.Updated+r.Inserted != 0 {
		t.Errorf("tenant with a deleted conversation: %+v, want one deletion", r)
	}
	var status int
	var stored int
	_ = f.super.QueryRow(ctx, `SELECT status FROM analytics.conversations WHERE tenant_id = $1 AND conversation_id = 1006`, changed).Scan(&status)
	_ = f.super.QueryRow(ctx, `SELECT count(*) FROM analytics.conversations WHERE tenant_id = $1`, deleted).Scan(&stored)
	if status != 1 || stored != 2 {
		t.Errorf("stored: status %d of the changed conversation (want 1), %d conversations of the tenant with a deletion (want 2)", status, stored)
	}
	if n := len(dbTrace.take()); n > quietCost+2*40 {
		t.Errorf("a pass with two changed tenants sent %d statements to the analytics database, want at most %d", n, quietCost+2*40)
	}
	srcTrace.take()
	quiet("pass after the changes were loaded", pass("pass after the changes were loaded"))

	// A tenant whose run fails fails alone, says why and changes nothing; the others settle.
	failing := tenants[11]
	sum := f.checksum(failing)
	f.exec(src, `UPDATE conversations SET status = 1, updated_at = updated_at + interval '1 day' WHERE id = 1018`) // inbox 11
	f.runner.hook = func(_ context.Context, stage string) error {
		if stage == "extract" {
			return errors.New("fonte indisponível (injetado)")
		}
		return nil
	}
	res = pass("pass with a failing tenant")
	f.runner.hook = nil
	for id, r := range res {
		switch {
		case id == failing:
			if r.Err == nil || r.Unchanged {
				t.Errorf("failing tenant: %+v, want its failure", r)
			}
		case r.Err != nil || !r.Unchanged:
			t.Errorf("tenant %s beside a failing one: %+v, want settled unchanged", r.Slug, r)
		}
	}
	var runStatus, runErr string
	_ = f.super.QueryRow(ctx, `SELECT status, coalesce(error, '') FROM etl.runs WHERE tenant_id = $1 ORDER BY id DESC LIMIT 1`, failing).Scan(&runStatus, &runErr)
	if runStatus != "failed" || !strings.Contains(runErr, "injetado") {
		t.Errorf("failing tenant's run: %s %q, want failed with the reason", runStatus, runErr)
	}
	if f.checksum(failing) != sum {
		t.Error("a failed run changed the tenant's stored data")
	}
	if r := pass("pass after the failure")[failing]; r.Err != nil || r.Updated != 1 {
		t.Errorf("failing tenant's next run: %+v, want its change loaded", r)
	}

	// A tenant another runner holds is skipped; runs left running by a dead process are closed.
	held, dead := tenants[13], tenants[15]
	other := pgtestConn(t, f.env.AuthURL)
	if _, err := other.Exec(ctx, "SELECT pg_advisory_lock($1::integer, $2::integer)", lockClass, held); err != nil {
		t.Fatal(err)
	}
	f.exec(f.super, `INSERT INTO etl.runs (tenant_id, worker) VALUES ($1, 'morto:1')`, dead)
	res = pass("pass with a held tenant")
	for id, r := range res {
		switch {
		case id == held:
			if !r.Skipped || r.Err != nil {
				t.Errorf("held tenant: %+v, want skipped", r)
			}
		case r.Err != nil || !r.Unchanged:
			t.Errorf("tenant %s beside a held one: %+v, want settled unchanged", r.Slug, r)
		}
	}
	var running, stale int
	_ = f.super.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status = 'stale')
		FROM etl.runs WHERE tenant_id = $1`, dead).Scan(&running, &stale)
	if running != 0 || stale != 1 {
		t.Errorf("dead process's run: %d running, %d stale, want it closed as stale", running, stale)
	}
	if _, err := other.Exec(ctx, "SELECT pg_advisory_unlock($1::integer, $2::integer)", lockClass, held); err != nil {
		t.Fatal(err)
	}
	quiet("pass after the release", pass("pass after the release"))

	// A batch that cannot be settled (here: the function refused) changes nothing and leaves its
	// tenants to their own runs, which find them unchanged.
	before = marks()
	f.exec(f.super, `REVOKE EXECUTE ON FUNCTION etl.settle_unchanged(integer, timestamptz, double precision, text, bigint[],
		bigint[], bigint[], timestamptz[], integer[], integer[], text[]) FROM geniai_etl`)
	dbTrace.take()
	quiet("pass whose batch fails", pass("pass whose batch fails"))
	if n := len(dbTrace.take()); n < 5*all {
		t.Errorf("a pass whose batch failed sent %d statements, want every tenant's own run (at least %d)", n, 5*all)
	}
	for id, a := range marks() {
		if b := before[id]; !a.checked.After(b.checked) || a.checks != b.checks+1 {
			t.Errorf("tenant %d after a failed batch: %+v, before %+v: want its own run's check recorded once", id, a, b)
		}
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// tracedDB is a pool of url whose statements are counted.
func tracedDB(t *testing.T, url string) (*pg.DB, *stmtCounter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	tr := &stmtCounter{}
	cfg.ConnConfig.Tracer = tr
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &pg.DB{Pool: pool}, tr
}

func pgtestConn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
