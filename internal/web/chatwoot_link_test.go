package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestChatwootLinks: with CHATWOOT_URL set, the list (of leads, unanswered or not) and the
// conversation page link each conversation to /app/accounts/{account}/conversations/{number} in
// Chatwoot; unset, no such link appears.
func TestChatwootLinks(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.ChatwootURL = "https://chat.example.com" })
	a, _ := pgtest.SeedAnalytics(t, h.env)
	h.exec(`UPDATE app.tenant_inboxes SET account_id = 42 WHERE tenant_id = $1`, a)
	h.user(a, "cliente@a.test", "client", pw)
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	list := c.get("/conversations?" + period + "&stage=lead")
	expectStatus(t, list, http.StatusOK, `href="https://chat.example.com/app/accounts/42/conversations/`)
	m := idRE.FindStringSubmatch(list.body)
	if m == nil {
		t.Fatal("no lead in the fixture")
	}
	if !strings.Contains(list.body, `href="https://chat.example.com/app/accounts/42/conversations/`+m[1]+`" target="_blank" rel="noopener noreferrer"`) {
		t.Errorf("conversation #%s has no Chatwoot link of its own", m[1])
	}
	detail := c.get(link(t, detailRE, list.body))
	expectStatus(t, detail, http.StatusOK, `href="https://chat.example.com/app/accounts/`)

	// Without CHATWOOT_URL: no link.
	h2, _, _ := dashHarness(t)
	c2 := h2.browser()
	c2.mustLogin("cliente@a.test", pw, "/dashboard")
	if body := c2.get("/conversations?" + period).body; strings.Contains(body, "/app/accounts/") {
		t.Error("a Chatwoot link without CHATWOOT_URL")
	}
}
