package web

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
)

// secretJS is the password the welcome page shows, "" when it shows none.
const secretJS = `(document.querySelector('code.secret') || {textContent: ''}).textContent`

// TestBrowserOnboardingReloadAndBack: in Chromium, onboarding a client and then pressing F5 on
// the page after it, going back and forward again resubmits nothing and loses nothing. Without
// SMTP the first admin's password stays on screen until the operator leaves (the page does not
// refresh itself while it shows the password; before, its two-second refresh during the first
// sync took the password away), is gone after a reload, and one tenant and one user exist. With
// SMTP the page says where the invitation went and until when, on every visit, and one invitation
// e-mail is queued however often the page is reloaded.
func TestBrowserOnboardingReloadAndBack(t *testing.T) {
	h, _, _, _ := adminHarness(t)
	m := staffMailHarness(t)
	b := chrome(t)
	count := func(c *pgx.Conn, sql string) int {
		t.Helper()
		var n int
		if err := c.QueryRow(context.Background(), sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	wizard := func(base, email string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(base + "/admin/tenants/new"),
			chromedp.WaitVisible(`form.wizard`),
			chromedp.SendKeys(`input[name=name]`, "Academia Nova"),
			chromedp.Poll[chromedp.Void](`document.querySelector('#slug-status').textContent !== ''`),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=slug]').value = ''`),
			chromedp.SendKeys(`input[name=slug]`, "academia-nova"),
			chromedp.SendKeys(`input[name=admin_email]`, email),
			chromedp.Click(`input[name=inbox][value="9"]`),
		}
	}
	back := chromedp.Steps(historyMove(-1, `/welcome`, `/admin/tenants/new`), chromedp.WaitVisible(`form.wizard`))
	forward := chromedp.Steps(historyMove(1, `/admin/tenants/new`, `/welcome`), chromedp.WaitVisible(`section.card`))

	// Without SMTP: the password, once.
	base := h.ts.URL
	var shown, later, reloaded, forwarded, page string
	b.do("sign in without SMTP", signIn(base, "staff@geniai.test", pw, `.admin-tabs`))
	b.do("fill in the wizard", wizard(base, "dono@nova.test")...)
	b.do("create the client", loads(chromedp.Submit(`input[name=admin_email]`), `code.secret`),
		into(&shown, chromedp.Evaluate[string](secretJS)), b.shot("01-password"))
	b.do("stay on the page past a refresh period", chromedp.Sleep(3500*time.Millisecond),
		into(&later, chromedp.Evaluate[string](secretJS)))
	b.do("press F5", chromedp.Reload(), chromedp.WaitVisible(`section.card`),
		into(&reloaded, chromedp.Evaluate[string](secretJS)), into(&page, chromedp.Text(`main`)), b.shot("02-reloaded"))
	b.do("go back", back, b.shot("03-back"))
	b.do("go forward", forward, into(&forwarded, chromedp.Evaluate[string](secretJS)))
	if shown == "" || later != shown {
		t.Errorf("password %q on arrival, %q 3.5 s later: it must stay until the operator leaves", shown, later)
	}
	if reloaded != "" || forwarded != "" || !strings.Contains(page, "já foi mostrada") {
		t.Errorf("after F5 the password is %q (forward: %q), page: %.300s", reloaded, forwarded, page)
	}
	if n := count(h.super, `SELECT count(*) FROM app.tenants WHERE slug = 'academia-nova'`); n != 1 {
		t.Errorf("%d tenants after reload and back, want 1", n)
	}
	if n := count(h.super, `SELECT count(*) FROM app.users WHERE email = 'dono@nova.test'`); n != 1 {
		t.Errorf("%d admins after reload and back, want 1", n)
	}

	// With SMTP: the invitation, stated on every visit, sent once.
	base = m.ts.URL
	var notice, noticeReloaded, noticeForward string
	b.do("sign in with SMTP", signIn(base, "staff@geniai.test", pw, `.admin-tabs`))
	b.do("fill in the wizard", wizard(base, "dona@nova.test")...)
	b.do("create the client", loads(chromedp.Submit(`input[name=admin_email]`), `.invitation-sent`),
		into(&notice, chromedp.Text(`.invitation-sent`)), b.shot("04-invited"))
	b.do("press F5", chromedp.Reload(), chromedp.WaitVisible(`.invitation-sent`),
		into(&noticeReloaded, chromedp.Text(`.invitation-sent`)), b.shot("05-reloaded"))
	b.do("go back", back)
	b.do("go forward", forward, chromedp.WaitVisible(`.invitation-sent`), into(&noticeForward, chromedp.Text(`.invitation-sent`)))
	if !strings.Contains(notice, "Convite enviado para dona@nova.test — válido até") || noticeReloaded != notice || noticeForward != notice {
		t.Errorf("invitation notice %q, after F5 %q, after back and forward %q", notice, noticeReloaded, noticeForward)
	}
	if strings.Contains(notice+noticeReloaded, "senha") {
		t.Errorf("the invitation page talks of a password: %q", notice)
	}
	if n := count(m.super, `SELECT count(*) FROM app.tenants WHERE slug = 'academia-nova'`); n != 1 {
		t.Errorf("%d tenants after reload and back, want 1", n)
	}
	if n := count(m.super, `SELECT count(*) FROM app.mail_outbox WHERE kind = 'invitation' AND to_address = 'dona@nova.test'`); n != 1 {
		t.Errorf("%d invitation e-mails queued after reload and back, want 1", n)
	}
}

// historyMove presses back (-1) or forward (1) on a page whose path ends with from, and waits
// until the tab shows a loaded document whose path ends with to. History moves may restore a
// page from Chrome's back/forward cache, with no load event to wait for, and the old document's
// context vanishes mid-question: such errors mean "not yet". A page that refreshes itself (the
// welcome page during the first sync) can start its refresh just as the move begins and cancel
// it, as it would a person's click on Back: the move is then pressed again, never sooner than
// 4 s after the last press, and only while the tab is still at from.
func historyMove(delta int, from, to string) chromedp.Action[chromedp.Void] {
	at := func(suffix string) string {
		return `location.pathname.endsWith(` + strconv.Quote(suffix) + `) && document.readyState === 'complete'`
	}
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var pressed time.Time
		for {
			if ok, err := chromedp.Evaluate[bool](at(to))(ctx, t); err == nil && ok {
				return nil
			}
			if still, err := chromedp.Evaluate[bool](at(from))(ctx, t); err == nil && still && time.Since(pressed) > 4*time.Second {
				if _, err := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`history.go(%d)`, delta))(ctx, t); err == nil {
					pressed = time.Now()
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("not at %s: %w", to, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}
