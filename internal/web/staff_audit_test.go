package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestAuditReadsAsSentences: the audit log says who did what to whom with the real names, the
// before/after in words, filters by person (name or e-mail), action and client, and exports the
// same sentences.
func TestAuditReadsAsSentences(t *testing.T) {
	t.Parallel()
	h, a, _, _ := adminHarness(t)
	ta := strconv.FormatInt(a, 10)
	h.exec(`UPDATE app.users SET full_name = 'Ana Souza' WHERE email = 'staff@geniai.test'`)
	h.exec(`UPDATE app.users SET full_name = 'Bruno Lima' WHERE email = 'cliente@a.test'`)
	var name string
	if err := h.super.QueryRow(t.Context(), `SELECT name FROM app.tenants WHERE id = $1`, a).Scan(&name); err != nil {
		t.Fatal(err)
	}
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	res := c.post("/admin/tenants/"+ta+"/status", url.Values{"status": {"suspended"}, "confirm": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d %.300s", res.StatusCode, res.body)
	}
	var uid int64
	if err := h.super.QueryRow(t.Context(), `SELECT id FROM app.users WHERE email = 'cliente@a.test'`).Scan(&uid); err != nil {
		t.Fatal(err)
	}
	res = c.post("/admin/users/"+strconv.FormatInt(uid, 10), url.Values{"full_name": {"Bruno Lima"}, "role": {"admin"}, "active": {"1"}})
	if res.StatusCode >= 400 {
		t.Fatalf("role change: %d %.300s", res.StatusCode, res.body)
	}
	res = c.post("/admin/tenants/"+ta, url.Values{"name": {name}, "status": {"suspended"}, "plan": {"pro"}, "timezone": {"America/Sao_Paulo"}})
	if res.StatusCode >= 400 {
		t.Fatalf("plan change: %d %.300s", res.StatusCode, res.body)
	}

	page := c.get("/admin/audit")
	expectStatus(t, page, http.StatusOK, "Ana Souza suspendeu "+name)
	for _, want := range []string{"Ana Souza mudou o papel de Bruno Lima (cliente@a.test) (" + name + ")",
		"<del>Ativo</del> → <ins>Suspenso</ins>", "<span class=\"field\">Nome</span>: <ins>Bruno Lima</ins>", "<del>Leitura</del> → <ins>Administrador</ins>", "<del>Básico</del> → <ins>Pro</ins>", "Ana Souza entrou"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("audit page lacks %q", want)

		}
	}
	for _, raw := range []string{"tenants.update", "users.update", "auth_version", "lockout_count"} {
		if strings.Contains(page.body, raw) {
			t.Errorf("audit page shows the raw %q", raw)
		}
	}
	// Filters: person by part of a name or e-mail, action, client.
	if p := c.get("/admin/audit?person=souza&kind=tenant.suspended"); !strings.Contains(p.body, "suspendeu") || strings.Contains(p.body, "mudou o papel") {
		t.Errorf("kind filter: %.600s", p.body)
	}
	if p := c.get("/admin/audit?person=ninguem%40x.test"); strings.Contains(p.body, "Ana Souza") {
		t.Error("the person filter let another person's events through")
	}
	if p := c.get("/admin/audit?kind=user.&tenant=" + ta); !strings.Contains(p.body, "mudou o papel") || strings.Contains(p.body, "suspendeu") {
		t.Error("the group filter is wrong")
	}
	expectStatus(t, c.get("/admin/audit?kind=drop.table"), http.StatusBadRequest, "Ação desconhecida")
	csv := c.get("/admin/audit.csv?person=Ana&kind=tenant.")
	expectStatus(t, csv, http.StatusOK, "Ana Souza suspendeu "+name)
	if !strings.Contains(csv.body, "Situação: Ativo → Suspenso") {
		t.Errorf("the CSV lacks the change in words: %.500s", csv.body)
	}
}
