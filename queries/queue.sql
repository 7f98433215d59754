-- The queue of conversations awaiting a person (docs/metrics.md, speed to lead): a state as of
-- the tenant's last sync, read from the columns the ETL stores (waiting_since, waiting_due_at,
-- window_closes_at). The sync time is the source's clock when the last successful run checked it
-- (etl.watermarks.source_checked_at); every wait and window is measured against it.
-- The state filter: NULL (all), past_sla (the wait exceeds the SLA target in business time),
-- window_closing (the WhatsApp window closes within 2 hours), window_closed.

-- name: QueueSyncedAt :one
-- QueueSyncedAt is the tenant's sync time (NULL before its first successful run).
SELECT w.source_checked_at AS synced_at
FROM etl.watermarks w
WHERE w.tenant_id = @tenant_id;

-- name: QueuePage :many
-- QueuePage lists awaiting conversations oldest wait first, keyset-paginated on
-- (waiting_since, conversation_id), with the wait in business seconds, the window's end, the
-- funnel stage and the contact's last message.
SELECT c.conversation_id, c.display_id, c.account_id, c.inbox_id, c.channel_type, c.status,
       c.contact_name, c.contact_phone, c.labels, c.is_lead, c.is_visit, c.is_converted,
       c.waiting_since::timestamptz AS waiting_since, c.waiting_due_at, c.window_closes_at,
       c.handoff_requested_at, c.last_contact_at,
       coalesce(analytics.business_seconds(c.waiting_since, sqlc.arg('synced_at')::timestamptz,
                                           coalesce(ib.timezone, tn.timezone), ib.week), 0)::float8 AS wait_business_seconds,
       coalesce(c.waiting_due_at < sqlc.arg('synced_at')::timestamptz, false)::boolean AS past_sla,
       coalesce(tr.message_contents[lc.i], '')::text AS last_contact_message,
       coalesce(tr.message_deleted[lc.i], false)::boolean AS last_contact_message_deleted
FROM analytics.conversations c
-- The tenant's timezone as a one-row sub-select, not a join: app.tenants is a coordinator table on
-- Citus, which evaluates the sub-select first and sends its value to the tenant's worker.
CROSS JOIN (SELECT t.timezone FROM app.tenants t WHERE t.id = @tenant_id) tn
LEFT JOIN analytics.inboxes ib ON ib.tenant_id = c.tenant_id AND ib.inbox_id = c.inbox_id
LEFT JOIN analytics.transcripts tr ON tr.tenant_id = c.tenant_id AND tr.conversation_id = c.conversation_id
LEFT JOIN LATERAL (SELECT analytics.last_index_of(tr.message_senders, 'contact') AS i) lc ON true
WHERE c.tenant_id = @tenant_id AND c.waiting_since IS NOT NULL
  AND (sqlc.narg('inboxes')::integer[] IS NULL OR c.inbox_id = ANY (sqlc.narg('inboxes')::integer[]))
  AND (sqlc.narg('state')::text IS NULL
       OR (sqlc.narg('state')::text = 'past_sla' AND c.waiting_due_at < sqlc.arg('synced_at')::timestamptz)
       OR (sqlc.narg('state')::text = 'window_closing' AND c.window_closes_at > sqlc.arg('synced_at')::timestamptz
           AND c.window_closes_at <= sqlc.arg('synced_at')::timestamptz + interval '2 hours')
       OR (sqlc.narg('state')::text = 'window_closed' AND c.window_closes_at <= sqlc.arg('synced_at')::timestamptz))
  AND (sqlc.narg('after_since')::timestamptz IS NULL
       OR (c.waiting_since, c.conversation_id) > (sqlc.narg('after_since')::timestamptz, sqlc.narg('after_id')::integer))
ORDER BY c.waiting_since, c.conversation_id
LIMIT @page_size;

-- name: QueueCounts :one
-- QueueCounts counts the awaiting conversations of the chosen inboxes, in all and per state.
SELECT count(*)::bigint AS awaiting,
       count(*) FILTER (WHERE c.waiting_due_at < sqlc.arg('synced_at')::timestamptz)::bigint AS past_sla,
       count(*) FILTER (WHERE c.window_closes_at > sqlc.arg('synced_at')::timestamptz
                          AND c.window_closes_at <= sqlc.arg('synced_at')::timestamptz + interval '2 hours')::bigint AS window_closing,
       count(*) FILTER (WHERE c.window_closes_at <= sqlc.arg('synced_at')::timestamptz)::bigint AS window_closed
FROM analytics.conversations c
WHERE c.tenant_id = @tenant_id AND c.waiting_since IS NOT NULL
  AND (sqlc.narg('inboxes')::integer[] IS NULL OR c.inbox_id = ANY (sqlc.narg('inboxes')::integer[]));

-- name: TenantSLASeconds :one
-- TenantSLASeconds is the tenant's SLA target for the first wait for a person (business seconds).
SELECT s.sla_seconds FROM app.tenant_settings s WHERE s.tenant_id = @tenant_id;
