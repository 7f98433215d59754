-- Dashboard rollups beyond daily_stats, so a large tenant's dashboard reads a few hundred rollup
-- rows instead of scanning its conversations: per day and inbox, histograms of the reply and
-- resolution times (for medians and p90), conversations by hour of the day (the heatmap) and by
-- label. Rebuilt with daily_stats, by the same function, in the ETL's transaction.

-- analytics.hist_bucket places a duration on a log scale with 5% wide buckets:
-- bucket b holds [1.05^b - 1, 1.05^(b+1) - 1) seconds; 400 buckets reach past a year.
CREATE FUNCTION analytics.hist_bucket(seconds double precision) RETURNS smallint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT least(floor(ln(1 + greatest(seconds, 0)) / ln(1.05)), 399)::smallint $$;
COMMENT ON FUNCTION analytics.hist_bucket(double precision) IS 'Log-scale histogram bucket (5% wide) of a duration in seconds; NULL for NULL.';
GRANT EXECUTE ON FUNCTION analytics.hist_bucket(double precision) TO geniai_tenant, geniai_staff, geniai_etl;

CREATE TABLE analytics.daily_dist (
    tenant_id     bigint   NOT NULL,
    day           date     NOT NULL,
    inbox_id      integer  NOT NULL,
    metric        smallint NOT NULL CHECK (metric BETWEEN 1 AND 4),
    bucket        smallint NOT NULL CHECK (bucket BETWEEN 0 AND 399),
    conversations integer  NOT NULL CHECK (conversations > 0),
    PRIMARY KEY (tenant_id, day, inbox_id, metric, bucket)
);
COMMENT ON TABLE analytics.daily_dist IS 'Per tenant, creation day and inbox: distributions of conversations. Rebuilt by etl.refresh_daily_stats.';
COMMENT ON COLUMN analytics.daily_dist.metric IS '1 first reply, 2 first human reply, 3 resolution (bucket = analytics.hist_bucket of the seconds); 4 hour of creation (bucket = hour 0-23).';

CREATE TABLE analytics.daily_labels (
    tenant_id     bigint  NOT NULL,
    day           date    NOT NULL,
    inbox_id      integer NOT NULL,
    label         text    NOT NULL,
    conversations integer NOT NULL,
    leads         integer NOT NULL,
    conversions   integer NOT NULL,
    PRIMARY KEY (tenant_id, day, inbox_id, label)
);
COMMENT ON TABLE analytics.daily_labels IS 'Per tenant, creation day, inbox and label: conversations, leads and conversions carrying the label. Rebuilt by etl.refresh_daily_stats.';

ALTER TABLE analytics.daily_dist ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_dist FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_labels ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_labels FORCE ROW LEVEL SECURITY;
CREATE POLICY daily_dist_tenant_read ON analytics.daily_dist FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY daily_dist_staff_read ON analytics.daily_dist FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY daily_dist_etl_all ON analytics.daily_dist FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY daily_labels_tenant_read ON analytics.daily_labels FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY daily_labels_staff_read ON analytics.daily_labels FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY daily_labels_etl_all ON analytics.daily_labels FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.daily_dist, analytics.daily_labels TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.daily_dist, analytics.daily_labels TO geniai_etl;

CREATE OR REPLACE FUNCTION etl.refresh_daily_stats(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t bigint := app.current_tenant_id();
BEGIN
    DELETE FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_stats
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
           coalesce(sum(c.first_reply_seconds), 0),
           count(*) FILTER (WHERE c.first_reply_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_seconds >= 60 AND c.first_reply_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_seconds >= 300 AND c.first_reply_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_seconds >= 900 AND c.first_reply_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_seconds >= 3600 AND c.first_reply_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 14400 AND c.first_reply_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 86400),
           count(c.first_human_reply_seconds),
           coalesce(sum(c.first_human_reply_seconds), 0),
           count(c.resolution_seconds),
           coalesce(sum(c.resolution_seconds), 0),
           count(c.csat_rating),
           count(*) FILTER (WHERE c.csat_rating >= 4),
           count(*) FILTER (WHERE c.csat_rating = 1),
           count(*) FILTER (WHERE c.csat_rating = 2),
           count(*) FILTER (WHERE c.csat_rating = 3),
           count(*) FILTER (WHERE c.csat_rating = 4),
           count(*) FILTER (WHERE c.csat_rating = 5)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id;

    -- Distributions: reply and resolution histograms, and conversations by hour of the day.
    DELETE FROM analytics.daily_dist d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    -- One grouped pass per metric: cheaper than one pass over four times the rows.
    INSERT INTO analytics.daily_dist (tenant_id, day, inbox_id, metric, bucket, conversations)
    SELECT c.tenant_id, c.created_day, c.inbox_id, 1, analytics.hist_bucket(c.first_reply_seconds), count(*)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_reply_seconds IS NOT NULL
    GROUP BY 1, 2, 3, 5
    UNION ALL
    SELECT c.tenant_id, c.created_day, c.inbox_id, 2, analytics.hist_bucket(c.first_human_reply_seconds), count(*)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.first_human_reply_seconds IS NOT NULL
    GROUP BY 1, 2, 3, 5
    UNION ALL
    SELECT c.tenant_id, c.created_day, c.inbox_id, 3, analytics.hist_bucket(c.resolution_seconds), count(*)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days)) AND c.resolution_seconds IS NOT NULL
    GROUP BY 1, 2, 3, 5
    UNION ALL
    SELECT c.tenant_id, c.created_day, c.inbox_id, 4, c.created_hour, count(*)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY 1, 2, 3, 5;

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

CREATE OR REPLACE FUNCTION etl.refresh_daily_stats(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t bigint := app.current_tenant_id();
BEGIN
    DELETE FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.daily_stats
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
           coalesce(sum(c.first_reply_seconds), 0),
           count(*) FILTER (WHERE c.first_reply_seconds < 60),
           count(*) FILTER (WHERE c.first_reply_seconds >= 60 AND c.first_reply_seconds < 300),
           count(*) FILTER (WHERE c.first_reply_seconds >= 300 AND c.first_reply_seconds < 900),
           count(*) FILTER (WHERE c.first_reply_seconds >= 900 AND c.first_reply_seconds < 3600),
           count(*) FILTER (WHERE c.first_reply_seconds >= 3600 AND c.first_reply_seconds < 14400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 14400 AND c.first_reply_seconds < 86400),
           count(*) FILTER (WHERE c.first_reply_seconds >= 86400),
           count(c.first_human_reply_seconds),
           coalesce(sum(c.first_human_reply_seconds), 0),
           count(c.resolution_seconds),
           coalesce(sum(c.resolution_seconds), 0),
           count(c.csat_rating),
           count(*) FILTER (WHERE c.csat_rating >= 4),
           count(*) FILTER (WHERE c.csat_rating = 1),
           count(*) FILTER (WHERE c.csat_rating = 2),
           count(*) FILTER (WHERE c.csat_rating = 3),
           count(*) FILTER (WHERE c.csat_rating = 4),
           count(*) FILTER (WHERE c.csat_rating = 5)
    FROM analytics.conversations c
    WHERE c.tenant_id = t AND (p_days IS NULL OR c.created_day = ANY (p_days))
    GROUP BY c.tenant_id, c.created_day, c.inbox_id;
END
$$;

DROP TABLE analytics.daily_labels;
DROP TABLE analytics.daily_dist;
DROP FUNCTION analytics.hist_bucket(double precision);
