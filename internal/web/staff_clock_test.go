package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestStaffReadsTimesInOwnZone: the panel shows every timestamp in the reader's own zone with
// its offset (São Paulo until they choose another on "Minha conta", typed leniently), runs that
// changed nothing as one counted line, and statuses in Portuguese.
func TestStaffReadsTimesInOwnZone(t *testing.T) {
	t.Parallel()
	h, a, _, _ := adminHarness(t)
	ta := strconv.FormatInt(a, 10)
	// A run at 00:16 UTC on 30/11 is 21:16 on 29/11 in São Paulo, 20:16 in Manaus.
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, extracted, inserted)
	        VALUES ($1, '2026-11-30 00:16:00Z', '2026-11-30 00:16:02Z', 'succeeded', 671, 671)`, a)
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, unchanged, checks, last_check_at)
	        VALUES ($1, '2026-11-30 13:02:00Z', '2026-11-30 13:02:01Z', 'succeeded', true, 57, '2026-11-30 13:58:00Z')`, a)
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")

	page := c.get("/admin/tenants/" + ta)
	expectStatus(t, page, http.StatusOK, "29/11/2026 21:16 UTC−3")
	for _, want := range []string{"Sem alterações desde 30/11/2026 10:02 UTC−3, 57 verificações", "última verificação: 30/11/2026 10:58 UTC−3",
		"concluída", "671 lidas", "nada novo"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("tenant page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "30/11/2026 00:16") || strings.Contains(page.body, ">succeeded<") {
		t.Error("tenant page shows a UTC time or an English status")
	}
	expectStatus(t, c.get("/admin"), http.StatusOK, "Brasília (UTC−3)")

	// Refused zones change nothing and say why; a city name is enough.
	expectStatus(t, c.post("/account/timezone", url.Values{"timezone": {"Marte"}}), http.StatusUnprocessableEntity, "Fuso horário desconhecido")
	expectRedirect(t, c.post("/account/timezone", url.Values{"timezone": {"manaus"}}), "/account?zone=saved#zone")
	acct := c.get("/account?zone=saved")
	expectStatus(t, acct, http.StatusOK, "Fuso horário salvo.")
	if !strings.Contains(acct.body, `value="America/Manaus"`) {
		t.Error("the account page does not show the saved zone")
	}
	expectStatus(t, c.get("/admin/tenants/"+ta), http.StatusOK, "29/11/2026 20:16 UTC−4")
	expectStatus(t, c.get("/admin"), http.StatusOK, "Manaus (UTC−4)")

	// Another person's zone is their own: the support account still reads São Paulo.
	s := h.browser()
	s.mustLogin("suporte@geniai.test", pw, "/admin")
	expectStatus(t, s.get("/admin/tenants/"+ta), http.StatusOK, "29/11/2026 21:16 UTC−3")

	// "GMT-3" is São Paulo.
	expectRedirect(t, c.post("/account/timezone", url.Values{"timezone": {"GMT-3"}}), "/account?zone=saved#zone")
	expectStatus(t, c.get("/admin/tenants/"+ta), http.StatusOK, "29/11/2026 21:16 UTC−3")
}

// TestTenantSyncChart: the tenant page draws the last day's runs as lag and duration bars, a
// folded row of quiet checks as one bar, failures apart.
func TestTenantSyncChart(t *testing.T) {
	t.Parallel()
	h, a, _, _ := adminHarness(t)
	ta := strconv.FormatInt(a, 10)
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	if strings.Contains(c.get("/admin/tenants/"+ta).body, "Sincronização nas últimas 24 horas") {
		t.Fatal("a chart without runs")
	}
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, extracted, inserted)
	        VALUES ($1, now() - interval '3 hours', now() - interval '3 hours' + interval '1500 ms', 'succeeded', 10, 10)`, a)
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, unchanged, checks, last_check_at)
	        VALUES ($1, now() - interval '2 hours', now() - interval '2 hours' + interval '200 ms', 'succeeded', true, 40, now() - interval '80 minutes')`, a)
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, error)
	        VALUES ($1, now() - interval '20 minutes', now() - interval '20 minutes' + interval '3 s', 'failed', 'tempo esgotado')`, a)
	page := c.get("/admin/tenants/" + ta)
	expectStatus(t, page, http.StatusOK, "Sincronização nas últimas 24 horas")
	for _, want := range []string{"40 verificações", "falhou", "3.000 ms", "1.500 ms", "atraso 3.600 s"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("sync chart lacks %q", want)
		}
	}
	if n := strings.Count(page.body, `class="bar s1"`); n != 1 {
		t.Errorf("%d failure bars, want 1", n)
	}
}
