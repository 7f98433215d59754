-- Dashboard and explorer queries. Every one selects the tenant's conversations of the period that
-- pass analytics.conversation_matches(...), the single definition of "the conversations behind a
-- number", so a KPI and its drill-down list always agree (a predicate on the table, not a
-- set-returning function: Citus routes a query to the tenant's shard only when it sees the table).
-- Percentiles come back as NaN when there is nothing to rank (sqlc cannot type a
-- nullable aggregate); internal/dashboard turns NaN into "no value".

-- name: DashboardSummary :one
-- DashboardSummary computes every KPI of the filtered conversations; durations in business time
-- when @business (docs/metrics.md). SLA states are judged at the tenant's target and sync time.
SELECT count(*)::bigint AS conversations,
       count(*) FILTER (WHERE c.contact_messages > 0)::bigint AS with_contact,
       count(*) FILTER (WHERE c.is_lead)::bigint AS leads,
       count(*) FILTER (WHERE c.is_visit)::bigint AS visits,
       count(*) FILTER (WHERE c.is_converted)::bigint AS conversions,
       count(*) FILTER (WHERE c.unanswered)::bigint AS unanswered,
       count(*) FILTER (WHERE c.unanswered AND c.is_lead)::bigint AS unanswered_leads,
       count(c.first_reply_seconds)::bigint AS replied,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END), 'NaN')::float8 AS first_reply_p50,
       coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END), 'NaN')::float8 AS first_reply_p90,
       coalesce(avg(CASE WHEN @business::boolean THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END), 'NaN')::float8 AS first_reply_avg,
       count(c.first_human_reply_seconds)::bigint AS human_replied,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_human_reply_business_seconds ELSE c.first_human_reply_seconds END), 'NaN')::float8 AS first_human_reply_p50,
       coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_human_reply_business_seconds ELSE c.first_human_reply_seconds END), 'NaN')::float8 AS first_human_reply_p90,
       count(*) FILTER (WHERE c.resolved)::bigint AS resolved,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.resolution_business_seconds ELSE c.resolution_seconds END), 'NaN')::float8 AS resolution_p50,
       count(*) FILTER (WHERE c.bot_resolved)::bigint AS bot_resolved,
       count(*) FILTER (WHERE c.bot_messages > 0)::bigint AS with_bot,
       count(*) FILTER (WHERE c.handoff)::bigint AS handoffs,
       count(c.csat_rating)::bigint AS csat_responses,
       count(*) FILTER (WHERE c.csat_rating >= 4)::bigint AS csat_satisfied,
       count(c.handoff_requested_at)::bigint AS handoff_requests,
       count(c.human_wait_seconds)::bigint AS human_waits,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.human_wait_business_seconds ELSE c.human_wait_seconds END), 'NaN')::float8 AS human_wait_p50,
       coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.human_wait_business_seconds ELSE c.human_wait_seconds END), 'NaN')::float8 AS human_wait_p90,
       count(*) FILTER (WHERE analytics.sla_state(c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at, x.sla_seconds, x.synced_at) = 'within')::bigint AS sla_within,
       count(*) FILTER (WHERE analytics.sla_state(c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at, x.sla_seconds, x.synced_at) = 'missed')::bigint AS sla_missed
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean);

-- name: DashboardDaily :many
-- DashboardDaily is the daily volume per inbox (the page sums inboxes unless stacked).
SELECT c.created_day AS day, c.inbox_id,
       count(*)::bigint AS conversations,
       count(*) FILTER (WHERE c.is_lead)::bigint AS leads
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean)
GROUP BY c.created_day, c.inbox_id
ORDER BY c.created_day, c.inbox_id;

-- name: DashboardFirstReplyBuckets :many
-- DashboardFirstReplyBuckets is the first-reply time distribution (analytics.frt_bucket).
SELECT analytics.frt_bucket(CASE WHEN @business::boolean THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END)::smallint AS bucket,
       count(*)::bigint AS conversations
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean)
  AND c.first_reply_seconds IS NOT NULL
GROUP BY 1
ORDER BY 1;

-- name: DashboardHeatmap :many
-- DashboardHeatmap counts conversations by weekday (0 = Sunday) and hour, tenant timezone.
SELECT c.created_dow AS dow, c.created_hour AS hour, count(*)::bigint AS conversations
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean)
GROUP BY c.created_dow, c.created_hour
ORDER BY c.created_dow, c.created_hour;

