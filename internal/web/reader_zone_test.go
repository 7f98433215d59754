package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/sheet/sheettest"
)

// TestTimesInReadersZoneOutsideAdmin: outside /admin too, every timestamp a user reads is in
// their own zone (app.users.timezone) with its offset written — the settings' last sign-ins and
// invitation expiries, "Minha conta"'s sessions, the conversation list, a conversation, and the
// "generated at" of an export's header block — not the tenant's zone without an offset.
func TestTimesInReadersZoneOutsideAdmin(t *testing.T) {
	t.Parallel()
	h, a, _ := dashHarness(t)
	// The tenant reads São Paulo time; the admin reading the pages lives in Manaus (UTC−4).
	h.exec(`UPDATE app.users SET timezone = 'America/Manaus' WHERE email = 'admin@a.test'`)
	c := h.browser()
	c.mustLogin("admin@a.test", pw, "/dashboard")
	h.exec(`UPDATE app.users SET last_login_at = '2026-12-05 01:16:00+00' WHERE email = 'cliente@a.test' AND tenant_id = $1`, a)
	res := c.get("/settings")
	expectStatus(t, res, http.StatusOK, "04/12/2026 21:16 UTC−4") // 01:16 UTC is 21:16 the day before in Manaus
	res = c.get("/account")
	expectStatus(t, res, http.StatusOK, "UTC−4")
	res = c.get("/conversations?" + period)
	expectStatus(t, res, http.StatusOK, "UTC−4")
	if strings.Contains(res.body, "UTC−3") {
		t.Error("a conversation time is in the tenant's zone")
	}
	xl := c.get("/conversations/export.xlsx?" + period)
	if xl.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", xl.StatusCode)
	}
	if book := sheettest.Open(t, []byte(xl.body)); !strings.HasSuffix(book.About["Gerado em"], " UTC−4") {
		t.Errorf("export header block: %v", book.About)
	}
	// The same pages for a reader in São Paulo say UTC−3.
	cl := h.browser()
	cl.mustLogin("cliente@a.test", pw, "/dashboard")
	expectStatus(t, cl.get("/conversations?"+period), http.StatusOK, "UTC−3")
}
