package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestAlertSettingsAndLog: a tenant admin saves alerts (addresses lowercased, a webhook key made
// on the first save and replaced on request, never in the audit log); a webhook that is not
// https, or points at a private or loopback address, and a bad address are refused with their
// message and nothing saved; clients never reach the page; the delivery log shows the tenant's
// deliveries to its admin and to staff, who see the key masked.
func TestAlertSettingsAndLog(t *testing.T) {
	t.Parallel()
	h, a, b := dashHarness(t)
	ctx := context.Background()
	h.user(b, "admin@b.test", "admin", pw)
	adm := h.browser()
	adm.mustLogin("admin@a.test", pw, "/dashboard")
	page := adm.get("/settings/alerts")
	expectStatus(t, page, http.StatusOK, "Alertas")
	if k := rawKey.FindString(page.body); k != "" || strings.Contains(page.body, "alerts.") {
		t.Errorf("untranslated key on the alerts page: %q", k)
	}
	if !strings.Contains(adm.get("/settings").body, `href="/settings/alerts"`) {
		t.Error("the settings page does not link to the alerts")
	}

	save := func(form url.Values) response { return adm.post("/settings/alerts", form) }
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"sla_enabled": {"1"}, "webhook_url": {"http://93.184.216.34/hook"}}, "https://"},
		{url.Values{"sla_enabled": {"1"}, "webhook_url": {"https://127.0.0.1/hook"}}, "loopback"},
		{url.Values{"sla_enabled": {"1"}, "webhook_url": {"https://10.1.2.3/hook"}}, "privado"},
		{url.Values{"sla_enabled": {"1"}, "webhook_url": {"https://169.254.169.254/latest"}}, "privado"},
		{url.Values{"sla_enabled": {"1"}, "emails": {"gerente@a.test, nao-e-email"}}, "nao-e-email"},
		{url.Values{"window_enabled": {"1"}}, "ao menos um e-mail ou um webhook"},
	} {
		res := save(c.form)
		expectStatus(t, res, http.StatusUnprocessableEntity, c.want)
	}
	var n int
	_ = h.super.QueryRow(ctx, "SELECT count(*) FROM app.alert_settings").Scan(&n)
	if n != 0 {
		t.Fatalf("%d settings rows saved from refused forms", n)
	}

	res := save(url.Values{"sla_enabled": {"1"}, "window_enabled": {"1"}, "emails": {"Gerente@A.test\nrecepcao@a.test, gerente@a.test"},
		"webhook_url": {"https://93.184.216.34/geniai"}})
	expectRedirect(t, res, "/settings/alerts?saved=1")
	var emails []string
	var hook, secret string
	if err := h.super.QueryRow(ctx, "SELECT email_to, webhook_url, webhook_secret FROM app.alert_settings WHERE tenant_id = $1", a).Scan(&emails, &hook, &secret); err != nil {
		t.Fatal(err)
	}
	if strings.Join(emails, ",") != "gerente@a.test,recepcao@a.test" || hook != "https://93.184.216.34/geniai" || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(secret) {
		t.Fatalf("saved %v %q %q", emails, hook, secret)
	}
	if !strings.Contains(adm.get("/settings/alerts").body, secret) {
		t.Error("the admin does not see the webhook key")
	}
	// Saving again keeps the key; asking for a new one replaces it.
	expectRedirect(t, save(url.Values{"sla_enabled": {"1"}, "emails": {"gerente@a.test"}, "webhook_url": {"https://93.184.216.34/geniai"}}), "/settings/alerts?saved=1")
	var again string
	_ = h.super.QueryRow(ctx, "SELECT webhook_secret FROM app.alert_settings WHERE tenant_id = $1", a).Scan(&again)
	if again != secret {
		t.Error("a plain save replaced the key")
	}
	expectRedirect(t, save(url.Values{"sla_enabled": {"1"}, "emails": {"gerente@a.test"}, "webhook_url": {"https://93.184.216.34/geniai"}, "new_secret": {"1"}}), "/settings/alerts?saved=1")
	_ = h.super.QueryRow(ctx, "SELECT webhook_secret FROM app.alert_settings WHERE tenant_id = $1", a).Scan(&again)
	if again == secret {
		t.Error("new_secret kept the key")
	}
	var audited, leaked int
	_ = h.super.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE new_values::text LIKE '%' || $1 || '%' OR old_values::text LIKE '%' || $1 || '%')
		FROM audit.events WHERE entity = 'alert_settings'`, secret[:16]).Scan(&audited, &leaked)
	if audited != 3 || leaked != 0 {
		t.Errorf("%d audit events for the settings (want 3), %d with the key", audited, leaked)
	}

	// Clients never reach it.
	cl := h.browser()
	cl.mustLogin("cliente@a.test", pw, "/dashboard")
	expectStatus(t, cl.get("/settings/alerts"), http.StatusNotFound, "")
	expectStatus(t, cl.post("/settings/alerts", url.Values{"emails": {"x@a.test"}}), http.StatusNotFound, "")

	// The delivery log: tenant A's deliveries to its admin and to staff, never to tenant B's admin.
	h.exec(`INSERT INTO analytics.alerts (tenant_id, conversation_id, kind, episode, synced_at, inbox_id, account_id, display_id, contact_name, wait_business_seconds)
		VALUES ($1, 1, 'sla', now(), now(), 1, 1, 4242, 'Maria Alerta', 400)`, a)
	h.exec(`INSERT INTO app.alert_deliveries (tenant_id, event_id, conversation_id, kind, channel, target, payload, status, attempts, last_http_status, last_error)
		SELECT tenant_id, event_id, 1, 'sla', 'webhook', 'https://93.184.216.34/geniai', '{}', 'queued', 2, 503, 'HTTP 503'
		FROM analytics.alerts WHERE tenant_id = $1`, a)
	// A second one failed in the network: the log says why in plain words, the network's own
	// message only as the technical detail.
	h.exec(`INSERT INTO analytics.alerts (tenant_id, conversation_id, kind, episode, synced_at, inbox_id, account_id, display_id, contact_name, wait_business_seconds)
		VALUES ($1, 2, 'sla', now(), now(), 1, 1, 4243, 'João Rede', 400)`, a)
	h.exec(`INSERT INTO app.alert_deliveries (tenant_id, event_id, conversation_id, kind, channel, target, payload, status, attempts, last_error)
		SELECT tenant_id, event_id, 2, 'sla', 'webhook', 'https://ganchos.exemplo.invalid/geniai', '{}', 'queued', 1,
		       'Post "https://ganchos.exemplo.invalid/geniai": dial tcp: lookup ganchos.exemplo.invalid: no such host'
		FROM analytics.alerts WHERE tenant_id = $1 AND display_id = 4243`, a)
	log := adm.get("/settings/alerts")
	for _, want := range []string{"#4242 · Maria Alerta", "Passou do SLA", "HTTP 503", "Na fila",
		"O destino respondeu com um erro temporário.", "#4243 · João Rede",
		"O endereço não foi encontrado: o nome do servidor não existe.", "<summary>Detalhe técnico</summary>", "no such host"} {
		if !strings.Contains(log.body, want) {
			t.Errorf("the admin's delivery log lacks %q", want)
		}
	}
	if n := strings.Count(log.body, "<summary>Detalhe técnico</summary>"); n != 1 {
		t.Errorf("%d technical details, want 1 (an HTTP status says it all)", n)
	}
	if en := adm.get("/settings/alerts?lang=en").body; !strings.Contains(en, "The address was not found: the server name does not exist.") ||
		!strings.Contains(en, "The destination answered with a temporary error.") {
		t.Error("the English log does not explain the failures in English")
	}
	other := h.browser()
	other.mustLogin("admin@b.test", pw, "/dashboard")
	if body := other.get("/settings/alerts").body; strings.Contains(body, "Maria Alerta") || strings.Contains(body, again) {
		t.Error("tenant B's admin sees tenant A's alerts")
	}
	st := h.browser()
	st.mustLogin("staff@geniai.test", pw, "/admin")
	staffPage := st.get("/admin/tenants/" + itoa(a) + "/alerts")
	expectStatus(t, staffPage, http.StatusOK, "Maria Alerta")
	if strings.Contains(staffPage.body, again) || !strings.Contains(staffPage.body, again[:6]+"…") {
		t.Error("staff see the webhook key unmasked, or not at all")
	}
	if !strings.Contains(st.get("/admin/tenants/"+itoa(a)).body, "/alerts\"") {
		t.Error("the tenant's staff page does not link to its alerts")
	}
}
