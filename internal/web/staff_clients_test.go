package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestClientComparison: /admin/clients lists every client with the dashboard's figures for its
// own period, sortable, with the same numbers in the API and the CSV; bad input is a 400 in words,
// and clients never reach it.
func TestClientComparison(t *testing.T) {
	t.Parallel()
	h, a, b, _ := adminHarness(t)
	var wantA, wantB int64
	count := `SELECT count(*) FROM analytics.conversations c JOIN app.tenants t ON t.id = c.tenant_id
	          WHERE c.tenant_id = $1 AND c.created_day > ($2::timestamptz AT TIME ZONE t.timezone)::date - 30
	            AND c.created_day <= ($2::timestamptz AT TIME ZONE t.timezone)::date`
	now := h.clock.Now()
	if err := h.super.QueryRow(t.Context(), count, a, now).Scan(&wantA); err != nil {
		t.Fatal(err)
	}
	if err := h.super.QueryRow(t.Context(), count, b, now).Scan(&wantB); err != nil {
		t.Fatal(err)
	}
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	page := c.get("/admin/clients")
	expectStatus(t, page, http.StatusOK, "Comparativo de clientes")
	for _, want := range []string{"/admin/tenants/" + strconv.FormatInt(a, 10) + "/dashboard?period=30d", "1ª resposta humana (mediana)", "≈ "} {
		if !strings.Contains(page.body, want) {
			t.Errorf("comparison lacks %q", want)
		}
	}
	var api struct {
		Clients []struct {
			ID      int64 `json:"tenant_id"`
			Metrics map[string]struct {
				Current *float64 `json:"current"`
			} `json:"metrics"`
		} `json:"clients"`
	}
	res := c.get("/api/v1/admin/clients?sort=-conversations")
	expectStatus(t, res, http.StatusOK, `"clients"`)
	if err := json.Unmarshal([]byte(res.body), &api); err != nil {
		t.Fatal(err)
	}
	got := map[int64]float64{}
	for i, cl := range api.Clients {
		if cur := cl.Metrics["conversations"].Current; cur != nil {
			got[cl.ID] = *cur
			if i > 0 && api.Clients[i-1].Metrics["conversations"].Current != nil && *api.Clients[i-1].Metrics["conversations"].Current < *cur {
				t.Error("not sorted by conversations, descending")
			}
		}
	}
	if got[a] != float64(wantA) || got[b] != float64(wantB) || wantA == 0 {
		t.Errorf("conversations A %v (want %d), B %v (want %d)", got[a], wantA, got[b], wantB)
	}
	csv := c.get("/admin/clients.csv?period=30d&sort=name")
	expectStatus(t, csv, http.StatusOK, "cliente,slug")
	if !strings.Contains(csv.body, ","+strconv.FormatInt(wantA, 10)+",") {
		t.Errorf("the CSV lacks A's %d conversations: %.400s", wantA, csv.body)
	}
	expectStatus(t, c.get("/admin/clients.xlsx?period=90d"), http.StatusOK, "")
	expectStatus(t, c.get("/admin/clients?period=5d"), http.StatusBadRequest, "Período inválido")
	expectStatus(t, c.get("/admin/clients?from=2026-11-30&to=2026-11-01"), http.StatusBadRequest, "Período inválido")
	expectStatus(t, c.get("/admin/clients?from=2026-11-01&to=2026-11-29"), http.StatusOK, `value="2026-11-01"`)
	expectStatus(t, c.get("/admin/clients?sort=drop"), http.StatusBadRequest, "Ordenação inválida")
	cl := h.browser()
	cl.mustLogin("admin@a.test", pw, "/dashboard")
	for _, p := range []string{"/admin/clients", "/admin/clients.csv", "/api/v1/admin/clients"} {
		if res := cl.get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("a client reached %s: %d", p, res.StatusCode)
		}
	}
}

