package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/staff"
)

// staffMailHarness is the mail harness with the onboarding wizard's Chatwoot inbox list.
func staffMailHarness(t *testing.T) *mailHarness {
	t.Helper()
	m := newMailHarness(t, nil)
	cfg := testConfig()
	cfg.SMTPURL = "smtp://" + m.catcher.Addr() + "?tls=none"
	cfg.MailFrom = "GeniAI Analytics <noreply@geniai.test>"
	cfg.PublicURL = m.ts.URL
	srv, err := New(Options{DB: m.env.DB, Config: cfg, Now: m.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Inboxes: func(context.Context) ([]staff.SourceInbox, error) {
			return []staff.SourceInbox{{ID: 9, AccountID: 3, AccountName: "Academia Nova", Name: "WhatsApp Nova", ChannelType: "Channel::Whatsapp"}}, nil
		},
		Sync: func(context.Context, int64, bool) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	m.ts.Close()
	m.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { m.ts.Close(); srv.Close() })
	m.user(m.platform(), "staff@geniai.test", "super_admin", pw)
	return m
}

// With SMTP configured, onboarding invites the first admin instead of creating the account with
// a generated password: the page after it says where the invitation went and until when, a
// reload sends nothing more, "Reenviar" sends a new link and says so. An address that has an
// account in another client is refused and nothing is created. Before, the page showed a
// password to copy by hand even with outgoing mail.
func TestOnboardingInvitesTheFirstAdmin(t *testing.T) {
	t.Parallel()
	m := staffMailHarness(t)
	other := m.tenant("academia-b", "active", nil)
	m.user(other, "bia@b.test", "client", pw)
	c := m.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	form := url.Values{"name": {"Academia Nova"}, "slug": {"academia-nova"}, "timezone": {"America/Sao_Paulo"}, "inbox": {"9"},
		"admin_email": {"bia@b.test"}, "admin_name": {"Dona"}, "admin_language": {"en"}}
	expectStatus(t, c.post("/admin/tenants", form), http.StatusConflict, "já tem conta no cliente")
	var n int
	_ = m.super.QueryRow(context.Background(), `SELECT count(*) FROM app.tenants WHERE slug = 'academia-nova'`).Scan(&n)
	if n != 0 {
		t.Fatal("a refused onboarding left its tenant behind")
	}

	form.Set("admin_email", "Dona@Nova.test")
	res := c.post("/admin/tenants", form)
	if res.StatusCode != http.StatusSeeOther || !strings.HasSuffix(res.Header.Get("Location"), "/welcome") {
		t.Fatalf("onboarding: %d %q %.300s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	welcome := res.Header.Get("Location")
	page := c.get(welcome)
	expectStatus(t, page, http.StatusOK, "Convite enviado para dona@nova.test — válido até")
	if strings.Contains(page.body, `class="secret"`) {
		t.Error("the welcome page shows a password although the admin was invited")
	}
	_ = m.super.QueryRow(context.Background(), `SELECT count(*) FROM app.users WHERE email = 'dona@nova.test'`).Scan(&n)
	if n != 0 {
		t.Error("the first admin's account exists before they accepted the invitation")
	}
	msgs := m.deliver()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the invitation", len(msgs))
	}
	if !strings.Contains(msgs[0].Header.Get("To"), "dona@nova.test") || !strings.Contains(msgs[0].Text, "Academia Nova") ||
		!strings.Contains(msgs[0].Text, "Choose your password") {
		t.Fatalf("want an English invitation to dona@nova.test: %q %q\n%.600s", msgs[0].Header.Get("To"), msgs[0].Subject, msgs[0].Text)
	}
	first := linkIn(t, msgs[0], "invite")

	// Reload: the same state, nothing sent again.
	expectStatus(t, c.get(welcome), http.StatusOK, "Convite enviado para dona@nova.test")
	if got := m.deliver(); len(got) != 0 {
		t.Errorf("a reload sent %d more messages", len(got))
	}
	// Resend: back on the page, saying so; a new link, the old one ends.
	var tid, inv int64
	_ = m.super.QueryRow(context.Background(), `SELECT tenant_id, id FROM app.invitations WHERE email = 'dona@nova.test'`).Scan(&tid, &inv)
	expectRedirect(t, c.post("/admin/invitations/"+itoa(tid)+"/"+itoa(inv)+"/resend", url.Values{"back": {"welcome"}}), welcome)
	expectStatus(t, c.get(welcome), http.StatusOK, "Convite reenviado para dona@nova.test — válido até")
	msgs = m.deliver()
	if len(msgs) != 1 || linkIn(t, msgs[0], "invite") == first {
		t.Fatalf("resend: %d messages, want one with a new link", len(msgs))
	}
}

// With SMTP configured, staff's reset sends a link instead of generating a password: first a
// confirmation that changes nothing, then the link through the queue (audited), the page
// saying where it went and until when, and the current password still working. Before, the
// button generated a password at once.
func TestStaffSendsResetLink(t *testing.T) {
	t.Parallel()
	m := staffMailHarness(t)
	a := m.tenant("academia-a", "active", nil)
	uid := m.user(a, "ana@a.test", "admin", pw)
	c := m.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	expectStatus(t, c.get("/admin/users?q=ana@a.test"), http.StatusOK, "Enviar link de redefinição")
	path := "/admin/users/" + itoa(uid) + "/reset-password"
	res := c.post(path, nil)
	expectStatus(t, res, http.StatusOK, "Enviar um link de redefinição de senha para ana@a.test?")
	if !strings.Contains(res.body, `name="confirm" value="1"`) || !strings.Contains(res.body, `action="`+path+`"`) {
		t.Errorf("the confirmation page does not post the action again with confirm=1:\n%.2000s", res.body)
	}
	var resets int
	_ = m.super.QueryRow(context.Background(), `SELECT count(*) FROM app.password_resets WHERE user_id = $1`, uid).Scan(&resets)
	if resets != 0 || len(m.deliver()) != 0 {
		t.Fatal("the unconfirmed POST stored or sent a reset")
	}
	res = c.post(path, url.Values{"confirm": {"1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed reset: %d %.300s", res.StatusCode, res.body)
	}
	expectStatus(t, c.get(res.Header.Get("Location")), http.StatusOK, "Link de redefinição enviado para ana@a.test — válido até")
	msgs := m.deliver()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Header.Get("To"), "ana@a.test") {
		t.Fatalf("%d messages, want the reset link", len(msgs))
	}
	_ = linkIn(t, msgs[0], "reset")
	if m.auditCount("password_reset.send", uid) != 1 {
		t.Error("the reset link is not audited")
	}
	m.browser().mustLogin("ana@a.test", pw, "/dashboard")
}

// Every destructive one-click action of the staff panel asks first, without JavaScript: the
// POST without confirm=1 answers a page saying what will happen and changes nothing; the
// confirmed POST does it. Before, each of them acted on the first click.
func TestDestructiveStaffActionsAskFirst(t *testing.T) {
	t.Parallel()
	h, a, _, _ := adminHarness(t)
	victim := h.user(a, "vitima@a.test", "client", pw)
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	ta, v := "/admin/tenants/"+itoa(a), "/admin/users/"+itoa(victim)
	state := func() string {
		var s string
		if err := h.super.QueryRow(context.Background(), `SELECT concat_ws('|',
			(SELECT status FROM app.tenants WHERE id = $1),
			(SELECT string_agg(inbox_id::text, ',' ORDER BY inbox_id) FROM app.tenant_inboxes WHERE tenant_id = $1),
			(SELECT concat_ws(',', email, is_active, password_hash, auth_version) FROM app.users WHERE id = $2))`, a, victim).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		path string
		form url.Values
		says string
	}{
		{v + "/reset-password", nil, "Gerar uma nova senha para vitima@a.test?"},
		{v, url.Values{"full_name": {"Vítima"}, "role": {"client"}}, "Desativar vitima@a.test?"},
		{v + "/release", nil, "Liberar o endereço vitima@a.test?"},
		{ta + "/inboxes/1/delete", nil, "Desvincular a caixa de entrada WhatsApp Recepção de"},
		{ta + "/status", url.Values{"status": {"suspended"}}, "Suspender"},
		{ta + "/status", url.Values{"status": {"cancelled"}}, "Cancelar o cliente"},
	} {
		before := state()
		res := c.post(tc.path, tc.form)
		expectStatus(t, res, http.StatusOK, tc.says)
		if !strings.Contains(res.body, `name="confirm" value="1"`) {
			t.Errorf("POST %s: the confirmation page has no confirming form", tc.path)
		}
		for k, vals := range tc.form {
			if !strings.Contains(res.body, `name="`+k+`" value="`+vals[0]+`"`) {
				t.Errorf("POST %s: the confirming form drops the field %s", tc.path, k)
			}
		}
		if after := state(); after != before {
			t.Errorf("unconfirmed POST %s changed data:\n%s\n%s", tc.path, before, after)
		}
	}
	// Confirmed, they act.
	before := state()
	expectRedirect(t, c.post(ta+"/inboxes/1/delete", url.Values{"confirm": {"1"}}), ta+"?saved=1")
	expectRedirect(t, c.post(v, url.Values{"full_name": {"Vítima"}, "role": {"client"}, "confirm": {"1"}}), "/admin/users?saved=1")
	if after := state(); after == before || !strings.Contains(after, "|2|") || !strings.Contains(after, ",f,") {
		t.Errorf("confirmed POSTs did not act: %s", after)
	}
	// Reactivating needs no confirmation.
	expectRedirect(t, c.post(v, url.Values{"full_name": {"Vítima"}, "role": {"client"}, "active": {"1"}}), "/admin/users?saved=1")
}
