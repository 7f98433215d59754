package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/geniai/analytics/internal/config"
)

// TestBrowserAccountAndLockWatch: in Chromium, at desktop (1440×900) and phone (390×844) sizes,
// a tenant admin opens "Minha conta", sees this session and the one on another device, and ends
// the other; a super_admin sees the locked account in /admin. Screenshots go to TEST_ARTIFACTS.
func TestBrowserAccountAndLockWatch(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.TrustProxy = true })
	tid := h.tenant("acme", "active", nil)
	h.user(tid, "dona@acme.com.br", "admin", pw)
	h.user(h.platform(), "root@geniai.com.br", "super_admin", pw)
	phone := h.browser()
	phone.ua, phone.xff = uaIPhone, "198.51.100.20"
	phone.mustLogin("dona@acme.com.br", pw, "/dashboard")
	attacker := h.browser()
	attacker.xff = "203.0.113.7"
	for i := 0; i < 5; i++ {
		attacker.login("dona@acme.com.br", "guess")
	}

	b := chrome(t)
	base := h.ts.URL
	var rows, notice string
	b.do("sign in", chromedp.EmulateViewport(1440, 900), signIn(base, "dona@acme.com.br", pw, `.kpis, .empty, main`))
	b.do("open my account", chromedp.Navigate(base+"/account"),
		chromedp.WaitVisible(`table.sessions`),
		into(&rows, chromedp.Text(`table.sessions tbody`)),
		b.shot("01-account-1440"),
		chromedp.EmulateViewport(390, 844),
		b.shot("02-account-390"))
	b.do("end the other sessions", loads(chromedp.Click(`form[action="/account/sessions/end-others"] button`), `.notice`),
		into(&notice, chromedp.Text(`.notice`)),
		b.shot("03-account-ended-390"))
	if !strings.Contains(rows, "esta sessão") || !strings.Contains(rows, "Safari · iPhone") || !strings.Contains(notice, "encerrada") {
		t.Fatalf("sessions %q, notice %q", rows, notice)
	}
	expectRedirect(t, phone.get("/dashboard"), "/login")

	var watch string
	b.do("forget the session", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
	b.do("sign in as staff", chromedp.EmulateViewport(1440, 900), signIn(base, "root@geniai.com.br", pw, `section.watch`),
		into(&watch, chromedp.Text(`section.watch`)),
		b.shot("04-admin-watch-1440"),
		chromedp.EmulateViewport(390, 844),
		b.shot("05-admin-watch-390"))
	if !strings.Contains(watch, "dona@acme.com.br") {
		t.Fatalf("watch list: %q", watch)
	}
}
