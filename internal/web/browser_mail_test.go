package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserInvitationAndReset: a tenant admin invites a user in /settings; the invitation
// arrives over SMTP; in the browser the link's page sets the password and the new user signs in.
// Then "Esqueci minha senha" from the login page: the reset e-mail's link sets a new password,
// the old one stops working, and the used link is refused. Screenshots at desktop and phone size.
func TestBrowserInvitationAndReset(t *testing.T) {
	m := newMailHarness(t, nil)
	tid := m.tenant("academia-a", "active", nil)
	m.exec(`UPDATE app.tenant_settings SET display_name = 'Academia Aurora', primary_color = '#1D4ED8' WHERE tenant_id = $1`, tid)
	m.user(tid, "admin@a.test", "admin", pw)
	b := chrome(t)
	base := m.ts.URL
	var notice string
	b.do("sign in", chromedp.EmulateViewport(1440, 900), signIn(base, "admin@a.test", pw, `.kpis, .empty`))
	b.do("invite a user", chromedp.Navigate(base+"/settings"),
		chromedp.WaitVisible(`form[action="/settings/users"]`),
		chromedp.SendKeys(`form[action="/settings/users"] input[name=email]`, "nova@mail.test"),
		chromedp.SendKeys(`form[action="/settings/users"] input[name=full_name]`, "Nova Recepcionista"),
		loads(chromedp.Submit(`form[action="/settings/users"] input[name=email]`), `.notice`),
		into(&notice, chromedp.Text(`.notice`)),
		chromedp.ScrollIntoView(`table.invitations`),
		b.shot("01-invitation-sent"))
	b.do("sign out", loads(chromedp.Click(`form[action="/logout"] button`), `a[href="/forgot"]`))
	if !strings.Contains(notice, "Convite enviado para nova@mail.test") {
		t.Fatalf("notice %q", notice)
	}
	msgs := m.deliver()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	saveMail(t, b.dir, "invitation", msgs[0].HTML)
	invite := linkIn(t, msgs[0], "invite")
	var welcome, after string
	b.do("open the invitation", chromedp.Navigate(invite),
		chromedp.WaitVisible(`input[name=new]`),
		into(&welcome, chromedp.Text(`main`)),
		b.shot("02-set-password-desktop"),
		chromedp.EmulateViewport(390, 844),
		b.shot("03-set-password-phone"))
	b.do("set the password", chromedp.SendKeys(`input[name=new]`, "minha senha nova 1"),
		chromedp.SendKeys(`input[name=confirm]`, "minha senha nova 1"),
		loads(chromedp.Submit(`input[name=confirm]`), `.flash`),
		b.shot("04-account-created-phone"))
	b.do("sign in with it", chromedp.SendKeys(`input[name=password]`, "minha senha nova 1"),
		loads(chromedp.Submit(`input[name=password]`), `.kpis, .empty`),
		into(&after, chromedp.Location()))
	if !strings.Contains(welcome, "Academia Aurora") || !strings.HasSuffix(after, "/dashboard") {
		t.Fatalf("set-password page %q; after sign-in at %s", welcome, after)
	}
	// Esqueci minha senha.
	var sent string
	b.do("sign out again", loads(chromedp.Click(`form[action="/logout"] button`), `a[href="/forgot"]`))
	b.do("forgot my password", chromedp.EmulateViewport(1440, 900),
		loads(chromedp.Click(`a[href="/forgot"]`), `input[name=email]`),
		b.shot("05-forgot-desktop"),
		chromedp.SendKeys(`input[name=email]`, "nova@mail.test"),
		loads(chromedp.Submit(`input[name=email]`), `.notice`),
		into(&sent, chromedp.Text(`.notice`)),
		b.shot("06-forgot-sent"))
	if !strings.Contains(sent, "Se houver uma conta") {
		t.Fatalf("forgot answer %q", sent)
	}
	msgs = m.deliver()
	if len(msgs) != 1 {
		t.Fatalf("%d reset messages", len(msgs))
	}
	saveMail(t, b.dir, "reset", msgs[0].HTML)
	reset := linkIn(t, msgs[0], "reset")
	var refused string
	b.do("open the reset link", chromedp.Navigate(reset),
		chromedp.WaitVisible(`input[name=new]`),
		chromedp.EmulateViewport(390, 844),
		b.shot("07-reset-phone"))
	b.do("reset the password", chromedp.SendKeys(`input[name=new]`, "outra senha boa 22"),
		chromedp.SendKeys(`input[name=confirm]`, "outra senha boa 22"),
		loads(chromedp.Submit(`input[name=confirm]`), `.flash`))
	b.do("sign in with the new password", chromedp.SendKeys(`input[name=password]`, "outra senha boa 22"),
		loads(chromedp.Submit(`input[name=password]`), `.kpis, .empty`))
	// The used link is refused.
	b.do("reuse the reset link", chromedp.Navigate(reset),
		chromedp.WaitVisible(`.alert`),
		into(&refused, chromedp.Text(`.alert`)),
		b.shot("08-reset-used"))
	if !strings.Contains(refused, "não vale mais") {
		t.Fatalf("used link page %q", refused)
	}
	// "Resumos por e-mail": the signed-in user subscribes to the weekly digest.
	var listed string
	b.do("open the digests", chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(base+"/account/digests"),
		chromedp.WaitVisible(`form[action="/account/digests"]`),
		b.shot("09-digests-desktop"))
	b.do("subscribe to the weekly digest", loads(chromedp.Submit(`form[action="/account/digests"] select[name=hour]`), `.notice`),
		into(&listed, chromedp.Text(`table`)),
		chromedp.EmulateViewport(390, 844),
		b.shot("10-digests-phone"))
	if !strings.Contains(listed, "Semanal") || !strings.Contains(listed, "segunda 8:00") {
		t.Fatalf("subscriptions table %q", listed)
	}
	// The old password no longer signs in.
	if res := m.browser().login("nova@mail.test", "minha senha nova 1"); res.StatusCode == 303 {
		t.Fatal("the old password still signs in after the reset")
	}
}

// saveMail keeps a received message's HTML beside the screenshots.
func saveMail(t *testing.T, dir, name, html string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "mail-"+name+".html"), []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
}
