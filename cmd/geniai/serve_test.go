package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/metrics"
	"github.com/geniai/analytics/internal/pgtest"
)

// TestMailQueueGauges: /metrics shows the outgoing e-mail queue and the alert webhook queue of
// every tenant as serve wires them.
func TestMailQueueGauges(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	ctx := context.Background()
	if _, err := su.Exec(ctx, `
		WITH t AS (INSERT INTO app.tenants (slug, name) VALUES ('academia-a', 'A'), ('academia-b', 'B') RETURNING id)
		INSERT INTO app.mail_outbox (tenant_id, kind, to_address, subject, text_body, message_id, status, next_attempt_at)
		SELECT t.id, 'alert.test', 'x@a.test', 'x', 'x', '<' || t.id || '.' || s.st || '@geniai.test>', s.st,
		       now() - interval '2 minutes'
		FROM t CROSS JOIN (VALUES ('queued'), ('sending'), ('sent')) AS s(st)`); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, `
		INSERT INTO app.alert_deliveries (tenant_id, event_id, conversation_id, kind, channel, target, payload, status)
		SELECT id, gen_random_uuid(), 1, 'sla', 'webhook', 'https://example.com/hook', '{}', 'queued'
		FROM app.tenants WHERE slug LIKE 'academia-%'`); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	addMailQueueGauges(m, env.DB, nil)
	want := `
# HELP geniai_mail_queue_messages Outgoing e-mails waiting (queued, due or backing off) and being sent (sending), all tenants.
# TYPE geniai_mail_queue_messages gauge
geniai_mail_queue_messages{status="queued"} 2
geniai_mail_queue_messages{status="sending"} 2
# HELP geniai_alert_webhook_queue_messages Alert webhook deliveries waiting (queued, due or backing off) and being sent (sending), all tenants.
# TYPE geniai_alert_webhook_queue_messages gauge
geniai_alert_webhook_queue_messages{status="queued"} 2
geniai_alert_webhook_queue_messages{status="sending"} 0
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "geniai_mail_queue_messages", "geniai_alert_webhook_queue_messages"); err != nil {
		t.Fatal(err)
	}
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "geniai_mail_queue_oldest_due_seconds" {
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v < 119 || v > 600 {
				t.Fatalf("oldest due = %v s, want about 120", v)
			}
			return
		}
	}
	t.Fatal("no geniai_mail_queue_oldest_due_seconds")
}

// TestServeMetricsAddr: serve answers /metrics on METRICS_ADDR with the pools the environment
// configures (DATABASE_READ_URL adds the replica's; here the primary stands in, so the monitor
// finds it is no replica and reads stay on the primary), and a METRICS_ADDR it cannot bind stops
// serve at once instead of leaving it running with nothing to scrape.
func TestServeMetricsAddr(t *testing.T) { // not parallel: it sets sessionCleanup
	old := sessionCleanup
	sessionCleanup = 0
	t.Cleanup(func() { sessionCleanup = old })
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	vars := map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none", "METRICS_ADDR": taken.Addr().String()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR="+taken.Addr().String()) {
		t.Fatalf("serve with METRICS_ADDR in use: %v, want an error naming METRICS_ADDR", err)
	}

	env := pgtest.New(t)
	vars = map[string]string{"DATABASE_URL": env.AuthURL, "DATABASE_READ_URL": env.AuthURL, "METRICS_ADDR": "127.0.0.1:0",
		"LISTEN_ADDR": "127.0.0.1:0", "BCRYPT_COST": "10"}
	ctx, stop := context.WithCancel(ctx)
	logs, logw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return vars[k] }, strings.NewReader(""), io.Discard, logw)
		logw.Close()
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	addr := ""
	sc := bufio.NewScanner(logs)
	for addr == "" && sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "metrics listening" {
			addr = line.Addr
		}
	}
	go func() { _, _ = io.Copy(io.Discard, logs) }()
	if addr == "" {
		t.Fatal("serve never logged its metrics address")
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`geniai_db_pool_max_connections{pool="primary"} 16`, `geniai_db_pool_max_connections{pool="replica"} 16`, "geniai_db_replica_in_use 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%.2000s", want, body)
		}
	}
}

// TestSyncLagSkipsCancelled: the sync lag gauge shows the tenants the scheduler syncs; a cancelled
// tenant's lag would only grow and keep the documented lag alert firing for ever.
func TestSyncLagSkipsCancelled(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	if _, err := su.Exec(context.Background(), `
		WITH t AS (INSERT INTO app.tenants (slug, name, status) VALUES ('ativa', 'A', 'active'), ('cancelada', 'C', 'cancelled'),
		                                                          ('suspensa', 'S', 'suspended') RETURNING id)
		INSERT INTO etl.watermarks (tenant_id, last_success_at) SELECT id, now() - interval '1 hour' FROM t`); err != nil {
		t.Fatal(err)
	}
	samples, err := syncLag(&etl.Runner{DB: env.DB})(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range samples {
		got[s.Labels[0]] = s.Value > 3500
	}
	if len(got) != 2 || !got["ativa"] || !got["suspensa"] {
		t.Fatalf("lag samples %v: want ativa and suspensa (an hour each), not cancelada", got)
	}
}
