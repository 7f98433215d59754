package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestPageCacheServesOnlyItsOwnPage: a cached dashboard or conversation list page is served
// again for the same tenant, reader, language and moment, and never to another tenant, another
// language, another app role or a reader in another zone, nor after a sync, a settings change, a
// minute that changes "updated … ago", or midnight. Every page served, cached or not, gzip or not, is byte for byte what a server
// without caches renders at that moment for the same session.
func TestPageCacheServesOnlyItsOwnPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.DashboardCacheEntries, c.PageCacheMB = 100, 8 })
	ctx := context.Background()
	tenants := seedLoadTenants(t, h)
	ta, tb := tenants[0], tenants[1]
	h.user(ta.id, "gestora@"+ta.slug+".load.test", pg.AppAdmin, pw)

	// The clock pinned at 23:58 in the tenants' zone (São Paulo), so midnight comes on cue.
	sp := saoPaulo
	now := time.Now().In(sp)
	h.clock.mu.Lock()
	h.clock.t = time.Date(now.Year(), now.Month(), now.Day(), 23, 58, 0, 0, sp)
	h.clock.mu.Unlock()

	plain, err := New(Options{DB: h.env.DB, Config: testConfig(), Now: h.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	plainTS := httptest.NewServer(plain.Handler())
	t.Cleanup(func() { plainTS.Close(); plain.Close() })

	var hits, misses atomic.Int64
	h.srv.pageCache.observe = func(hit bool) {
		if hit {
			hits.Add(1)
		} else {
			misses.Add(1)
		}
	}
	signIn := func(email, home string) *browser {
		b := h.browser()
		b.mustLogin(email, pw, home)
		return b
	}
	a, b := signIn(ta.email, "/dashboard"), signIn(tb.email, "/dashboard")
	adminA := signIn("gestora@"+ta.slug+".load.test", "/dashboard")

	// get serves path to br and checks it against the uncached server, then whether the page
	// came from the cache.
	get := func(br *browser, path string, wantHit bool, headers ...string) string {
		t.Helper()
		h0 := hits.Load()
		m0 := misses.Load()
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res := br.do(req)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if hit := hits.Load() > h0; hit != wantHit || hits.Load()+misses.Load() != h0+m0+1 {
			t.Fatalf("%s: hit=%v, want %v (%d lookups)", path, hit, wantHit, hits.Load()+misses.Load()-h0-m0)
		}
		req, _ = http.NewRequest("GET", plainTS.URL+path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		fresh := br.do(req)
		if res.body != fresh.body {
			i := 0
			for i < len(res.body) && i < len(fresh.body) && res.body[i] == fresh.body[i] {
				i++
			}
			t.Fatalf("%s: served page differs from a fresh render at byte %d:\nserved: %.200q\nfresh:  %.200q",
				path, i, res.body[i:], fresh.body[i:])
		}
		for _, k := range []string{"Content-Type", "Content-Security-Policy", "Cache-Control"} {
			if res.Header.Get(k) != fresh.Header.Get(k) {
				t.Fatalf("%s: %s %q, fresh %q", path, k, res.Header.Get(k), fresh.Header.Get(k))
			}
		}
		return res.body
	}
	mark := func(body, own, other string) {
		t.Helper()
		if !strings.Contains(body, "MARK-"+own+"-") || strings.Contains(body, "MARK-"+other+"-") {
			t.Fatalf("the page of %s shows %v of its own marker and %v of %s's", own,
				strings.Contains(body, "MARK-"+own+"-"), strings.Contains(body, "MARK-"+other+"-"), other)
		}
	}

	mark(get(a, "/conversations", false), ta.slug, tb.slug)
	mark(get(a, "/conversations", true), ta.slug, tb.slug)
	mark(get(b, "/conversations", false), tb.slug, ta.slug)
	mark(get(a, "/conversations?period=7d", false), ta.slug, tb.slug)
	get(a, "/conversations?period=7d", true, "Accept-Encoding", "identity")
	mark(get(a, "/dashboard", false), ta.slug, tb.slug)
	first := get(a, "/dashboard", true)
	mark(first, ta.slug, tb.slug)
	get(a, "/dashboard", true, "Accept-Encoding", "identity") // the html, not the gzip bytes
	mark(get(b, "/dashboard", false), tb.slug, ta.slug)       // another tenant: its own page
	mark(get(b, "/dashboard", true), tb.slug, ta.slug)
	// Another tenant naming A's filter in its URL still gets its own page.
	mark(get(b, "/dashboard?period=30d", false), tb.slug, ta.slug)
	// Another app role of the same tenant (the settings link): its own page.
	if admin := get(adminA, "/dashboard", false); !strings.Contains(admin, `href="/settings"`) || strings.Contains(first, `href="/settings"`) {
		t.Fatal("the client admin's page should link to settings, the client's should not")
	}
	// Another language: its own page.
	if en := get(a, "/dashboard?lang=en", false); !strings.Contains(en, `<html lang="en">`) {
		t.Fatal("?lang=en did not give the English page")
	}
	get(a, "/dashboard?lang=en", true)
	// The language chosen stays with the session: the same URL, in English now.
	if en := get(a, "/dashboard", false); !strings.Contains(en, `<html lang="en">`) {
		t.Fatal("the session's language is not kept")
	}
	get(a, "/conversations", false) // in English now
	get(a, "/dashboard?lang=pt-BR", false)
	get(a, "/conversations", true) // in Portuguese again: the first page

	// A reader in another zone sees the list's times in it: their own page.
	h.exec(`UPDATE app.users SET timezone = 'Asia/Tokyo' WHERE email = $1`, ta.email)
	get(a, "/conversations", false)
	get(a, "/conversations", true)

	// A sync that merged: A's data and version moved; B's did not.
	h.exec(`DELETE FROM analytics.conversations WHERE tenant_id = $1 AND conversation_id IN (
		SELECT conversation_id FROM analytics.conversations WHERE tenant_id = $1 ORDER BY conversation_id LIMIT 7)`, ta.id)
	pgtest.RefreshRollups(t, h.super, ta.id)
	h.exec(`INSERT INTO etl.watermarks (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING`, ta.id)
	if err := h.env.DB.InTx(ctx, pg.ETL(ta.id), func(tx pg.Tx) error {
		return tx.EtlStoreFingerprint(ctx, dbsqlc.EtlStoreFingerprintParams{SourceNow: time.Now(), TenantID: ta.id})
	}); err != nil {
		t.Fatal(err)
	}
	list := get(a, "/conversations", false)
	if want := fmt.Sprintf(`class="total">%d<`, loadConvsPerTenat-7); !strings.Contains(list, want) {
		t.Fatalf("the list does not count the conversations the sync left (%s)", want)
	}
	synced := get(a, "/dashboard?lang=pt-BR", false)
	if synced == first {
		t.Fatal("the page did not change after a sync removed conversations")
	}
	get(a, "/dashboard?lang=pt-BR", true)
	get(b, "/dashboard", true)
	get(b, "/conversations", true)

	// A settings change.
	h.exec(`UPDATE app.tenant_settings SET display_name = 'Academia Renomeada' WHERE tenant_id = $1`, ta.id)
	if !strings.Contains(get(a, "/dashboard?lang=pt-BR", false), "Academia Renomeada") {
		t.Fatal("the new display name is not on the page")
	}
	get(a, "/dashboard?lang=pt-BR", true)

	// "Updated … ago" moves with the clock: a page lives within its minute.
	h.exec(`UPDATE etl.watermarks SET last_success_at = $2 WHERE tenant_id = $1`, ta.id, h.clock.Now().Add(-30*time.Second))
	get(a, "/dashboard?lang=pt-BR", false)
	get(a, "/dashboard?lang=pt-BR", true)
	h.clock.Advance(time.Minute)
	get(a, "/dashboard?lang=pt-BR", false)
	get(a, "/dashboard?lang=pt-BR", true)

	// Midnight: "30d" names other days, and the tenant's date moved.
	get(b, "/dashboard", true)
	h.clock.Advance(2 * time.Minute)
	get(b, "/dashboard", false)
	get(b, "/dashboard", true)
	get(b, "/conversations", false)
	get(b, "/conversations", true)

	// Bounded: the bytes kept stay under the budget.
	if n, size := h.srv.pageCache.stats(); n == 0 || size > h.srv.pageCache.max {
		t.Fatalf("%d pages, %d bytes in a cache of %d", n, size, h.srv.pageCache.max)
	}
}

// TestPageCacheBounded: pages beyond the byte budget are evicted least recently used first, and
// a tenant's new version drops its older pages at once.
func TestPageCacheBounded(t *testing.T) {
	t.Parallel()
	page := func(key string, tenant int64, version string) *cachedPage {
		return &cachedPage{key: key, tenant: tenant, version: version, html: make([]byte, 1000), gz: make([]byte, 100)}
	}
	c := newPageCache(5000, nil)
	for i := range 10 {
		c.put(page(string(rune('a'+i)), int64(i), "v1"))
	}
	if n, size := c.stats(); n != 4 || size > 5000 {
		t.Fatalf("%d pages, %d bytes in a cache of 5000", n, size)
	}
	if c.get("j") == nil || c.get("a") != nil {
		t.Fatal("the most recent page should stay and the oldest go")
	}
	c.put(page("j2", 9, "v1"))
	c.put(page("j3", 9, "v2"))
	if c.get("j") != nil || c.get("j2") != nil || c.get("j3") == nil {
		t.Fatal("a tenant's new version should drop its older pages")
	}
	if newPageCache(0, nil) != nil {
		t.Fatal("a budget of 0 is no cache")
	}
}
