-- The cluster follows app.table_placement (db/tests/060_table_placement.sql checks the
-- classification itself), and what makes the distribution safe holds on every node: the
-- distribution column, co-location, no table left half-way, the policies and forced RLS on every
-- shard, and the request roles able to log in on the workers only.
--
-- Run by db/tests/run.sh with PGTAP_EXTRA=citus (`make test/citus`), as a superuser, after
-- `geniai db distribute`.
BEGIN;
SELECT plan(12);

CREATE TEMP VIEW placed AS
SELECT p.table_name, p.placement, p.colocate_with, to_regclass(p.table_name) AS oid,
       d.partmethod, d.repmodel, d.colocationid,
       CASE WHEN d.partmethod = 'h' THEN column_to_column_name(d.logicalrelid, d.partkey) END AS dist_column
  FROM app.table_placement p
  LEFT JOIN pg_dist_partition d ON d.logicalrelid = to_regclass(p.table_name);

SELECT isnt_empty($$SELECT FROM placed WHERE placement = 'distributed'$$, 'there are distributed tables to check');
SELECT is_empty($$
    SELECT table_name || ': ' || coalesce(partmethod::text, 'not distributed') || ' by ' || coalesce(dist_column, '-')
      FROM placed
     WHERE placement = 'distributed' AND (partmethod IS DISTINCT FROM 'h' OR dist_column IS DISTINCT FROM 'tenant_id')
$$, 'every table classified distributed is hash-distributed by tenant_id');
SELECT is_empty($$
    SELECT p.table_name FROM placed p
      JOIN placed a ON a.table_name = p.colocate_with
     WHERE p.placement = 'distributed' AND p.colocate_with <> 'none' AND p.colocationid IS DISTINCT FROM a.colocationid
$$, 'every distributed table is co-located with the table it follows');
SELECT is_empty($$
    SELECT p.table_name FROM placed p
     WHERE p.placement = 'distributed' AND p.colocate_with = 'none'
       AND EXISTS (SELECT FROM placed q WHERE q.table_name <> p.table_name AND q.colocationid = p.colocationid
                                         AND q.colocate_with IS DISTINCT FROM p.table_name)
$$, 'a co-location group holds only the tables that follow its first one');
SELECT is_empty($$
    SELECT table_name FROM placed WHERE placement = 'reference' AND (partmethod IS DISTINCT FROM 'n' OR repmodel IS DISTINCT FROM 't')
$$, 'every table classified reference is a reference table');
SELECT is_empty($$SELECT table_name FROM placed WHERE placement = 'coordinator' AND partmethod IS NOT NULL$$,
                'every table classified coordinator is a plain table, outside Citus''s metadata');
SELECT is_empty($$
    SELECT d.logicalrelid::text FROM pg_dist_partition d
     WHERE NOT EXISTS (SELECT FROM app.table_placement p WHERE to_regclass(p.table_name) = d.logicalrelid)
$$, 'every table Citus manages is classified');

-- Every shard carries the policies and forced row-level security of its table (Citus copies
-- them when it creates a shard; a policy it could not copy would leave a shard open).
SELECT is_empty($$
    SELECT p.table_name || ' shard ' || s.shardid || ': ' || s.result
      FROM placed p
     CROSS JOIN LATERAL run_command_on_shards(p.oid,
           $q$SELECT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = '%1$s'::regclass)::text
                     || '/' || (SELECT count(*) FROM pg_policy WHERE polrelid = '%1$s'::regclass)$q$) s
     WHERE p.placement = 'distributed' AND p.table_name !~ '^etl\.stage_'
       AND s.result IS DISTINCT FROM 'true/' || (SELECT count(*) FROM pg_policy WHERE polrelid = p.oid)
$$, 'every shard of a tenant-data table has RLS enabled and forced and all of its table''s policies');
SELECT is_empty($$
    SELECT format('policy %I on %s: %s', polname, polrelid::regclass, pg_get_expr(polqual, polrelid))
      FROM pg_policy
     WHERE polrelid IN (SELECT oid FROM placed WHERE placement = 'distributed')
       AND (coalesce(pg_get_expr(polqual, polrelid), '') || coalesce(pg_get_expr(polwithcheck, polrelid), '')) ~* 'select'
$$, 'no policy of a distributed table holds a subquery (Citus cannot run one on a shard)');

-- Logins: the coordinator opens worker connections as the role a request switched to.
SELECT is_empty($$
    SELECT rolname FROM pg_roles
     WHERE rolname IN ('geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl') AND rolcanlogin
$$, 'the request roles cannot log in on the coordinator');
SELECT is_empty($$
    SELECT nodename || ':' || nodeport || ' ' || result
      FROM run_command_on_workers($q$SELECT string_agg(rolname || '=' || rolcanlogin, ',' ORDER BY rolname)
                                       FROM pg_roles WHERE rolname IN ('geniai_anon', 'geniai_tenant', 'geniai_staff', 'geniai_etl')$q$)
     WHERE result IS DISTINCT FROM 'geniai_anon=true,geniai_etl=true,geniai_staff=true,geniai_tenant=true'
$$, 'the request roles can log in on every worker');
SELECT is_empty($$
    SELECT nodename || ':' || nodeport || ' ' || result
      FROM run_command_on_workers($q$SELECT coalesce(string_agg(type || ' ' || auth_method, ', '), 'none')
                                       FROM pg_hba_file_rules
                                      WHERE type <> 'local' AND auth_method NOT IN ('cert', 'reject')$q$)
     WHERE result <> 'none'
$$, 'the workers accept TCP logins by certificate only');

SELECT * FROM finish();
ROLLBACK;
