package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/geniai/analytics/internal/admin"
	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pgtest"
	"github.com/geniai/analytics/internal/sheet/sheettest"
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
		Inboxes: func(ctx context.Context) ([]admin.SourceInbox, error) { return chatwoot.Inboxes(ctx, src) },
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

// chrome starts Debian's headless Chromium (make test installs it).
func chrome(t *testing.T) (context.Context, string) {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: `make test` installs Debian's chromium package")
	}
	dir := filepath.Join(artifactsDir(t), t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, dir
}

// artifactsDir is where screenshots go: $TEST_ARTIFACTS or test-artifacts/ at the repository root.
func artifactsDir(t *testing.T) string {
	if d := os.Getenv("TEST_ARTIFACTS"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "test-artifacts")
}

func shot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// into runs an action that returns a value and stores it.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		v, err := a(ctx, t)
		*dst = v
		return err
	})
}

func signIn(base, email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, email),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Submit(`input[name=password]`),
	)
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
	ctx, dir := chrome(t)
	base := h.ts.URL
	var total, kpi, heading, drill string
	err = chromedp.Do(ctx,
		signIn(base, "recepcao@demo.test", pw),
		chromedp.WaitVisible(`.kpis`),
		into(&kpi, chromedp.Text(`.kpi:not(.queue-headline) .kpi-value`)),
		shot(dir, "01-dashboard"),
		chromedp.Click(`a.preset[href*="period=90d"]`), // a preset applies at once
		chromedp.WaitVisible(`a.preset.active[href*="period=90d"]`),
		chromedp.WaitVisible(`.kpis`),
		shot(dir, "02-dashboard-90d"),
		// The tallest bar of the daily chart.
		chromedp.Click(`.chart-wide svg.chart a:last-of-type rect`), // the wide drawing (the phone one is hidden)
		chromedp.WaitVisible(`.total`),
		into(&total, chromedp.Text(`.total`)),
		into(&drill, chromedp.Location()),
		shot(dir, "03-drilldown"),
		chromedp.Click(`table.conversations tbody tr:first-child td:first-child a`),
		chromedp.WaitVisible(`.transcript`),
		into(&heading, chromedp.Text(`h1`)),
		shot(dir, "04-conversation"),
		// Back to the list by its URL: Chrome may restore a page from its back/forward cache,
		// with no load event for NavigateBack to wait for (no cookie changes between pages).
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Navigate(drill)(ctx, t)
			return err
		}),
		chromedp.WaitVisible(`.total`),
		chromedp.Click(`a[href*="export.csv"]`),
		chromedp.Sleep(2*time.Second), // the download finishes in the background
		chromedp.Click(`a[href*="export.xlsx"]`),
		chromedp.Sleep(2*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	if kpi == "" || kpi == "—" || total == "" || !strings.Contains(heading, "Conversa") {
		t.Fatalf("kpi %q, drill-down total %q, heading %q", kpi, total, heading)
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "*"))
	found, foundXLSX := false, false
	for _, f := range csvs {
		b, _ := os.ReadFile(f)
		if strings.HasSuffix(f, ".xlsx") {
			foundXLSX = true
			book := sheettest.Open(t, b)
			if fmt.Sprint(len(book.Rows)) != strings.ReplaceAll(total, ".", "") || !strings.Contains(book.About["Cliente"], "academia-demo") {
				t.Errorf(".xlsx has %d rows (the list says %s), header block %v", len(book.Rows), total, book.About)
			}
		}
		if strings.HasPrefix(string(b), "conversa_id,") {
			found = true
			if n := strings.Count(string(b), "\n") - 1; fmt.Sprint(n) != strings.ReplaceAll(total, ".", "") {
				t.Errorf("CSV has %d rows, the list says %s", n, total)
			}
		}
	}
	if !found || !foundXLSX {
		t.Fatalf("no CSV (%v) or .xlsx (%v) downloaded into %s", found, foundXLSX, dir)
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
	var chosen []admin.SourceInbox
	for _, ib := range inboxes {
		if ib.AccountID == inboxes[len(inboxes)-1].AccountID {
			chosen = append(chosen, ib)
		}
	}
	ctx, dir := chrome(t)
	base := h.ts.URL
	steps := []chromedp.Action[chromedp.Void]{
		signIn(base, "staff@geniai.test", pw),
		chromedp.WaitVisible(`.admin-tabs`),
		chromedp.Navigate(base + "/admin/tenants/new"),
		chromedp.WaitVisible(`form.wizard`),
		chromedp.SendKeys(`input[name=name]`, chosen[0].AccountName),
		chromedp.SendKeys(`input[name=slug]`, "nova-academia"),
		chromedp.SendKeys(`input[name=admin_email]`, "dono@nova.test"),
		chromedp.SendKeys(`input[name=admin_name]`, "Dono da Academia"),
	}
	for _, ib := range chosen {
		steps = append(steps, chromedp.Click(fmt.Sprintf(`input[name=inbox][value="%d"]`, ib.ID)))
	}
	var synced, count string
	steps = append(steps,
		shot(dir, "01-wizard"),
		chromedp.Submit(`input[name=admin_email]`),
		chromedp.WaitVisible(`code.secret`),
		shot(dir, "02-created"),
		chromedp.WaitVisible(`a.button[href$="/dashboard"]`), // the page refreshes until the first sync ends
		into(&synced, chromedp.Text(`.notice`)),
		shot(dir, "03-synced"),
		chromedp.Click(`a.button[href$="/dashboard"]`),
		chromedp.WaitVisible(`.kpis`),
		into(&count, chromedp.Text(`.kpi:not(.queue-headline) .kpi-value`)),
		shot(dir, "04-dashboard"),
	)
	start := time.Now()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
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
