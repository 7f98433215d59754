-- Search by conversation number. "#1374" (what Chatwoot and every page show) finds conversation
-- 1374 only; a bare "1374" finds that conversation as well as phones containing the digits and
-- conversations whose words start with them (the search it always was). The search stays inside
-- the period and every other filter, so a figure and its list still agree.
CREATE OR REPLACE FUNCTION analytics.conversation_filter(p_tenant_id bigint, p_from date, p_to date, p_inboxes integer[] DEFAULT NULL::integer[], p_channel text DEFAULT NULL::text, p_label text DEFAULT NULL::text, p_status smallint DEFAULT NULL::smallint, p_stage text DEFAULT NULL::text, p_flag text DEFAULT NULL::text, p_frt_bucket smallint DEFAULT NULL::smallint, p_dow smallint DEFAULT NULL::smallint, p_hour smallint DEFAULT NULL::smallint, p_csat smallint DEFAULT NULL::smallint, p_search text DEFAULT NULL::text, p_business boolean DEFAULT false) RETURNS SETOF analytics.conversations
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
           OR (p_flag = 'satisfied' AND c.csat_rating >= 4)
           OR (p_flag = 'handoff_requested' AND c.handoff_requested_at IS NOT NULL)
           OR (p_flag = 'human_wait' AND c.human_wait_seconds IS NOT NULL)
           OR (p_flag IN ('sla', 'sla_within', 'sla_missed')
               AND analytics.sla_state(c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
                                       (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = p_tenant_id),
                                       (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = p_tenant_id))
                   = CASE p_flag WHEN 'sla_within' THEN 'within' WHEN 'sla_missed' THEN 'missed' END
               OR (p_flag = 'sla'
                   AND analytics.sla_state(c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
                                           (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = p_tenant_id),
                                           (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = p_tenant_id)) IS NOT NULL)))
      AND (p_frt_bucket IS NULL
           OR analytics.frt_bucket(CASE WHEN p_business THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END) = p_frt_bucket)
      AND (p_dow IS NULL OR c.created_dow = p_dow)
      AND (p_hour IS NULL OR c.created_hour = p_hour)
      AND (p_csat IS NULL OR c.csat_rating = p_csat)
      AND (p_search IS NULL
           -- "#1374" is the conversation number (Chatwoot's display id) and nothing else.
           OR (p_search ~ '^#\s*[0-9]{1,9}$'
               AND c.display_id = substring(p_search FROM '[0-9]+')::integer)
           OR (p_search !~ '^#\s*[0-9]{1,9}$'
               AND (-- A bare number is also a conversation number.
                    (p_search ~ '^[0-9]{1,9}$' AND c.display_id = p_search::integer)
                    OR c.contact_name ILIKE '%' || analytics.like_escape(p_search) || '%'
                    OR (length(regexp_replace(p_search, '\D', '', 'g')) >= 3
                        AND c.contact_phone LIKE '%' || regexp_replace(p_search, '\D', '', 'g') || '%')
                    OR c.search @@ analytics.search_query(p_search))))
$$;

COMMENT ON FUNCTION analytics.conversation_filter(bigint, date, date, integer[], text, text, smallint, text, text, smallint, smallint, smallint, smallint, text, boolean) IS
    'The conversations behind a dashboard number: tenant, created_day period (tenant timezone), inboxes, channel, label, status, funnel stage, metric flag (SLA flags at the tenant''s target and sync time), first-reply bucket (of business time when p_business), weekday, hour, CSAT rating and search (#123: that conversation number only; a bare number: conversation number, phone digits or words). NULL means no filter.';

---- create above / drop below ----

CREATE OR REPLACE FUNCTION analytics.conversation_filter(p_tenant_id bigint, p_from date, p_to date, p_inboxes integer[] DEFAULT NULL::integer[], p_channel text DEFAULT NULL::text, p_label text DEFAULT NULL::text, p_status smallint DEFAULT NULL::smallint, p_stage text DEFAULT NULL::text, p_flag text DEFAULT NULL::text, p_frt_bucket smallint DEFAULT NULL::smallint, p_dow smallint DEFAULT NULL::smallint, p_hour smallint DEFAULT NULL::smallint, p_csat smallint DEFAULT NULL::smallint, p_search text DEFAULT NULL::text, p_business boolean DEFAULT false) RETURNS SETOF analytics.conversations
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
           OR (p_flag = 'satisfied' AND c.csat_rating >= 4)
           OR (p_flag = 'handoff_requested' AND c.handoff_requested_at IS NOT NULL)
           OR (p_flag = 'human_wait' AND c.human_wait_seconds IS NOT NULL)
           OR (p_flag IN ('sla', 'sla_within', 'sla_missed')
               AND analytics.sla_state(c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
                                       (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = p_tenant_id),
                                       (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = p_tenant_id))
                   = CASE p_flag WHEN 'sla_within' THEN 'within' WHEN 'sla_missed' THEN 'missed' END
               OR (p_flag = 'sla'
                   AND analytics.sla_state(c.human_wait_from, c.human_wait_reply_at, c.human_wait_business_seconds, c.human_wait_due_at,
                                           (SELECT ts.sla_seconds FROM app.tenant_settings ts WHERE ts.tenant_id = p_tenant_id),
                                           (SELECT w.source_checked_at FROM etl.watermarks w WHERE w.tenant_id = p_tenant_id)) IS NOT NULL)))
      AND (p_frt_bucket IS NULL
           OR analytics.frt_bucket(CASE WHEN p_business THEN c.first_reply_business_seconds ELSE c.first_reply_seconds END) = p_frt_bucket)
      AND (p_dow IS NULL OR c.created_dow = p_dow)
      AND (p_hour IS NULL OR c.created_hour = p_hour)
      AND (p_csat IS NULL OR c.csat_rating = p_csat)
      AND (p_search IS NULL
           OR c.contact_name ILIKE '%' || analytics.like_escape(p_search) || '%'
           OR (length(regexp_replace(p_search, '\D', '', 'g')) >= 3
               AND c.contact_phone LIKE '%' || regexp_replace(p_search, '\D', '', 'g') || '%')
           OR c.search @@ analytics.search_query(p_search))
$$;

COMMENT ON FUNCTION analytics.conversation_filter(bigint, date, date, integer[], text, text, smallint, text, text, smallint, smallint, smallint, smallint, text, boolean) IS
    'The conversations behind a dashboard number: tenant, created_day period (tenant timezone), inboxes, channel, label, status, funnel stage, metric flag (SLA flags at the tenant''s target and sync time), first-reply bucket (of business time when p_business), weekday, hour, CSAT rating and search. NULL means no filter.';
