-- Tenant-level daily rollups (docs/adr/005-dashboard-rollups.md). With no inbox chosen, the
-- dashboard summed one daily_stats row per day and inbox, and one daily_labels row per day, inbox
-- and label: 18,000 and 86,000 rows for 90 days of a tenant with 200 inboxes, most of its 260 ms.
-- tenant_daily_stats and tenant_daily_labels hold the same sums over every inbox, one row per day
-- (and label). They keep daily_stats's and daily_labels's shape, inbox_id included and always 0,
-- so a query reads either table alike.

CREATE TABLE analytics.tenant_daily_stats (LIKE analytics.daily_stats INCLUDING ALL, CHECK (inbox_id = 0));
COMMENT ON TABLE analytics.tenant_daily_stats IS 'Per tenant and day: analytics.daily_stats summed over every inbox (inbox_id always 0). Rebuilt by etl.refresh_daily_stats.';
COMMENT ON COLUMN analytics.tenant_daily_stats.inbox_id IS 'Always 0 (every inbox): the shape of analytics.daily_stats.';

CREATE TABLE analytics.tenant_daily_labels (LIKE analytics.daily_labels INCLUDING ALL, CHECK (inbox_id = 0));
COMMENT ON TABLE analytics.tenant_daily_labels IS 'Per tenant, day and label: analytics.daily_labels summed over every inbox (inbox_id always 0). Rebuilt by etl.refresh_daily_stats.';
COMMENT ON COLUMN analytics.tenant_daily_labels.inbox_id IS 'Always 0 (every inbox): the shape of analytics.daily_labels.';

ALTER TABLE analytics.tenant_daily_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.tenant_daily_stats FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_daily_stats_tenant_read ON analytics.tenant_daily_stats FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY tenant_daily_stats_staff_read ON analytics.tenant_daily_stats FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY tenant_daily_stats_etl_all ON analytics.tenant_daily_stats FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.tenant_daily_stats TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.tenant_daily_stats TO geniai_etl;

ALTER TABLE analytics.tenant_daily_labels ENABLE ROW LEVEL SECURITY;
ALTER TABLE analytics.tenant_daily_labels FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_daily_labels_tenant_read ON analytics.tenant_daily_labels FOR SELECT TO geniai_tenant
    USING (tenant_id = (SELECT app.current_tenant_id()));
CREATE POLICY tenant_daily_labels_staff_read ON analytics.tenant_daily_labels FOR SELECT TO geniai_staff
    USING ((SELECT app.current_app_role()) IN ('super_admin', 'support'));
CREATE POLICY tenant_daily_labels_etl_all ON analytics.tenant_daily_labels FOR ALL TO geniai_etl
    USING (tenant_id = (SELECT app.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT app.current_tenant_id()));
GRANT SELECT ON analytics.tenant_daily_labels TO geniai_tenant, geniai_staff, geniai_etl;
GRANT INSERT, DELETE ON analytics.tenant_daily_labels TO geniai_etl;

-- With inboxes chosen, the per-inbox rollups are read by inbox: without an index leading with it,
-- two inboxes of a tenant with 200 read all 18,000 rows of a 90-day period.
CREATE INDEX daily_stats_inbox_idx ON analytics.daily_stats (tenant_id, inbox_id, day);
CREATE INDEX daily_labels_inbox_idx ON analytics.daily_labels (tenant_id, inbox_id, day);

