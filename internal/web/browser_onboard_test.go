package web

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserWizardSlugAndInboxes: in Chromium, the wizard's identifier follows the name as it is
// typed (accents stripped) and says at once when it is taken; the inbox search hides what does
// not match, accounts with nothing left included; the mapping page's list filters the same way.
// Shot at desktop (1440×900) and phone (390×844) sizes into TEST_ARTIFACTS.
func TestBrowserWizardSlugAndInboxes(t *testing.T) {
	h, a, _, _ := adminHarness(t)
	b := chrome(t)
	base := h.ts.URL
	void := func(js string) chromedp.Action[chromedp.Void] { return chromedp.Poll[chromedp.Void](js) }
	clear := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`document.querySelector('` + sel + `').value = ''`)
	}
	hidden := func(id int) string {
		return `document.querySelector('input[name=inbox][value="` + strconv.Itoa(id) + `"]').closest('label').hidden`
	}
	b.do("sign in", chromedp.EmulateViewport(1440, 900), signIn(base, "staff@geniai.test", pw, `.admin-tabs`))
	b.do("the slug follows the name", chromedp.Navigate(base+"/admin/tenants/new"), chromedp.WaitVisible(`form.wizard`),
		chromedp.SendKeys(`input[name=name]`, "Academia Ação Total"),
		void(`document.querySelector('input[name=slug]').value === 'academia-acao-total' && document.querySelector('#slug-status.ok') !== null`))
	b.do("a taken slug is said at once", clear(`input[name=slug]`), chromedp.SendKeys(`input[name=slug]`, "academia-a"),
		void(`/Já existe um cliente/.test(document.querySelector('#slug-status.danger')?.textContent || '')`),
		// the name no longer overwrites a slug the operator typed
		chromedp.SendKeys(`input[name=name]`, " 2"),
		chromedp.Sleep(600),
		void(`document.querySelector('input[name=slug]').value === 'academia-a'`))
	b.do("the inbox search filters as you type", chromedp.SendKeys(`#inbox-q`, "instagram"),
		void(hidden(9)+` && !`+hidden(10)+` && `+hidden(1)),
		void(`[...document.querySelectorAll('fieldset.inbox-group')].filter(g => !g.hidden).length === 1`),
		void(`document.querySelector('[data-filter-button]') === null`),
		b.shot("01-wizard-filtered-1440"))
	b.do("accents and case ignored; nothing found is said", clear(`#inbox-q`), chromedp.SendKeys(`#inbox-q`, "RECEPCAO"),
		void(`!`+hidden(1)+` && `+hidden(9)),
		clear(`#inbox-q`), chromedp.SendKeys(`#inbox-q`, "nada disso"),
		void(`!document.querySelector('[data-filter-empty]').hidden`))
	b.do("the wizard at phone size", clear(`#inbox-q`), chromedp.SendKeys(`#inbox-q`, "nova"),
		void(`!`+hidden(9)), b.shot("02-wizard-filtered-1440-nova"),
		chromedp.EmulateViewport(390, 844), b.shot("03-wizard-390"))
	ta := strconv.FormatInt(a, 10)
	b.do("the mapping page filters its list", chromedp.EmulateViewport(1440, 900), chromedp.Navigate(base+"/admin/tenants/"+ta), chromedp.WaitVisible(`#inbox-q`),
		void(`document.querySelector('select[name=inbox_id] option[value="3"]').disabled`),
		chromedp.SendKeys(`#inbox-q`, "instagram"),
		void(`document.querySelector('select[name=inbox_id]').value === '10' && document.querySelector('select[name=inbox_id] option[value="9"]').hidden`),
		b.shot("04-tenant-inboxes-1440"),
		chromedp.EmulateViewport(390, 844), b.shot("05-tenant-inboxes-390"))
}

// TestBrowserSessionEnded: in Chromium, a client user whose client GeniAI suspends mid-session
// reads why on the next click, not a bare login page. Shot at 1440×900 and 390×844.
func TestBrowserSessionEnded(t *testing.T) {
	h, a, _ := dashHarness(t)
	b := chrome(t)
	base := h.ts.URL
	var msg string
	b.do("sign in", chromedp.EmulateViewport(1440, 900), signIn(base, "cliente@a.test", pw, `.kpis`))
	h.exec(`UPDATE app.tenants SET status = 'suspended' WHERE id = $1`, a)
	b.do("the next click says why", loads(chromedp.Navigate(base+"/conversations"), `p.alert`),
		into(&msg, chromedp.Text(`p.alert`)), b.shot("01-ended-1440"),
		chromedp.EmulateViewport(390, 844), b.shot("02-ended-390"))
	if want := "O acesso de academia-a ao GeniAI Analytics foi suspenso pela GeniAI"; !strings.Contains(msg, want) {
		t.Errorf("message %q, want %q", msg, want)
	}
	b.do("then the login page", chromedp.EmulateViewport(1440, 900), loads(chromedp.Click(`main a.button[href="/login"]`), `input[name=password]`))
}