-- name: DashboardByInbox :many
-- DashboardByInbox is the per-inbox table.
SELECT c.inbox_id, max(c.channel_type)::text AS channel_type,
       count(*)::bigint AS conversations,
       count(*) FILTER (WHERE c.is_lead)::bigint AS leads,
       count(*) FILTER (WHERE c.is_visit)::bigint AS visits,
       count(*) FILTER (WHERE c.is_converted)::bigint AS conversions,
       count(*) FILTER (WHERE c.unanswered AND c.is_lead)::bigint AS unanswered_leads,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END), 'NaN')::float8 AS first_reply_p50
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean)
GROUP BY c.inbox_id
ORDER BY count(*) DESC, c.inbox_id;

-- name: DashboardByLabel :many
-- DashboardByLabel is the per-label table (a conversation counts under each of its labels).
SELECT l.label::text AS label,
       count(*)::bigint AS conversations,
       count(*) FILTER (WHERE c.is_lead)::bigint AS leads,
       count(*) FILTER (WHERE c.is_converted)::bigint AS conversions
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
CROSS JOIN LATERAL unnest(c.labels) AS l(label)
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean)
GROUP BY l.label
ORDER BY count(*) DESC, l.label;

-- name: DashboardCSAT :many
-- DashboardCSAT is the distribution of latest CSAT ratings.
SELECT c.csat_rating::smallint AS rating, count(*)::bigint AS conversations
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean)
  AND c.csat_rating IS NOT NULL
GROUP BY c.csat_rating
ORDER BY c.csat_rating;

-- name: ConversationPage :many
-- ConversationPage lists filtered conversations newest first, keyset-paginated on
-- (created_at, conversation_id): pass the last row's values to get the next page.
SELECT c.conversation_id, c.display_id, c.inbox_id, c.channel_type, c.status, c.contact_name, c.contact_phone,
       c.labels, c.created_at, c.last_activity_at, c.contact_messages, c.bot_messages, c.human_messages,
       c.first_reply_seconds, c.first_human_reply_seconds, c.resolution_seconds, c.unanswered, c.resolved,
       c.handoff, c.bot_resolved, c.csat_rating, c.is_lead, c.is_visit, c.is_converted,
       c.first_reply_business_seconds, c.first_human_reply_business_seconds, c.resolution_business_seconds,
       c.handoff_requested_at, c.human_wait_seconds, c.human_wait_business_seconds,
       coalesce(analytics.sla_state(c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds,
                                    c.human_wait_due_at, x.sla_seconds, x.synced_at), '')::text AS sla,
       c.waiting_since, c.window_closes_at
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean)
  AND (sqlc.narg('after_created')::timestamptz IS NULL
       OR (c.created_at, c.conversation_id) < (sqlc.narg('after_created')::timestamptz, sqlc.narg('after_id')::integer))
ORDER BY c.created_at DESC, c.conversation_id DESC
LIMIT @page_size;

-- name: ConversationCount :one
-- ConversationCount counts the filtered conversations (the list header and drill-down checks).
SELECT count(*)::bigint FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean);

-- name: ConversationGet :one
-- ConversationGet is one conversation with every metric; RLS hides other tenants' rows.
SELECT c.conversation_id, c.display_id, c.account_id, c.inbox_id, c.channel_type, c.status, c.priority,
       c.contact_name, c.contact_phone, c.labels, c.created_at, c.last_activity_at, c.created_day,
       c.contact_messages, c.bot_messages, c.human_messages, c.private_notes, c.first_contact_at,
       c.first_reply_at, c.first_reply_seconds, c.first_human_reply_at, c.first_human_reply_seconds,
       c.last_message_at, c.unanswered, c.resolved, c.handoff, c.bot_resolved, c.resolution_seconds,
       c.csat_rating, c.csat_at, c.is_lead, c.is_visit, c.is_converted,
       c.first_reply_business_seconds, c.first_human_reply_business_seconds, c.resolution_business_seconds,
       c.handoff_requested_at, c.human_wait_from, c.human_wait_reply_at, c.human_wait_seconds,
       c.human_wait_business_seconds,
       coalesce(analytics.sla_state(c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds,
                                    c.human_wait_due_at, ts.sla_seconds, w.source_checked_at), '')::text AS sla,
       ts.sla_seconds, c.waiting_since, c.waiting_due_at, c.window_closes_at, w.source_checked_at AS synced_at
FROM analytics.conversations c
-- The settings as a one-row sub-select, not a join: a coordinator table on Citus, evaluated there
-- first and sent to the tenant's worker with the rest of the statement.
CROSS JOIN (SELECT s.sla_seconds FROM app.tenant_settings s WHERE s.tenant_id = @tenant_id) ts
LEFT JOIN etl.watermarks w ON w.tenant_id = c.tenant_id
WHERE c.tenant_id = @tenant_id AND c.conversation_id = @conversation_id;

