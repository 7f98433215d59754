package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// SeedAnalytics loads two tenants, academia-a (inboxes 1 and 2, 600 conversations over 60 days)
// and academia-b (inbox 3, conversations 601-800), with pseudo-random analytics rows, bypassing
// RLS as the superuser, builds their daily rollups, and returns their ids. Conversation ids are unique across both.
func SeedAnalytics(t testing.TB, env *Env) (a, b int64) {
	t.Helper()
	ctx := context.Background()
	su := Conn(t, env.SuperURL)
	for _, slug := range []string{"academia-a", "academia-b"} {
		var id int64
		if err := su.QueryRow(ctx, `INSERT INTO app.tenants (slug, name) VALUES ($1, $1) RETURNING id`, slug).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if a == 0 {
			a = id
		} else {
			b = id
		}
	}
	_, err := su.Exec(ctx, `
		INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, inbox_name, channel_type)
		VALUES ($1, 1, 'WhatsApp Recepção', 'Channel::Whatsapp'), ($1, 2, 'Instagram', 'Channel::Instagram'),
		       ($2, 3, 'WhatsApp B', 'Channel::Whatsapp')`, a, b)
	if err != nil {
		t.Fatal(err)
	}
	// 600 conversations for A over 60 days, 200 for B; metrics drawn from a hash of the id.
	_, err = su.Exec(ctx, `
		WITH g AS (
			SELECT n, CASE WHEN n <= 600 THEN $1::bigint ELSE $2::bigint END AS tenant_id,
			       CASE WHEN n > 600 THEN 3 WHEN n % 3 = 0 THEN 2 ELSE 1 END AS inbox_id,
			       ('x' || substr(md5(n::text), 1, 8))::bit(32)::int AS h,
			       timestamptz '2026-11-29 12:00:00-03' - make_interval(days => n % 60, hours => n % 11) AS created_at
			FROM generate_series(1, 800) n
		), m AS (
			SELECT g.*, abs(h) % 1000 AS r FROM g
		)
		INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type,
			status, contact_name, contact_phone, labels, created_at, source_updated_at, last_activity_at,
			created_day, created_hour, created_dow, contact_messages, bot_messages, human_messages,
			first_reply_seconds, first_human_reply_seconds, unanswered, resolved, handoff, bot_resolved,
			resolution_seconds, csat_rating, is_lead, is_visit, is_converted)
		SELECT tenant_id, n, 1, inbox_id, n, CASE WHEN inbox_id = 2 THEN 'Channel::Instagram' ELSE 'Channel::Whatsapp' END,
			(r % 4)::smallint, 'Contato ' || n, '+55119' || lpad(n::text, 8, '0'),
			CASE r % 5 WHEN 0 THEN '{lead}'::text[] WHEN 1 THEN '{lead,visita-agendada}' WHEN 2 THEN '{matriculado,lead,visita-agendada}' ELSE '{}' END,
			created_at, created_at, created_at + interval '1 hour',
			(created_at AT TIME ZONE 'America/Sao_Paulo')::date,
			extract(hour FROM created_at AT TIME ZONE 'America/Sao_Paulo')::smallint,
			extract(dow FROM created_at AT TIME ZONE 'America/Sao_Paulo')::smallint,
			CASE WHEN r % 10 = 9 THEN 0 ELSE 1 + r % 4 END, r % 3, r % 2,
			CASE WHEN r % 10 IN (8, 9) THEN NULL ELSE 1 + (r * 37.5) END,
			CASE WHEN r % 2 = 1 AND r % 10 <> 9 THEN 30 + r * 11.25 END,
			r % 10 = 8, r % 4 = 1, r % 3 > 0 AND r % 2 = 1, r % 4 = 1 AND r % 2 = 0 AND r % 3 > 0,
			CASE WHEN r % 4 = 1 THEN 600 + r * 3 END,
			CASE WHEN r % 7 < 5 THEN (1 + r % 5)::smallint END,
			r % 10 <> 9 AND r % 5 IN (0, 1, 2), r % 10 <> 9 AND r % 5 IN (1, 2), r % 10 <> 9 AND r % 5 = 2
		FROM m`, a, b)
	if err != nil {
		t.Fatal(err)
	}
	// Speed to lead: business-time twins (some shorter than the plain durations), requests for a
	// person on every fourth conversation, their first waits (every eighth unanswered) with
	// varied lengths around the default SLA target of 5 minutes.
	// Computed in a SELECT first: Citus refuses an UPDATE of a distributed table that calls a
	// STABLE function (timestamptz + interval) on its columns; on one node it is the same update.
	_, err = su.Exec(ctx, `
		WITH v AS MATERIALIZED (
			SELECT tenant_id, conversation_id,
			CASE WHEN conversation_id % 3 = 0 THEN first_reply_seconds / 4 ELSE first_reply_seconds END AS first_reply_business_seconds,
			first_human_reply_seconds / 2 AS first_human_reply_business_seconds,
			created_at + make_interval(secs => resolution_seconds) AS resolved_at,
			resolution_seconds / 4 AS resolution_business_seconds,
			CASE WHEN conversation_id % 4 = 0 THEN created_at + interval '30 seconds' END AS handoff_requested_at,
			CASE WHEN conversation_id % 4 = 0 THEN created_at + interval '30 seconds' END AS human_wait_from,
			CASE WHEN conversation_id % 4 = 0 AND conversation_id % 8 <> 0
			                           THEN created_at + interval '30 seconds' + make_interval(secs => 60 * (conversation_id % 11) + (conversation_id % 17) * 3.7) END AS human_wait_reply_at,
			CASE WHEN conversation_id % 4 = 0 AND conversation_id % 8 <> 0 THEN 60 * (conversation_id % 11) + (conversation_id % 17) * 3.7 END AS human_wait_seconds,
			CASE WHEN conversation_id % 4 = 0 AND conversation_id % 8 <> 0 THEN 0.75 * (60 * (conversation_id % 11) + (conversation_id % 17) * 3.7) END AS human_wait_business_seconds,
			CASE WHEN conversation_id % 8 = 0 THEN created_at + interval '330 seconds' END AS human_wait_due_at
			FROM analytics.conversations
			WHERE tenant_id IN ($1, $2))
		UPDATE analytics.conversations c SET
			first_reply_business_seconds = v.first_reply_business_seconds,
			first_human_reply_business_seconds = v.first_human_reply_business_seconds,
			resolved_at = v.resolved_at,
			resolution_business_seconds = v.resolution_business_seconds,
			handoff_requested_at = v.handoff_requested_at,
			human_wait_from = v.human_wait_from,
			human_wait_reply_at = v.human_wait_reply_at,
			human_wait_seconds = v.human_wait_seconds,
			human_wait_business_seconds = v.human_wait_business_seconds,
			human_wait_due_at = v.human_wait_due_at
		FROM v
		WHERE c.tenant_id = v.tenant_id AND c.conversation_id = v.conversation_id`, a, b)
	if err != nil {
		t.Fatal(err)
	}
	RefreshRollups(t, su, a, b)
	return a, b
}

