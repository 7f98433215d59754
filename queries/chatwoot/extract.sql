-- ETL source queries (internal/etl): read-only, every one filtered by the tenant's inbox ids
-- (docs/chatwoot.md, traps), except ExtractFingerprints, which returns per-inbox aggregates of every
-- inbox and is summed per tenant in Go. Chatwoot timestamps are UTC "timestamp without time zone"; each is
-- converted with AT TIME ZONE 'UTC' so Go and our database get timestamptz.

-- name: ExtractSourceColumns :many
-- ExtractSourceColumns lists the columns the source has among the tables the ETL reads, and
-- whether the connection may read each, so a missing column (an older Chatwoot) and a missing
-- grant (a reader role made for other tables) are reported by name before any extraction. It
-- reads pg_catalog: information_schema hides the columns a role may not read, which made a
-- missing grant look like an old Chatwoot.
SELECT c.relname::text AS table_name, a.attname::text AS column_name,
       has_column_privilege(c.oid, a.attnum, 'SELECT') AS readable
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
WHERE n.nspname = current_schema()
  AND c.relname = ANY (@tables::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0
  AND NOT a.attisdropped;

-- name: ExtractFingerprint :one
-- ExtractFingerprint is the source clock and a fingerprint of the inboxes' id set: how many
-- conversations, a hash sum of (id, updated_at) (etl.fingerprint_hash in our database: the same
-- 64-bit hash of the same microseconds, seeded with the id) and the newest updated_at. Equal
-- fingerprints mean the same ids with the same change markers.
SELECT now()::timestamptz AS source_now,
       count(*)::bigint AS conversations,
       coalesce(sum(timestamp_hash_extended(c.updated_at, c.id::bigint)) % 9223372036854775783, 0)::bigint AS hash,
       max(c.updated_at AT TIME ZONE 'UTC')::timestamptz AS max_updated_at
FROM conversations c
WHERE c.inbox_id = ANY (@inbox_ids::integer[]);

-- name: ExtractFingerprints :many
-- ExtractFingerprints is ExtractFingerprint for every inbox at once, one row per inbox that has
-- conversations: a pass over every tenant reads the table once instead of once per tenant (whose
-- inboxes' rows share pages with everyone else's). A tenant's fingerprint sums its inboxes'.
SELECT now()::timestamptz AS source_now, c.inbox_id,
       count(*)::bigint AS conversations,
       (sum(timestamp_hash_extended(c.updated_at, c.id::bigint)) % 9223372036854775783)::bigint AS hash,
       max(c.updated_at AT TIME ZONE 'UTC')::timestamptz AS max_updated_at
FROM conversations c
GROUP BY c.inbox_id;

-- name: ExtractConversationIDs :many
-- ExtractConversationIDs is the id set of every conversation of the inboxes, with its change
-- marker (conversations.updated_at moves with every message).
SELECT c.id AS conversation_id, (c.updated_at AT TIME ZONE 'UTC')::timestamptz AS updated_at
FROM conversations c
WHERE c.inbox_id = ANY (@inbox_ids::integer[]);

-- name: ExtractConversations :many
-- ExtractConversations returns, for the given conversations of the inboxes, the aggregates the
-- metrics need (docs/metrics.md) and the public transcript. Set-based per chunk: the chunk's messages
-- are read once (index on conversation_id), the first contact time is a window over them and
-- everything else one aggregate per conversation; labels, CSAT and reporting events (resolution,
-- bot handoff) are one grouped read each. A message or event counts only in its conversation's inbox.
-- The transcript (no private notes) is six parallel arrays, filled from the same rows in the
-- same order, in no particular order: the ETL sorts each conversation's messages. sender:
-- contact (incoming), bot (AgentBot, Captain::Assistant), human (User), system (other).
-- deleted: content_attributes.deleted (json ->> takes the last duplicate key, as jsonb would).
-- Every scan is driven by the id list alone and the inbox filter is applied above an OFFSET 0
-- fence: the planner multiplies the selectivities of "id in the list" and "inbox in the list"
-- as if independent (the ids are all of those inboxes), estimates a handful of rows and picks
-- nested loops that took 50 s per chunk on a 1M-conversation source.
WITH ev AS (
    -- Per conversation and inbox: its latest resolution and its latest bot handoff (the bot
    -- asked for a person); an event counts only in its conversation's inbox.
    SELECT re.conversation_id, re.inbox_id,
           max(re.event_end_time) FILTER (WHERE re.name = 'conversation_resolved') AS resolved_event_at,
           max(re.event_end_time) FILTER (WHERE re.name = 'conversation_bot_handoff') AS handoff_at
    FROM reporting_events re
    WHERE re.conversation_id = ANY (@ids::integer[])
      AND re.name IN ('conversation_resolved', 'conversation_bot_handoff')
    GROUP BY re.conversation_id, re.inbox_id
), conv AS (
    SELECT c.id, c.inbox_id, ev.handoff_at
    FROM conversations c
    LEFT JOIN ev ON ev.conversation_id = c.id AND ev.inbox_id = c.inbox_id
    WHERE c.id = ANY (@ids::integer[])
), msg AS (
    SELECT m.conversation_id, m.created_at, m.id, m.message_type, m.content, m.content_attributes, m.sender_type,
           conv.handoff_at,
           (NOT m.private AND m.inbox_id = conv.inbox_id) AS public,
           (m.private AND m.inbox_id = conv.inbox_id) AS private,
           (m.message_type = 0 AND NOT m.private AND m.inbox_id = conv.inbox_id) AS is_contact,
           (m.message_type = 1 AND NOT m.private AND m.inbox_id = conv.inbox_id
            AND m.sender_type IN ('AgentBot', 'Captain::Assistant')) AS is_bot,
           (m.message_type = 1 AND NOT m.private AND m.inbox_id = conv.inbox_id AND m.sender_type = 'User') AS is_human
    FROM messages m
    JOIN conv ON conv.id = m.conversation_id
    WHERE m.conversation_id = ANY (@ids::integer[])
), win AS (
    SELECT msg.*,
           min(msg.created_at) FILTER (WHERE msg.is_contact) OVER w AS first_contact_at,
           count(*) FILTER (WHERE msg.is_bot) OVER w AS bots,
           max(msg.created_at) FILTER (WHERE msg.is_human) OVER w AS last_human
    FROM msg
    WINDOW w AS (PARTITION BY msg.conversation_id)
), agg AS (
    SELECT w.conversation_id,
           count(*) FILTER (WHERE w.is_contact) AS contact_messages,
           count(*) FILTER (WHERE w.is_bot) AS bot_messages,
           count(*) FILTER (WHERE w.is_human) AS human_messages,
           count(*) FILTER (WHERE w.private) AS private_notes,
           min(w.first_contact_at) AS first_contact_at,
           min(w.created_at) FILTER (WHERE (w.is_bot OR w.is_human) AND w.created_at > w.first_contact_at) AS first_reply_at,
           min(w.created_at) FILTER (WHERE w.is_human AND w.created_at > w.first_contact_at) AS first_human_reply_at,
           -- last_message_at: contact, bot and human messages only (activity/template excluded).
           max(w.created_at) FILTER (WHERE w.is_contact OR w.is_bot OR w.is_human) AS last_message_at,
           min(w.created_at) FILTER (WHERE w.is_bot) AS first_bot_at,
           max(w.created_at) FILTER (WHERE w.is_human) AS last_human_at,
           max(w.created_at) FILTER (WHERE w.is_contact) AS last_contact_at,
           -- the queue: the first contact message after the latest human message (the first
           -- contact message when no human wrote)
           min(w.created_at) FILTER (WHERE w.is_contact AND (w.last_human IS NULL OR w.created_at > w.last_human)) AS waiting_contact_at,
           -- the first wait for a person starts at the bot's handoff, else (no bot message at
           -- all) at the first contact message; it ends at the first human message at or after it
           coalesce(w.handoff_at, CASE WHEN min(w.bots) = 0 THEN min(w.first_contact_at) END) AS human_wait_from,
           min(w.created_at) FILTER (WHERE w.is_human
               AND w.created_at >= coalesce(w.handoff_at, CASE WHEN w.bots = 0 THEN w.first_contact_at END)) AS human_wait_reply_at,
           array_agg(w.id) FILTER (WHERE w.public) AS message_ids,
           array_agg(w.created_at AT TIME ZONE 'UTC') FILTER (WHERE w.public) AS message_created_at,
           array_agg(CASE
               WHEN w.message_type = 0 THEN 'contact'
               WHEN w.message_type = 1 AND w.sender_type IN ('AgentBot', 'Captain::Assistant') THEN 'bot'
               WHEN w.message_type = 1 AND w.sender_type = 'User' THEN 'human'
               ELSE 'system' END) FILTER (WHERE w.public) AS message_senders,
           array_agg(w.message_type::smallint) FILTER (WHERE w.public) AS message_types,
           array_agg(coalesce(w.content, '')) FILTER (WHERE w.public) AS message_contents,
           array_agg(coalesce(lower(w.content_attributes ->> 'deleted') IN ('true', 't', '1'), false)) FILTER (WHERE w.public) AS message_deleted
    FROM win w
    GROUP BY w.conversation_id, w.handoff_at
), lab AS (
    SELECT tgg.taggable_id AS conversation_id, array_agg(DISTINCT tg.name ORDER BY tg.name) AS labels
    FROM taggings tgg
    JOIN tags tg ON tg.id = tgg.tag_id
    WHERE tgg.taggable_id = ANY (@ids::integer[])
      AND tgg.taggable_type = 'Conversation' AND tgg.context = 'labels' AND tg.name IS NOT NULL
    GROUP BY tgg.taggable_id
), csat AS (
    SELECT DISTINCT ON (r.conversation_id, r.account_id) r.conversation_id, r.account_id, r.rating, r.created_at
    FROM csat_survey_responses r
    WHERE r.conversation_id = ANY (@ids::integer[])
    ORDER BY r.conversation_id, r.account_id, r.created_at DESC, r.id DESC
)
SELECT x.* FROM (
SELECT c.id AS conversation_id,
       c.account_id,
       c.inbox_id,
       c.display_id,
       coalesce(i.channel_type, '')::text AS channel_type,
       c.status::smallint AS status,
       c.priority,
       c.contact_id,
       coalesce(ct.name, '')::text AS contact_name,
       coalesce(ct.phone_number, '')::text AS contact_phone,
       c.assignee_id,
       c.team_id,
       coalesce(lab.labels, '{}')::text[] AS labels,
       (c.created_at AT TIME ZONE 'UTC')::timestamptz AS created_at,
       (c.updated_at AT TIME ZONE 'UTC')::timestamptz AS updated_at,
       (c.last_activity_at AT TIME ZONE 'UTC')::timestamptz AS last_activity_at,
       coalesce(agg.contact_messages, 0)::integer AS contact_messages,
       coalesce(agg.bot_messages, 0)::integer AS bot_messages,
       coalesce(agg.human_messages, 0)::integer AS human_messages,
       coalesce(agg.private_notes, 0)::integer AS private_notes,
       (agg.first_contact_at AT TIME ZONE 'UTC')::timestamptz AS first_contact_at,
       (agg.first_reply_at AT TIME ZONE 'UTC')::timestamptz AS first_reply_at,
       (agg.first_human_reply_at AT TIME ZONE 'UTC')::timestamptz AS first_human_reply_at,
       (agg.last_message_at AT TIME ZONE 'UTC')::timestamptz AS last_message_at,
       coalesce(agg.first_bot_at < agg.last_human_at, false)::boolean AS handoff,
       (ev.resolved_event_at AT TIME ZONE 'UTC')::timestamptz AS resolved_event_at,
       (ev.handoff_at AT TIME ZONE 'UTC')::timestamptz AS handoff_requested_at,
       (agg.last_contact_at AT TIME ZONE 'UTC')::timestamptz AS last_contact_at,
       (agg.last_human_at AT TIME ZONE 'UTC')::timestamptz AS last_human_at,
       (agg.waiting_contact_at AT TIME ZONE 'UTC')::timestamptz AS waiting_contact_at,
       -- a handoff without any public message still starts a wait
       (coalesce(agg.human_wait_from, ev.handoff_at) AT TIME ZONE 'UTC')::timestamptz AS human_wait_from,
       (agg.human_wait_reply_at AT TIME ZONE 'UTC')::timestamptz AS human_wait_reply_at,
       -- sqlc cannot type a nullable column of a LEFT JOINed subquery as nullable, so "no CSAT
       -- answer" travels as 0 (ratings are 1-5) and the ETL turns 0 back into NULL.
       coalesce(csat.rating, 0)::smallint AS csat_rating,
       (csat.created_at AT TIME ZONE 'UTC')::timestamptz AS csat_at,
       coalesce(agg.message_ids, '{}')::integer[] AS message_ids,
       coalesce(agg.message_created_at, '{}')::timestamptz[] AS message_created_at,
       coalesce(agg.message_senders, '{}')::text[] AS message_senders,
       coalesce(agg.message_types, '{}')::smallint[] AS message_types,
       coalesce(agg.message_contents, '{}')::text[] AS message_contents,
       coalesce(agg.message_deleted, '{}')::boolean[] AS message_deleted
FROM conversations c
LEFT JOIN inboxes i ON i.id = c.inbox_id
LEFT JOIN contacts ct ON ct.id = c.contact_id AND ct.account_id = c.account_id
LEFT JOIN agg ON agg.conversation_id = c.id
LEFT JOIN lab ON lab.conversation_id = c.id
LEFT JOIN ev ON ev.conversation_id = c.id AND ev.inbox_id = c.inbox_id
LEFT JOIN csat ON csat.conversation_id = c.id AND csat.account_id = c.account_id
WHERE c.id = ANY (@ids::integer[])
OFFSET 0) x
WHERE x.inbox_id = ANY (@inbox_ids::integer[]);

