package digest_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/digest"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/mailcatcher"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

const publicURL = "https://analytics.geniai.test"

type fixture struct {
	env     *pgtest.Env
	a, b    int64
	user    int64
	catcher *mailcatcher.Catcher
	worker  *mail.Worker
	cfg     mail.Config
	dash    *dashboard.Service
}

// Monday 30 November 2026, 09:00 in São Paulo: the weekly digest of Monday 08:00 is due for
// 23–29 November, the last week of the seeded data.
var monday = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *fixture {
	t.Helper()
	env := pgtest.New(t)
	f := &fixture{env: env}
	f.a, f.b = pgtest.SeedAnalytics(t, env)
	ctx := context.Background()
	su := pgtest.Conn(t, env.SuperURL)
	if err := su.QueryRow(ctx, `INSERT INTO app.users (tenant_id, email, password_hash, full_name, role)
		VALUES ($1, 'gerente@a.test', '$2a$10$abcdefghijklmnopqrstuv', 'Gerente A', 'client') RETURNING id`, f.a).Scan(&f.user); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, `UPDATE app.tenant_settings SET display_name = 'Academia A', primary_color = '#1D4ED8', secondary_color = '#F59E0B' WHERE tenant_id = $1`, f.a); err != nil {
		t.Fatal(err)
	}
	var err error
	f.catcher, err = mailcatcher.Start(mailcatcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.catcher.Close() })
	f.cfg = mail.Config{SMTPURL: "smtp://" + f.catcher.Addr() + "?tls=none", From: "GeniAI <noreply@geniai.test>", PublicURL: publicURL}
	sender, err := mail.NewSMTP(f.cfg.SMTPURL)
	if err != nil {
		t.Fatal(err)
	}
	f.worker = &mail.Worker{DB: env.DB, Sender: sender, From: f.cfg.From}
	f.dash = &dashboard.Service{DB: env.DB}
	return f
}

func (f *fixture) subscriber() pg.Principal {
	return pg.User(f.a, f.user, pg.AppClient, "", "test")
}

