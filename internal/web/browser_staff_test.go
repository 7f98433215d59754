package web

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserStaffPanel: in Chromium, the overview's 30-day count for a client is the number on
// that client's own dashboard ("ver como cliente", 30 dias); the audit log reads as sentences;
// the comparison, the tenant page and the audit log are shot at desktop (1440×900) and phone
// (390×844) sizes into TEST_ARTIFACTS.
func TestBrowserStaffPanel(t *testing.T) {
	h, a, _, _ := adminHarness(t)
	ta := strconv.FormatInt(a, 10)
	h.exec(`UPDATE app.users SET full_name = 'Ana Souza' WHERE email = 'staff@geniai.test'`)
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, extracted, inserted)
	        VALUES ($1, now() - interval '3 hours', now() - interval '3 hours' + interval '1500 ms', 'succeeded', 600, 600)`, a)
	h.exec(`INSERT INTO etl.runs (tenant_id, started_at, finished_at, status, unchanged, checks, last_check_at)
	        VALUES ($1, now() - interval '2 hours', now() - interval '2 hours' + interval '200 ms', 'succeeded', true, 57, now() - interval '5 minutes')`, a)
	c := h.browser()
	c.mustLogin("staff@geniai.test", pw, "/admin")
	c.post("/admin/tenants/"+ta+"/status", url.Values{"status": {"suspended"}, "confirm": {"1"}})
	c.post("/admin/tenants/"+ta+"/status", url.Values{"status": {"active"}})

	b := chrome(t)
	base := h.ts.URL
	var overview, dashboard, sentence string
	b.do("sign in", chromedp.EmulateViewport(1440, 900), signIn(base, "staff@geniai.test", pw, `.admin-tabs`),
		into(&overview, chromedp.Text(`tr:has(a[href="/admin/tenants/`+ta+`"]) td:nth-child(6)`)),
		b.shot("01-overview-1440"))
	b.do("view as the client", chromedp.Navigate(base+"/admin/tenants/"+ta+"/dashboard?period=30d"),
		chromedp.WaitVisible(`.kpis`),
		into(&dashboard, chromedp.Text(`.kpi:not(.queue-headline) .kpi-value`)))
	b.do("read the audit", chromedp.Navigate(base+"/admin/audit"),
		chromedp.WaitVisible(`table.audit`),
		into(&sentence, chromedp.Text(`table.audit tbody`)))
	for _, p := range []struct {
		path, name string
		filters    bool
	}{{"/admin/clients", "clients", true}, {"/admin/audit", "audit", true}, {"/admin/tenants/" + ta, "tenant", false}, {"/account", "account", false}} {
		var shown bool
		b.do(p.name+" at both sizes", chromedp.EmulateViewport(1440, 900), chromedp.Navigate(base+p.path), chromedp.WaitVisible(`main`), b.shot("02-"+p.name+"-1440"),
			chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+p.path), chromedp.WaitVisible(`main`), b.shot("03-"+p.name+"-390"),
			into(&shown, chromedp.Evaluate[bool](filtersShown)))
		if p.filters && !shown {
			t.Errorf("%s: on a phone the filters are hidden, with no way to open them", p.path)
		}
	}
	// On a phone the comparison's filters stay on the page (only the dashboard folds its own
	// behind a toggle), and nothing scrolls sideways.
	var display string
	var width int
	b.do("clients' filters on a phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/admin/clients?flagged=1"),
		chromedp.WaitVisible(`main`),
		into(&display, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("form.filters")).display`)),
		into(&width, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)))
	if display == "none" || width > 390 {
		t.Errorf("on a phone the comparison's filters are %q and the page %d px wide", display, width)
	}
	// On a phone each user is a card: the edit form's save button is on screen, not beyond a
	// sideways-scrolling table.
	var saveRight float64
	b.do("users on a phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/admin/users"),
		chromedp.WaitVisible(`table.users`), b.shot("04-users-390"),
		into(&saveRight, chromedp.Evaluate[float64](`document.querySelector("table.users td.edit button").getBoundingClientRect().right`)))
	if saveRight <= 0 || saveRight > 390 {
		t.Errorf("on a phone a user's save button ends at %.0f px, off a 390 px screen", saveRight)
	}
	// The client page's runs and users stack too: no cell ends off the screen.
	var cellRight float64
	b.do("a client's runs and users on a phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/admin/tenants/"+ta),
		chromedp.WaitVisible(`table.runs`),
		into(&cellRight, chromedp.Evaluate[float64](`Math.max(...[...document.querySelectorAll("table.runs td, table.tenant-users td")].map(td => td.getBoundingClientRect().right))`)))
	if cellRight > 390 {
		t.Errorf("on a phone a cell of the client's runs or users ends at %.0f px, off a 390 px screen", cellRight)
	}
	// The sync charts sit in a half-width card: drawn for that width, their labels stay legible.
	var label float64
	b.do("a client's sync charts at desktop size", chromedp.EmulateViewport(1440, 900), chromedp.Navigate(base+"/admin/tenants/"+ta),
		chromedp.WaitVisible(`table.runs`),
		into(&label, chromedp.Evaluate[float64](`Math.min(...[...document.querySelectorAll("svg text")].map(e => e.getBoundingClientRect().height))`)))
	if label < 10 {
		t.Errorf("the sync charts' labels are %.1f px high", label)
	}
	got := strings.Fields(overview)
	if len(got) == 0 || got[0] != strings.TrimSpace(dashboard) || got[0] == "0" {
		t.Errorf("overview %q, dashboard %q", overview, dashboard)
	}
	for _, want := range []string{"Ana Souza suspendeu academia-a", "Ana Souza reativou academia-a", "Ana Souza abriu o painel de academia-a como cliente"} {
		if !strings.Contains(sentence, want) {
			t.Errorf("audit lacks %q: %.500s", want, sentence)
		}
	}
}
