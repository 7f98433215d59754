package etl

import (
	"context"
	"strings"
	"testing"
	"time"
)

// poison is the review's funnel rule: a back-reference that makes PostgreSQL backtrack
// exponentially on a run of a's that does not end the way it wants.
const poison = `(a*)(a*)(a*)(a*)(a*)\5\4\3\2\1c`

// TestPoisonRegexCannotHangASync: the constraint refuses the rule, and a rule stored before the
// constraint existed (the constraint is NOT VALID for old rows) is stopped by the ETL's own
// statement timeout: the run fails with the reason, changes nothing, releases the tenant's lock
// and leaves no run marked running; once the rule is fixed the next run succeeds. Before, such
// a run held the lock for as long as the match took (over 100 s in `geniai etl run`).
func TestPoisonRegexCannotHangASync(t *testing.T) {
	t.Parallel()
	f := seeded(t, 0)
	ctx := context.Background()
	f.run(f.tenantA, true)
	wm, sum := f.watermark(f.tenantA), f.checksum(f.tenantA)

	// The constraint refuses it, naming nothing but its own rule.
	if _, err := f.super.Exec(ctx, `UPDATE app.tenant_settings SET lead_regex = $1 WHERE tenant_id = $2`, poison, f.tenantA); err == nil ||
		!strings.Contains(err.Error(), "tenant_settings_lead_regex_safe") {
		t.Fatalf("poison rule stored: %v", err)
	}
	// A rule from before the constraint, and one contact message that makes it backtrack.
	f.exec(f.super, `ALTER TABLE app.tenant_settings DROP CONSTRAINT tenant_settings_lead_regex_safe`)
	f.exec(f.super, `UPDATE app.tenant_settings SET lead_regex = $1 WHERE tenant_id = $2`, poison, f.tenantA)
	f.conv(1, 0, utc("2025-03-12 10:00:00"), []msg{{utc("2025-03-12 10:00:01"), 0, false, "Contact", strings.Repeat("a", 300) + "c", false}}, nil, nil, nil)

	// Only our side is short: a slow source query on a loaded machine must not be what fails.
	r := &Runner{DB: f.env.DB, SourceURL: f.srcURL, StatementTimeout: time.Second, SourceTimeout: time.Minute}
	start := time.Now()
	res, err := r.RunTenant(ctx, f.tenantA, false)
	if err == nil {
		t.Fatal("the poisoned run succeeded")
	}
	if d := time.Since(start); d > time.Minute {
		t.Errorf("the run took %v with a 1 s statement timeout", d)
	}
	var status, reason string
	if err := f.super.QueryRow(ctx, `SELECT status, error FROM etl.runs WHERE tenant_id = $1 AND id = $2`, f.tenantA, res.RunID).Scan(&status, &reason); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || !strings.Contains(reason, "ETL_STATEMENT_TIMEOUT") {
		t.Fatalf("run %d: %s %q, want failed naming ETL_STATEMENT_TIMEOUT", res.RunID, status, reason)
	}
	// The lock is released by the runner, or (when the release itself fails) with its connection,
	// whose backend may take a moment to go.
	var held, running int
	for i := 0; i < 50; i++ {
		_ = f.super.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, lockClass, f.tenantA).Scan(&held)
		if held == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = f.super.QueryRow(ctx, "SELECT count(*) FROM etl.runs WHERE status = 'running'").Scan(&running)
	if held != 0 || running != 0 {
		t.Fatalf("after the timeout: %d locks held, %d runs running", held, running)
	}
	if w := f.watermark(f.tenantA); !eqTime(w, wm) || f.checksum(f.tenantA) != sum {
		t.Fatal("the timed-out run changed the watermark or the data")
	}
	f.stagingEmpty()

	// Fixed: the next run goes through.
	f.exec(f.super, `UPDATE app.tenant_settings SET lead_regex = 'a{3}c' WHERE tenant_id = $1`, f.tenantA)
	if _, err := f.runner.RunTenant(ctx, f.tenantA, false); err != nil {
		t.Fatalf("after fixing the rule: %v", err)
	}
}

// TestEveryRunnerHasAStatementTimeout: a Runner built without one (any ETL path that forgets
// ETL_STATEMENT_TIMEOUT) still bounds its statements, in both databases.
func TestEveryRunnerHasAStatementTimeout(t *testing.T) {
	t.Parallel()
	r := &Runner{}
	if p := r.principal(1); p.StatementTimeout != DefaultStatementTimeout {
		t.Fatalf("default principal timeout %v", p.StatementTimeout)
	}
	r.StatementTimeout = 3 * time.Second
	if p := r.principal(1); p.StatementTimeout != 3*time.Second {
		t.Fatalf("principal timeout %v", p.StatementTimeout)
	}
}

// TestFunnelTextCap: a rule sees the first etl.funnel_text_cap() characters of each contact
// message and nothing after them.
func TestFunnelTextCap(t *testing.T) {
	t.Parallel()
	f := seeded(t, 0)
	ctx := context.Background()
	early := f.conv(1, 0, utc("2025-03-12 10:00:00"), []msg{{utc("2025-03-12 10:00:01"), 0, false, "Contact", strings.Repeat("x", 1990) + " agendar", false}}, nil, nil, nil)
	late := f.conv(1, 0, utc("2025-03-12 11:00:00"), []msg{{utc("2025-03-12 11:00:01"), 0, false, "Contact", strings.Repeat("x", 2000) + " agendar", false}}, nil, nil, nil)
	f.exec(f.super, `UPDATE app.tenant_settings SET visit_regex = 'agendar' WHERE tenant_id = $1`, f.tenantA)
	f.run(f.tenantA, true)
	visit := func(id int) (v bool) {
		t.Helper()
		if err := f.super.QueryRow(ctx, `SELECT is_visit FROM analytics.conversations WHERE tenant_id = $1 AND conversation_id = $2`, f.tenantA, id).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if !visit(early) || visit(late) {
		t.Fatalf("visit: within the cap %t, past it %t", visit(early), visit(late))
	}
}