-- name: ExtractInboxes :many
-- ExtractInboxes describes inboxes as the metrics need them (docs/metrics.md, business hours):
-- channel, timezone, whether working hours apply, and the working_hours rows as parallel arrays
-- ordered by weekday and id (NULL hours travel as -1), with a signature (md5 of all of it) that
-- changes whenever any of it does. The given inboxes, or every inbox when @all_inboxes (a pass
-- over every tenant reads them once).
SELECT i.id AS inbox_id,
       coalesce(i.channel_type, '')::text AS channel_type,
       coalesce(i.timezone, '')::text AS timezone,
       coalesce(i.working_hours_enabled, false)::boolean AS working_hours_enabled,
       md5(concat_ws('|', coalesce(i.channel_type, ''), coalesce(i.timezone, ''),
                     coalesce(i.working_hours_enabled, false)::text, wh.rows))::text AS signature,
       coalesce(wh.days, '{}')::integer[] AS wh_days,
       coalesce(wh.closed, '{}')::boolean[] AS wh_closed,
       coalesce(wh.open_all, '{}')::boolean[] AS wh_open_all,
       coalesce(wh.open_hours, '{}')::integer[] AS wh_open_hours,
       coalesce(wh.open_minutes, '{}')::integer[] AS wh_open_minutes,
       coalesce(wh.close_hours, '{}')::integer[] AS wh_close_hours,
       coalesce(wh.close_minutes, '{}')::integer[] AS wh_close_minutes