-- name: ConversationTranscript :many
-- ConversationTranscript is the public transcript of a conversation, oldest first.
SELECT tr.message_ids[i]::integer AS message_id, tr.message_created_at[i]::timestamptz AS created_at,
       tr.message_senders[i]::text AS sender, tr.message_types[i]::smallint AS message_type,
       tr.message_contents[i]::text AS content, tr.message_deleted[i]::boolean AS deleted
FROM analytics.transcripts tr, generate_subscripts(tr.message_ids, 1) AS i
WHERE tr.tenant_id = @tenant_id AND tr.conversation_id = @conversation_id
ORDER BY i;

-- name: TenantInboxNames :many
-- TenantInboxNames lists a tenant's inboxes for filters and tables.
SELECT i.inbox_id, i.inbox_name, i.channel_type, i.account_id
FROM app.tenant_inboxes i
WHERE i.tenant_id = @tenant_id
ORDER BY i.inbox_name, i.inbox_id;

-- name: DashboardVersion :one
-- DashboardVersion is what a cached dashboard result depends on besides its filter and the
-- asker: the tenant's data version (moved by every sync that merged), when its record and
-- settings last changed (timezone, funnel rules, branding), its inboxes as the filters list them,
-- the last successful sync (shown, not part of the version), and when the source was last
-- checked (part of the version: the SLA states are judged at that moment, and an unchanged check
-- moves it without a new data version). No row: the tenant is not visible to the asker.
-- The watermark through etl.watermark_of, not a join: on Citus app.* are coordinator tables and
-- etl.watermarks is distributed, which Citus cannot join in one statement with an outer join; the
-- function runs its read as one router query on the tenant's worker.
SELECT tn.updated_at AS tenant_updated_at,
       ts.updated_at AS settings_updated_at,
       coalesce(w.data_version, 0)::bigint AS data_version,
       coalesce((SELECT md5(string_agg(concat_ws(',', i.inbox_id, i.inbox_name, i.channel_type), ';' ORDER BY i.inbox_id))
                 FROM app.tenant_inboxes i WHERE i.tenant_id = tn.id), '')::text AS inboxes,
       w.last_success_at,
       w.source_checked_at
FROM app.tenants tn
LEFT JOIN app.tenant_settings ts ON ts.tenant_id = tn.id
LEFT JOIN LATERAL etl.watermark_of(tn.id) w ON true
WHERE tn.id = @tenant_id;

