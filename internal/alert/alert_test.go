package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/alert"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/pgtest"
)

// receiver is the test's webhook endpoint: HTTPS on 127.0.0.1, verifying every delivery's
// signature like a real receiver, answering 503 to the first attempt of each event.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	ok     bool                     // answer 204 from the first attempt
	got    map[string][]http.Header // event id → the headers of each attempt
	bodies map[string]alert.Payload
	bad    []string
}

func newReceiver(t *testing.T, secret string) *receiver {
	rc := &receiver{secret: secret, got: map[string][]http.Header{}, bodies: map[string]alert.Payload{}}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if err := alert.Verify(rc.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			rc.bad = append(rc.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(alert.HeaderEventID)
		var p alert.Payload
		if err := json.Unmarshal(body, &p); err != nil || p.EventID != id {
			rc.bad = append(rc.bad, "body: "+string(body))
		}
		rc.bodies[id] = p
		rc.got[id] = append(rc.got[id], r.Header.Clone())
		if len(rc.got[id]) == 1 && !rc.ok {
			w.WriteHeader(http.StatusServiceUnavailable) // the first attempt fails: retried
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

const secret = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// synced is the fixture's sync time: a Tuesday, 10:00 in São Paulo (open hours).
var synced = time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC)

// seed creates a tenant whose conversations await a person at the sync time in every state an
// alert cares about, and its alert settings (two addresses, the receiver's webhook).
func seed(t *testing.T, su *pgx.Conn, webhook string) int64 {
	ctx := context.Background()
	var tid int64
	if err := su.QueryRow(ctx, "INSERT INTO app.tenants (slug, name) VALUES ('alertas', 'Academia Alertas') RETURNING id").Scan(&tid); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := su.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, inbox_name, channel_type) VALUES
		($1, 1, 'WhatsApp Recepção', 'Channel::Whatsapp'), ($1, 2, 'WhatsApp Domingo', 'Channel::Whatsapp')`, tid)
	// inbox 1: Monday to Saturday 7-22; inbox 2: open on Sundays only (closed at the sync time)
	exec(`INSERT INTO analytics.inboxes (tenant_id, inbox_id, channel_type, timezone, hours_enabled, week, signature) VALUES
		($1, 1, 'Channel::Whatsapp', 'America/Sao_Paulo', true,
		 analytics.week_hours('{1,2,3,4,5,6}', '{f,f,f,f,f,f}', '{f,f,f,f,f,f}', '{7,7,7,7,7,7}', '{0,0,0,0,0,0}', '{22,22,22,22,22,22}', '{0,0,0,0,0,0}'), 'a'),
		($1, 2, 'Channel::Whatsapp', 'America/Sao_Paulo', true, analytics.week_hours('{0}', '{f}', '{t}', '{0}', '{0}', '{0}', '{0}'), 'b')`, tid)
	conv := func(id, inbox int, since time.Time, due *time.Time, window *time.Time) {
		exec(`INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type,
			status, contact_name, created_at, source_updated_at, last_activity_at, created_day, created_hour, created_dow,
			contact_messages, waiting_since, waiting_due_at, window_closes_at)
			VALUES ($1, $2, 1, $3, $2 + 100, 'Channel::Whatsapp', 0, 'Contato ' || $2, $4, $4, $4, ($4 AT TIME ZONE 'UTC')::date, 0, 0,
			        1, $4, $5, $6)`, tid, id, inbox, since, due, window)
	}
	at := func(d time.Duration) *time.Time { x := synced.Add(d); return &x }
	conv(1, 1, synced.Add(-20*time.Minute), at(-15*time.Minute), at(20*time.Hour))         // past the SLA: alerts
	conv(2, 1, synced.Add(-2*time.Minute), at(3*time.Minute), at(23*time.Hour))            // within the SLA
	conv(3, 1, synced.Add(-40*time.Hour), at(-30*time.Hour), at(1*time.Hour))              // SLA passed too long ago; window closing: alerts
	conv(4, 1, synced.Add(-27*time.Hour), at(-26*time.Hour), at(3*time.Hour))              // window not yet closing; SLA too long ago
	conv(5, 2, synced.Add(-20*time.Minute), at(-10*time.Minute), nil)                      // past the SLA, but its inbox is closed now
	conv(6, 1, synced.Add(-25*time.Hour), at(-24*time.Hour-time.Minute), at(-1*time.Hour)) // window closed: no alert any more
	exec(`INSERT INTO etl.watermarks (tenant_id, source_checked_at) VALUES ($1, $2)`, tid, synced)
	exec(`INSERT INTO app.alert_settings (tenant_id, sla_enabled, window_enabled, email_to, webhook_url, webhook_secret)
		VALUES ($1, true, true, '{gerente@alertas.test,recepcao@alertas.test}', $2, $3)`, tid, webhook, secret)
	return tid
}

// TestAlertsExactlyOnce: two schedulers (two servers, each with its own connections) evaluating
// the same tenant at once, again and again, fire each alert once — its e-mails queued once per
// address, its webhook queued once — and a conversation that awaits a person again (a new waiting
// episode) alerts again.
func TestAlertsExactlyOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	rc := newReceiver(t, secret)
	tid := seed(t, su, rc.srv.URL+"/hooks/geniai")
	ev := &alert.Evaluator{DB: env.DB, MailFrom: "GeniAI <alertas@geniai.test>", PublicURL: "https://analytics.geniai.test",
		ChatwootURL: "https://chat.geniai.test"}

	// The second scheduler is another server: its own pool of connections.
	other, err := pg.Open(ctx, env.AuthURL, pg.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	ev2 := *ev
	ev2.DB = other
	var wg sync.WaitGroup
	fired := make([]int, 2)
	for s, e := range []*alert.Evaluator{ev, &ev2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				n, err := e.Tenant(ctx, tid)
				if err != nil {
					t.Error(err)
					return
				}
				fired[s] += n
			}
		}()
	}
	wg.Wait()
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := su.QueryRow(ctx, sql, tid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if fired[0]+fired[1] != 2 {
		t.Errorf("schedulers fired %v alerts, want 2 in all", fired)
	}
	var kinds []string
	rows, _ := su.Query(ctx, "SELECT conversation_id || ':' || kind FROM analytics.alerts WHERE tenant_id = $1 ORDER BY 1", tid)
	for rows.Next() {
		var k string
		_ = rows.Scan(&k)
		kinds = append(kinds, k)
	}
	rows.Close()
	if len(kinds) != 2 || kinds[0] != "1:sla" || kinds[1] != "3:window" {
		t.Errorf("alerts %v, want [1:sla 3:window]", kinds)
	}
	if n := count("SELECT count(*) FROM app.alert_deliveries WHERE tenant_id = $1"); n != 6 {
		t.Errorf("%d deliveries, want 6 (2 alerts × 2 addresses + webhook)", n)
	}
	if n := count("SELECT count(*) FROM app.mail_outbox WHERE tenant_id = $1 AND kind LIKE 'alert.%'"); n != 4 {
		t.Errorf("%d alert e-mails queued, want 4", n)
	}
	var subject, body, html string
	if err := su.QueryRow(ctx, `SELECT subject, text_body, html_body FROM app.mail_outbox WHERE tenant_id = $1 AND kind = 'alert.window' LIMIT 1`, tid).Scan(&subject, &body, &html); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, `href="https://chat.geniai.test/app/accounts/1/conversations/103"`) || !strings.Contains(html, "Academia Alertas") {
		t.Errorf("window e-mail's HTML lacks the button to Chatwoot or the tenant's name:\n%s", html)
	}
	if subject != "Janela do WhatsApp fecha em 1 h: Contato 3 (conversa #103)" {
		t.Errorf("window e-mail subject %q", subject)
	}
	for _, want := range []string{"https://chat.geniai.test/app/accounts/1/conversations/103", "https://analytics.geniai.test/conversations/3", "WhatsApp Recepção"} {
		if !strings.Contains(body, want) {
			t.Errorf("window e-mail body lacks %q:\n%s", want, body)
		}
	}

	// A new waiting episode of conversation 1 (answered, then the contact wrote again).
	if _, err := su.Exec(ctx, `UPDATE analytics.conversations SET waiting_since = $2, waiting_due_at = $3
		WHERE tenant_id = $1 AND conversation_id = 1`, tid, synced.Add(-8*time.Minute), synced.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if n, err := ev.Tenant(ctx, tid); err != nil || n != 1 {
		t.Errorf("new episode: fired %d (%v), want 1", n, err)
	}
	if n, err := ev.Tenant(ctx, tid); err != nil || n != 0 {
		t.Errorf("new episode again: fired %d (%v), want 0", n, err)
	}
}

// TestTenantsJudgesOnlyTenantsWithAlerts: of the tenants a pass settled together, only those
// whose alerts are on with somewhere to send them are judged (one statement picks them); their
// alerts fire as Tenant fires them.
func TestTenantsJudgesOnlyTenantsWithAlerts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	tid := seed(t, su, "https://alertas.test/hooks/geniai")
	other := func(slug, settings string) int64 {
		t.Helper()
		var id int64
		if err := su.QueryRow(ctx, "INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id", slug).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if settings != "" {
			if _, err := su.Exec(ctx, `INSERT INTO app.alert_settings (tenant_id, sla_enabled, window_enabled, email_to, webhook_url, webhook_secret)
				VALUES ($1, `+settings+`, $2)`, id, secret); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	none := other("sem-alertas", "")
	off := other("alertas-desligados", "false, false, '{a@alertas.test}', NULL")
	nowhere := other("alertas-sem-destino", "true, true, '{}', NULL")
	hook := other("alertas-por-webhook", "true, false, '{}', 'https://b.test/h'")
	var wanted []int64
	if err := env.DB.InReadTx(ctx, pg.ETL(0), func(tx pg.Tx) error {
		var err error
		wanted, err = tx.AlertTenantsWanted(ctx, []int64{none, tid, off, nowhere, hook})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(wanted) != 2 || wanted[0] != tid || wanted[1] != hook {
		t.Errorf("tenants judged %v, want [%d %d] (alerts on, with an address or a webhook)", wanted, tid, hook)
	}
	if n, err := (&alert.Evaluator{DB: env.DB}).Tenants(ctx, []int64{none, tid, off, nowhere, hook}); err != nil || n != 2 {
		t.Errorf("Tenants fired %d (%v), want the seeded tenant's 2 alerts", n, err)
	}
}

// TestWebhookDelivery: the sender signs every attempt for the test's own receiver to verify,
// retries a 503 with backoff under the same event id, records each attempt, and refuses to
// connect to a loopback address unless told otherwise (the production guard).
func TestWebhookDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	rc := newReceiver(t, secret)
	tid := seed(t, su, rc.srv.URL+"/hooks/geniai")
	if _, err := (&alert.Evaluator{DB: env.DB}).Tenant(ctx, tid); err != nil { // webhook only
		t.Fatal(err)
	}
	trust := func(tr *http.Transport) {
		tr.TLSClientConfig = rc.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	}

	// The production guard: 127.0.0.1 is refused at connection time, nothing reaches the receiver.
	strict := alert.Guard{}
	if n, err := (&alert.Sender{DB: env.DB, Client: strict.Client(trust)}).SendDue(ctx); err != nil || n != 2 {
		t.Fatalf("strict round: %d, %v", n, err)
	}
	var failed int
	var lastErr string
	_ = su.QueryRow(ctx, "SELECT count(*), max(last_error) FROM app.alert_deliveries WHERE tenant_id = $1 AND status = 'failed'", tid).Scan(&failed, &lastErr)
	if failed != 2 || len(rc.got) != 0 {
		t.Errorf("strict guard: %d failed (%q), receiver got %d events", failed, lastErr, len(rc.got))
	}

	// Loopback allowed (tests only), the refused deliveries queued again: delivered on the next
	// attempt after a 503.
	if _, err := su.Exec(ctx, "UPDATE app.alert_deliveries SET status = 'queued', next_attempt_at = now() WHERE tenant_id = $1", tid); err != nil {
		t.Fatal(err)
	}
	loose := alert.Guard{AllowAddr: func(a netip.Addr) bool { return a.IsLoopback() }}
	s := &alert.Sender{DB: env.DB, Client: loose.Client(trust)}
	if n, err := s.SendDue(ctx); err != nil || n != 2 {
		t.Fatalf("first round: %d, %v", n, err)
	}
	var queued int
	var next time.Time
	_ = su.QueryRow(ctx, "SELECT count(*), min(next_attempt_at) FROM app.alert_deliveries WHERE tenant_id = $1 AND status = 'queued'", tid).Scan(&queued, &next)
	if queued != 2 || next.Before(time.Now().Add(50*time.Second)) {
		t.Errorf("after a 503: %d queued, next attempt at %v (want about a minute later)", queued, next)
	}
	if n, _ := s.SendDue(ctx); n != 0 {
		t.Errorf("a round before the backoff ended sent %d", n)
	}
	if _, err := su.Exec(ctx, "UPDATE app.alert_deliveries SET next_attempt_at = now() WHERE tenant_id = $1", tid); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SendDue(ctx); err != nil || n != 2 {
		t.Fatalf("second round: %d, %v", n, err)
	}
	var delivered, attempts int
	_ = su.QueryRow(ctx, "SELECT count(*) FILTER (WHERE status = 'delivered'), sum(attempts) FROM app.alert_deliveries WHERE tenant_id = $1", tid).Scan(&delivered, &attempts)
	if delivered != 2 || attempts != 6 {
		t.Errorf("%d delivered after %d attempts, want 2 after 6", delivered, attempts)
	}
	var logged int
	_ = su.QueryRow(ctx, "SELECT count(*) FROM app.alert_attempts WHERE tenant_id = $1 AND finished_at IS NOT NULL", tid).Scan(&logged)
	if logged != 6 {
		t.Errorf("%d attempts recorded, want 6 (2 refused, 2 × 503, 2 delivered)", logged)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) != 0 {
		t.Errorf("the receiver refused deliveries: %v", rc.bad)
	}
	for id, hs := range rc.got {
		if len(hs) != 2 || hs[0].Get(alert.HeaderEventID) != hs[1].Get(alert.HeaderEventID) || hs[0].Get(alert.HeaderEvent) == "" {
			t.Errorf("event %s: attempts %v", id, hs)
		}
		p := rc.bodies[id]
		if p.Tenant != "alertas" || p.Conversation.DisplayID == 0 || p.Conversation.SLASeconds != 300 {
			t.Errorf("event %s: payload %+v", id, p)
		}
	}
}

// TestTwoSendersDeliverOnce: two senders (two servers) draining the webhook queue at once deliver
// each alert once: a leased delivery is never taken by the other.
func TestTwoSendersDeliverOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	rc := newReceiver(t, secret)
	rc.ok = true
	tid := seed(t, su, rc.srv.URL+"/hooks/geniai")
	// More alerts: every awaiting conversation past its SLA again, in new episodes.
	for i := range 20 {
		if _, err := su.Exec(ctx, `UPDATE analytics.conversations SET waiting_since = $2, waiting_due_at = $3
			WHERE tenant_id = $1 AND conversation_id = 1`, tid, synced.Add(-time.Duration(30+i)*time.Minute), synced.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := (&alert.Evaluator{DB: env.DB}).Tenant(ctx, tid); err != nil {
			t.Fatal(err)
		}
	}
	other, err := pg.Open(ctx, env.AuthURL, pg.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Close)
	trust := func(tr *http.Transport) {
		tr.TLSClientConfig = rc.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	}
	loose := alert.Guard{AllowAddr: func(a netip.Addr) bool { return a.IsLoopback() }}
	var wg sync.WaitGroup
	for _, db := range []*pg.DB{env.DB, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &alert.Sender{DB: db, Client: loose.Client(trust), Batch: 3}
			for range 20 {
				if _, err := s.SendDue(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var n, delivered int
	_ = su.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE status = 'delivered' AND attempts = 1) FROM app.alert_deliveries WHERE tenant_id = $1", tid).Scan(&n, &delivered)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if n < 20 || delivered != n || len(rc.got) != n {
		t.Fatalf("%d deliveries, %d delivered at the first attempt, %d events received", n, delivered, len(rc.got))
	}
	for id, hs := range rc.got {
		if len(hs) != 1 {
			t.Errorf("event %s received %d times", id, len(hs))
		}
	}
}
