package web

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestAdminSyncPageSaysWhatTheRunDid: the sync page reports the latest run as the tenant page's
// run list does — counts in pt-BR digits, a no-change pass as "nada novo" rather than "0
// conversas" (which reads as an empty client) — and run durations use the decimal comma.
func TestAdminSyncPageSaysWhatTheRunDid(t *testing.T) {
	t.Parallel()
	h, a, _, _ := adminHarness(t)
	ta := strconv.FormatInt(a, 10)
	c := h.browser()
	c.mustLogin("suporte@geniai.test", pw, "/admin")

	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, full_load, extracted, inserted, updated, deleted, messages)
	        VALUES ($1, now() + interval '1 hour', now() + interval '1 hour 2.5 seconds', 'succeeded', true, 1376, 1370, 6, 0, 15120)`, a)
	res := c.get("/admin/tenants/" + ta + "/sync")
	expectStatus(t, res, http.StatusOK, "1.376 lidas · 1.370 novas · 6 atualizadas · 0 removidas · 15.120 mensagens")
	if tenant := c.get("/admin/tenants/" + ta); !strings.Contains(tenant.body, "2,5 s") || strings.Contains(tenant.body, "2.5 s") {
		t.Errorf("run duration not in pt-BR digits: %s", between(tenant.body, `data-label="Duração"`, "</td>"))
	}

	// Plans are named in the page's language, not by their stored code.
	if overview := c.get("/admin"); !strings.Contains(overview.body, "<td>Básico</td>") || strings.Contains(overview.body, "<td>basic</td>") {
		t.Error("the overview shows the plan's code, not its name")
	}

	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, unchanged, checks, last_check_at)
	        VALUES ($1, now() + interval '2 hours', now() + interval '2 hours 1 second', 'succeeded', true, 3, now() + interval '2 hours')`, a)
	res = c.get("/admin/tenants/" + ta + "/sync")
	expectStatus(t, res, http.StatusOK, "Sincronização concluída: nada novo.")
	if strings.Contains(res.body, "0 conversas") {
		t.Error("a no-change pass reads as an empty client")
	}
}