-- name: TenantSyncTimes :one
-- TenantSyncTimes is when the tenant's data was last refreshed by a successful ETL run, and when
-- its source was last checked (the queue's waits and the SLA states are judged at that moment).
SELECT w.last_success_at, w.source_checked_at
FROM etl.watermarks w
WHERE w.tenant_id = @tenant_id;

-- Rollup path: the same numbers from analytics.daily_stats, daily_hist, tenant_daily_hist and
-- daily_labels, for filters that only name a period and inboxes (a channel is a set of inboxes).
-- A large tenant's dashboard then reads a few hundred rollup rows instead of scanning its
-- conversations.

-- The rollup statements come in pairs, one per table: the tenant-level rows (no inbox chosen) and
-- the chosen inboxes' rows. One statement over both tables, with the unused side switched off by a
-- NULL test, cost three times the planning of either, and under row-level security the planner
-- keeps the switched-off side in the plan (the policy leaves two conditions on it, so it is no
-- longer a lone constant false to discard): the tenant role paid a quarter more for the same
-- figures (docs/adr/032-rollup-statements-per-table.md).

-- name: RollupSummaryTenant :many
-- RollupSummaryTenant sums the tenant-level daily rollups (every inbox) of two adjacent periods
-- in one pass, a row for each period that has rows: current is the days from cur_from to to_day,
-- the others (from_day to the day before cur_from) the period it is compared with. from_day =
-- cur_from reads the current period alone.
SELECT (t.day >= @cur_from::date) AS current,
       coalesce(sum(t.conversations), 0)::bigint AS conversations,
       coalesce(sum(t.leads), 0)::bigint AS leads,
       coalesce(sum(t.visits), 0)::bigint AS visits,
       coalesce(sum(t.conversions), 0)::bigint AS conversions,
       coalesce(sum(t.unanswered), 0)::bigint AS unanswered,
       coalesce(sum(t.unanswered_leads), 0)::bigint AS unanswered_leads,
       coalesce(sum(t.first_reply_count), 0)::bigint AS replied,
       coalesce(sum(t.first_human_reply_count), 0)::bigint AS human_replied,
       coalesce(sum(t.resolved), 0)::bigint AS resolved,
       coalesce(sum(t.bot_resolved), 0)::bigint AS bot_resolved,
       coalesce(sum(t.with_bot), 0)::bigint AS with_bot,
       coalesce(sum(t.handoffs), 0)::bigint AS handoffs,
       coalesce(sum(t.csat_responses), 0)::bigint AS csat_responses,
       coalesce(sum(t.csat_satisfied), 0)::bigint AS csat_satisfied,
       coalesce(sum(t.first_reply_sum), 0)::float8 AS first_reply_sum,
       coalesce(sum(t.first_reply_lt_1m), 0)::bigint AS frt0,
       coalesce(sum(t.first_reply_1m_5m), 0)::bigint AS frt1,
       coalesce(sum(t.first_reply_5m_15m), 0)::bigint AS frt2,
       coalesce(sum(t.first_reply_15m_1h), 0)::bigint AS frt3,
       coalesce(sum(t.first_reply_1h_4h), 0)::bigint AS frt4,
       coalesce(sum(t.first_reply_4h_24h), 0)::bigint AS frt5,
       coalesce(sum(t.first_reply_gt_24h), 0)::bigint AS frt6,
       coalesce(sum(t.csat_1), 0)::bigint AS csat1,
       coalesce(sum(t.csat_2), 0)::bigint AS csat2,
       coalesce(sum(t.csat_3), 0)::bigint AS csat3,
       coalesce(sum(t.csat_4), 0)::bigint AS csat4,
       coalesce(sum(t.csat_5), 0)::bigint AS csat5,
       coalesce(sum(t.first_reply_business_sum), 0)::float8 AS first_reply_business_sum,
       coalesce(sum(t.first_reply_business_lt_1m), 0)::bigint AS frtb0,
       coalesce(sum(t.first_reply_business_1m_5m), 0)::bigint AS frtb1,
       coalesce(sum(t.first_reply_business_5m_15m), 0)::bigint AS frtb2,
       coalesce(sum(t.first_reply_business_15m_1h), 0)::bigint AS frtb3,
       coalesce(sum(t.first_reply_business_1h_4h), 0)::bigint AS frtb4,
       coalesce(sum(t.first_reply_business_4h_24h), 0)::bigint AS frtb5,
       coalesce(sum(t.first_reply_business_gt_24h), 0)::bigint AS frtb6,
       coalesce(sum(t.handoff_requests), 0)::bigint AS handoff_requests,
       coalesce(sum(t.human_wait_count), 0)::bigint AS human_waits,
       coalesce(sum(t.sla_within), 0)::bigint AS sla_within,
       coalesce(sum(t.sla_late), 0)::bigint AS sla_late
FROM analytics.tenant_daily_stats t
WHERE t.tenant_id = @tenant_id AND t.day BETWEEN @from_day AND @to_day
GROUP BY 1;

-- name: RollupSummaryInboxes :many
-- RollupSummaryInboxes is RollupSummaryTenant over the chosen inboxes' daily rollups.
SELECT (s.day >= @cur_from::date) AS current,
       coalesce(sum(s.conversations), 0)::bigint AS conversations,
       coalesce(sum(s.leads), 0)::bigint AS leads,
       coalesce(sum(s.visits), 0)::bigint AS visits,
       coalesce(sum(s.conversions), 0)::bigint AS conversions,
       coalesce(sum(s.unanswered), 0)::bigint AS unanswered,
       coalesce(sum(s.unanswered_leads), 0)::bigint AS unanswered_leads,
       coalesce(sum(s.first_reply_count), 0)::bigint AS replied,
       coalesce(sum(s.first_human_reply_count), 0)::bigint AS human_replied,
       coalesce(sum(s.resolved), 0)::bigint AS resolved,
       coalesce(sum(s.bot_resolved), 0)::bigint AS bot_resolved,
       coalesce(sum(s.with_bot), 0)::bigint AS with_bot,
       coalesce(sum(s.handoffs), 0)::bigint AS handoffs,
       coalesce(sum(s.csat_responses), 0)::bigint AS csat_responses,
       coalesce(sum(s.csat_satisfied), 0)::bigint AS csat_satisfied,
       coalesce(sum(s.first_reply_sum), 0)::float8 AS first_reply_sum,
       coalesce(sum(s.first_reply_lt_1m), 0)::bigint AS frt0,
       coalesce(sum(s.first_reply_1m_5m), 0)::bigint AS frt1,
       coalesce(sum(s.first_reply_5m_15m), 0)::bigint AS frt2,
       coalesce(sum(s.first_reply_15m_1h), 0)::bigint AS frt3,
       coalesce(sum(s.first_reply_1h_4h), 0)::bigint AS frt4,
       coalesce(sum(s.first_reply_4h_24h), 0)::bigint AS frt5,
       coalesce(sum(s.first_reply_gt_24h), 0)::bigint AS frt6,
       coalesce(sum(s.csat_1), 0)::bigint AS csat1,
       coalesce(sum(s.csat_2), 0)::bigint AS csat2,
       coalesce(sum(s.csat_3), 0)::bigint AS csat3,
       coalesce(sum(s.csat_4), 0)::bigint AS csat4,
       coalesce(sum(s.csat_5), 0)::bigint AS csat5,
       coalesce(sum(s.first_reply_business_sum), 0)::float8 AS first_reply_business_sum,
       coalesce(sum(s.first_reply_business_lt_1m), 0)::bigint AS frtb0,
       coalesce(sum(s.first_reply_business_1m_5m), 0)::bigint AS frtb1,
       coalesce(sum(s.first_reply_business_5m_15m), 0)::bigint AS frtb2,
       coalesce(sum(s.first_reply_business_15m_1h), 0)::bigint AS frtb3,
       coalesce(sum(s.first_reply_business_1h_4h), 0)::bigint AS frtb4,
       coalesce(sum(s.first_reply_business_4h_24h), 0)::bigint AS frtb5,
       coalesce(sum(s.first_reply_business_gt_24h), 0)::bigint AS frtb6,
       coalesce(sum(s.handoff_requests), 0)::bigint AS handoff_requests,
       coalesce(sum(s.human_wait_count), 0)::bigint AS human_waits,
       coalesce(sum(s.sla_within), 0)::bigint AS sla_within,
       coalesce(sum(s.sla_late), 0)::bigint AS sla_late
FROM analytics.daily_stats s
WHERE s.tenant_id = @tenant_id AND s.inbox_id = ANY (@inboxes::integer[]) AND s.day BETWEEN @from_day AND @to_day
GROUP BY 1;

-- name: RollupPeriodSize :one
-- RollupPeriodSize is the tenant's conversations created in a period, every inbox: what a ranking
-- scan walks (the index leads with the day), whichever inboxes it keeps.
SELECT coalesce(sum(t.conversations), 0)::bigint AS conversations
FROM analytics.tenant_daily_stats t
WHERE t.tenant_id = @tenant_id AND t.day BETWEEN @from_day AND @to_day;

-- name: DashboardPercentiles :many
-- DashboardPercentiles is the exact medians and p90 of the filtered conversations, over all of
-- them (all_inboxes = 1) and per inbox: the one scan of the rollup path, for periods small enough
-- to rank exactly (counts, series and tables come from the rollups).
SELECT coalesce(c.inbox_id, 0)::integer AS inbox_id, grouping(c.inbox_id)::integer AS all_inboxes,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END), 'NaN')::float8 AS first_reply_p50,
       coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END), 'NaN')::float8 AS first_reply_p90,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_human_reply_business_seconds ELSE c.first_human_reply_seconds END), 'NaN')::float8 AS first_human_reply_p50,
       coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.first_human_reply_business_seconds ELSE c.first_human_reply_seconds END), 'NaN')::float8 AS first_human_reply_p90,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.resolution_business_seconds ELSE c.resolution_seconds END), 'NaN')::float8 AS resolution_p50,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.human_wait_business_seconds ELSE c.human_wait_seconds END), 'NaN')::float8 AS human_wait_p50,
       coalesce(percentile_cont(0.9) WITHIN GROUP (ORDER BY CASE WHEN @business::boolean THEN c.human_wait_business_seconds ELSE c.human_wait_seconds END), 'NaN')::float8 AS human_wait_p90
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = @tenant_id) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id) AS synced_at) x
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
        @business::boolean, x.sla_seconds, x.synced_at, @search_all::boolean)
