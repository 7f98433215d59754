package web

import (
	"net/http"
	"strings"
	"testing"
)

// TestSessionEndedSaysWhy: a user whose client is suspended (or cancelled, or out of trial), or
// whose account is deactivated, mid-session, is told why on the next page — in their language,
// naming the client — instead of landing on a bare login page; the session is gone after it. An
// asset or a script's fetch does not use up the explanation; the JSON API answers 403 with the
// sign-in refusal's key.
func TestSessionEndedSaysWhy(t *testing.T) {
	t.Parallel()
	h, a, _ := dashHarness(t)
	page := func(c *browser, path string) response {
		t.Helper()
		req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		return c.do(req)
	}
	restore := func() {
		h.exec(`UPDATE app.tenants SET status = 'active', trial_ends_at = NULL WHERE id = $1`, a)
		h.exec(`UPDATE app.users SET is_active = true WHERE email = 'cliente@a.test'`)
	}
	for _, tc := range []struct {
		name, change, lang, want string
	}{
		{"suspended", `UPDATE app.tenants SET status = 'suspended' WHERE id = $1`, "", "O acesso de academia-a ao GeniAI Analytics foi suspenso pela GeniAI"},
		{"cancelled", `UPDATE app.tenants SET status = 'cancelled' WHERE id = $1`, "", "A assinatura de academia-a foi encerrada"},
		{"trial ended", `UPDATE app.tenants SET status = 'trial', trial_ends_at = now() - interval '1 day' WHERE id = $1`, "", "O período de teste de academia-a terminou"},
		{"deactivated", `UPDATE app.users SET is_active = false WHERE email = 'cliente@a.test' AND tenant_id = $1`, "", "Seu acesso a academia-a foi desativado"},
		{"suspended, in English", `UPDATE app.tenants SET status = 'suspended' WHERE id = $1`, "en", "GeniAI has suspended access to GeniAI Analytics for academia-a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restore()
			c := h.browser()
			c.mustLogin("cliente@a.test", pw, "/dashboard")
			if tc.lang != "" {
				expectStatus(t, page(c, "/dashboard?lang="+tc.lang), http.StatusOK, "")
			}
			h.exec(tc.change, a)
			// The page's assets and a script's fetch come first: they go on anonymous.
			if res := c.get("/static/app.css"); res.StatusCode != http.StatusOK {
				t.Fatalf("asset: %d", res.StatusCode)
			}
			res := page(c, "/dashboard")
			expectStatus(t, res, http.StatusForbidden, tc.want)
			if !strings.Contains(res.body, `href="/login"`) || strings.Contains(res.body, `name="password"`) {
				t.Errorf("the page is not an explanation with a way to sign in: %.500s", res.body)
			}
			// Said once: the session is gone, the next page is the login page.
			expectRedirect(t, page(c, "/dashboard"), "/login")
			restore()
			c.mustLogin("cliente@a.test", pw, "/dashboard") // restored: signs in again
		})
	}
	// The JSON API: 403 with the sign-in refusal's stable key.
	restore()
	c := h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	h.exec(`UPDATE app.tenants SET status = 'suspended' WHERE id = $1`, a)
	res := c.get("/api/v1/dashboard/summary?" + period)
	expectStatus(t, res, http.StatusForbidden, `"key": "err.login.refused.suspended"`)
	restore()
	// A session that ends for any other reason (signed out elsewhere) is the login page, as before.
	c = h.browser()
	c.mustLogin("cliente@a.test", pw, "/dashboard")
	h.exec(`UPDATE app.users SET auth_version = auth_version + 1 WHERE email = 'cliente@a.test'`)
	expectRedirect(t, page(c, "/dashboard"), "/login")
}