// TestClientComparisonPagesAndFilters: with more clients than a page holds, /admin/clients shows
// 100 per page with links that keep the period, order and filters; the search (name or slug),
// status and "only flagged" filters narrow the list and its downloads, which carry every client
// that passes them, never one page; bad input is a 400 in words.
func TestClientComparisonPagesAndFilters(t *testing.T) {
	t.Parallel()
	h, a, _, _ := adminHarness(t)
	// 130 more clients without data or inboxes (so never flagged); one suspended.
	if _, err := h.super.Exec(t.Context(), `INSERT INTO app.tenants (slug, name)
		SELECT 'filial-' || lpad(g::text, 3, '0'), 'Filial ' || lpad(g::text, 3, '0') FROM generate_series(1, 130) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := h.super.Exec(t.Context(), `UPDATE app.tenants SET status = 'suspended' WHERE slug = 'filial-077'`); err != nil {
		t.Fatal(err)
	}
	var all int
	if err := h.super.QueryRow(t.Context(), `SELECT count(*) FROM app.tenants WHERE NOT is_platform`).Scan(&all); err != nil {
		t.Fatal(err)
	}
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	lines := func(body string) int { return strings.Count(body, `/dashboard?period=`) }

	first := c.get("/admin/clients?sort=name")
	expectStatus(t, first, http.StatusOK, fmt.Sprintf("%d de %d clientes", all, all))
	if n := lines(first.body); n != 100 {
		t.Fatalf("page 1 shows %d clients, want 100", n)
	}
	if !strings.Contains(first.body, `href="/admin/clients?page=2&amp;period=30d&amp;sort=name"`) {
		t.Errorf("page 1 lacks a link to page 2 keeping the order: %s", first.body[strings.Index(first.body, `class="pager"`):])
	}
	second := c.get("/admin/clients?sort=name&page=2")
	expectStatus(t, second, http.StatusOK, fmt.Sprintf("101–%d de %d", all, all))
	if n := lines(second.body); n != all-100 {
		t.Fatalf("page 2 shows %d clients, want %d", n, all-100)
	}
	if strings.Contains(second.body, ">Filial 001<") || !strings.Contains(second.body, ">Filial 130<") {
		t.Error("page 2 is not the rest of the list by name")
	}
	expectStatus(t, c.get("/admin/clients?sort=name&page=99"), http.StatusOK, fmt.Sprintf("101–%d de %d", all, all)) // the last page

	// Search by name or slug, any case; links keep the filter.
	found := c.get("/admin/clients?q=FILIAL-01&period=7d")
	expectStatus(t, found, http.StatusOK, "10 de "+strconv.Itoa(all)+" clientes")
	if n := lines(found.body); n != 10 {
		t.Errorf("search shows %d clients, want 10 (filial-010..019)", n)
	}
	if !strings.Contains(found.body, `href="/admin/clients?period=7d&amp;q=FILIAL-01&amp;sort=-name"`) {
		t.Error("the sort links drop the search or the period")
	}
	sus := c.get("/admin/clients?status=suspended")
	expectStatus(t, sus, http.StatusOK, "Filial 077")
	if n := lines(sus.body); n != 1 {
		t.Errorf("status filter shows %d clients, want 1", n)
	}
	// Only flagged: the fixture's two clients have inboxes and never synced (⚑ as on /admin).
	flagged := c.get("/admin/clients?flagged=1")
	expectStatus(t, flagged, http.StatusOK, "⚑ nunca sincronizado")
	if n := lines(flagged.body); n != 2 || !strings.Contains(flagged.body, "/admin/tenants/"+strconv.FormatInt(a, 10)+"/dashboard") {
		t.Errorf("flagged filter shows %d clients, want A and B", n)
	}
	if !strings.Contains(flagged.body, `name="flagged" value="1" checked`) {
		t.Error("the flagged box is not kept checked")
	}

	// Downloads and the API carry every client that passes the filters.
	csv := c.get("/admin/clients.csv?sort=name")
	expectStatus(t, csv, http.StatusOK, "cliente,slug")
	if n := strings.Count(strings.TrimSpace(csv.body), "\n"); n != all {
		t.Errorf("the CSV has %d clients, want all %d", n, all)
	}
	csv = c.get("/admin/clients.csv?q=filial-01")
	if n := strings.Count(strings.TrimSpace(csv.body), "\n"); n != 10 {
		t.Errorf("the filtered CSV has %d clients, want 10", n)
	}
	var api struct {
		Clients []json.RawMessage `json:"clients"`
	}
	res := c.get("/api/v1/admin/clients?page=2")
	if err := json.Unmarshal([]byte(res.body), &api); err != nil || len(api.Clients) != all {
		t.Errorf("the API gave %d clients (%v), want all %d", len(api.Clients), err, all)
	}

	for q, want := range map[string]string{
		"page=0": "Página inválida", "page=x": "Página inválida", "status=gone": "Situação inválida",
		"q=" + strings.Repeat("a", 101): "Busca longa demais",
	} {
		expectStatus(t, c.get("/admin/clients?"+q), http.StatusBadRequest, want)
	}
	expectStatus(t, c.get("/admin/clients?flagged=1&lang=en"), http.StatusOK, "Flagged only")
}
