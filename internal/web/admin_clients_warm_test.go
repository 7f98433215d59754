package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestComparisonWarmedAfterAChange: once staff asked for the 90-day comparison, the server's
// minute pass recomputes the client whose settings changed, so the operator's next view finds
// every client in the cache (no client summed while they wait); a period nobody asked for within
// a day is not recomputed, and a client user's request teaches the warmer nothing.
func TestComparisonWarmedAfterAChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.DashboardCacheEntries, c.PageCacheMB = 100, 8 })
	a, _ := pgtest.SeedAnalytics(t, h.env)
	h.user(a, "admin@a.test", pg.AppAdmin, pw)
	h.user(h.platform(), "staff@geniai.test", pg.AppSuperAdmin, pw)
	ctx := context.Background()
	cache := h.srv.dash.CompareCache

	st := h.browser()
	st.mustLogin("staff@geniai.test", pw, "/admin")
	expectStatus(t, st.get("/admin/clients?period=90d"), http.StatusOK, "Comparativo")
	cl := h.browser()
	cl.mustLogin("admin@a.test", pw, "/dashboard")
	expectStatus(t, cl.get("/admin/clients?period=7d"), http.StatusNotFound, "")
	if due := h.srv.compareWarm.due(h.clock.Now()); len(due) != 1 || due[0].days != 90 || due[0].role != pg.AppSuperAdmin {
		t.Fatalf("asked-for comparisons %+v, want staff's 90 days only", due)
	}

	if _, err := h.super.Exec(ctx, `UPDATE app.tenant_settings SET display_name = 'Academia A+' WHERE tenant_id = $1`, a); err != nil {
		t.Fatal(err)
	}
	before := cache.Stats()
	h.srv.warmComparisonsOnce(ctx)
	warmed := cache.Stats()
	if warmed.Misses != before.Misses+1 {
		t.Fatalf("the minute pass summed %d clients, want the 1 that changed", warmed.Misses-before.Misses)
	}
	expectStatus(t, st.get("/admin/clients?period=90d"), http.StatusOK, "Comparativo")
	if after := cache.Stats(); after.Misses != warmed.Misses || after.Hits <= warmed.Hits {
		t.Fatalf("the view after the pass summed %d clients itself (hits %d→%d)", after.Misses-warmed.Misses, warmed.Hits, after.Hits)
	}

	// A day later without a view, nothing is recomputed any more.
	if due := h.srv.compareWarm.due(h.clock.Now().Add(comparisonInterestTTL + time.Minute)); len(due) != 0 {
		t.Fatalf("still warming %+v a day after the last view", due)
	}
}
