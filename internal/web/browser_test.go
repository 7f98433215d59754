package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pgtest"
	"github.com/geniai/analytics/internal/sheet/sheettest"
	"github.com/geniai/analytics/internal/staff"
)

// demoSource creates a Chatwoot demo database for the test and returns its URL.
func demoSource(t *testing.T, o chatwoot.Options) string {
	t.Helper()
	ctx := context.Background()
	name := "cw_" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "_")
	admin := pgtest.Conn(t, pgtest.URLFor(t, "", "", "postgres"))
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	url := pgtest.URLFor(t, "", "", name)
	conn := pgtest.Conn(t, url)
	if _, err := chatwoot.CreateDemo(ctx, conn, o); err != nil {
		t.Fatal(err)
	}
	return url
}

// liveServer is the whole product against a demo Chatwoot: real inbox listing and real syncs.
func liveServer(t *testing.T, src string) (*harness, *etl.Runner) {
	t.Helper()
	h := newHarness(t, nil)
	runner := &etl.Runner{DB: h.env.DB, SourceURL: src}
	srv, err := New(Options{
		DB: h.env.DB, Config: testConfig(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Inboxes: func(ctx context.Context) ([]staff.SourceInbox, error) { return chatwoot.Inboxes(ctx, src) },
		Sync: func(ctx context.Context, id int64, full bool) error {
			_, err := runner.RunTenant(ctx, id, full)
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.ts.Close()
	h.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() { h.ts.Close(); srv.Close() })
	return h, runner
}

// TestBrowserClientJourney: a client signs in, reads the KPIs, changes the period, clicks a chart
// bar and lands on the matching conversations, opens one and downloads the CSV and the .xlsx.
func TestBrowserClientJourney(t *testing.T) {
	src := demoSource(t, chatwoot.Options{Accounts: 2, InboxesPerAccount: 2, Conversations: 600, Days: 60, Seed: 7})
	h, runner := liveServer(t, src)
	inboxes, err := chatwoot.Inboxes(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	tid := h.tenant("academia-demo", "active", nil)
	for _, ib := range inboxes[:2] {
		h.exec(`INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, inbox_name, channel_type) VALUES ($1, $2, $3, $4)`, tid, ib.ID, ib.Name, ib.ChannelType)
	}
	if res, err := runner.RunTenant(context.Background(), tid, true); err != nil || res.Extracted == 0 {
		t.Fatalf("sync: %v %+v", err, res)
	}
	h.user(tid, "recepcao@demo.test", "client", pw)
	b := chrome(t)
	base := h.ts.URL
	var total, kpi, heading, drill string
	b.do("sign in", signIn(base, "recepcao@demo.test", pw, `.kpis`),
		into(&kpi, chromedp.Text(`.kpi:not(.queue-headline) .kpi-value`)),
		b.shot("01-dashboard"))
	b.do("period 90 days",
		loads(chromedp.Click(`a.preset[href*="period=90d"]`), `a.preset.active[href*="period=90d"]`), // a preset applies at once
		chromedp.WaitVisible(`.kpis`),
		b.shot("02-dashboard-90d"))
	// The tallest bar of the daily chart.
	b.do("chart bar to conversations",
		loads(chromedp.Click(`.chart-wide svg.chart a:last-of-type rect`), `.total`), // the wide drawing (the phone one is hidden)
		into(&total, chromedp.Text(`.total`)),
		into(&drill, chromedp.Location()),
		b.shot("03-drilldown"))
	b.do("open a conversation",
		loads(chromedp.Click(`table.conversations tbody tr:first-child td:first-child a`), `.transcript`),
		into(&heading, chromedp.Text(`h1`)),
		b.shot("04-conversation"))
	// Back to the list by its URL: Chrome may restore a page from its back/forward cache,
	// with no load event for NavigateBack to wait for (no cookie changes between pages).
	b.do("back to the list", chromedp.Navigate(drill), chromedp.WaitVisible(`.total`))
	csv := b.download("download the CSV", `a[href*="export.csv"]`)
	xlsx := b.download("download the .xlsx", `a[href*="export.xlsx"]`)
	if kpi == "" || kpi == "—" || total == "" || !strings.Contains(heading, "Conversa") {
		t.Fatalf("kpi %q, drill-down total %q, heading %q", kpi, total, heading)
	}
	rows := strings.ReplaceAll(total, ".", "")
	if !strings.HasSuffix(csv.Filename, ".csv") || !strings.HasSuffix(xlsx.Filename, ".xlsx") {
		t.Fatalf("downloads named %q and %q", csv.Filename, xlsx.Filename)
	}
	data, err := os.ReadFile(csv.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "conversa_id,") {
		t.Fatalf("CSV %s starts with %.80q", csv.Filename, data)
	}
	if n := strings.Count(string(data), "\n") - 1; fmt.Sprint(n) != rows {
		t.Errorf("CSV has %d rows, the list says %s", n, total)
	}
	data, err = os.ReadFile(xlsx.Path)
	if err != nil {
		t.Fatal(err)
	}
	book := sheettest.Open(t, data)
	if fmt.Sprint(len(book.Rows)) != rows || !strings.Contains(book.About["Cliente"], "academia-demo") {
		t.Errorf(".xlsx has %d rows (the list says %s), header block %v", len(book.Rows), total, book.About)
	}
}

// TestBrowserOnboarding: a super_admin onboards a client through the wizard, follows the first
// sync and opens its dashboard, whose conversation count matches the Chatwoot source.
func TestBrowserOnboarding(t *testing.T) {
	src := demoSource(t, chatwoot.Options{Accounts: 3, InboxesPerAccount: 2, Conversations: 900, Days: 30, Seed: 11})
	h, _ := liveServer(t, src)
	h.user(h.platform(), "staff@geniai.test", "super_admin", pw)
	inboxes, err := chatwoot.Inboxes(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	// The third gym's inboxes are the new client's.
	var chosen []staff.SourceInbox
	for _, ib := range inboxes {
		if ib.AccountID == inboxes[len(inboxes)-1].AccountID {
			chosen = append(chosen, ib)
		}
	}
	b := chrome(t)
	base := h.ts.URL
	start := time.Now()
	b.do("sign in", signIn(base, "staff@geniai.test", pw, `.admin-tabs`))
	wizard := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/admin/tenants/new"),
		chromedp.WaitVisible(`form.wizard`),
		chromedp.SendKeys(`input[name=name]`, chosen[0].AccountName),
		// the slug is suggested from the name; the operator types their own instead
		chromedp.Poll[chromedp.Void](`document.querySelector('#slug-status').textContent !== ''`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=slug]').value = ''`),
		chromedp.SendKeys(`input[name=slug]`, "nova-academia"),
		chromedp.SendKeys(`input[name=admin_email]`, "dono@nova.test"),
		chromedp.SendKeys(`input[name=admin_name]`, "Dono da Academia"),
	}
	for _, ib := range chosen {
		wizard = append(wizard, chromedp.Click(fmt.Sprintf(`input[name=inbox][value="%d"]`, ib.ID)))
	}
	b.do("fill in the wizard", append(wizard, b.shot("01-wizard"))...)
	var synced, count, welcome string
	b.do("create the client", loads(chromedp.Submit(`input[name=admin_email]`), `code.secret`),
		into(&welcome, chromedp.Location()), b.shot("02-created"))
	// The password noted, the page (without it) refreshes itself until the first sync ends and
	// the link to the dashboard appears.
	b.do("wait for the first sync", chromedp.Navigate(welcome), chromedp.WaitVisible(`a.button[href$="/dashboard"]`),
		into(&synced, chromedp.Text(`.notice`)),
		b.shot("03-synced"))
	b.do("open the dashboard", loads(chromedp.Click(`a.button[href$="/dashboard"]`), `.kpis`),
		into(&count, chromedp.Text(`.kpi:not(.queue-headline) .kpi-value`)),
		b.shot("04-dashboard"))
	t.Logf("onboarding to dashboard in %s", time.Since(start).Round(time.Millisecond))
	// The count equals the source's conversations of those inboxes in the default 30-day period.
	var want int
	srcConn := pgtest.Conn(t, src)
	ids := make([]int32, len(chosen))
	for i, ib := range chosen {
		ids[i] = ib.ID
	}
	err = srcConn.QueryRow(context.Background(), `SELECT count(*) FROM conversations WHERE inbox_id = ANY($1)
		AND (created_at AT TIME ZONE 'UTC' AT TIME ZONE 'America/Sao_Paulo')::date > (now() AT TIME ZONE 'America/Sao_Paulo')::date - 30`, ids).Scan(&want)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ReplaceAll(count, ".", "") != fmt.Sprint(want) {
		t.Fatalf("dashboard shows %q conversations, the source has %d (%s)", count, want, synced)
	}
}
