-- name: DemoChecksum :one
-- DemoChecksum returns one md5 per table, over every column of every row in id order
-- (account_users included), so that two databases can be compared byte for byte.
SELECT (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM accounts t)::text AS accounts,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM inboxes t)::text AS inboxes,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM channel_whatsapp t)::text AS channel_whatsapp,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM users t)::text AS users,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM account_users t)::text AS account_users,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM teams t)::text AS teams,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM labels t)::text AS labels,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM tags t)::text AS tags,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM taggings t)::text AS taggings,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM contacts t)::text AS contacts,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM conversations t)::text AS conversations,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM messages t)::text AS messages,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM csat_survey_responses t)::text AS csat_survey_responses,
       (SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t.id), '')) FROM reporting_events t)::text AS reporting_events;

-- name: DemoInvariants :one
-- DemoInvariants measures the demo data against what a real Chatwoot would hold.
-- Columns named bad_* must be 0; the others count features that must be present.
WITH msg_agg AS (
    SELECT conversation_id,
           max(created_at) AS last_created,
           max(updated_at) AS last_updated,
           min(created_at) FILTER (WHERE message_type = 1 AND NOT private AND sender_type = 'User') AS first_human,
           count(*) FILTER (WHERE message_type = 0) AS contact_msgs,
           count(*) FILTER (WHERE message_type = 1 AND NOT private AND sender_type IN ('AgentBot', 'Captain::Assistant')) AS bot_msgs,
           count(*) FILTER (WHERE message_type = 1 AND NOT private AND sender_type = 'User') AS human_msgs,
           count(*) FILTER (WHERE message_type = 1 AND private) AS notes
    FROM messages
    GROUP BY conversation_id
),
tag_list AS (
    SELECT tg.taggable_id AS conversation_id, string_agg(t.name, ', ' ORDER BY t.name) AS names
    FROM taggings tg
    JOIN tags t ON t.id = tg.tag_id
    WHERE tg.taggable_type = 'Conversation' AND tg.context = 'labels'
    GROUP BY tg.taggable_id
),
local_conv AS (
    SELECT (created_at AT TIME ZONE 'UTC') AT TIME ZONE 'America/Sao_Paulo' AS local_at
    FROM conversations
)
SELECT
    -- consistency (must be 0)
    (SELECT count(*) FROM messages m LEFT JOIN conversations c ON c.id = m.conversation_id
     WHERE c.id IS NULL OR c.account_id <> m.account_id OR c.inbox_id <> m.inbox_id) AS bad_message_owner,
    (SELECT count(*) FROM conversations c LEFT JOIN msg_agg a ON a.conversation_id = c.id
     WHERE a.conversation_id IS NULL OR c.updated_at <> a.last_updated OR c.last_activity_at <> a.last_created
        OR c.updated_at < a.last_created) AS bad_conversation_times,
    (SELECT count(*) FROM conversations c JOIN msg_agg a ON a.conversation_id = c.id
     WHERE c.first_reply_created_at IS DISTINCT FROM a.first_human) AS bad_first_reply,
    (SELECT count(*) FROM (SELECT conversation_id FROM reporting_events WHERE name = 'conversation_bot_handoff'
                           GROUP BY conversation_id HAVING count(*) > 1) AS x) AS bad_handoff_dupes,
    (SELECT count(*) FROM reporting_events e LEFT JOIN conversations c ON c.id = e.conversation_id
     WHERE c.id IS NULL OR c.account_id <> e.account_id OR c.inbox_id <> e.inbox_id
        OR e.event_start_time > e.event_end_time OR e.event_end_time > e.created_at
        OR e.value <> floor(extract(epoch FROM e.event_end_time)) - floor(extract(epoch FROM e.event_start_time))) AS bad_events,
    (SELECT count(*) FROM reporting_events e JOIN inboxes i ON i.id = e.inbox_id
     WHERE e.value_in_business_hours IS NULL
        OR (NOT i.working_hours_enabled AND e.value_in_business_hours <> 0)
        OR e.value_in_business_hours > e.value) AS bad_business_hours,
    (SELECT count(*) FROM conversations c
     WHERE (c.first_reply_created_at IS NOT NULL) <> EXISTS (
               SELECT 1 FROM reporting_events e
               WHERE e.conversation_id = c.id AND e.name = 'first_response' AND e.event_end_time = c.first_reply_created_at)) AS bad_first_response_events,
    (SELECT count(*) FROM csat_survey_responses r LEFT JOIN messages m ON m.id = r.message_id
     WHERE r.rating NOT BETWEEN 1 AND 5 OR m.id IS NULL OR m.content_type <> 9
        OR m.conversation_id <> r.conversation_id OR r.created_at < m.created_at) AS bad_csat,
    (SELECT count(*) FROM taggings tg JOIN tags t ON t.id = tg.tag_id
     LEFT JOIN conversations c ON tg.taggable_type = 'Conversation' AND c.id = tg.taggable_id
     LEFT JOIN contacts ct ON tg.taggable_type = 'Contact' AND ct.id = tg.taggable_id
     WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.account_id = coalesce(c.account_id, ct.account_id) AND l.title = t.name)) AS bad_taggings,
    (SELECT count(*) FROM conversations c LEFT JOIN tag_list tl ON tl.conversation_id = c.id
     WHERE c.cached_label_list IS NOT NULL
       AND (SELECT string_agg(x, ', ' ORDER BY x) FROM unnest(string_to_array(c.cached_label_list, ', ')) AS x)
           IS DISTINCT FROM tl.names) AS bad_cached_labels,
    (SELECT count(*) FROM conversations WHERE (snoozed_until IS NOT NULL) <> (status = 3)) AS bad_snooze,
    ((SELECT count(*) FROM conversations WHERE updated_at > @now::timestamp)
  + (SELECT count(*) FROM messages WHERE updated_at > @now::timestamp)
  + (SELECT count(*) FROM reporting_events WHERE created_at > @now::timestamp)
  + (SELECT count(*) FROM csat_survey_responses WHERE created_at > @now::timestamp))::bigint AS bad_future,
    -- features (must be > 0)
    (SELECT count(*) FROM conversations WHERE status = 0) AS status_open,
    (SELECT count(*) FROM conversations WHERE status = 1) AS status_resolved,
    (SELECT count(*) FROM conversations WHERE status = 2) AS status_pending,
    (SELECT count(*) FROM conversations WHERE status = 3) AS status_snoozed,
    (SELECT count(*) FROM conversations c WHERE c.cached_label_list IS NULL
       AND EXISTS (SELECT 1 FROM tag_list tl WHERE tl.conversation_id = c.id)) AS null_label_cache_with_labels,
    (SELECT count(*) FROM conversations WHERE cached_label_list LIKE '%, %') AS multi_label_conversations,
    (SELECT count(*) FROM messages WHERE (content_attributes ->> 'deleted')::boolean) AS deleted_messages,
    (SELECT count(*) FROM messages WHERE message_type = 1 AND private) AS private_notes,
    (SELECT count(*) FROM messages WHERE message_type = 2 AND sender_type IS NULL) AS activity_messages,
    (SELECT count(*) FROM messages WHERE message_type = 3 AND content_type = 9) AS csat_survey_messages,
    (SELECT count(*) FROM messages WHERE sender_type = 'Captain::Assistant') AS captain_messages,
    (SELECT count(*) FROM conversations c WHERE c.status = 0 AND EXISTS (
         SELECT 1 FROM reporting_events e WHERE e.conversation_id = c.id AND e.name = 'conversation_opened')) AS reopened_open,
    (SELECT count(*) FROM (SELECT conversation_id FROM reporting_events WHERE name = 'conversation_resolved'
                           GROUP BY conversation_id HAVING count(*) > 1) AS x) AS resolved_twice,
    (SELECT count(*) FROM (SELECT conversation_id FROM csat_survey_responses
                           GROUP BY conversation_id HAVING count(*) > 1) AS x) AS csat_twice,
    (SELECT count(*) FROM msg_agg WHERE contact_msgs = 0) AS no_contact_message,
    (SELECT count(*) FROM msg_agg WHERE contact_msgs = 0 AND human_msgs = 0 AND notes = 0 AND bot_msgs > 0) AS bot_only,
    (SELECT count(*) FROM msg_agg WHERE contact_msgs = 0 AND human_msgs = 0 AND bot_msgs = 0 AND notes > 0) AS notes_only,
    (SELECT count(*) FROM reporting_events WHERE name = 'conversation_bot_resolved') AS bot_resolved_events,
    (SELECT count(*) FROM reporting_events WHERE value_in_business_hours > 0) AS business_hours_events,
    (SELECT count(*) FROM contacts WHERE phone_number ~ '^\+55[1-9][0-9]9[0-9]{8}$') AS brazilian_mobiles,
    (SELECT count(*) FROM messages WHERE message_type = 1 AND sender_type IN ('AgentBot', 'Captain::Assistant')
       AND content LIKE 'Olá! Sou a assistente virtual da %') AS bot_greetings,
    (SELECT count(*) FROM messages WHERE message_type = 0 AND content ~* '(valor|preço|quanto|plano)') AS price_questions,
    (SELECT count(*) FROM reporting_events h JOIN reporting_events f
       ON f.conversation_id = h.conversation_id AND f.name = 'first_response' AND f.event_start_time = h.event_end_time
     WHERE h.name = 'conversation_bot_handoff') AS handoff_replies,
    -- seasonality: conversations per weekday date vs per Sunday, share in 7-22 h local
    ((SELECT count(*) FROM local_conv WHERE extract(isodow FROM local_at) <= 5)::float8
        / greatest(1, (SELECT count(DISTINCT local_at::date) FROM local_conv WHERE extract(isodow FROM local_at) <= 5)))::float8 AS per_weekday,
    ((SELECT count(*) FROM local_conv WHERE extract(isodow FROM local_at) = 7)::float8
        / greatest(1, (SELECT count(DISTINCT local_at::date) FROM local_conv WHERE extract(isodow FROM local_at) = 7)))::float8 AS per_sunday,
    (SELECT count(*) FILTER (WHERE extract(hour FROM local_at) BETWEEN 7 AND 21)::float8 / greatest(1, count(*)) FROM local_conv)::float8 AS business_hours_share;

