-- The dashboard on Citus (docs/adr/026-citus.md). analytics.conversation_filter was a
-- set-returning SQL function: the planner inlines it, but Citus decides where a query runs before
-- that and refuses a parameterised SQL function over a distributed table. The same conditions are
-- now a boolean function of the row's columns, which the queries (queries/dashboard.sql) apply to
-- analytics.conversations itself, with tenant and period as plain conditions for the index. It is
-- inlined just the same, so single-node plans are the ones the set-returning function gave.
-- Columns are passed one by one, not as the row: on a worker a shard's row has the shard's own
-- type. The SLA target and sync time come as arguments (the queries read them once per
-- statement), and the SLA state is computed once, so each argument is used once and a sub-select
-- passed for it does not stop the inlining.
CREATE FUNCTION analytics.conversation_matches(
    c_inbox_id integer, c_channel_type text, c_labels text[], c_status smallint, c_is_lead boolean,
    c_is_visit boolean, c_is_converted boolean, c_unanswered boolean, c_first_reply_seconds double precision,
    c_first_reply_business_seconds double precision, c_first_human_reply_seconds double precision,
    c_resolved boolean, c_bot_resolved boolean, c_bot_messages integer, c_handoff boolean,
    c_handoff_requested_at timestamptz, c_human_wait_seconds double precision, c_human_wait_from timestamptz,
    c_human_wait_reply_at timestamptz, c_human_wait_business_seconds double precision, c_human_wait_due_at timestamptz,
    c_csat_rating smallint, c_created_dow smallint, c_created_hour smallint, c_contact_name text,
    c_contact_phone text, c_search tsvector, c_display_id integer,
    p_inboxes integer[], p_channel text, p_label text, p_status smallint, p_stage text, p_flag text,
    p_frt_bucket smallint, p_dow smallint, p_hour smallint, p_csat smallint, p_search text,
    p_business boolean, p_sla_seconds integer, p_synced_at timestamptz) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT (p_inboxes IS NULL OR c_inbox_id = ANY (p_inboxes))
       AND (p_channel IS NULL OR c_channel_type = p_channel)
       AND (p_label IS NULL OR c_labels @> ARRAY[p_label])
       AND (p_status IS NULL OR c_status = p_status)
       AND (p_stage IS NULL
            OR (p_stage = 'lead' AND c_is_lead)
            OR (p_stage = 'visit' AND c_is_visit)
            OR (p_stage = 'converted' AND c_is_converted)
            OR (p_stage = 'none' AND NOT c_is_lead))
       AND (p_flag IS NULL
            OR (p_flag = 'unanswered' AND c_unanswered)
            OR (p_flag = 'unanswered_lead' AND c_unanswered AND c_is_lead)
            OR (p_flag = 'replied' AND c_first_reply_seconds IS NOT NULL)
            OR (p_flag = 'human_replied' AND c_first_human_reply_seconds IS NOT NULL)
            OR (p_flag = 'resolved' AND c_resolved)
            OR (p_flag = 'bot_resolved' AND c_bot_resolved)
            OR (p_flag = 'with_bot' AND c_bot_messages > 0)
            OR (p_flag = 'handoff' AND c_handoff)
            OR (p_flag = 'csat' AND c_csat_rating IS NOT NULL)
            OR (p_flag = 'satisfied' AND c_csat_rating >= 4)
            OR (p_flag = 'handoff_requested' AND c_handoff_requested_at IS NOT NULL)
            OR (p_flag = 'human_wait' AND c_human_wait_seconds IS NOT NULL)
            -- 'sla' any state, 'sla_within' and 'sla_missed' one: 'sla_' || state starts with the
            -- flag exactly then (a NULL state, no first wait judged, matches none).
            OR (p_flag IN ('sla', 'sla_within', 'sla_missed')
                AND starts_with(coalesce('sla_' || analytics.sla_state(c_human_wait_from, c_human_wait_reply_at,
                                                                       c_human_wait_business_seconds, c_human_wait_due_at,
                                                                       p_sla_seconds, p_synced_at), ''), p_flag)))
       AND (p_frt_bucket IS NULL
            OR analytics.frt_bucket(CASE WHEN p_business THEN c_first_reply_business_seconds ELSE c_first_reply_seconds END) = p_frt_bucket)
       AND (p_dow IS NULL OR c_created_dow = p_dow)
       AND (p_hour IS NULL OR c_created_hour = p_hour)
       AND (p_csat IS NULL OR c_csat_rating = p_csat)
       AND (p_search IS NULL
            -- "#1374" is the conversation number (Chatwoot's display id) and nothing else.
            OR (p_search ~ '^#\s*[0-9]{1,9}$'
                AND c_display_id = substring(p_search FROM '[0-9]+')::integer)
            OR (p_search !~ '^#\s*[0-9]{1,9}$'
                AND (-- A bare number is also a conversation number.
                     (p_search ~ '^[0-9]{1,9}$' AND c_display_id = p_search::integer)
                     OR c_contact_name ILIKE '%' || analytics.like_escape(p_search) || '%'
                     OR (length(regexp_replace(p_search, '\D', '', 'g')) >= 3
                         AND c_contact_phone LIKE '%' || regexp_replace(p_search, '\D', '', 'g') || '%')
                     OR c_search @@ analytics.search_query(p_search))))
$$;
COMMENT ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz) IS
    'Whether a conversation (its columns) passes the dashboard''s filters: the single definition of the conversations behind every number, chart and list, applied to analytics.conversations with the tenant and period.';