GROUP BY GROUPING SETS ((), (c.inbox_id))
ORDER BY 2 DESC, 1;

-- name: RollupDailyTenant :many
-- RollupDailyTenant is the daily volume over every inbox (inbox_id 0), from the tenant-level
-- rollups.
SELECT t.day, t.inbox_id, t.conversations::bigint AS conversations, t.leads::bigint AS leads
FROM analytics.tenant_daily_stats t
WHERE t.tenant_id = @tenant_id AND t.day BETWEEN @from_day AND @to_day
ORDER BY t.day;

-- name: RollupDailyInboxes :many
-- RollupDailyInboxes is the daily volume per inbox: the chosen inboxes (NULL: every inbox, for
-- the chart stacked by inbox).
SELECT s.day, s.inbox_id, s.conversations::bigint AS conversations, s.leads::bigint AS leads
FROM analytics.daily_stats s
WHERE s.tenant_id = @tenant_id AND s.day BETWEEN @from_day AND @to_day
  AND (sqlc.narg('inboxes')::integer[] IS NULL OR s.inbox_id = ANY (sqlc.narg('inboxes')::integer[]))
ORDER BY s.day, s.inbox_id;

-- name: RollupByInbox :many
-- RollupByInbox is the per-inbox table from the rollups.
SELECT d.inbox_id, sum(d.conversations)::bigint AS conversations, sum(d.leads)::bigint AS leads,
       sum(d.visits)::bigint AS visits, sum(d.conversions)::bigint AS conversions,
       sum(d.unanswered_leads)::bigint AS unanswered_leads
