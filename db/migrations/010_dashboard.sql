-- Dashboard and explorer support: one filter function every dashboard query selects from, so the
-- definition of "the conversations this number counts" lives in exactly one place, and the indexes
-- behind it.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- analytics.frt_bucket places a first-reply time in the dashboard's distribution:
-- 0 <1 min, 1 1–5 min, 2 5–15 min, 3 15–60 min, 4 1–4 h, 5 4–24 h, 6 >24 h; NULL without a reply.
CREATE FUNCTION analytics.frt_bucket(seconds double precision) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN seconds IS NULL THEN NULL
        WHEN seconds < 60 THEN 0
        WHEN seconds < 300 THEN 1
        WHEN seconds < 900 THEN 2
        WHEN seconds < 3600 THEN 3
        WHEN seconds < 14400 THEN 4
        WHEN seconds < 86400 THEN 5
        ELSE 6
    END::smallint
$$;
COMMENT ON FUNCTION analytics.frt_bucket(double precision) IS 'First-reply distribution bucket: 0 <1m, 1 1-5m, 2 5-15m, 3 15-60m, 4 1-4h, 5 4-24h, 6 >24h.';
GRANT EXECUTE ON FUNCTION analytics.frt_bucket(double precision) TO geniai_tenant, geniai_staff, geniai_etl;

-- analytics.like_escape makes user text literal inside a LIKE pattern.
CREATE FUNCTION analytics.like_escape(s text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT replace(replace(replace(s, '\', '\\'), '%', '\%'), '_', '\_') $$;
COMMENT ON FUNCTION analytics.like_escape(text) IS 'Escapes \, % and _ so user search text matches literally in LIKE/ILIKE.';
GRANT EXECUTE ON FUNCTION analytics.like_escape(text) TO geniai_tenant, geniai_staff;

-- analytics.conversation_filter is the set of conversations behind every number, chart and list.
-- A plain SQL function, so the planner inlines it into each query (indexes still apply) and RLS
-- applies to the caller. NULL arguments mean "no filter".
CREATE FUNCTION analytics.conversation_filter(
    p_tenant_id  bigint,
    p_from       date,
    p_to         date,
    p_inboxes    integer[] DEFAULT NULL,
    p_channel    text DEFAULT NULL,
    p_label      text DEFAULT NULL,
    p_status     smallint DEFAULT NULL,
    p_stage      text DEFAULT NULL,
    p_flag       text DEFAULT NULL,
    p_frt_bucket smallint DEFAULT NULL,
    p_dow        smallint DEFAULT NULL,
    p_hour       smallint DEFAULT NULL,
    p_csat       smallint DEFAULT NULL,
    p_search     text DEFAULT NULL)
    RETURNS SETOF analytics.conversations
    LANGUAGE sql STABLE
    AS $$
    SELECT c.*
    FROM analytics.conversations c
    WHERE c.tenant_id = p_tenant_id
      AND c.created_day BETWEEN p_from AND p_to
      AND (p_inboxes IS NULL OR c.inbox_id = ANY (p_inboxes))
      AND (p_channel IS NULL OR c.channel_type = p_channel)
      AND (p_label IS NULL OR c.labels @> ARRAY[p_label])
      AND (p_status IS NULL OR c.status = p_status)
      AND (p_stage IS NULL
           OR (p_stage = 'lead' AND c.is_lead)
           OR (p_stage = 'visit' AND c.is_visit)
           OR (p_stage = 'converted' AND c.is_converted)
           OR (p_stage = 'none' AND NOT c.is_lead))
      AND (p_flag IS NULL
           OR (p_flag = 'unanswered' AND c.unanswered)
           OR (p_flag = 'unanswered_lead' AND c.unanswered AND c.is_lead)
           OR (p_flag = 'replied' AND c.first_reply_seconds IS NOT NULL)
           OR (p_flag = 'human_replied' AND c.first_human_reply_seconds IS NOT NULL)
           OR (p_flag = 'resolved' AND c.resolved)
           OR (p_flag = 'bot_resolved' AND c.bot_resolved)
           OR (p_flag = 'with_bot' AND c.bot_messages > 0)
           OR (p_flag = 'handoff' AND c.handoff)
           OR (p_flag = 'csat' AND c.csat_rating IS NOT NULL)
           OR (p_flag = 'satisfied' AND c.csat_rating >= 4))
      AND (p_frt_bucket IS NULL OR analytics.frt_bucket(c.first_reply_seconds) = p_frt_bucket)
      AND (p_dow IS NULL OR c.created_dow = p_dow)
      AND (p_hour IS NULL OR c.created_hour = p_hour)
      AND (p_csat IS NULL OR c.csat_rating = p_csat)
      AND (p_search IS NULL
           OR c.contact_name ILIKE '%' || analytics.like_escape(p_search) || '%'
           OR (length(regexp_replace(p_search, '\D', '', 'g')) >= 3
               AND c.contact_phone LIKE '%' || regexp_replace(p_search, '\D', '', 'g') || '%')
           OR EXISTS (SELECT FROM analytics.messages m
                      WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.conversation_id
                        AND m.content ILIKE '%' || analytics.like_escape(p_search) || '%'))
$$;
COMMENT ON FUNCTION analytics.conversation_filter(bigint, date, date, integer[], text, text, smallint, text, text, smallint, smallint, smallint, smallint, text) IS
    'The conversations behind a dashboard number: tenant, created_day period (tenant timezone), inboxes, channel, label, status, funnel stage, metric flag, first-reply bucket, weekday, hour, CSAT rating and search (contact name, phone digits, message text). NULL means no filter.';
GRANT EXECUTE ON FUNCTION analytics.conversation_filter(bigint, date, date, integer[], text, text, smallint, text, text, smallint, smallint, smallint, smallint, text)
    TO geniai_tenant, geniai_staff;

-- Explorer: newest first with keyset pagination, and text search.
CREATE INDEX conversations_tenant_created_idx ON analytics.conversations (tenant_id, created_at DESC, conversation_id DESC);
CREATE INDEX conversations_contact_name_trgm_idx ON analytics.conversations USING gin (contact_name gin_trgm_ops);
CREATE INDEX messages_content_trgm_idx ON analytics.messages USING gin (content gin_trgm_ops);

---- create above / drop below ----

DROP FUNCTION analytics.conversation_filter(bigint, date, date, integer[], text, text, smallint, text, text, smallint, smallint, smallint, smallint, text);
DROP INDEX analytics.messages_content_trgm_idx;
DROP INDEX analytics.conversations_contact_name_trgm_idx;
DROP INDEX analytics.conversations_tenant_created_idx;
DROP FUNCTION analytics.like_escape(text);
DROP FUNCTION analytics.frt_bucket(double precision);
DROP EXTENSION IF EXISTS pg_trgm;
