-- Back to one grouped pass per metric in etl.refresh_inbox_rollups. The single pass that replaced
-- them (migration 055) was measured calling the function alone, with the default work_mem; under
-- etl.merge_run's work_mem, where the ETL calls it, one hash aggregate over every metric's groups
-- (about 110,000 for 20,000 conversations) is about a tenth slower than nine small ones over a
-- table that is in memory by then. analytics.hist_bucket stays as that migration left it (inlined), which is what made the
-- nine passes cheaper than before.
CREATE OR REPLACE FUNCTION etl.refresh_inbox_rollups(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
    t   bigint := app.current_tenant_id();
    sla integer;
    v_n bigint;
BEGIN
    SELECT ts.sla_seconds INTO sla FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    DELETE FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_stats (tenant_id, day, inbox_id,
        conversations, leads, visits, conversions, unanswered, unanswered_leads, resolved,
        bot_resolved, handoffs, with_bot, first_reply_count, first_reply_sum, first_reply_lt_1m,
        first_reply_1m_5m, first_reply_5m_15m, first_reply_15m_1h, first_reply_1h_4h,
        first_reply_4h_24h, first_reply_gt_24h, first_human_reply_count, first_human_reply_sum,
        resolution_count, resolution_sum, csat_responses, csat_satisfied, csat_1, csat_2, csat_3,
        csat_4, csat_5,
        first_reply_business_sum, first_reply_business_lt_1m, first_reply_business_1m_5m,
        first_reply_business_5m_15m, first_reply_business_15m_1h, first_reply_business_1h_4h,
        first_reply_business_4h_24h, first_reply_business_gt_24h, first_human_reply_business_sum,
        resolution_business_sum, handoff_requests, human_wait_count, human_wait_sum,
        human_wait_business_sum, sla_within, sla_late)
    SELECT c.tenant_id, c.created_day, c.inbox_id,
           count(*),
           count(*) FILTER (WHERE c.is_lead),
           count(*) FILTER (WHERE c.is_visit),
           count(*) FILTER (WHERE c.is_converted),
           count(*) FILTER (WHERE c.unanswered),
           count(*) FILTER (WHERE c.unanswered AND c.is_lead),
           count(*) FILTER (WHERE c.resolved),
           count(*) FILTER (WHERE c.bot_resolved),
           count(*) FILTER (WHERE c.handoff),
           count(*) FILTER (WHERE c.bot_messages > 0),
           count(c.first_reply_seconds),
           coalesce(sum(c.first_reply_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.first_reply_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_seconds >= 60 AND c.first_reply_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_seconds >= 300 AND c.first_reply_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_seconds >= 900 AND c.first_reply_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_seconds >= 3600 AND c.first_reply_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 14400 AND c.first_reply_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 86400),
           count(c.first_human_reply_seconds),
           coalesce(sum(c.first_human_reply_seconds::numeric)::float8, 0),
           count(c.resolution_seconds),
           coalesce(sum(c.resolution_seconds::numeric)::float8, 0),
           count(c.csat_rating),
           count(*) FILTER (WHERE c.csat_rating >= 4),
           count(*) FILTER (WHERE c.csat_rating = 1),
           count(*) FILTER (WHERE c.csat_rating = 2),
           count(*) FILTER (WHERE c.csat_rating = 3),
           count(*) FILTER (WHERE c.csat_rating = 4),
           count(*) FILTER (WHERE c.csat_rating = 5),
           coalesce(sum(c.first_reply_business_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.first_reply_business_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 60 AND c.first_reply_business_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 300 AND c.first_reply_business_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 900 AND c.first_reply_business_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 3600 AND c.first_reply_business_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 14400 AND c.first_reply_business_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 86400),
           coalesce(sum(c.first_human_reply_business_seconds::numeric)::float8, 0),
           coalesce(sum(c.resolution_business_seconds::numeric)::float8, 0),
           count(c.handoff_requested_at),
           count(c.human_wait_seconds),
           coalesce(sum(c.human_wait_seconds::numeric)::float8, 0),
           coalesce(sum(c.human_wait_business_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.human_wait_business_seconds <= sla),
           count(*) FILTER (WHERE c.human_wait_business_seconds > sla)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id;

    -- Distributions (metrics: analytics.daily_hist.metric): one grouped pass per metric (nine hash
    -- aggregates of a few thousand groups each are cheaper than one over every metric's groups at
    -- once, and the conversations are in memory by now), then one histogram row per day, inbox and
    -- metric, and one per day and metric over every inbox (with, for the first reply, every
    -- inbox's histogram packed).
    DELETE FROM analytics.daily_hist h
    WHERE h.tenant_id = t AND (p_days IS NULL OR h.day = ANY (p_days));
    DELETE FROM analytics.tenant_daily_hist h
    WHERE h.tenant_id = t AND (p_days IS NULL OR h.day = ANY (p_days));
    WITH counted AS MATERIALIZED (
        SELECT c.created_day AS day, c.inbox_id, 1::smallint AS metric,
               analytics.hist_bucket(c.first_reply_seconds) AS bucket, count(*)::integer AS n
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_reply_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 2::smallint, analytics.hist_bucket(c.first_human_reply_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_human_reply_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 3::smallint, analytics.hist_bucket(c.resolution_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.resolution_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 4::smallint, c.created_hour, count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 5::smallint, analytics.hist_bucket(c.first_reply_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_reply_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 6::smallint, analytics.hist_bucket(c.first_human_reply_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_human_reply_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 7::smallint, analytics.hist_bucket(c.resolution_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.resolution_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 8::smallint, analytics.hist_bucket(c.human_wait_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.human_wait_seconds IS NOT NULL
        GROUP BY 1, 2, 4
        UNION ALL
        SELECT c.created_day, c.inbox_id, 9::smallint, analytics.hist_bucket(c.human_wait_business_seconds), count(*)::integer
        FROM analytics.conversations c
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.human_wait_business_seconds IS NOT NULL
        GROUP BY 1, 2, 4
    ), per_inbox AS (
        INSERT INTO analytics.daily_hist (tenant_id, day, inbox_id, metric, buckets, counts)
        SELECT t, k.day, k.inbox_id, k.metric, array_agg(k.bucket ORDER BY k.bucket), array_agg(k.n ORDER BY k.bucket)
        FROM counted k
        GROUP BY k.day, k.inbox_id, k.metric
        RETURNING 1
    ), tenant_level AS (
        INSERT INTO analytics.tenant_daily_hist (tenant_id, day, metric, buckets, counts, by_inbox)
        SELECT t, s.day, s.metric, s.buckets, s.counts, b.by_inbox
        FROM (SELECT x.day, x.metric, array_agg(x.bucket ORDER BY x.bucket) AS buckets, array_agg(x.n ORDER BY x.bucket) AS counts
              FROM (SELECT k.day, k.metric, k.bucket, sum(k.n)::integer AS n FROM counted k GROUP BY 1, 2, 3) x
              GROUP BY x.day, x.metric) s
        LEFT JOIN (SELECT k.day, k.metric, string_agg(int4send(k.inbox_id) || int2send(k.bucket) || int4send(k.n), ''::bytea
                                                      ORDER BY k.inbox_id, k.bucket) AS by_inbox
                   FROM counted k
                   WHERE k.metric IN (1, 5)
                   GROUP BY k.day, k.metric) b ON b.metric = s.metric AND b.day = s.day
        RETURNING 1
    )
    -- A SELECT over the writing CTEs, not an INSERT ... SELECT: Citus sends the whole statement to
    -- the tenant's worker (an INSERT ... SELECT it could not push down would COPY through the
    -- coordinator, which row-level security refuses).
    SELECT (SELECT count(*) FROM per_inbox) + (SELECT count(*) FROM tenant_level) INTO v_n;

    DELETE FROM analytics.daily_labels d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_labels (tenant_id, day, inbox_id, label, conversations, leads, conversions)
    SELECT c.tenant_id, c.created_day, c.inbox_id, l.label, count(*),
           count(*) FILTER (WHERE c.is_lead), count(*) FILTER (WHERE c.is_converted)
    FROM analytics.conversations c
    CROSS JOIN LATERAL unnest(c.labels) AS l(label)
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id, l.label;
END
$$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION etl.refresh_inbox_rollups(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog'
    AS $$
DECLARE
    t   bigint := app.current_tenant_id();
    sla integer;
    v_n bigint;
BEGIN
    SELECT ts.sla_seconds INTO sla FROM app.tenant_settings ts WHERE ts.tenant_id = t;
    DELETE FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_stats (tenant_id, day, inbox_id,
        conversations, leads, visits, conversions, unanswered, unanswered_leads, resolved,
        bot_resolved, handoffs, with_bot, first_reply_count, first_reply_sum, first_reply_lt_1m,
        first_reply_1m_5m, first_reply_5m_15m, first_reply_15m_1h, first_reply_1h_4h,
        first_reply_4h_24h, first_reply_gt_24h, first_human_reply_count, first_human_reply_sum,
        resolution_count, resolution_sum, csat_responses, csat_satisfied, csat_1, csat_2, csat_3,
        csat_4, csat_5,
        first_reply_business_sum, first_reply_business_lt_1m, first_reply_business_1m_5m,
        first_reply_business_5m_15m, first_reply_business_15m_1h, first_reply_business_1h_4h,
        first_reply_business_4h_24h, first_reply_business_gt_24h, first_human_reply_business_sum,
        resolution_business_sum, handoff_requests, human_wait_count, human_wait_sum,
        human_wait_business_sum, sla_within, sla_late)
    SELECT c.tenant_id, c.created_day, c.inbox_id,
           count(*),
           count(*) FILTER (WHERE c.is_lead),
           count(*) FILTER (WHERE c.is_visit),
           count(*) FILTER (WHERE c.is_converted),
           count(*) FILTER (WHERE c.unanswered),
           count(*) FILTER (WHERE c.unanswered AND c.is_lead),
           count(*) FILTER (WHERE c.resolved),
           count(*) FILTER (WHERE c.bot_resolved),
           count(*) FILTER (WHERE c.handoff),
           count(*) FILTER (WHERE c.bot_messages > 0),
           count(c.first_reply_seconds),
           coalesce(sum(c.first_reply_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.first_reply_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_seconds >= 60 AND c.first_reply_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_seconds >= 300 AND c.first_reply_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_seconds >= 900 AND c.first_reply_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_seconds >= 3600 AND c.first_reply_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 14400 AND c.first_reply_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 86400),
           count(c.first_human_reply_seconds),
           coalesce(sum(c.first_human_reply_seconds::numeric)::float8, 0),
           count(c.resolution_seconds),
           coalesce(sum(c.resolution_seconds::numeric)::float8, 0),
           count(c.csat_rating),
           count(*) FILTER (WHERE c.csat_rating >= 4),
           count(*) FILTER (WHERE c.csat_rating = 1),
           count(*) FILTER (WHERE c.csat_rating = 2),
           count(*) FILTER (WHERE c.csat_rating = 3),
           count(*) FILTER (WHERE c.csat_rating = 4),
           count(*) FILTER (WHERE c.csat_rating = 5),
           coalesce(sum(c.first_reply_business_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.first_reply_business_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 60 AND c.first_reply_business_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 300 AND c.first_reply_business_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 900 AND c.first_reply_business_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 3600 AND c.first_reply_business_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 14400 AND c.first_reply_business_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_business_seconds >= 86400),
           coalesce(sum(c.first_human_reply_business_seconds::numeric)::float8, 0),
           coalesce(sum(c.resolution_business_seconds::numeric)::float8, 0),
           count(c.handoff_requested_at),
           count(c.human_wait_seconds),
           coalesce(sum(c.human_wait_seconds::numeric)::float8, 0),
           coalesce(sum(c.human_wait_business_seconds::numeric)::float8, 0),
           count(*) FILTER (WHERE c.human_wait_business_seconds <= sla),
           count(*) FILTER (WHERE c.human_wait_business_seconds > sla)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id;

    -- Distributions (metrics: analytics.daily_hist.metric): one pass over the conversations, each
    -- giving one (metric, bucket) per metric it has a value for, grouped once; then one histogram
    -- row per day, inbox and metric, and one per day and metric over every inbox (with, for the
    -- first reply, every inbox's histogram packed).
    DELETE FROM analytics.daily_hist h
    WHERE h.tenant_id = t AND (p_days IS NULL OR h.day = ANY (p_days));
    DELETE FROM analytics.tenant_daily_hist h
    WHERE h.tenant_id = t AND (p_days IS NULL OR h.day = ANY (p_days));
    WITH counted AS MATERIALIZED (
        SELECT c.created_day AS day, c.inbox_id, v.metric, v.bucket, count(*)::integer AS n
        FROM analytics.conversations c
        CROSS JOIN LATERAL (VALUES (1::smallint, analytics.hist_bucket(c.first_reply_seconds)),
                                   (2::smallint, analytics.hist_bucket(c.first_human_reply_seconds)),
                                   (3::smallint, analytics.hist_bucket(c.resolution_seconds)),
                                   (4::smallint, c.created_hour),
                                   (5::smallint, analytics.hist_bucket(c.first_reply_business_seconds)),
                                   (6::smallint, analytics.hist_bucket(c.first_human_reply_business_seconds)),
                                   (7::smallint, analytics.hist_bucket(c.resolution_business_seconds)),
                                   (8::smallint, analytics.hist_bucket(c.human_wait_seconds)),
                                   (9::smallint, analytics.hist_bucket(c.human_wait_business_seconds))) AS v(metric, bucket)
        WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND v.bucket IS NOT NULL
        GROUP BY 1, 2, 3, 4
    ), per_inbox AS (
        INSERT INTO analytics.daily_hist (tenant_id, day, inbox_id, metric, buckets, counts)
        SELECT t, k.day, k.inbox_id, k.metric, array_agg(k.bucket ORDER BY k.bucket), array_agg(k.n ORDER BY k.bucket)
        FROM counted k
        GROUP BY k.day, k.inbox_id, k.metric
        RETURNING 1
    ), tenant_level AS (
        INSERT INTO analytics.tenant_daily_hist (tenant_id, day, metric, buckets, counts, by_inbox)
        SELECT t, s.day, s.metric, s.buckets, s.counts, b.by_inbox
        FROM (SELECT x.day, x.metric, array_agg(x.bucket ORDER BY x.bucket) AS buckets, array_agg(x.n ORDER BY x.bucket) AS counts
              FROM (SELECT k.day, k.metric, k.bucket, sum(k.n)::integer AS n FROM counted k GROUP BY 1, 2, 3) x
              GROUP BY x.day, x.metric) s
        LEFT JOIN (SELECT k.day, k.metric, string_agg(int4send(k.inbox_id) || int2send(k.bucket) || int4send(k.n), ''::bytea
                                                      ORDER BY k.inbox_id, k.bucket) AS by_inbox
                   FROM counted k
                   WHERE k.metric IN (1, 5)
                   GROUP BY k.day, k.metric) b ON b.metric = s.metric AND b.day = s.day
        RETURNING 1
    )
    -- A SELECT over the writing CTEs, not an INSERT ... SELECT: Citus sends the whole statement to
    -- the tenant's worker (an INSERT ... SELECT it could not push down would COPY through the
    -- coordinator, which row-level security refuses).
    SELECT (SELECT count(*) FROM per_inbox) + (SELECT count(*) FROM tenant_level) INTO v_n;

    DELETE FROM analytics.daily_labels d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_labels (tenant_id, day, inbox_id, label, conversations, leads, conversions)
    SELECT c.tenant_id, c.created_day, c.inbox_id, l.label, count(*),
           count(*) FILTER (WHERE c.is_lead), count(*) FILTER (WHERE c.is_converted)
    FROM analytics.conversations c
    CROSS JOIN LATERAL unnest(c.labels) AS l(label)
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id, l.label;
END
$$;