FROM analytics.daily_stats d
WHERE d.tenant_id = @tenant_id AND d.day BETWEEN @from_day AND @to_day
  AND (sqlc.narg('inboxes')::integer[] IS NULL OR d.inbox_id = ANY (sqlc.narg('inboxes')::integer[]))
GROUP BY d.inbox_id
ORDER BY sum(d.conversations) DESC, d.inbox_id;

-- name: RollupTenantHist :many
-- RollupTenantHist is the period's histograms over every inbox, one row per day and metric
-- (metrics 1-3 reply and resolution times, 4 hour of creation; see analytics.daily_hist), with
-- the first reply of every inbox packed (by_inbox) when asked: as arrays, PostgreSQL would encode
-- those entries one by one, several times the cost of the rest of the dashboard for a tenant with
-- hundreds of inboxes (docs/adr/013-dashboard-histogram-encoding.md).
SELECT h.day, h.metric, h.buckets, h.counts, (CASE WHEN @by_inbox::boolean THEN h.by_inbox END)::bytea AS by_inbox
FROM analytics.tenant_daily_hist h
WHERE h.tenant_id = @tenant_id AND h.day BETWEEN @from_day AND @to_day AND h.metric = ANY (@metrics::smallint[]);

-- name: RollupInboxHist :many
-- RollupInboxHist is the period's histograms of the chosen inboxes, one row per day, inbox and
-- metric.
SELECT h.day, h.inbox_id, h.metric, h.buckets, h.counts
FROM analytics.daily_hist h
WHERE h.tenant_id = @tenant_id AND h.inbox_id = ANY (@inboxes::integer[]) AND h.day BETWEEN @from_day AND @to_day
  AND h.metric = ANY (@metrics::smallint[]);

-- name: RollupLabelsTenant :many
-- RollupLabelsTenant is the per-label table from the tenant-level rollups (every inbox).
SELECT t.label, sum(t.conversations)::bigint AS conversations, sum(t.leads)::bigint AS leads,
       sum(t.conversions)::bigint AS conversions
FROM analytics.tenant_daily_labels t
WHERE t.tenant_id = @tenant_id AND t.day BETWEEN @from_day AND @to_day
GROUP BY t.label
ORDER BY sum(t.conversations) DESC, t.label;

-- name: RollupLabelsInboxes :many
-- RollupLabelsInboxes is the per-label table from the chosen inboxes' rollups.
SELECT s.label, sum(s.conversations)::bigint AS conversations, sum(s.leads)::bigint AS leads,
       sum(s.conversions)::bigint AS conversions
FROM analytics.daily_labels s
WHERE s.tenant_id = @tenant_id AND s.inbox_id = ANY (@inboxes::integer[]) AND s.day BETWEEN @from_day AND @to_day
GROUP BY s.label
ORDER BY sum(s.conversations) DESC, s.label;

-- name: RollupSlaUnansweredMissed :one
-- RollupSlaUnansweredMissed counts the first waits for a person still unanswered past the SLA
-- target at the tenant's sync time (the part of "missed" the daily rollups cannot hold: it grows
-- with the clock), for the chosen inboxes (NULL: all), in two adjacent periods at once: cur from
-- cur_from to to_day, prev from from_day to the day before.
SELECT count(*) FILTER (WHERE c.created_day >= @cur_from::date)::bigint AS cur,
       count(*) FILTER (WHERE c.created_day < @cur_from::date)::bigint AS prev
