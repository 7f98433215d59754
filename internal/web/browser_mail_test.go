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
	ctx, dir := chrome(t)
	base := m.ts.URL
	var notice string
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		signIn(base, "admin@a.test", pw),
		chromedp.WaitVisible(`.kpis, .empty`),
		chromedp.Navigate(base+"/settings"),
		chromedp.WaitVisible(`form[action="/settings/users"]`),
		chromedp.SendKeys(`form[action="/settings/users"] input[name=email]`, "nova@mail.test"),
		chromedp.SendKeys(`form[action="/settings/users"] input[name=full_name]`, "Nova Recepcionista"),
		chromedp.Submit(`form[action="/settings/users"] input[name=email]`),
		chromedp.WaitVisible(`.notice`),
		into(&notice, chromedp.Text(`.notice`)),
		chromedp.ScrollIntoView(`table.invitations`),
		shot(dir, "01-invitation-sent"),
		chromedp.Click(`form[action="/logout"] button`),
		chromedp.WaitVisible(`a[href="/forgot"]`), // the sign-in page (settings has an e-mail field too)
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notice, "Convite enviado para nova@mail.test") {
		t.Fatalf("notice %q", notice)
	}
	msgs := m.deliver()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	saveMail(t, dir, "invitation", msgs[0].HTML)
	invite := linkIn(t, msgs[0], "invite")
	var welcome, after string
	err = chromedp.Do(ctx,
		chromedp.Navigate(invite),
		chromedp.WaitVisible(`input[name=new]`),
		into(&welcome, chromedp.Text(`main`)),
		shot(dir, "02-set-password-desktop"),
		chromedp.EmulateViewport(390, 844),
		shot(dir, "03-set-password-phone"),
		chromedp.SendKeys(`input[name=new]`, "minha senha nova 1"),
		chromedp.SendKeys(`input[name=confirm]`, "minha senha nova 1"),
		chromedp.Submit(`input[name=confirm]`),
		chromedp.WaitVisible(`.flash`),
		shot(dir, "04-account-created-phone"),
		chromedp.SendKeys(`input[name=password]`, "minha senha nova 1"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`.kpis, .empty`),
		into(&after, chromedp.Location()),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(welcome, "Academia Aurora") || !strings.HasSuffix(after, "/dashboard") {
		t.Fatalf("set-password page %q; after sign-in at %s", welcome, after)
	}
	// Esqueci minha senha.
	var sent string
	err = chromedp.Do(ctx,
		chromedp.Click(`form[action="/logout"] button`),
		chromedp.WaitVisible(`a[href="/forgot"]`),
		chromedp.EmulateViewport(1440, 900),
		chromedp.Click(`a[href="/forgot"]`),
		chromedp.WaitVisible(`input[name=email]`),
		shot(dir, "05-forgot-desktop"),
		chromedp.SendKeys(`input[name=email]`, "nova@mail.test"),
		chromedp.Submit(`input[name=email]`),
		chromedp.WaitVisible(`.notice`),
		into(&sent, chromedp.Text(`.notice`)),
		shot(dir, "06-forgot-sent"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sent, "Se houver uma conta") {
		t.Fatalf("forgot answer %q", sent)
	}
	msgs = m.deliver()
	if len(msgs) != 1 {
		t.Fatalf("%d reset messages", len(msgs))
	}
	saveMail(t, dir, "reset", msgs[0].HTML)
	reset := linkIn(t, msgs[0], "reset")
	var refused string
	err = chromedp.Do(ctx,
		chromedp.Navigate(reset),
		chromedp.WaitVisible(`input[name=new]`),
		chromedp.EmulateViewport(390, 844),
		shot(dir, "07-reset-phone"),
		chromedp.SendKeys(`input[name=new]`, "outra senha boa 22"),
		chromedp.SendKeys(`input[name=confirm]`, "outra senha boa 22"),
		chromedp.Submit(`input[name=confirm]`),
		chromedp.WaitVisible(`.flash`),
		chromedp.SendKeys(`input[name=password]`, "outra senha boa 22"),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(`.kpis, .empty`),
		// The used link is refused.
		chromedp.Navigate(reset),
		chromedp.WaitVisible(`.alert`),
		into(&refused, chromedp.Text(`.alert`)),
		shot(dir, "08-reset-used"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(refused, "não vale mais") {
		t.Fatalf("used link page %q", refused)
	}
	// "Resumos por e-mail": the signed-in user subscribes to the weekly digest.
	var listed string
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(base+"/account/digests"),
		chromedp.WaitVisible(`form[action="/account/digests"]`),
		shot(dir, "09-digests-desktop"),
		chromedp.Submit(`form[action="/account/digests"] select[name=hour]`),
		chromedp.WaitVisible(`.notice`),
		into(&listed, chromedp.Text(`table`)),
		chromedp.EmulateViewport(390, 844),
		shot(dir, "10-digests-phone"),
	)
	if err != nil {
		t.Fatal(err)
	}
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