FROM inboxes i
LEFT JOIN LATERAL (
    SELECT string_agg(concat_ws(',', w.day_of_week, w.closed_all_day, w.open_all_day, w.open_hour, w.open_minutes,
                                w.close_hour, w.close_minutes), ';' ORDER BY w.day_of_week, w.id) AS rows,
           array_agg(w.day_of_week ORDER BY w.day_of_week, w.id) AS days,
           array_agg(coalesce(w.closed_all_day, false) ORDER BY w.day_of_week, w.id) AS closed,
           array_agg(coalesce(w.open_all_day, false) ORDER BY w.day_of_week, w.id) AS open_all,
           array_agg(coalesce(w.open_hour, -1) ORDER BY w.day_of_week, w.id) AS open_hours,
           array_agg(coalesce(w.open_minutes, -1) ORDER BY w.day_of_week, w.id) AS open_minutes,
           array_agg(coalesce(w.close_hour, -1) ORDER BY w.day_of_week, w.id) AS close_hours,
           array_agg(coalesce(w.close_minutes, -1) ORDER BY w.day_of_week, w.id) AS close_minutes
    FROM working_hours w
    WHERE w.inbox_id = i.id
) wh ON true
WHERE @all_inboxes::boolean OR i.id = ANY (@inbox_ids::integer[])
ORDER BY i.id;