FROM analytics.conversations c
WHERE c.tenant_id = @tenant_id AND c.created_day BETWEEN @from_day AND @to_day
  AND c.human_wait_from IS NOT NULL AND c.human_wait_reply_at IS NULL
  AND c.human_wait_due_at < (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = @tenant_id)
  AND (sqlc.narg('inboxes')::integer[] IS NULL OR c.inbox_id = ANY (sqlc.narg('inboxes')::integer[]));

-- name: PlanPerCall :exec
-- PlanPerCall makes the rest of the transaction plan each statement with its actual parameters
-- (plan_cache_mode, transaction-local). The list's keyset pages need it: a cached generic plan
-- cannot see which filters are NULL or where the cursor is, and sorted a large tenant's whole
-- period for every page (0.5 s a page at 150,000 conversations, against 7 ms planned per call).
SELECT set_config('plan_cache_mode', 'force_custom_plan', true);

-- name: TenantLabels :many
-- TenantLabels lists every label the tenant's conversations carry (for the label picker), most
-- used first. Read from the daily label rollups, so it costs days × labels rows, not conversations.
SELECT l.label::text AS label
FROM analytics.tenant_daily_labels l
WHERE l.tenant_id = @tenant_id
GROUP BY l.label
ORDER BY sum(l.conversations) DESC, l.label;

-- name: ConversationPageSorted :many
-- ConversationPageSorted is ConversationPage under any sort of the list: sort_key is the sort
-- column times sign (+1 ascending, -1 descending), NULL last either way; ties newest first.
-- Keyset on (sort_key, -created µs, -id) after the cursor; with rev = -1 the order is reversed
-- and the rows before the cursor come (the previous page, read backwards; Go turns it round).
SELECT c.conversation_id, c.display_id, c.inbox_id, c.channel_type, c.status, c.contact_name, c.contact_phone,
       c.labels, c.created_at, c.last_activity_at, c.contact_messages, c.bot_messages, c.human_messages,
       c.first_reply_seconds, c.first_human_reply_seconds, c.resolution_seconds, c.unanswered, c.resolved,
       c.handoff, c.bot_resolved, c.csat_rating, c.is_lead, c.is_visit, c.is_converted, c.sort_key, c.created_us
FROM (SELECT f.*,
            coalesce(sqlc.arg('sign')::bigint * (CASE sqlc.arg('sort_by')::text
                WHEN 'first_reply' THEN f.first_reply_seconds::bigint
                WHEN 'first_human_reply' THEN f.first_human_reply_seconds::bigint
                WHEN 'csat' THEN f.csat_rating::bigint
                WHEN 'funnel' THEN (CASE WHEN f.is_converted THEN 3 WHEN f.is_visit THEN 2 WHEN f.is_lead THEN 1 ELSE 0 END)::bigint
                ELSE (extract(epoch FROM f.created_at) * 1000000)::bigint END),
              9223372036854775807)::bigint AS sort_key,
            (extract(epoch FROM f.created_at) * 1000000)::bigint AS created_us
      FROM analytics.conversations f
            CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = sqlc.arg('tenant_id')) AS sla_seconds,
                               (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = sqlc.arg('tenant_id')) AS synced_at) x
            WHERE f.tenant_id = sqlc.arg('tenant_id') AND f.created_day BETWEEN sqlc.arg('from_day') AND sqlc.arg('to_day')
              AND analytics.conversation_matches(f.inbox_id, f.channel_type, f.labels, f.status, f.is_lead, f.is_visit, f.is_converted,
                    f.unanswered, f.first_reply_seconds, f.first_reply_business_seconds, f.first_human_reply_seconds,
                    f.resolved, f.bot_resolved, f.bot_messages, f.handoff, f.handoff_requested_at, f.human_wait_seconds,
                    f.human_wait_from, f.human_wait_reply_at, f.human_wait_business_seconds, f.human_wait_due_at,
                    f.csat_rating, f.created_dow, f.created_hour, f.contact_name, f.contact_phone, f.search, f.display_id,
                    sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
                    sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
                    false, x.sla_seconds, x.synced_at, sqlc.arg('search_all')::boolean)) c
WHERE (sqlc.narg('after_key')::bigint IS NULL
       OR (sqlc.arg('rev')::bigint * c.sort_key, sqlc.arg('rev')::bigint * -c.created_us, sqlc.arg('rev')::bigint * -c.conversation_id::bigint)
          > (sqlc.arg('rev')::bigint * sqlc.narg('after_key')::bigint, sqlc.arg('rev')::bigint * -sqlc.narg('after_us')::bigint,
             sqlc.arg('rev')::bigint * -sqlc.narg('after_id')::bigint))
