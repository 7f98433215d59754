package etl

import (
	"context"
	"errors"
	"testing"
)

// TestOpeningHoursChangesReapply: changes that touch no conversation in Chatwoot — an inbox's
// working hours, its timezone, working hours switched off — are seen by the no-change check and
// re-applied to the stored history without reading a conversation again, and so are the
// tenant's lead exclusion labels, SLA target and timezone; after each, every metric equals the
// oracle's and the next run is quiet again. A run that fails after storing the new hours leaves
// nothing behind. Tenant by tenant and as passes over every tenant.
func TestOpeningHoursChangesReapply(t *testing.T) {
	t.Parallel()
	for _, pass := range []bool{false, true} {
		t.Run(map[bool]string{false: "tenant", true: "pass"}[pass], func(t *testing.T) {
			t.Parallel()
			openingHoursChangesReapply(t, pass)
		})
	}
}

func openingHoursChangesReapply(t *testing.T, pass bool) {
	f := seeded(t, 60)
	f.pass = pass
	ctx := context.Background()
	inboxes := []int{1, 2}
	ru := defaultRules()
	f.run(f.tenantA, false)
	f.run(f.tenantB, false)
	f.checkOracle(f.tenantA, inboxes, "America/Sao_Paulo", ru)
	f.checkOracle(f.tenantB, []int{4}, "America/Sao_Paulo", ru)
	steady := func(what string) {
		t.Helper()
		if res := f.run(f.tenantA, false); !res.Unchanged || res.Extracted != 0 {
			t.Errorf("%s: run not skipped on an unchanged source: %+v", what, res)
		}
	}
	reapplied := func(what string, tz string) {
		t.Helper()
		res := f.run(f.tenantA, false)
		if res.Unchanged || res.Extracted != 0 || res.Err != nil {
			t.Errorf("%s: %+v, want a run that reads no conversation", what, res)
		}
		f.checkOracle(f.tenantA, inboxes, tz, ru)
		steady("after " + what)
	}
	steady("after the first load")

	// Inbox 4 has an empty timezone: stored as unknown, the tenant's applies.
	var tz *string
	if err := f.super.QueryRow(ctx, "SELECT timezone FROM analytics.inboxes WHERE inbox_id = 4").Scan(&tz); err != nil || tz != nil {
		t.Errorf("inbox 4 timezone %v (%v), want NULL", tz, err)
	}

	before := f.checksum(f.tenantA)
	f.exec(f.src, "UPDATE working_hours SET close_hour = 20, updated_at = updated_at + interval '1 minute' WHERE inbox_id = 1 AND day_of_week BETWEEN 1 AND 5")
	reapplied("new closing time", "America/Sao_Paulo")
	if f.checksum(f.tenantA) == before {
		t.Error("new working hours changed no stored figure")
	}

	// A run that fails after storing the new hours (and re-applying them) changes nothing.
	before = f.checksum(f.tenantA)
	f.exec(f.src, "UPDATE inboxes SET timezone = 'Europe/Lisbon' WHERE id = 2")
	f.runner.hook = func(_ context.Context, stage string) error {
		if stage == "ids" {
			return errors.New("injected failure")
		}
		return nil
	}
	if !pass {
		if _, err := f.runner.RunTenant(ctx, f.tenantA, false); err == nil {
			t.Error("injected failure: run succeeded")
		}
		if f.checksum(f.tenantA) != before {
			t.Error("a failed run changed the stored data")
		}
		var stored string
		_ = f.super.QueryRow(ctx, "SELECT source_timezone FROM analytics.inboxes WHERE inbox_id = 2").Scan(&stored)
		if stored != "America/New_York" {
			t.Errorf("a failed run stored inbox 2's timezone %q", stored)
		}
	}
	f.runner.hook = nil
	reapplied("inbox timezone", "America/Sao_Paulo")

	f.exec(f.src, "UPDATE inboxes SET working_hours_enabled = false WHERE id = 1")
	reapplied("working hours switched off", "America/Sao_Paulo")
	f.exec(f.src, "UPDATE inboxes SET working_hours_enabled = true WHERE id = 1")
	f.exec(f.src, "DELETE FROM working_hours WHERE inbox_id = 1 AND day_of_week = 6")
	reapplied("a weekday row removed", "America/Sao_Paulo")

	// Tenant rules: exclusion labels and the SLA target are rules, re-applied from stored data.
	f.exec(f.super, "UPDATE app.tenant_settings SET lead_exclusion_labels = '{duvida}' WHERE tenant_id = $1", f.tenantA)
	ru.ExcludedLabels = []string{"duvida"}
	reapplied("lead exclusion labels", "America/Sao_Paulo")
	var excluded int
	_ = f.super.QueryRow(ctx, "SELECT count(*) FROM analytics.conversations WHERE tenant_id = $1 AND 'duvida' = ANY (labels) AND is_lead", f.tenantA).Scan(&excluded)
	if excluded != 0 {
		t.Errorf("%d conversations labelled duvida are still leads", excluded)
	}
	f.exec(f.super, "UPDATE app.tenant_settings SET sla_seconds = 900 WHERE tenant_id = $1", f.tenantA)
	ru.SLASeconds = 900
	reapplied("SLA target", "America/Sao_Paulo")

	// The tenant's timezone applies to inbox 4's empty one (tenant B) and to creation days.
	f.exec(f.super, "UPDATE app.tenants SET timezone = 'America/Manaus' WHERE id = $1", f.tenantB)
	if res := f.run(f.tenantB, false); res.Unchanged {
		t.Errorf("tenant timezone change: %+v", res)
	}
	f.checkOracle(f.tenantB, []int{4}, "America/Manaus", defaultRules())
}
