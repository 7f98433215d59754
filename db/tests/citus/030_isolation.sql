-- Tenant isolation on a Citus cluster: the matrix of 020_isolation.sql (every role, in every
-- request context, on every table holding tenants' rows), arranged for Citus's rule that within
-- one transaction a shard that one role wrote may not be touched by another (the coordinator
-- reaches a worker through one connection per role). So the fixtures are committed first, the
-- expected counts are taken before any role acts, and each role acts in a transaction of its own,
-- rolled back. A tenant role seeing exactly its tenant's rows proves the request context reached
-- the workers; a role without a tenant seeing nothing proves a forgotten context fails closed on
-- every node (those queries read every shard).
--
-- Run by db/tests/run.sh with PGTAP_EXTRA=citus (`make test/citus`), as a superuser. It leaves
-- the fixture tenants' audit events behind (audit.events is append-only); the cluster is thrown
-- away after the run.

\set ON_ERROR_STOP 1
-- Citus warns that the temporary helpers stay on the coordinator, as they should.
SET client_min_messages = error;
-- Remove the committed fixtures (their audit events stay: append-only). Also run first, in case
-- an earlier run stopped half-way.
DO $$
DECLARE
    ids bigint[] := ARRAY(SELECT id FROM app.tenants WHERE slug IN ('pgtap-a', 'pgtap-b'));
    t   text;
BEGIN
    FOREACH t IN ARRAY ARRAY['analytics.transcripts', 'analytics.conversations', 'analytics.daily_stats',
                             'analytics.daily_hist', 'analytics.daily_labels', 'analytics.tenant_daily_hist',
                             'analytics.tenant_daily_stats', 'analytics.tenant_daily_labels', 'etl.runs',
                             'etl.watermarks'] LOOP
        EXECUTE format('DELETE FROM %s WHERE tenant_id = ANY ($1)', t) USING ids;
    END LOOP;
    DELETE FROM app.tenants WHERE id = ANY (ids);
    DELETE FROM app.users WHERE email LIKE '%@pgtap.test';
END
$$;

-- Committed fixtures: the shared file, outside a transaction.
\ir ../fixtures.psql

-- Expected counts, read by the superuser before any request role touches a shard. The platform
-- tables are on the coordinator and counted live (a role switch there is no constraint).
CREATE TEMP TABLE expected AS
SELECT t, k, pg_temp.truth(t, pg_temp.fx(k))::text AS n FROM tt, (VALUES ('a'), ('b')) v (k);
GRANT SELECT ON expected TO PUBLIC;
CREATE FUNCTION pg_temp.expect(p_t regclass, p_tenant bigint) RETURNS text
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF p_t::text LIKE 'app.%' OR p_t = 'audit.events'::regclass THEN
        RETURN pg_temp.truth(p_t, p_tenant);
    END IF;
    RETURN (SELECT e.n FROM expected e WHERE e.t = p_t AND pg_temp.fx(e.k) = p_tenant);
END
$$;

-- Moving rows to another tenant: refused by privilege, or on a distributed table by Citus itself
-- (it never changes a row's distribution column); either way nothing moves.
CREATE FUNCTION pg_temp.unmoved(p_result text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT CASE WHEN p_result LIKE 'error 0A000: modifying the partition value of rows is not allowed%' THEN 'denied'
                      ELSE p_result END $$;

SELECT plan(930); -- 020_isolation.sql's, and the check above that this is Citus

SELECT is_empty($$
    SELECT format('%I.%I', n.nspname, c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('app', 'analytics', 'etl', 'audit') AND c.relkind IN ('r', 'p')
       AND (c.oid = 'app.tenants'::regclass
            OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                                                    AND NOT a.attisdropped))
       AND NOT (n.nspname = 'etl' AND (c.relname LIKE 'stage\_%' OR c.relpersistence = 'u'))
    EXCEPT
    SELECT t::text FROM tt
$$, 'every table holding tenants'' rows is in the isolation table list');
SELECT is_empty($$SELECT t::text || ': no fixture row for ' || k FROM expected WHERE n = '0'$$,
                'fixtures: every table has rows of both A and B');
SELECT isnt_empty($$SELECT FROM tt JOIN pg_dist_partition d ON d.logicalrelid = tt.t$$,
                  'the list includes distributed tables (this runs on Citus)');

\set section_begin 'BEGIN;'
\set section_end 'ROLLBACK;'
\ir ../isolation_matrix.psql

-- No finish(): pgTAP keeps its tally in tables that the rolled-back transactions above emptied;
-- pg_prove counts the tests from the output against plan() instead.


-- Remove the committed fixtures (their audit events stay: append-only). Also run first, in case
-- an earlier run stopped half-way.
DO $$
DECLARE
    ids bigint[] := ARRAY(SELECT id FROM app.tenants WHERE slug IN ('pgtap-a', 'pgtap-b'));
    t   text;
BEGIN
    FOREACH t IN ARRAY ARRAY['analytics.transcripts', 'analytics.conversations', 'analytics.daily_stats',
                             'analytics.daily_hist', 'analytics.daily_labels', 'analytics.tenant_daily_hist',
                             'analytics.tenant_daily_stats', 'analytics.tenant_daily_labels', 'etl.runs',
                             'etl.watermarks'] LOOP
        EXECUTE format('DELETE FROM %s WHERE tenant_id = ANY ($1)', t) USING ids;
    END LOOP;
    DELETE FROM app.tenants WHERE id = ANY (ids);
    DELETE FROM app.users WHERE email LIKE '%@pgtap.test';
END
$$;
