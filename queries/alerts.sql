-- Alerts (docs/alerts.md): settings, firing, the webhook delivery queue and the delivery log.

-- name: AlertSettingsGet :one
-- AlertSettingsGet reads a tenant's alert settings (no row: alerts never configured).
SELECT tenant_id, sla_enabled, window_enabled, email_to, webhook_url, webhook_secret, updated_at
FROM app.alert_settings
WHERE tenant_id = @tenant_id;

-- name: AlertSettingsSave :one
-- AlertSettingsSave creates or changes a tenant's alert settings; the secret is the one to keep
-- (the caller generates one for a new row or on request).
INSERT INTO app.alert_settings AS a (tenant_id, sla_enabled, window_enabled, email_to, webhook_url, webhook_secret)
VALUES (@tenant_id, @sla_enabled, @window_enabled, @email_to, sqlc.narg('webhook_url'), @webhook_secret)
ON CONFLICT (tenant_id) DO UPDATE SET
    sla_enabled = EXCLUDED.sla_enabled, window_enabled = EXCLUDED.window_enabled, email_to = EXCLUDED.email_to,
    webhook_url = EXCLUDED.webhook_url, webhook_secret = EXCLUDED.webhook_secret
RETURNING tenant_id, updated_at;

-- name: AlertsFire :many
-- AlertsFire inserts the alerts due for the context's tenant at its sync time and returns the
-- event ids of those this call inserted (etl.fire_alerts).
SELECT etl.fire_alerts()::uuid AS event_id;

-- name: AlertsGet :many
-- AlertsGet reads alerts by event id.
SELECT a.tenant_id, a.conversation_id, a.kind, a.episode, a.event_id, a.fired_at, a.synced_at, a.inbox_id,
       a.account_id, a.display_id, a.contact_name, a.wait_business_seconds, a.window_closes_at
FROM analytics.alerts a
WHERE a.tenant_id = @tenant_id AND a.event_id = ANY (@event_ids::uuid[])
ORDER BY a.episode, a.conversation_id, a.kind;

-- name: AlertTenantInfo :one
-- AlertTenantInfo is what a message names and looks like: the tenant's slug, display name and
-- colours and logo, its SLA target.
SELECT t.slug, coalesce(nullif(s.display_name, ''), t.name)::text AS display_name, s.sla_seconds,
       s.primary_color, s.secondary_color, coalesce(s.logo_url, '')::text AS logo_url
FROM app.tenants t
JOIN app.tenant_settings s ON s.tenant_id = t.id
WHERE t.id = @tenant_id;

-- name: AlertDeliveryAdd :one
-- AlertDeliveryAdd records one destination of a fired alert: a webhook delivery (payload, queued
-- for the sender) or an e-mail (its queued message).
INSERT INTO app.alert_deliveries (tenant_id, event_id, conversation_id, kind, channel, target, mail_id, payload)
VALUES (@tenant_id, @event_id, @conversation_id, @kind, @channel, @target, sqlc.narg('mail_id'), sqlc.narg('payload'))
RETURNING id;

-- name: AlertWebhookClaim :many
-- AlertWebhookClaim leases up to @batch due webhook deliveries of any tenant (FOR UPDATE SKIP
-- LOCKED: concurrent senders never take the same row) until now + lease, counts the attempt, and
-- returns each with its tenant's current webhook key.
WITH due AS (
    SELECT d.tenant_id, d.id
    FROM app.alert_deliveries d
    WHERE d.channel = 'webhook' AND d.status IN ('queued', 'sending') AND d.next_attempt_at <= now()
    ORDER BY d.next_attempt_at
    LIMIT @batch
    FOR UPDATE SKIP LOCKED
)
UPDATE app.alert_deliveries d
SET status = 'sending', attempts = d.attempts + 1,
    next_attempt_at = now() + make_interval(secs => @lease_seconds::double precision)
FROM due
WHERE d.tenant_id = due.tenant_id AND d.id = due.id
RETURNING d.tenant_id, d.id, d.event_id, d.kind, d.target, d.payload, d.attempts, d.max_attempts,
          (SELECT a.webhook_secret FROM app.alert_settings a WHERE a.tenant_id = d.tenant_id)::text AS secret;