-- etl.refresh_daily_stats keeps its name and callers; the per-inbox rebuild it was becomes
-- etl.refresh_inbox_rollups, and etl.refresh_tenant_rollups follows it with the tenant-level sums
-- of the rows it just wrote.
-- (OR REPLACE below only for sqlc, whose catalog does not follow a function's rename.)
ALTER FUNCTION etl.refresh_daily_stats(date[]) RENAME TO refresh_inbox_rollups;
COMMENT ON FUNCTION etl.refresh_inbox_rollups(date[]) IS 'Rebuilds the per-inbox daily rollups (daily_stats, daily_hist, tenant_daily_hist, daily_labels) of the current tenant for the given days (NULL: all) from analytics.conversations.';

CREATE FUNCTION etl.refresh_tenant_rollups(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
DECLARE
    t bigint := app.current_tenant_id();
BEGIN
    DELETE FROM analytics.tenant_daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.tenant_daily_stats (tenant_id, day, inbox_id,
        conversations, leads, visits, conversions, unanswered, unanswered_leads, resolved,
        bot_resolved, handoffs, with_bot, first_reply_count, first_reply_sum, first_reply_lt_1m,
        first_reply_1m_5m, first_reply_5m_15m, first_reply_15m_1h, first_reply_1h_4h,
        first_reply_4h_24h, first_reply_gt_24h, first_human_reply_count, first_human_reply_sum,
        resolution_count, resolution_sum, csat_responses, csat_satisfied, csat_1, csat_2, csat_3,
        csat_4, csat_5)
    SELECT t, d.day, 0,
           sum(d.conversations), sum(d.leads), sum(d.visits), sum(d.conversions),
           sum(d.unanswered), sum(d.unanswered_leads), sum(d.resolved), sum(d.bot_resolved),
           sum(d.handoffs), sum(d.with_bot), sum(d.first_reply_count), sum(d.first_reply_sum),
           sum(d.first_reply_lt_1m), sum(d.first_reply_1m_5m), sum(d.first_reply_5m_15m),
           sum(d.first_reply_15m_1h), sum(d.first_reply_1h_4h), sum(d.first_reply_4h_24h),
           sum(d.first_reply_gt_24h), sum(d.first_human_reply_count), sum(d.first_human_reply_sum),
           sum(d.resolution_count), sum(d.resolution_sum), sum(d.csat_responses),
           sum(d.csat_satisfied), sum(d.csat_1), sum(d.csat_2), sum(d.csat_3), sum(d.csat_4),
           sum(d.csat_5)
    FROM analytics.daily_stats d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days))
    GROUP BY d.day;

    DELETE FROM analytics.tenant_daily_labels d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days));
    INSERT INTO analytics.tenant_daily_labels (tenant_id, day, inbox_id, label, conversations, leads, conversions)
    SELECT t, d.day, 0, d.label, sum(d.conversations), sum(d.leads), sum(d.conversions)
    FROM analytics.daily_labels d
    WHERE d.tenant_id = t AND (p_days IS NULL OR d.day = ANY (p_days))
    GROUP BY d.day, d.label;
END
$$;
COMMENT ON FUNCTION etl.refresh_tenant_rollups(date[]) IS 'Rebuilds tenant_daily_stats and tenant_daily_labels of the current tenant for the given days (NULL: all) from daily_stats and daily_labels.';
GRANT EXECUTE ON FUNCTION etl.refresh_tenant_rollups(date[]) TO geniai_etl;

CREATE OR REPLACE FUNCTION etl.refresh_daily_stats(p_days date[]) RETURNS void
    LANGUAGE plpgsql
    SECURITY INVOKER
    SET search_path = pg_catalog
    AS $$
BEGIN
    PERFORM etl.refresh_inbox_rollups(p_days);
    PERFORM etl.refresh_tenant_rollups(p_days);
END
$$;
COMMENT ON FUNCTION etl.refresh_daily_stats(date[]) IS 'Rebuilds every daily rollup of the current tenant for the given days (NULL: all): per inbox (etl.refresh_inbox_rollups), then over every inbox (etl.refresh_tenant_rollups).';
GRANT EXECUTE ON FUNCTION etl.refresh_daily_stats(date[]) TO geniai_etl;

-- Build them for every tenant already loaded. The owner is subject to RLS (FORCE) and has no
-- policy; lifting FORCE inside this transaction is invisible to others.
ALTER TABLE analytics.daily_stats NO FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_labels NO FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.tenant_daily_stats NO FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.tenant_daily_labels NO FORCE ROW LEVEL SECURITY;
DO $$
DECLARE
    t bigint;
BEGIN
    FOR t IN SELECT DISTINCT d.tenant_id FROM analytics.daily_stats d LOOP
        PERFORM set_config('geniai.tenant_id', t::text, true);
        PERFORM etl.refresh_tenant_rollups(NULL);
    END LOOP;
    PERFORM set_config('geniai.tenant_id', '', true);
END
$$;
ALTER TABLE analytics.daily_stats FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.daily_labels FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.tenant_daily_stats FORCE ROW LEVEL SECURITY;
ALTER TABLE analytics.tenant_daily_labels FORCE ROW LEVEL SECURITY;

---- create above / drop below ----

DROP FUNCTION etl.refresh_daily_stats(date[]);
DROP FUNCTION etl.refresh_tenant_rollups(date[]);
ALTER FUNCTION etl.refresh_inbox_rollups(date[]) RENAME TO refresh_daily_stats;
COMMENT ON FUNCTION etl.refresh_daily_stats(date[]) IS 'Rebuilds the daily rollups (daily_stats, daily_hist, tenant_daily_hist, daily_labels) of the current tenant for the given days (NULL: all) from analytics.conversations.';
DROP TABLE analytics.tenant_daily_labels;
DROP TABLE analytics.tenant_daily_stats;
DROP INDEX analytics.daily_labels_inbox_idx;
DROP INDEX analytics.daily_stats_inbox_idx;