// RefreshRollups rebuilds the daily rollups of the tenants as the ETL leaves them (the tenant in
// the transaction's context), for fixtures that write analytics rows directly.
func RefreshRollups(t testing.TB, su *pgx.Conn, tenants ...int64) {
	t.Helper()
	ctx := context.Background()
	for _, id := range tenants {
		err := pgx.BeginFunc(ctx, su, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('geniai.tenant_id', $1::bigint::text, true)`, id); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `SELECT etl.refresh_daily_stats(NULL)`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// SeedClient adds a client tenant in timezone zone with inbox inbox (WhatsApp) and n
// conversations numbered from first (keep them apart from other tenants'), spread over the 75
// days up to 2026-11-29 with the same pseudo-random metrics as SeedAnalytics, days counted in the
// tenant's zone; builds its rollups and returns its id. n = 0 gives a mapped client that never
// had a conversation.
func SeedClient(t testing.TB, env *Env, slug, zone string, inbox int32, first, n int) int64 {
	t.Helper()
	ctx := context.Background()
	su := Conn(t, env.SuperURL)
	var id int64
	if err := su.QueryRow(ctx, `INSERT INTO app.tenants (slug, name, timezone) VALUES ($1, $1, $2) RETURNING id`, slug, zone).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, `INSERT INTO app.tenant_inboxes (tenant_id, inbox_id, inbox_name, channel_type)
		VALUES ($1, $2, 'WhatsApp ' || $3::text, 'Channel::Whatsapp')`, id, inbox, slug); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		return id
	}
	_, err := su.Exec(ctx, `
		WITH g AS (
			SELECT n, ('x' || substr(md5(n::text), 1, 8))::bit(32)::int AS h,
			       timestamptz '2026-11-29 12:00:00-03' - make_interval(days => n % 75, hours => n % 13) AS created_at
			FROM generate_series($3::integer, $3::integer + $4::integer - 1) n
		), m AS (
			SELECT g.*, abs(h) % 1000 AS r FROM g
		)
		INSERT INTO analytics.conversations (tenant_id, conversation_id, account_id, inbox_id, display_id, channel_type,
			status, contact_name, contact_phone, labels, created_at, source_updated_at, last_activity_at,
			created_day, created_hour, created_dow, contact_messages, bot_messages, human_messages,
			first_reply_seconds, first_human_reply_seconds, unanswered, resolved, handoff, bot_resolved,
			resolution_seconds, csat_rating, is_lead, is_visit, is_converted)
		SELECT $1::bigint, n, 1, $2::integer, n, 'Channel::Whatsapp',
			(r % 4)::smallint, 'Contato ' || n, '+55119' || lpad(n::text, 8, '0'),
			CASE r % 5 WHEN 0 THEN '{lead}'::text[] WHEN 1 THEN '{lead,visita-agendada}' WHEN 2 THEN '{matriculado,lead,visita-agendada}' ELSE '{}' END,
			created_at, created_at, created_at + interval '1 hour',
			(created_at AT TIME ZONE $5::text)::date,
			extract(hour FROM created_at AT TIME ZONE $5::text)::smallint,
			extract(dow FROM created_at AT TIME ZONE $5::text)::smallint,
			CASE WHEN r % 10 = 9 THEN 0 ELSE 1 + r % 4 END, r % 3, r % 2,
			CASE WHEN r % 10 IN (8, 9) THEN NULL ELSE 1 + (r * 37.5) END,
			CASE WHEN r % 2 = 1 AND r % 10 <> 9 THEN 30 + r * 11.25 END,
			r % 10 = 8, r % 4 = 1, r % 3 > 0 AND r % 2 = 1, r % 4 = 1 AND r % 2 = 0 AND r % 3 > 0,
			CASE WHEN r % 4 = 1 THEN 600 + r * 3 END,
			CASE WHEN r % 7 < 5 THEN (1 + r % 5)::smallint END,
			r % 10 <> 9 AND r % 5 IN (0, 1, 2), r % 10 <> 9 AND r % 5 IN (1, 2), r % 10 <> 9 AND r % 5 = 2
		FROM m`, id, inbox, first, n, zone)
	if err != nil {
		t.Fatal(err)
	}
	RefreshRollups(t, su, id)
	return id
}
