-- etl.refresh_statistics (migration 046) runs as the owner with `search_path = pg_catalog` only,
-- and PostgreSQL searches pg_temp first for relations when the path does not name it: a session
-- of the calling role could shadow the catalogues it reads with temporary tables of the same
-- name. Like every other SECURITY DEFINER function here, it now lists pg_temp last (and the
-- catalogue test requires that of all of them). Runs that end together no longer queue behind
-- each other's ANALYZE of the same table: a table another session is analysing is skipped.
CREATE OR REPLACE FUNCTION etl.refresh_statistics()
    RETURNS text[]
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_table regclass;
    v_columns text;
    v_done text[] := '{}';
BEGIN
    FOR v_table, v_columns IN
        SELECT c.oid::regclass,
               (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                FROM pg_catalog.pg_index i
                CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE i.indrelid = c.oid AND i.indisprimary)
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'analytics' AND c.relkind = 'r'
          -- grown by a fifth since the planner last looked (or never looked), past a few pages
          AND pg_relation_size(c.oid) / current_setting('block_size')::bigint > 8 + 1.2 * greatest(c.relpages, 0)
        ORDER BY c.oid
    LOOP
        -- The key's columns only (tenant_id first): what the ETL's joins and every tenant's
        -- queries plan with, at a fifth of a full ANALYZE's cost on wide rows (transcripts'
        -- arrays, the search document); autovacuum analyses the rest. A table another run is
        -- analysing right now is left to it.
        IF v_columns IS NULL THEN
            EXECUTE format('ANALYZE (SKIP_LOCKED) %s', v_table);
        ELSE
            EXECUTE format('ANALYZE (SKIP_LOCKED) %s (%s)', v_table, v_columns);
        END IF;
        v_done := v_done || v_table::text;
    END LOOP;
    RETURN v_done;
END
$$;

---- create above / drop below ----

CREATE OR REPLACE FUNCTION etl.refresh_statistics()
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
          AND pg_relation_size(c.oid) / current_setting('block_size')::bigint > 8 + 1.2 * greatest(c.relpages, 0)
        ORDER BY c.oid
    LOOP
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