-- name: DemoUniqueness :one
-- DemoUniqueness counts the rows that break a uniqueness the demo data must keep,
-- whether or not a unique index enforces it (CreateDemo builds the indexes only after
-- the load). Every column must be 0.
SELECT (SELECT count(*) - count(DISTINCT uuid) FROM conversations)::bigint AS dup_conversation_uuids,
       (SELECT count(*) - count(DISTINCT (account_id, display_id)) FROM conversations)::bigint AS dup_display_ids,
       -- display_id numbers each account's conversations 1..n, without gaps
       (SELECT count(*) FROM (
            SELECT display_id, row_number() OVER (PARTITION BY account_id ORDER BY display_id) AS rn
            FROM conversations
        ) AS d WHERE d.display_id <> d.rn)::bigint AS display_id_gaps,
       -- version 4, variant 1 (hex digits 13 and 17)
       (SELECT count(*) FROM conversations
        WHERE substr(uuid::text, 15, 1) <> '4' OR substr(uuid::text, 20, 1) <> '8')::bigint AS bad_uuid_versions,
       (SELECT count(*) - count(DISTINCT (email, account_id)) FROM contacts WHERE email IS NOT NULL)::bigint AS dup_contact_emails,
       (SELECT count(source_id) - count(DISTINCT source_id) FROM messages)::bigint AS dup_message_source_ids;
