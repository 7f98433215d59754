package main

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

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
