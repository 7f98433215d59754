-- Tenant isolation (docs/security.md): what every database role, in every request context, can see
-- and do on every table holding tenants' rows. Two tenants, A and B; the tests act from A's side.
--
-- Each statement below runs one check per table (the list in fixtures.psql, kept complete by the
-- first test), so a failure names the role, the context and the table. Results are row counts,
-- 'denied' (SQLSTATE 42501: no privilege, or a row-level security WITH CHECK) or 'refused'
-- (0 rows or denied: the database gave nothing away, whichever layer stopped it).
--
-- Run by db/tests/run.sh (pg_prove) as a superuser, in one transaction that is rolled back.
--
-- citus: citus/030_isolation.sql runs this matrix on a cluster, a transaction per role.

BEGIN;
\ir fixtures.psql
SELECT plan(929);

-- The table list covers every table holding tenants' rows (the same rule as 010_catalog (a)):
-- a new tenant table must be added to fixtures.psql, with rows for A and B.
SELECT is_empty($$
    SELECT format('%I.%I', n.nspname, c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('app', 'analytics', 'etl', 'audit') AND c.relkind IN ('r', 'p')
       AND (c.oid = 'app.tenants'::regclass
            OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                                                    AND NOT a.attisdropped))
       AND NOT (n.nspname = 'etl' AND (c.relname LIKE 'stage\_%' OR c.relpersistence = 'u')) -- staging: 050
    EXCEPT
    SELECT t::text FROM tt
$$, 'every table holding tenants'' rows is in the isolation table list');
SELECT is_empty($$
    SELECT t::text || ': no fixture row for ' || k FROM tt, (VALUES ('a'), ('b')) v (k)
     WHERE pg_temp.truth(t, pg_temp.fx(k)) = '0'
$$, 'fixtures: every table has rows of both A and B');

-- The matrix itself is in isolation_matrix.psql, shared with the cluster's version.
\set section_begin ''
\set section_end ''
CREATE FUNCTION pg_temp.expect(p_t regclass, p_tenant bigint) RETURNS text
    LANGUAGE sql
    AS $$ SELECT pg_temp.truth(p_t, p_tenant) $$;
CREATE FUNCTION pg_temp.unmoved(p_result text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT p_result $$;
\ir isolation_matrix.psql

SELECT * FROM finish();
ROLLBACK;
