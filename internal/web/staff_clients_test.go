package web

import (
	"encoding/json"
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