-- name: AlertAttemptStart :exec
-- AlertAttemptStart records that an attempt began.
INSERT INTO app.alert_attempts (tenant_id, delivery_id, attempt) VALUES (@tenant_id, @delivery_id, @attempt);

-- name: AlertWebhookRecord :exec
-- AlertWebhookRecord records an attempt's outcome: delivered, retried at @next_attempt_at, or
-- failed for good; only while this attempt still holds the lease (attempts unchanged).
WITH d AS (
    UPDATE app.alert_deliveries d
    SET status = @status, last_http_status = sqlc.narg('http_status'), last_error = sqlc.narg('error'),
        next_attempt_at = @next_attempt_at,
        delivered_at = CASE WHEN @status = 'delivered' THEN now() END
    WHERE d.tenant_id = @tenant_id AND d.id = @delivery_id AND d.attempts = @attempt AND d.status = 'sending'
    RETURNING d.id
)
UPDATE app.alert_attempts a
SET finished_at = now(), http_status = sqlc.narg('http_status'), error = sqlc.narg('error')
WHERE a.tenant_id = @tenant_id AND a.delivery_id = @delivery_id AND a.attempt = @attempt;

-- name: AlertDeliveryLog :many
-- AlertDeliveryLog is a tenant's latest alert deliveries with their alerts, for its admins and
-- staff (row-level security; an e-mail's state, attempts and error come from the mail queue; its
-- delivered_at is NULL: the mail queue's send log has it).
SELECT d.id, d.event_id, d.conversation_id, d.kind, d.channel, d.target,
       (CASE WHEN d.channel = 'webhook' THEN d.status ELSE coalesce(m.status, 'failed') END)::text AS status,
       (CASE WHEN d.channel = 'webhook' THEN d.attempts ELSE coalesce(m.attempts, 0) END)::integer AS attempts,
       d.last_http_status,
       coalesce(CASE WHEN d.channel = 'webhook' THEN d.last_error ELSE m.last_error END, '')::text AS last_error,
       d.created_at,
       d.delivered_at,
       a.display_id, a.contact_name, a.fired_at
FROM app.alert_deliveries d
LEFT JOIN analytics.alerts a ON a.tenant_id = d.tenant_id AND a.event_id = d.event_id
LEFT JOIN LATERAL (SELECT i.status::text AS status, i.attempts::integer AS attempts, i.last_error::text AS last_error
                   FROM app.alert_mail_info(d.tenant_id, d.mail_id) i) m ON d.channel = 'email'
WHERE d.tenant_id = @tenant_id
ORDER BY d.created_at DESC, d.id DESC
LIMIT @max_rows;

-- name: AlertWebhookQueueDepth :one
-- AlertWebhookQueueDepth is the webhook delivery queue as /metrics shows it (staff): deliveries
-- waiting (queued), in flight (sending), and how long the oldest due one has waited past its due
-- time (0 when none is). Reads only the rows of the due index.
SELECT count(*) FILTER (WHERE d.status = 'queued')::bigint AS queued,
       count(*) FILTER (WHERE d.status = 'sending')::bigint AS sending,
       coalesce(extract(epoch FROM now() - min(d.next_attempt_at)
                        FILTER (WHERE d.status = 'queued' AND d.next_attempt_at <= now())), 0)::float8
           AS oldest_due_seconds
FROM app.alert_deliveries d
WHERE d.channel = 'webhook' AND d.status IN ('queued', 'sending');

-- name: AlertRecipientLanguages :many
-- AlertRecipientLanguages is the stored language of the alert addresses that are users of the
-- tenant in context.
SELECT r.email::text AS email, r.language::text AS language
FROM app.alert_recipient_languages(@emails::text[]) AS r;

-- name: AlertTenantsWanted :many
-- AlertTenantsWanted keeps, of the given tenants, those whose alerts are on with somewhere to
-- send them (etl.alerting_tenants): the only ones AlertsFire can fire for.
SELECT w.tenant_id::bigint AS tenant_id
FROM etl.alerting_tenants(@tenant_ids::bigint[]) AS w(tenant_id);
