-- The ETL refreshes the planner's statistics of the tables it has just grown, instead of waiting
-- for autovacuum's next nap. Right after a tenant's first load (or any large load) the planner
-- still believes that tenant has no rows, and the next run's join of its staged ids with its
-- conversations became a nested loop that re-read every conversation of the tenant once per
-- staged id: 28–35 s for 9,000 conversations, and quadratic in the tenant's size. A webhook-driven
-- sync seconds after onboarding meets exactly that window.
--
-- Staleness is read from the files themselves (the table's size now against the size the last
-- ANALYZE or VACUUM recorded), not from the statistics collector, whose counters a backend may
-- flush seconds after its commit. On Citus the analytics tables' rows live in the workers' shards
-- and the coordinator's tables stay empty, so nothing is analysed there (the workers' autovacuum
-- owns the shards).
CREATE FUNCTION etl.refresh_statistics()
    RETURNS text[]
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog
    AS $$
DECLARE
    v_table regclass;
    v_columns text;
    v_done text[] := '{}';
BEGIN
    FOR v_table, v_columns IN
        SELECT c.oid::regclass,
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                FROM pg_index i
                CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE i.indrelid = c.oid AND i.indisprimary)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'analytics' AND c.relkind = 'r'
          -- grown by a fifth since the planner last looked (or never looked), past a few pages
          AND pg_relation_size(c.oid) / current_setting('block_size')::bigint > 8 + 1.2 * greatest(c.relpages, 0)
        ORDER BY c.oid
    LOOP
        -- The key's columns only (tenant_id first): what the ETL's joins and every tenant's
        -- queries plan with, at a fifth of a full ANALYZE's cost on wide rows (transcripts'
        -- arrays, the search document); autovacuum analyses the rest.
        IF v_columns IS NULL THEN
            EXECUTE format('ANALYZE %s', v_table);
        ELSE
            EXECUTE format('ANALYZE %s (%s)', v_table, v_columns);
        END IF;
        v_done := v_done || v_table::text;
    END LOOP;
    RETURN v_done;
END
$$;

COMMENT ON FUNCTION etl.refresh_statistics() IS
    'ANALYZE the key columns of the analytics tables grown by a fifth since their statistics were taken (the ETL calls it after runs that wrote rows); returns the tables analysed.';

REVOKE ALL ON FUNCTION etl.refresh_statistics() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION etl.refresh_statistics() TO geniai_etl;

---- create above / drop below ----

DROP FUNCTION etl.refresh_statistics();