// subscribe makes a subscription as the user, dated a month before the test's clock.
func (f *fixture) subscribe(t *testing.T, frequency string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := f.env.DB.InTx(ctx, f.subscriber(), func(tx pg.Tx) error {
		var err error
		id, err = tx.DigestSubscribe(ctx, dbsqlc.DigestSubscribeParams{TenantID: f.a, UserID: f.user, Frequency: frequency, Weekday: 1, Hour: 8})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	su := pgtest.Conn(t, f.env.SuperURL)
	if _, err := su.Exec(ctx, `UPDATE app.digest_subscriptions SET created_at = '2026-10-01' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) scheduler(now time.Time) *digest.Scheduler {
	return &digest.Scheduler{DB: f.env.DB, Dash: f.dash, Mail: f.cfg, Now: func() time.Time { return now }, Attach: idsAttachment(f.dash)}
}

// idsAttachment attaches the period's conversation ids as read by the subscriber (serve attaches
// the .xlsx export, tested in internal/web): a check that the attachment covers the period.
func idsAttachment(dash *dashboard.Service) digest.AttachFunc {
	return func(ctx context.Context, p pg.Principal, tenantID int64, f dashboard.Filter, lang string) (*mail.File, error) {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		_ = w.Write([]string{"conversation_id"})
		err := dash.Each(ctx, p, tenantID, f, func(r dbsqlc.ConversationPageRow) error {
			return w.Write([]string{strconv.FormatInt(int64(r.ConversationID), 10)})
		})
		w.Flush()
		name := "conversas_" + f.From.Format("2006-01-02") + "_" + f.To.Format("2006-01-02") + ".csv"
		return &mail.File{Name: name, ContentType: "text/csv", Data: b.Bytes()}, err
	}
}

func (f *fixture) deliveries(t *testing.T) int {
	t.Helper()
	var n int
	if err := pgtest.Conn(t, f.env.SuperURL).QueryRow(context.Background(), `SELECT count(*) FROM app.digest_deliveries`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) send(t *testing.T) []*mailcatcher.Parsed {
	t.Helper()
	before := len(f.catcher.Messages())
	if _, err := f.worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []*mailcatcher.Parsed
	for _, m := range f.catcher.Messages()[before:] {
		p, err := m.Parsed()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// The digest received over SMTP carries the dashboard's own numbers for the period, three charts
// as inline PNG, the period's conversations attached, a dashboard link for the same period and
// one-click unsubscribe headers.
func TestDigestCarriesTheDashboardNumbers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	sub := f.subscribe(t, "weekly")
	st, err := f.scheduler(monday).RunOnce(ctx)
	if err != nil || st.Delivered != 1 {
		t.Fatalf("RunOnce = %+v, %v", st, err)
	}
	msgs := f.send(t)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "Resumo semanal de Academia A: 23/11/2026 a 29/11/2026" {
		t.Errorf("subject %q", m.Subject)
	}
	period := dashboard.Filter{From: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)}
	want, err := f.dash.Load(ctx, f.subscriber(), f.a, period)
	if err != nil {
		t.Fatal(err)
	}
	if *want.KPIs.Conversations.Cur == 0 {
		t.Fatal("the seeded week has no conversations: the test would prove nothing")
	}
	for _, k := range digest.KPIs("pt-BR", want.KPIs) {
		line := k.Label + " "
		i := strings.Index(m.Text, line)
		if i < 0 {
			t.Errorf("text part lacks %q", k.Label)
			continue
		}
		rest := m.Text[i:]
		rest = rest[:strings.IndexByte(rest, '\n')]
		if !strings.Contains(rest, " "+k.Value+"  (antes: "+k.Previous+", "+k.Change+")") {
			t.Errorf("text line %q, want value %s, previous %s, change %s", rest, k.Value, k.Previous, k.Change)
		}
		if !strings.Contains(m.HTML, ">"+k.Value+"</td>") {
			t.Errorf("HTML lacks %s = %s", k.Label, k.Value)
		}
	}
	link := publicURL + "/dashboard?from=2026-11-23&amp;to=2026-11-29"
	if !strings.Contains(m.HTML, link) || !strings.Contains(m.Text, publicURL+"/dashboard?from=2026-11-23&to=2026-11-29") {
		t.Errorf("no dashboard link for the period")
	}
	unsub := m.Header.Get("List-Unsubscribe")
	if !strings.HasPrefix(unsub, "<"+publicURL+"/unsubscribe/") || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe %q / %q", unsub, m.Header.Get("List-Unsubscribe-Post"))
	}
	var images int
	for _, p := range m.Parts {
		if p.ContentType != "image/png" {
			continue
		}
		images++
		if !strings.Contains(m.HTML, "cid:"+p.ContentID) || !p.Inline {
			t.Errorf("image %s is not inline in the HTML", p.ContentID)
		}
		if _, err := png.Decode(bytes.NewReader(p.Data)); err != nil {
			t.Errorf("image %s: %v", p.ContentID, err)
		}
		if dir := os.Getenv("TEST_ARTIFACTS"); dir != "" {
			_ = os.MkdirAll(dir, 0o755)
			_ = os.WriteFile(filepath.Join(dir, "digest-"+p.Filename), p.Data, 0o644)
		}
	}
	if images != 3 {
		t.Errorf("%d inline charts, want 3", images)
	}
	att, ok := m.Part("conversas_2026-11-23_2026-11-29.csv")
	if !ok || att.Inline {
		t.Fatalf("no attached spreadsheet; parts %+v", m.Parts)
	}
	rows, err := csv.NewReader(bytes.NewReader(att.Data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := float64(len(rows) - 1); got != *want.KPIs.Conversations.Cur {
		t.Errorf("attachment has %v conversations, the dashboard %v", got, *want.KPIs.Conversations.Cur)
	}
	if dir := os.Getenv("TEST_ARTIFACTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "digest.html"), []byte(m.HTML), 0o644)
	}
	// A fall is written with the dashboard's minus sign, not a hyphen.
	for _, k := range digest.KPIs("pt-BR", want.KPIs) {
		if strings.HasPrefix(k.Change, "-") {
			t.Errorf("%s: change %q starts with a hyphen", k.Label, k.Change)
		}
	}
	// The unanswered-leads line agrees in number with its count (one lead, several leads).
	for n, sentence := range map[float64]string{1: "1 lead deste período ficou sem nenhuma resposta.", 3: "3 leads deste período ficaram sem nenhuma resposta."} {
		want.KPIs.UnansweredLeads.Cur = &n
		r, err := digest.Render(digest.Input{Lang: "pt-BR", Frequency: "weekly", Brand: mail.Brand{Name: "Academia A", Primary: "#0F766E", Secondary: "#B45309"},
			Dash: want, PublicURL: publicURL})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Text, sentence) || !strings.Contains(r.HTML, sentence) {
			t.Errorf("with %v unanswered leads the digest lacks %q", n, sentence)
		}
	}
	// Rendered as the subscriber: the delivery row is the subscriber's tenant's.
	var tenant int64
	if err := pgtest.Conn(t, f.env.SuperURL).QueryRow(ctx, `SELECT tenant_id FROM app.digest_deliveries WHERE subscription_id = $1`, sub).Scan(&tenant); err != nil || tenant != f.a {
		t.Errorf("delivery tenant %d (%v)", tenant, err)
	}
	// Nothing more is due this week.
	if st, _ := f.scheduler(monday.Add(3 * time.Hour)).RunOnce(ctx); st.Due != 0 {
		t.Errorf("still due after delivery: %+v", st)
	}
}

func TestDigestOnceUnderTwoConcurrentSchedulers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.subscribe(t, "weekly")
	f.subscribe(t, "daily")
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := f.scheduler(monday).RunOnce(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += st.Delivered
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 2 || f.deliveries(t) != 2 {
		t.Errorf("delivered %d (rows %d), want 2: one per subscription", total, f.deliveries(t))
	}
	if n := len(f.send(t)); n != 2 {
		t.Errorf("%d messages, want 2", n)
	}
}

func TestDigestCrashBetweenRenderAndSendDeliversOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.subscribe(t, "weekly")
	crashing := f.scheduler(monday)
	crashing.BeforeCommit = func(int64) error { return errors.New("process killed") }
	if _, err := crashing.RunOnce(ctx); err == nil {
		t.Fatal("the simulated crash did not fail the pass")
	}
	if n := f.deliveries(t); n != 0 {
		t.Fatalf("%d deliveries recorded by the crashed pass", n)
	}
	if n := len(f.send(t)); n != 0 {
		t.Fatalf("the crashed pass queued %d messages", n)
	}
	if st, err := f.scheduler(monday.Add(time.Minute)).RunOnce(ctx); err != nil || st.Delivered != 1 {
		t.Fatalf("next pass = %+v, %v", st, err)
	}
	if st, _ := f.scheduler(monday.Add(2 * time.Minute)).RunOnce(ctx); st.Due != 0 {
		t.Fatalf("due again: %+v", st)
	}
	if n := len(f.send(t)); n != 1 {
		t.Errorf("%d messages, want exactly 1", n)
	}
	if n := len(f.send(t)); n != 0 {
		t.Errorf("a second worker pass sent %d more", n)
	}
}

// A server down for days sends the latest missed period once, not every missed one.
func TestDigestAfterDowntimeSendsOnlyTheLatestPeriod(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.subscribe(t, "daily")
	st, err := f.scheduler(monday).RunOnce(ctx)
	if err != nil || st.Delivered != 1 {
		t.Fatalf("RunOnce = %+v, %v", st, err)
	}
	var start time.Time
	if err := pgtest.Conn(t, f.env.SuperURL).QueryRow(ctx, `SELECT period_start FROM app.digest_deliveries`).Scan(&start); err != nil || start.Format("2006-01-02") != "2026-11-29" {
		t.Errorf("period %v (%v), want 2026-11-29 only", start, err)
	}
	msgs := f.send(t)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Subject, "29/11/2026") {
		t.Fatalf("messages %d", len(msgs))
	}
	// Before 08:00 of the next day nothing is due; after it, the next day.
	if st, _ := f.scheduler(time.Date(2026, 12, 1, 10, 59, 0, 0, time.UTC)).RunOnce(ctx); st.Due != 0 {
		t.Errorf("due before the hour: %+v", st)
	}
	if st, _ := f.scheduler(time.Date(2026, 12, 1, 11, 1, 0, 0, time.UTC)).RunOnce(ctx); st.Delivered != 1 {
		t.Errorf("not due after the hour: %+v", st)
	}
}

// Recipients are checked: a deactivated user or a suspended tenant gets nothing.
func TestDigestSkipsInactiveRecipients(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.subscribe(t, "weekly")
	su := pgtest.Conn(t, f.env.SuperURL)
	if _, err := su.Exec(ctx, `UPDATE app.users SET is_active = false WHERE id = $1`, f.user); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.scheduler(monday).RunOnce(ctx); st.Due != 0 {
		t.Errorf("due for a deactivated user: %+v", st)
	}
	if _, err := su.Exec(ctx, `UPDATE app.users SET is_active = true WHERE id = $1`, f.user); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, `UPDATE app.tenants SET status = 'suspended' WHERE id = $1`, f.a); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.scheduler(monday).RunOnce(ctx); st.Due != 0 {
		t.Errorf("due for a suspended tenant: %+v", st)
	}
}

func TestDigestScheduleAndUnsubscribeLink(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	sp := "America/Sao_Paulo"
	cases := []struct {
		freq       string
		weekday    int32
		now        time.Time
		at         string // local
		start, end string
	}{
		{"daily", 1, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), "2026-12-01 08:00", "2026-11-30", "2026-11-30"}, // 07:00 local: still yesterday's send
		{"daily", 1, time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC), "2026-12-02 08:00", "2026-12-01", "2026-12-01"},
		{"weekly", 1, monday, "2026-11-30 08:00", "2026-11-23", "2026-11-29"},
		{"weekly", 1, monday.Add(-2 * time.Hour), "2026-11-23 08:00", "2026-11-16", "2026-11-22"},
		{"weekly", 3, monday, "2026-11-25 08:00", "2026-11-18", "2026-11-24"},
		{"monthly", 1, time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC), "2026-12-01 08:00", "2026-11-01", "2026-11-30"},
		{"monthly", 1, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), "2026-11-01 08:00", "2026-10-01", "2026-10-31"},
	}
	loc, _ := time.LoadLocation(sp)
	err := f.env.DB.InReadTx(ctx, f.subscriber(), func(tx pg.Tx) error {
		for _, c := range cases {
			r, err := tx.DigestSchedule(ctx, dbsqlc.DigestScheduleParams{Frequency: c.freq, Weekday: c.weekday, Hour: 8, Timezone: sp, Now: c.now})
			if err != nil {
				return err
			}
			if got := r.ScheduledFor.In(loc).Format("2006-01-02 15:04"); got != c.at || r.PeriodStart.Format("2006-01-02") != c.start || r.PeriodEnd.Format("2006-01-02") != c.end {
				t.Errorf("%s weekday %d at %v: %s %s..%s, want %s %s..%s", c.freq, c.weekday, c.now, got,
					r.PeriodStart.Format("2006-01-02"), r.PeriodEnd.Format("2006-01-02"), c.at, c.start, c.end)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The unsubscribe link works without signing in, only with the right key.
	sub := f.subscribe(t, "monthly")
	var key string
	if err := pgtest.Conn(t, f.env.SuperURL).QueryRow(ctx, `SELECT unsubscribe_key FROM app.digest_subscriptions WHERE id = $1`, sub).Scan(&key); err != nil {
		t.Fatal(err)
	}
	anon := pg.Anon("10.0.0.9", "mail client")
	err = f.env.DB.InTx(ctx, anon, func(tx pg.Tx) error {
		wrong := strings.Repeat("0", 64)
		if ok, err := tx.DigestUnsubscribeByLink(ctx, dbsqlc.DigestUnsubscribeByLinkParams{TenantID: f.a, ID: sub, Key: wrong}); err != nil || ok {
			t.Errorf("a wrong key unsubscribed: %v %v", ok, err)
		}
		if ok, err := tx.DigestUnsubscribeByLink(ctx, dbsqlc.DigestUnsubscribeByLinkParams{TenantID: f.a, ID: sub, Key: key}); err != nil || !ok {
			t.Errorf("the right key did not unsubscribe: %v %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
