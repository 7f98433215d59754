package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// With SMTP configured, a client admin's reset in /settings sends a link instead of generating a
// password: first a confirmation that changes nothing, then the link through the queue
// (audited, and worded in the audit log), the page saying where it went and until when, and the
// current password still working. Another client's user is a 404. Before, the button showed a
// one-time password at once even with outgoing mail.
func TestSettingsSendsResetLink(t *testing.T) {
	t.Parallel()
	m := staffMailHarness(t)
	a := m.tenant("academia-a", "active", nil)
	m.user(a, "ana@a.test", "admin", pw)
	uid := m.user(a, "cli@a.test", "client", pw)
	b := m.tenant("academia-b", "active", nil)
	bUser := m.user(b, "bia@b.test", "client", pw)
	state := func() string {
		var s string
		if err := m.super.QueryRow(context.Background(), `SELECT concat_ws('|',
			(SELECT count(*) FROM app.password_resets),
			(SELECT string_agg(password_hash || auth_version, ',' ORDER BY id) FROM app.users))`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	c := m.browser()
	c.mustLogin("ana@a.test", pw, "/dashboard")
	expectStatus(t, c.get("/settings"), http.StatusOK, "Enviar link de redefinição")

	path := "/settings/users/" + itoa(uid) + "/reset-password"
	before := state()
	res := c.post(path, nil)
	expectStatus(t, res, http.StatusOK, "Enviar um link de redefinição de senha para cli@a.test?")
	if !strings.Contains(res.body, `name="confirm" value="1"`) || !strings.Contains(res.body, `action="`+path+`"`) {
		t.Errorf("the confirmation page does not post the action again with confirm=1:\n%.2000s", res.body)
	}
	if state() != before || len(m.deliver()) != 0 || m.auditCount("password_reset.send", uid) != 0 {
		t.Fatal("the unconfirmed POST stored, changed or sent something")
	}

	// Another client's user: 404, confirmed or not, and nothing happens.
	for _, form := range []url.Values{nil, {"confirm": {"1"}}} {
		if res := c.post("/settings/users/"+itoa(bUser)+"/reset-password", form); res.StatusCode != http.StatusNotFound {
			t.Fatalf("admin of A reset B's user: %d", res.StatusCode)
		}
	}
	if state() != before || len(m.deliver()) != 0 {
		t.Fatal("a reset for another client's user stored or sent something")
	}

	res = c.post(path, url.Values{"confirm": {"1"}})
	expectRedirect(t, res, "/settings#users")
	page := c.get("/settings")
	expectStatus(t, page, http.StatusOK, "Link de redefinição enviado para cli@a.test — válido até")
	if strings.Contains(page.body, `class="secret"`) {
		t.Error("the page shows a password although a link was sent")
	}
	if again := c.get("/settings"); strings.Contains(again.body, "Link de redefinição enviado") {
		t.Error("the notice is shown again on F5")
	}
	msgs := m.deliver()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Header.Get("To"), "cli@a.test") {
		t.Fatalf("%d messages, want the reset link to cli@a.test", len(msgs))
	}
	_ = linkIn(t, msgs[0], "reset")
	if m.auditCount("password_reset.send", uid) != 1 {
		t.Error("the reset link is not audited")
	}
	m.browser().mustLogin("cli@a.test", pw, "/dashboard")

	// The audit log words the event, in either language.
	s := m.browser()
	s.mustLogin("staff@geniai.test", pw, "/admin")
	expectStatus(t, s.get("/admin/audit?kind=user.reset_link_sent"), http.StatusOK,
		"enviou um link de redefinição de senha para")
	expectStatus(t, s.get("/admin/audit?kind=user.reset_link_sent&lang=en"), http.StatusOK,
		"sent a password reset link to")
}

// Without SMTP a client admin's reset still shows a one-time password, after the same
// confirmation step; the unconfirmed POST changes nothing.
func TestSettingsResetPasswordAsksFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a := h.tenant("academia-a", "active", nil)
	h.user(a, "ana@a.test", "admin", pw)
	uid := h.user(a, "cli@a.test", "client", pw)
	hash := func() string {
		var s string
		_ = h.super.QueryRow(context.Background(), `SELECT password_hash FROM app.users WHERE id = $1`, uid).Scan(&s)
		return s
	}
	c := h.browser()
	c.mustLogin("ana@a.test", pw, "/dashboard")
	expectStatus(t, c.get("/settings"), http.StatusOK, "Gerar nova senha")
	path := "/settings/users/" + itoa(uid) + "/reset-password"
	before := hash()
	expectStatus(t, c.post(path, nil), http.StatusOK, "Gerar uma nova senha para cli@a.test?")
	if hash() != before {
		t.Fatal("the unconfirmed POST changed the password")
	}
	expectRedirect(t, c.post(path, url.Values{"confirm": {"1"}}), "/settings?saved=1#users")
	page := c.get("/settings?saved=1")
	i := strings.Index(page.body, `<code class="secret">`)
	if i < 0 || hash() == before {
		t.Fatalf("no new password shown: %.600s", page.body)
	}
	password := page.body[i+len(`<code class="secret">`):]
	password = password[:strings.Index(password, "<")]
	h.browser().mustLogin("cli@a.test", password, "/dashboard")
}
