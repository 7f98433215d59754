package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/geniai/analytics/internal/alert"
)

// filtersShown is true when the page's filter form is on screen (not folded away): on a phone
// only the dashboard folds its filters, behind a toggle; every other filter form has no toggle.
const filtersShown = `(() => { const f = document.querySelector('form.filters');
	return !!f && getComputedStyle(f).display !== 'none' && f.getBoundingClientRect().height > 0; })()`

// overflow is how many CSS pixels the page is wider than the window (0: nothing scrolls sideways)
// and the outermost elements that stick out.
func overflow(dst *int, culprits *string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		into(dst, chromedp.Evaluate[int](`Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`)),
		into(culprits, chromedp.Evaluate[string](`[...document.querySelectorAll('body *')].filter(e =>
			e.getBoundingClientRect().right > window.innerWidth + 1 &&
			!(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
			.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).trim().replace(/ +/g, '.') : '')).join(', ')`)),
	)
}

// TestBrowserQueueAndAlerts: in Chromium, at desktop (1440×900) and phone (390×844) sizes, a
// tenant admin opens "Aguardando atendimento", filters it to the conversations past the SLA,
// saves the alert settings and reads the delivery log after a sync fired alerts; neither page
// scrolls sideways. Screenshots go to TEST_ARTIFACTS.
func TestBrowserQueueAndAlerts(t *testing.T) {
	h, a, _, _ := queueHarness(t)
	h.user(a, "dona@a.test", "admin", pw)
	b := chrome(t)
	base := h.ts.URL
	var wide [5]int
	var culprits [5]string
	var rows, pastChip, cards, saved string
	b.do("sign in", chromedp.EmulateViewport(1440, 900), signIn(base, "dona@a.test", pw, `.kpis`))
	b.do("open the queue", loads(chromedp.Click(`a.queue-headline`), `table.queue`),
		into(&rows, chromedp.Text(`table.queue tbody`)),
		overflow(&wide[0], &culprits[0]),
		b.shot("01-queue-1440"))
	b.do("filter past the SLA", loads(chromedp.Click(`.queue-states a.state-past_sla`), `.queue-states a.state-past_sla.active`),
		into(&pastChip, chromedp.Text(`.queue-states a.state-past_sla`)),
		overflow(&wide[1], &culprits[1]),
		b.shot("02-queue-past-sla-1440"))
	var phoneFilters bool
	b.do("the queue on a phone", chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/queue"),
		chromedp.WaitVisible(`table.queue`),
		into(&cards, chromedp.Text(`table.queue tbody tr:first-child`)),
		into(&phoneFilters, chromedp.Evaluate[bool](filtersShown)),
		overflow(&wide[2], &culprits[2]),
		b.shot("03-queue-390"))
	b.do("save the alert settings", chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(base+"/settings/alerts"),
		chromedp.WaitVisible(`form[action="/settings/alerts"]`),
		chromedp.Click(`input[name=sla_enabled]`),
		chromedp.Click(`input[name=window_enabled]`),
		chromedp.SendKeys(`textarea[name=emails]`, "gerente@a.test"),
		chromedp.SendKeys(`input[name=webhook_url]`, "https://93.184.216.34/geniai"),
		loads(chromedp.Submit(`textarea[name=emails]`), `.notice`),
		into(&saved, chromedp.Text(`.notice`)))
	if !phoneFilters {
		t.Error("on a phone the queue's filters are hidden, with no way to open them")
	}
	if !strings.Contains(rows, "passou do SLA") || !strings.Contains(pastChip, "Passou do SLA") || cards == "" || saved == "" {
		t.Fatalf("queue rows %.200q, past-SLA chip %q, first card %.200q, saved notice %q", rows, pastChip, cards, saved)
	}

	// A sync fires the due alerts (one e-mail and one webhook each); the log lists them.
	n, err := (&alert.Evaluator{DB: h.env.DB, MailFrom: "alertas@geniai.test"}).Tenant(context.Background(), a)
	if err != nil || n == 0 {
		t.Fatalf("alerts fired: %d, %v", n, err)
	}
	var log string
	b.do("read the delivery log", chromedp.Navigate(base+"/settings/alerts"),
		chromedp.WaitVisible(`table.alert-log`),
		into(&log, chromedp.Text(`table.alert-log tbody`)),
		overflow(&wide[3], &culprits[3]),
		b.shot("04-alerts-1440"))
	b.do("the delivery log on a phone", chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/settings/alerts"),
		chromedp.WaitVisible(`table.alert-log`),
		overflow(&wide[4], &culprits[4]),
		b.shot("05-alerts-390"))
	if !strings.Contains(log, "gerente@a.test") || !strings.Contains(log, "93.184.216.34") {
		t.Errorf("delivery log: %.300q", log)
	}
	for i, w := range wide {
		if w > 0 {
			t.Errorf("page %d of %s scrolls sideways by %d px: %s", i+1, b.dir, w, culprits[i])
		}
	}
	t.Logf("screenshots in %s", b.dir)
}