ORDER BY sqlc.arg('rev')::bigint * c.sort_key, sqlc.arg('rev')::bigint * -c.created_us, sqlc.arg('rev')::bigint * -c.conversation_id::bigint
LIMIT sqlc.arg('page_size');

-- name: ConversationRank :one
-- ConversationRank counts the filtered conversations that sort before a position of the list
-- under the same sort as ConversationPageSorted (the "51–100 de 466" of a later page).
SELECT count(*)::bigint
FROM (SELECT f.*,
            coalesce(sqlc.arg('sign')::bigint * (CASE sqlc.arg('sort_by')::text
                WHEN 'first_reply' THEN f.first_reply_seconds::bigint
                WHEN 'first_human_reply' THEN f.first_human_reply_seconds::bigint
                WHEN 'csat' THEN f.csat_rating::bigint
                WHEN 'funnel' THEN (CASE WHEN f.is_converted THEN 3 WHEN f.is_visit THEN 2 WHEN f.is_lead THEN 1 ELSE 0 END)::bigint
                ELSE (extract(epoch FROM f.created_at) * 1000000)::bigint END),
              9223372036854775807)::bigint AS sort_key,
            (extract(epoch FROM f.created_at) * 1000000)::bigint AS created_us
      FROM analytics.conversations f
            CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = sqlc.arg('tenant_id')) AS sla_seconds,
                               (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = sqlc.arg('tenant_id')) AS synced_at) x
            WHERE f.tenant_id = sqlc.arg('tenant_id') AND f.created_day BETWEEN sqlc.arg('from_day') AND sqlc.arg('to_day')
              AND analytics.conversation_matches(f.inbox_id, f.channel_type, f.labels, f.status, f.is_lead, f.is_visit, f.is_converted,
                    f.unanswered, f.first_reply_seconds, f.first_reply_business_seconds, f.first_human_reply_seconds,
                    f.resolved, f.bot_resolved, f.bot_messages, f.handoff, f.handoff_requested_at, f.human_wait_seconds,
                    f.human_wait_from, f.human_wait_reply_at, f.human_wait_business_seconds, f.human_wait_due_at,
                    f.csat_rating, f.created_dow, f.created_hour, f.contact_name, f.contact_phone, f.search, f.display_id,
                    sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
                    sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), sqlc.narg('search'),
                    false, x.sla_seconds, x.synced_at, sqlc.arg('search_all')::boolean)) c
WHERE (c.sort_key, -c.created_us, -c.conversation_id::bigint)
      < (sqlc.arg('at_key')::bigint, -sqlc.arg('at_us')::bigint, -sqlc.arg('at_id')::bigint);

-- name: ConversationByNumber :many
-- ConversationByNumber finds the period's filtered conversations whose Chatwoot number is n (a
-- search for "#1374" or a bare 1374 lists them first).
SELECT c.conversation_id, c.display_id, c.inbox_id, c.contact_name, c.created_at
FROM analytics.conversations c
CROSS JOIN (SELECT (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = sqlc.arg('tenant_id')) AS sla_seconds,
                   (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = sqlc.arg('tenant_id')) AS synced_at) x
WHERE c.tenant_id = sqlc.arg('tenant_id') AND c.created_day BETWEEN sqlc.arg('from_day') AND sqlc.arg('to_day')
  AND analytics.conversation_matches(c.inbox_id, c.channel_type, c.labels, c.status, c.is_lead, c.is_visit, c.is_converted,
        c.unanswered, c.first_reply_seconds, c.first_reply_business_seconds, c.first_human_reply_seconds,
        c.resolved, c.bot_resolved, c.bot_messages, c.handoff, c.handoff_requested_at, c.human_wait_seconds,
        c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
        c.csat_rating, c.created_dow, c.created_hour, c.contact_name, c.contact_phone, c.search, c.display_id,
        sqlc.narg('inboxes')::integer[], sqlc.narg('channel'), sqlc.narg('label'), sqlc.narg('status'), sqlc.narg('stage'),
        sqlc.narg('flag'), sqlc.narg('frt_bucket'), sqlc.narg('dow'), sqlc.narg('hour'), sqlc.narg('csat'), NULL::text,
        false, x.sla_seconds, x.synced_at, false)
  AND c.display_id = sqlc.arg('number')::integer
ORDER BY c.created_at DESC
LIMIT 5;