REVOKE ALL ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz) TO geniai_tenant, geniai_staff;

-- The dashboard's version check reads the tenant's watermark beside coordinator tables
-- (app.tenants, its settings and inboxes): through a function, which runs its read as one query
-- on the tenant's worker, because Citus cannot plan the coordinator tables and a distributed one
-- joined in one statement. The caller's row-level security applies.
CREATE FUNCTION etl.watermark_of(p_tenant bigint) RETURNS SETOF etl.watermarks
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog'
    AS $$
BEGIN
    RETURN QUERY SELECT w.* FROM etl.watermarks w WHERE w.tenant_id = p_tenant;
END
$$;
COMMENT ON FUNCTION etl.watermark_of(bigint) IS 'The tenant''s ETL watermark (no row before its first sync, or when row-level security hides it).';
REVOKE ALL ON FUNCTION etl.watermark_of(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl.watermark_of(bigint) TO geniai_tenant, geniai_staff;

DROP FUNCTION analytics.conversation_filter(bigint, date, date, integer[], text, text, smallint, text, text, smallint, smallint, smallint, smallint, text, boolean);

---- create above / drop below ----

CREATE FUNCTION analytics.conversation_filter(p_tenant_id bigint, p_from date, p_to date, p_inboxes integer[] DEFAULT NULL::integer[], p_channel text DEFAULT NULL::text, p_label text DEFAULT NULL::text, p_status smallint DEFAULT NULL::smallint, p_stage text DEFAULT NULL::text, p_flag text DEFAULT NULL::text, p_frt_bucket smallint DEFAULT NULL::smallint, p_dow smallint DEFAULT NULL::smallint, p_hour smallint DEFAULT NULL::smallint, p_csat smallint DEFAULT NULL::smallint, p_search text DEFAULT NULL::text, p_business boolean DEFAULT false) RETURNS SETOF analytics.conversations
    LANGUAGE sql STABLE
    AS $_$
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
$_$;
COMMENT ON FUNCTION analytics.conversation_filter(p_tenant_id bigint, p_from date, p_to date, p_inboxes integer[], p_channel text, p_label text, p_status smallint, p_stage text, p_flag text, p_frt_bucket smallint, p_dow smallint, p_hour smallint, p_csat smallint, p_search text, p_business boolean) IS 'The conversations behind a dashboard number: tenant, created_day period (tenant timezone), inboxes, channel, label, status, funnel stage, metric flag (SLA flags at the tenant''s target and sync time), first-reply bucket (of business time when p_business), weekday, hour, CSAT rating and search (#123: that conversation number only; a bare number: conversation number, phone digits or words). NULL means no filter.';
REVOKE ALL ON FUNCTION analytics.conversation_filter(p_tenant_id bigint, p_from date, p_to date, p_inboxes integer[], p_channel text, p_label text, p_status smallint, p_stage text, p_flag text, p_frt_bucket smallint, p_dow smallint, p_hour smallint, p_csat smallint, p_search text, p_business boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION analytics.conversation_filter(p_tenant_id bigint, p_from date, p_to date, p_inboxes integer[], p_channel text, p_label text, p_status smallint, p_stage text, p_flag text, p_frt_bucket smallint, p_dow smallint, p_hour smallint, p_csat smallint, p_search text, p_business boolean) TO geniai_tenant;
GRANT ALL ON FUNCTION analytics.conversation_filter(p_tenant_id bigint, p_from date, p_to date, p_inboxes integer[], p_channel text, p_label text, p_status smallint, p_stage text, p_flag text, p_frt_bucket smallint, p_dow smallint, p_hour smallint, p_csat smallint, p_search text, p_business boolean) TO geniai_staff;

DROP FUNCTION etl.watermark_of(bigint);
DROP FUNCTION analytics.conversation_matches(integer, text, text[], smallint, boolean, boolean, boolean, boolean, double precision, double precision,
    double precision, boolean, boolean, integer, boolean, timestamptz, double precision, timestamptz, timestamptz,
    double precision, timestamptz, smallint, smallint, smallint, text, text, tsvector, integer, integer[], text, text,
    smallint, text, text, smallint, smallint, smallint, smallint, text, boolean, integer, timestamptz);
